/**
 * The comparison report: one self-contained file comparing two run records. HTML (inline CSS and
 * SVG, no script, nothing fetched) or JSON. The verdict comes first ("REGRESSED" or "no regression";
 * none for records that are not of the same work, with each difference named), then what was
 * compared (both records: device, compute units, driver, app version and commit, model, tensors
 * hash, threshold, seed, activations, arithmetic), then one row per tensor and batch size,
 * regressions first. Every value taken from a record is escaped: a record is a file anyone can edit.
 */
import type { CompareRow, Comparison, RowVerdict } from '../../../src-shared/contract';
import { COMPARISON_HEADLINE, thresholdsChanged } from '../../../src-shared/comparison';
import type { RunRecord } from '../records/schema';
import { fmtExp, fmtNum } from './report';
import { computeUnitsText } from '../../../src-shared/devices';

export const COMPARISON_SCHEMA = 'quantscope-comparison/1';

export interface ComparisonReportInput {
  comparison: Comparison;
  baseline: RunRecord;
  candidate: RunRecord;
  /** when the report was made (ISO 8601) */
  createdAt: string;
}

export const VERDICT_TEXT: Record<RowVerdict, string> = {
  'new-failure': 'new failure',
  missing: 'missing',
  slower: 'slower',
  'still-failing': 'still failing',
  fixed: 'fixed',
  faster: 'faster',
  new: 'new',
  same: 'same',
};

const REGRESSION: ReadonlySet<RowVerdict> = new Set(['new-failure', 'missing', 'slower']);

export function comparisonHeadline(c: Comparison): string {
  return COMPARISON_HEADLINE[c.verdict];
}

export function comparisonFileName(input: ComparisonReportInput, format: 'html' | 'json'): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  return `quantscope-compare-${safe(input.baseline.id)}-vs-${safe(input.candidate.id)}.${format}`;
}

export function renderComparison(input: ComparisonReportInput, format: 'html' | 'json'): string {
  if (format === 'json') return JSON.stringify(comparisonJson(input), null, 2) + '\n';
  return comparisonHtml(input);
}

function recordFacts(r: RunRecord) {
  return {
    id: r.id,
    kind: r.kind,
    createdAt: r.createdAt,
    status: r.status,
    app: { version: r.app.version, commit: r.app.commit },
    host: r.host.hostname,
    device: r.device
      ? {
          name: `${r.device.backend}:${r.device.index} ${r.device.name}`,
          arch: r.device.arch,
          driverVersion: r.device.driverVersion ?? null,
          runtimeVersion: r.device.runtimeVersion ?? null,
          // a cpu's worker threads (the app's engine runs one fewer than the CLI), a GPU's CUs/SMs
          computeUnits: unitsText(r),
        }
      : null,
    model: r.model ? { fileName: r.model.fileName, tensorsHash: r.model.tensorsHash } : null,
    request: {
      path: r.request.path ?? null,
      timing: r.request.timing ?? null,
      seed: r.request.seed ?? null,
      threshold: r.request.threshold ?? null,
      activations: r.request.activations ?? null,
      arithmetic: r.request.arithmetic ?? null,
    },
  };
}

export function comparisonJson(input: ComparisonReportInput) {
  const c = input.comparison;
  return {
    schema: COMPARISON_SCHEMA,
    createdAt: input.createdAt,
    kind: c.kind,
    verdict: comparisonHeadline(c),
    regressed: c.regressed,
    differences: c.differences,
    different: c.different,
    tolerance: c.tolerance,
    counts: c.counts,
    baseline: recordFacts(input.baseline),
    candidate: recordFacts(input.candidate),
    rows: c.rows,
  };
}

/** HTML text: every character that could open markup or an attribute is an entity. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
const h = escapeHtml;

function usCell(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : fmtNum(v, v < 10 ? 2 : 1);
}

function pct(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : `±${fmtNum(v * 100, 1)}%`;
}

function change(r: CompareRow): string {
  if (r.speedRatio == null) return '—';
  const d = (r.speedRatio - 1) * 100;
  return `${d >= 0 ? '+' : ''}${fmtNum(d, 1)}%`;
}

/** "31.8 GB/s (16 MiB × 5, 2026-12-03T10:15:00Z)": the copy bandwidth a run measured, and how. */
export function copyText(
  c:
    | { gbs: number; measuredAt: string | null; bytes: number | null; repeats: number | null }
    | null
    | undefined,
  gbs?: number | null,
): string | null {
  if (!c) return gbs ? `${fmtNum(gbs, 1)} GB/s` : null;
  const size = c.bytes == null ? null : `${fmtNum(c.bytes / 2 ** 20, 0)} MiB`;
  const how = [size && c.repeats != null ? `${size} × ${c.repeats}` : size, c.measuredAt]
    .filter(Boolean)
    .join(', ');
  return `${fmtNum(c.gbs, 1)} GB/s${how ? ` (${how})` : ''}`;
}

