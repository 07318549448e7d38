/**
 * The bench report: one self-contained file made from a bench record. HTML (inline CSS and SVG, no
 * script to run, nothing fetched), Markdown or JSON. It says what was timed on what (device, copy
 * bandwidth, shape, protocols, paths), whose times the peer column holds and where they came from,
 * then every row (median, IQR, spread, bandwidth, the correctness check, the peer's time), and a chart
 * of our median time per format and batch size beside the peer's (src-shared/bench-chart.ts, the same
 * figures and source line as the app's History). Every value taken from the record is escaped: a
 * record is a file anyone can edit.
 */
import {
  PEER_SERIES,
  benchChart,
  peerSourceLine,
  timeTick,
  vsPeer,
  type BenchChart,
} from '../../../src-shared/bench-chart';
import type { BenchRecordData, BenchRecordRow } from '../../../src-shared/contract';
import { kernelSettingsText } from '../../../src-shared/devices';
import type { RunRecord } from '../records/schema';
import { copyText, escapeHtml as h } from './compare-report';
import { fmtExp, fmtNum, fmtRate, mdEscape } from './report';

export const BENCH_REPORT_SCHEMA = 'quantscope-bench-report/1';

export type BenchReportFormat = 'html' | 'md' | 'json';

/** The bench section of a bench record; a record of another kind is refused with one line. */
function benchOf(rec: RunRecord): BenchRecordData {
  if (rec.kind !== 'bench' || !rec.bench)
    throw new Error(`record ${rec.id} is a ${rec.kind} record: a bench report needs a bench record`);
  return rec.bench;
}

export function renderBenchReport(rec: RunRecord, format: BenchReportFormat): string {
  if (format === 'json') return JSON.stringify(benchReportJson(rec), null, 2) + '\n';
  return format === 'md' ? benchMarkdown(rec) : benchHtml(rec);
}

/** What the report says of the peer: its source line; null when the record holds no peer figures. */
function peerLine(bench: BenchRecordData): string | null {
  if (!bench.rows.some((r) => r.peerUs != null)) return null;
  return bench.peer ? peerSourceLine(bench.peer) : 'source not recorded';
}

/** Why there is no peer column, in words. */
function noPeerLine(bench: BenchRecordData): string {
  return bench.peer
    ? `none for these shapes (${bench.peer.label} has no figures for them)`
    : 'none: no --peer file, and no built-in figures for this GPU';
}

export function benchReportJson(rec: RunRecord) {
  const bench = benchOf(rec);
  const chart = benchChart(bench);
  return {
    schema: BENCH_REPORT_SCHEMA,
    peer: bench.peer ?? null,
    peerSource: peerLine(bench),
    chart: { series: chart.series, groups: chart.groups },
    record: rec,
  };
}

const us = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) ? '—' : fmtNum(v, v < 10 ? 2 : 1);
const ratio = (v: number | null) => (v == null ? '—' : `${fmtNum(v, 2)}×`);

function deviceText(rec: RunRecord): string {
  const d = rec.device;
  if (!d) return 'no device';
  const parts = [`${d.backend}:${d.index} ${d.name} (${d.arch})`];
  if (d.peakBandwidthGBs) parts.push(`peak ${fmtNum(d.peakBandwidthGBs, 0)} GB/s`);
  const copy = copyText(d.copyBandwidth, d.copyBandwidthGBs);
  if (copy) parts.push(`measured copy ${copy}`);
  if (d.driverVersion) parts.push(`driver ${d.driverVersion}`);
  if (d.runtimeVersion) parts.push(`runtime ${d.runtimeVersion}`);
  // timings of kernels built with other settings than the defaults say so
  const ks = kernelSettingsText(d.kernelSettings);
  if (ks) parts.push(ks);
  return parts.join(', ');
}

function settingsText(bench: BenchRecordData): string {
  return [
    bench.shape ? `shape n=${bench.shape.n} k=${bench.shape.k}` : null,
    bench.repeats != null ? `${bench.repeats} samples per row` : null,
    bench.protocols?.length ? `protocols ${bench.protocols.join(', ')}` : null,
    bench.paths?.length ? `paths ${bench.paths.join(', ')}` : null,
  ]
    .filter(Boolean)
    .join('; ');
}

function devicesText(rec: RunRecord): string[] {
  return (rec.devices ?? []).map(
    (d) =>
      `slot ${d.slot}: ${d.backend}:${d.index} ${d.name ?? 'never opened'}${d.arch ? ` (${d.arch})` : ''} — ${d.status}${d.error ? `: ${d.error}` : ''}`,
  );
}