/**
 * A record's device's compute units in words (a cpu's worker threads, and those it kept for the app),
 * null where the record does not say.
 */
function unitsText(r: RunRecord): string | null {
  const d = r.device;
  if (!d || typeof d.computeUnits !== 'number') return null;
  return computeUnitsText(d.backend, d.computeUnits, d.threadsKeptForApp);
}

function factRows(b: RunRecord, c: RunRecord): string {
  const dev = (r: RunRecord) => (r.device ? `${r.device.backend}:${r.device.index} ${r.device.name}` : '—');
  const line = (label: string, f: (r: RunRecord) => string | null | undefined, mono = false) => {
    const a = f(b) ?? '—';
    const z = f(c) ?? '—';
    const cls = `${mono ? 'mono' : ''}${a !== z ? ' diff' : ''}`.trim();
    return `<tr><th>${h(label)}</th><td class="${cls}">${h(a)}</td><td class="${cls}">${h(z)}</td></tr>`;
  };
  return [
    line('Record', (r) => r.id, true),
    line('Date', (r) => r.createdAt),
    line('Kind / status', (r) => `${r.kind} / ${r.status}`),
    line('Device', dev),
    line('Architecture', (r) => r.device?.arch),
    line('Compute units', unitsText),
    // another build of the kernels (QS_KERNEL_DEFINES, tuning): what an A/B of a switch compares
    line('Kernel settings', (r) => r.device?.kernelSettings?.join(', '), true),
    line('Driver', (r) => r.device?.driverVersion),
    line('Copy bandwidth', (r) => copyText(r.device?.copyBandwidth, r.device?.copyBandwidthGBs)),
    line('Runtime', (r) => r.device?.runtimeVersion),
    line('App version', (r) => r.app.version),
    line('App commit', (r) => r.app.commit, true),
    line('Host', (r) => r.host.hostname),
    line('Model', (r) => r.model?.fileName),
    line('Tensors hash', (r) => r.model?.tensorsHash, true),
    line('Path / timing', (r) => `${r.request.path ?? '—'} / ${r.request.timing ?? '—'}`),
    line('Threshold', (r) =>
      r.request.threshold === undefined
        ? undefined
        : r.request.threshold === null
          ? 'per path'
          : r.request.threshold.toExponential(),
    ),
    line('Seed / activations', (r) => `${r.request.seed ?? '—'} / ${r.request.activations ?? '—'}`),
    line('Arithmetic', (r) => r.request.arithmetic ?? (r.kind === 'verify' ? 'per path' : undefined)),
  ].join('\n');
}