interface Column {
  head: string;
  num: boolean;
  cell: (r: BenchRecordRow) => string;
}

/** The table's columns: a slot column for a record of several devices, peer columns when it holds peer figures. */
function columns(bench: BenchRecordData, peer: boolean): Column[] {
  const slots = bench.rows.some((r) => typeof r.slot === 'number');
  return [
    ...(slots ? [{ head: 'slot', num: true, cell: (r: BenchRecordRow) => String(r.slot ?? '—') }] : []),
    { head: 'format', num: false, cell: (r) => r.format },
    { head: 'n×k', num: false, cell: (r) => `${r.n}×${r.k}` },
    { head: 'm', num: true, cell: (r) => String(r.m) },
    { head: 'protocol', num: false, cell: (r) => r.protocol },
    { head: 'path', num: false, cell: (r) => r.path },
    { head: 'median µs', num: true, cell: (r) => us(r.medianUs) },
    { head: 'IQR µs', num: true, cell: (r) => us(r.iqrUs) },
    {
      head: 'spread',
      num: true,
      cell: (r) => (Number.isFinite(r.spread) ? `${fmtNum(r.spread * 100, 1)}%` : '—'),
    },
    { head: 'samples', num: true, cell: (r) => String(r.samples) },
    { head: 'GB/s', num: true, cell: (r) => fmtNum(r.gbps, 1) },
    { head: 'TFLOP/s', num: true, cell: (r) => fmtNum(r.tflops, 3) },
    { head: '% peak', num: true, cell: (r) => fmtRate(r.pctPeak) },
    { head: '% copy', num: true, cell: (r) => fmtRate(r.pctCopy) },
    ...(peer
      ? [
          { head: 'peer µs', num: true, cell: (r: BenchRecordRow) => us(r.peerUs) },
          { head: 'vs peer', num: true, cell: (r: BenchRecordRow) => ratio(vsPeer(r)) },
        ]
      : []),
    {
      head: 'check',
      num: false,
      cell: (r) => `${r.check.status.toUpperCase()}${r.check.nmse != null ? ` ${fmtExp(r.check.nmse)}` : ''}`,
    },
  ];
}

const RATIO_NOTE =
  'vs peer: the peer’s time over ours (above 1, ours is faster). The peer’s benchmark repeats one weight buffer: compare it with the hot protocol.';

function benchMarkdown(rec: RunRecord): string {
  const bench = benchOf(rec);
  const esc = mdEscape;
  const peer = peerLine(bench);
  const cols = columns(bench, peer !== null);
  const lines = [
    `# QuantScope bench report — ${esc(rec.device?.name ?? 'no device')}`,
    '',
    `- Device: ${esc(deviceText(rec))}`,
    ...devicesText(rec).map((d) => `- Device ${esc(d)}`),
    `- Settings: ${esc(settingsText(bench))}`,
    `- Peer: ${esc(peer ?? noPeerLine(bench))}`,
    `- Record ${esc(rec.id)}, ${esc(rec.createdAt)}; run ${esc(rec.status)}${rec.error ? ` (${esc(rec.error)})` : ''}; QuantScope ${esc(rec.app.version)} (${esc(rec.app.commit)}); ${esc(rec.host.hostname)}`,
    '',
    `| ${cols.map((c) => esc(c.head)).join(' | ')} |`,
    `|${cols.map((c) => (c.num ? '---:' : '---')).join('|')}|`,
    ...bench.rows.map((r) => `| ${cols.map((c) => esc(c.cell(r))).join(' | ')} |`),
    '',
    ...(peer ? [`Peer µs: ${esc(peer)}. ${esc(RATIO_NOTE)}`, ''] : []),
  ];
  return lines.join('\n');
}

/** Our series in the app's hues; the peer's grey, as a baseline. */
const SERIES_FILLS = ['#2f6fde', '#7b4fd6', '#1a7f37', '#b35900', '#0e7490', '#be185d'];
const PEER_FILL = '#8a94a8';

/**
 * Horizontal bars per format and batch size, one per series, on a log scale of µs (the times span
 * m = 1 to m = 512), each labelled with its value; the legend names every series, the peer by its
 * label, and the caption gives the peer's source line.
 */