/** Grouped bars of the median µs of each tensor and batch size in both records (inline SVG). */
function speedSvg(c: Comparison): string {
  const rows = c.rows.filter((r) => r.baseline?.us != null || r.candidate?.us != null).slice(0, 60);
  if (rows.length === 0) return '';
  const max = Math.max(...rows.flatMap((r) => [r.baseline?.us ?? 0, r.candidate?.us ?? 0]));
  if (!(max > 0)) return '';
  const rowH = 22;
  const labelW = 300;
  const barW = 420;
  const height = rows.length * rowH + 28;
  const bars = rows
    .map((r, i) => {
      const y = 24 + i * rowH;
      const bw = ((r.baseline?.us ?? 0) / max) * barW;
      const cw = ((r.candidate?.us ?? 0) / max) * barW;
      return (
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${h(`${r.tensor} m=${r.m}`)}</text>` +
        `<rect x="${labelW}" y="${y}" width="${bw.toFixed(1)}" height="8" class="b"/>` +
        `<rect x="${labelW}" y="${y + 9}" width="${cw.toFixed(1)}" height="8" class="c"/>` +
        `<text x="${labelW + Math.max(bw, cw) + 4}" y="${y + 14}">${h(`${usCell(r.baseline?.us)} → ${usCell(r.candidate?.us)} µs`)}</text>`
      );
    })
    .join('');
  return `<h2>Median time per tensor</h2>
<svg class="chart" role="img" aria-label="median time per tensor, baseline and candidate" viewBox="0 0 ${labelW + barW + 160} ${height}" width="100%">
<rect x="${labelW}" y="4" width="10" height="10" class="b"/><text x="${labelW + 14}" y="13">baseline</text>
<rect x="${labelW + 90}" y="4" width="10" height="10" class="c"/><text x="${labelW + 104}" y="13">candidate</text>
${bars}</svg>`;
}

/** The diagnosis of each failing side (class and sentence), and how it changed; escaped. */
function diagnosisCell(r: CompareRow): string {
  const parts: string[] = [];
  if (r.diagnosisChange) parts.push(`<b>${h(r.diagnosisChange)}</b>`);
  for (const [who, s] of [
    ['was', r.baseline],
    ['now', r.candidate],
  ] as const)
    if (s?.diagnosis) parts.push(`${who}: <b>${h(s.diagnosis.class)}</b> ${h(s.diagnosis.sentence)}`);
  return parts.length ? parts.join('<br>') : '—';
}

function comparisonHtml(input: ComparisonReportInput): string {
  const c = input.comparison;
  const cases = c.kind === 'bench' || c.kind === 'selftest';
  const head = comparisonHeadline(c);
  const cls = c.verdict === 'regressed' ? 'bad' : c.verdict === 'no-regression' ? 'ok' : 'none';
  const bars = thresholdsChanged(c.rows);
  const barCells = (r: CompareRow) =>
    bars
      ? `<td class="num">${h(fmtExp(r.baseline?.threshold))}</td><td class="num">${h(fmtExp(r.candidate?.threshold))}</td>`
      : '';
  const counts = (Object.keys(VERDICT_TEXT) as RowVerdict[])
    .filter((v) => c.counts[v] > 0)
    .map((v) => `<span class="pill ${v}">${c.counts[v]} ${h(VERDICT_TEXT[v])}</span>`)
    .join(' ');
  const rows = c.rows
    .map(
      (r) =>
        `<tr class="${REGRESSION.has(r.verdict) ? 'reg' : ''}"><td class="mono">${h(r.tensor)}</td><td>${h(r.type)}</td><td class="num">${r.m}</td>` +
        `<td><span class="pill ${r.verdict}">${h(VERDICT_TEXT[r.verdict])}</span></td>` +
        `<td>${h(r.baseline?.status ?? '—')} → ${h(r.candidate?.status ?? '—')}</td>` +
        `<td class="num">${h(fmtExp(r.baseline?.nmse))}</td><td class="num">${h(fmtExp(r.candidate?.nmse))}</td>` +
        barCells(r) +
        `<td class="num">${h(fmtExp(r.baseline?.arithmeticError))}</td><td class="num">${h(fmtExp(r.candidate?.arithmeticError))}</td>` +
        `<td class="num">${h(usCell(r.baseline?.us))}</td><td class="num">${h(usCell(r.candidate?.us))}</td>` +
        `<td class="num">${h(change(r))}</td><td class="num">${h(pct(r.noise))}</td>` +
        `<td class="diag">${diagnosisCell(r)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QuantScope comparison: ${h(head)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{margin:0 0 4px;font-size:28px}h2{font-size:17px;margin:24px 0 8px}
.verdict.bad{color:#b3261e}.verdict.ok{color:#1e7d32}.verdict.none{color:#8a5a00}
.note{background:#fff4e0;border:1px solid #e0b060;padding:8px 12px;border-radius:6px}
table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 10px;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:top}
th{background:#f4f6fa}.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,monospace;font-size:12px}
td.diff{background:#fff8d6}tr.reg td{background:#fdecea}
.pill{display:inline-block;padding:0 8px;border-radius:10px;background:#e3e6ec;font-size:12px;white-space:nowrap}
.pill.new-failure,.pill.missing,.pill.slower{background:#f6c8c3}.pill.fixed,.pill.faster{background:#cdebd0}
.chart text{font:11px system-ui,sans-serif;fill:#1d2330}.chart .b{fill:#8a94a8}.chart .c{fill:#2f6fde}
.muted{color:#667}td.diag{max-width:420px;font-size:12px}
</style></head><body>
<h1 class="verdict ${cls}" data-verdict="${c.verdict === 'no-regression' ? 'ok' : c.verdict}">${h(head)}</h1>
<p>${counts || 'no results to compare'} <span class="muted">· speed changes count beyond ${h(pct(c.tolerance).slice(1))} and the runs' own spread</span></p>
${c.differences.length ? `<div class="note">These records do not describe the same work, so there is no verdict; the rows are shown for information:<ul>${c.differences.map((d) => `<li>${h(d)}</li>`).join('')}</ul></div>` : ''}
<h2>What was compared</h2>
<table class="facts"><thead><tr><th></th><th>Baseline</th><th>Candidate</th></tr></thead><tbody>
${factRows(input.baseline, input.candidate)}
</tbody></table>
<h2>${cases ? 'Per case' : 'Per tensor and batch size'}</h2>
<p class="muted">Kernel error: NMSE against the reference of the declared arithmetic. Arithmetic error: NMSE of the declared arithmetic against exact arithmetic. A changed diagnosis is shown and never counted.</p>
<table class="rows"><thead><tr><th>${cases ? 'Case' : 'Tensor'}</th><th>Type</th><th class="num">m</th><th>Verdict</th><th>Status</th><th class="num">Kernel NMSE was</th><th class="num">Kernel NMSE now</th>${bars ? '<th class="num">Threshold was</th><th class="num">Threshold now</th>' : ''}<th class="num">Arith. NMSE was</th><th class="num">Arith. NMSE now</th><th class="num">µs was</th><th class="num">µs now</th><th class="num">Change</th><th class="num">Noise</th><th>Diagnosis</th></tr></thead><tbody>
${rows}
</tbody></table>
${speedSvg(c)}
<p class="muted">QuantScope comparison report · made ${h(input.createdAt)}</p>
</body></html>
`;
}