function chartSvg(chart: BenchChart): string {
  if (chart.groups.length === 0) return '<p class="muted">No timings in this record.</p>';
  const fill = (key: string, i: number) =>
    key === PEER_SERIES ? PEER_FILL : SERIES_FILLS[i % SERIES_FILLS.length];
  const labelW = 170;
  const plotW = 560;
  const W = labelW + plotW + 90;
  const barH = 8;
  const groupH = chart.series.length * (barH + 1) + 8;
  const legendH = chart.series.length * 16 + 6;
  const top = legendH + 18;
  const height = top + chart.groups.length * groupH + 6;
  const [d0, d1] = chart.axis.domain.map(Math.log10);
  const x = (v: number) => labelW + ((Math.log10(v) - d0) / (d1 - d0)) * plotW;
  const legend = chart.series
    .map(
      (s, i) =>
        `<rect x="${labelW}" y="${4 + i * 16}" width="10" height="10" fill="${fill(s.key, i)}"/><text x="${labelW + 14}" y="${13 + i * 16}">${h(s.label)}</text>`,
    )
    .join('');
  const grid = chart.axis.ticks
    .map((t) => {
      const tx = x(t).toFixed(1);
      return `<line class="grid" x1="${tx}" x2="${tx}" y1="${top - 4}" y2="${height - 4}"/><text class="tick" x="${tx}" y="${top - 7}" text-anchor="middle">${h(timeTick(t))}</text>`;
    })
    .join('');
  const groups = chart.groups
    .map((g, gi) => {
      const y0 = top + gi * groupH;
      const bars = chart.series
        .map((s, i) => {
          const v = g.values[s.key];
          if (v == null) return '';
          const y = y0 + 4 + i * (barH + 1);
          const w = Math.max(1, x(v) - labelW);
          const text = `${s.label}: ${us(v)} µs`;
          return `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill(s.key, i)}"><title>${h(`${g.label} · ${text}`)}</title></rect><text class="v" x="${(labelW + w + 3).toFixed(1)}" y="${y + barH - 1}">${h(us(v))}</text>`;
        })
        .join('');
      return `<text x="${labelW - 6}" y="${y0 + groupH / 2 + 3}" text-anchor="end">${h(g.label)}</text>${bars}`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${height}" width="100%" role="img" aria-label="median µs per format and batch size${chart.peer ? ', beside the peer' : ''}">${legend}${grid}${groups}</svg>`;
}

function benchHtml(rec: RunRecord): string {
  const bench = benchOf(rec);
  const peer = peerLine(bench);
  const cols = columns(bench, peer !== null);
  const chart = benchChart(bench);
  const rows = bench.rows
    .map(
      (r) =>
        `<tr class="${h(r.check.status)}">${cols.map((c) => `<td${c.num ? ' class="num"' : ''}>${h(c.cell(r))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  const devices = devicesText(rec);
  const device = rec.device?.name ?? 'no device';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>QuantScope bench report — ${h(device)} — ${h(rec.createdAt)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #dde;padding:3px 6px;text-align:left;white-space:nowrap}
td.num,th.num{text-align:right}tr.fail td,tr.error td{background:#fdecea}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#667}
.muted{color:#667}svg.chart{max-width:1000px}.chart text{font:11px system-ui,sans-serif;fill:#1d2330}
.chart text.v,.chart text.tick{fill:#556}.chart line.grid{stroke:#dde;stroke-dasharray:3 3}
</style></head><body>
<h1>QuantScope bench report — ${h(device)}</h1>
<dl>
<dt>Device</dt><dd>${h(deviceText(rec))}</dd>
${devices.length ? `<dt>Devices</dt><dd>${devices.map(h).join('<br>')}</dd>\n` : ''}<dt>Settings</dt><dd>${h(settingsText(bench))}</dd>
<dt>Peer</dt><dd data-peer="${peer ? 'yes' : 'none'}">${h(peer ?? noPeerLine(bench))}</dd>
<dt>Run</dt><dd>record ${h(rec.id)}, ${h(rec.createdAt)}; ${h(rec.status)}${rec.error ? `: ${h(rec.error)}` : ''}; QuantScope ${h(rec.app.version)} (${h(rec.app.commit)}); ${h(rec.host.hostname)}</dd>
</dl>
<h2>Timings</h2>
<table><thead><tr>${cols.map((c) => `<th${c.num ? ' class="num"' : ''}>${h(c.head)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table>
${peer ? `<p class="muted peer-source">Peer µs: ${h(peer)}. ${h(RATIO_NOTE)}</p>` : ''}
<h2>Median time per format and batch size</h2>
<p class="muted">Log scale; lower is better.</p>
${chartSvg(chart)}
${chart.peer ? `<p class="muted chart-peer-source">Peer: ${h(peerSourceLine(chart.peer))}</p>` : ''}
<script type="application/json" id="quantscope-data">${JSON.stringify(benchReportJson(rec)).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}
