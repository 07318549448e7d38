/**
 * The correctness report: one self-contained file (HTML with inline CSS/SVG, Markdown, or JSON)
 * that says what ran where, what passed, by which threshold, and how fast.
 */
import { heatmapPng } from './png';
import type {
  SavedHeatmap,
  TensorResult,
  TimingSummary,
  UserKernelRecord,
  WeightMapInfo,
} from '../../../src-shared/contract';
import type { DeviceInfo } from '../backends/types';
import {
  computeUnitsText,
  kernelSettingsText,
  type DeviceAnalysis,
  type DeviceRunEntry,
} from '../../../src-shared/devices';
import { rangeText, weightCellText } from '../../../src-shared/weightmap';
import { devicesAnalysis, devicesHtml, devicesMarkdown, resultDeviceTag } from './devices-report';
import { compactJsonChunks, jsonChunks } from '../json-stream';
import { fmtNmse, fmtThreshold } from '../../../src-shared/threshold';
import {
  leftOutCount,
  leftOutRowCount,
  notComparedColumns,
  notComparedRows,
} from '../../../src-shared/heatmap';

export interface ReportInput {
  runId: string;
  createdAt: string;
  startedAt: string;
  appVersion: string;
  host: string;
  model: {
    fileName: string;
    path: string;
    fileSize: number;
    /** a split model's number of files (fileName is the first); absent for a model in one file */
    files?: number;
    architecture: string | null;
    name: string | null;
  };
  device: DeviceInfo | null;
  backend: string;
  request: {
    batchSizes: number[];
    seed: number;
    timing: string;
    path: string;
    threshold: number | null;
    tensors: number;
    /** the declared arithmetic every result was judged by, when one was forced (else each path's own) */
    arithmetic?: string | null;
    /** the activations (kind and seed, or the file) */
    activations?: string;
    /** the users' code objects the run loaded, with their hashes */
    userKernels?: UserKernelRecord[];
  };
  status: string;
  error?: string;
  results: TensorResult[];
  /** a run over several devices: each device's part (results carry `slot`) */
  devices?: DeviceRunEntry[];
  /**
   * The maps the HTML report draws inline and the Markdown report summarises, by resultId: the
   * output's error heatmap and, for a FAIL with an identity probe, the weight map (rows x probed
   * elements); both summarised (SavedHeatmap)
   */
  maps?: Record<string, { heatmap?: SavedHeatmap; weights?: SavedHeatmap }>;
}

export const REPORT_SCHEMA = 'quantscope-report/1';

/** What the report needs to know of all results before it writes the first. */
export interface ResultStats {
  counts: ReturnType<typeof reportCounts>;
  /** some result timed the unfused baseline (the table gets its columns) */
  unfused: boolean;
  /** results with timing, and their largest GB/s (-Infinity without any) */
  timed: number;
  maxGbps: number;
  /** results with a diagnosis */
  diagnoses: number;
}

/** ResultStats gathered one result at a time (a run written as it goes). */
export class ResultStatsBuilder {
  readonly stats: ResultStats = {
    counts: { total: 0, passed: 0, failed: 0, errors: 0, notComparable: 0 },
    unfused: false,
    timed: 0,
    maxGbps: -Infinity,
    diagnoses: 0,
  };

  add(r: TensorResult): void {
    const s = this.stats;
    const c = s.counts;
    c.total++;
    if (r.status === 'pass') c.passed++;
    else if (r.status === 'fail') c.failed++;
    else if (r.status === 'error') c.errors++;
    else if (r.status === 'not-comparable') c.notComparable++;
    if (r.unfused !== null && r.unfused !== undefined) s.unfused = true;
    if (r.timing) {
      s.timed++;
      s.maxGbps = Math.max(s.maxGbps, r.timing.gbps);
    }
    if (r.diagnosis) s.diagnoses++;
  }
}

export function resultStats(results: Iterable<TensorResult>): ResultStats {
  const b = new ResultStatsBuilder();
  for (const r of results) b.add(r);
  return b.stats;
}

/**
 * A report whose results need not be an array: `results` is read once per section (a file of a
 * million results written by a run in parts), `stats` and `analysis` were gathered beforehand, and
 * `input.results` is ignored (only its place among the keys counts, for the JSON).
 */
export interface ReportSource {
  input: ReportInput;
  results: Iterable<TensorResult>;
  stats: ResultStats;
  /** the device analysis of a run over several devices */
  analysis: DeviceAnalysis | null;
}

export function reportSource(input: ReportInput): ReportSource {
  return {
    input,
    results: input.results,
    stats: resultStats(input.results),
    analysis: devicesAnalysis(input.devices, input.results),
  };
}

/** One user kernel in a line: format, file, hash, geometry, declared arithmetic. */
export function userKernelLine(u: UserKernelRecord): string {
  const geo = [u.grid && `grid ${u.grid}`, u.block && `block ${u.block}`, u.shared && `shared ${u.shared}`]
    .filter(Boolean)
    .join(', ');
  return `${u.format} ${u.path} (sha256 ${u.sha256}${geo ? `, ${geo}` : ''}, arithmetic ${u.arithmetic ?? 'f32'})`;
}

export function reportCounts(results: TensorResult[]) {
  return {
    total: results.length,
    passed: results.filter((r) => r.status === 'pass').length,
    failed: results.filter((r) => r.status === 'fail').length,
    errors: results.filter((r) => r.status === 'error').length,
    notComparable: results.filter((r) => r.status === 'not-comparable').length,
  };
}

/** "2 passed, 0 failed, 0 errors of 3" with ", 1 not comparable" when there is one. */
export function countsLine(c: ReturnType<typeof reportCounts>): string {
  const nc = c.notComparable > 0 ? `, ${c.notComparable} not comparable` : '';
  return `${c.passed} passed, ${c.failed} failed, ${c.errors} errors${nc} of ${c.total}`;
}

/** The verdict cell of a result: PASS, FAIL, `ERROR: why`, `NOT COMPARABLE: why`. */
export function statusText(r: TensorResult): string {
  if (r.status === 'error') return `ERROR: ${r.error ?? ''}`;
  if (r.status === 'not-comparable') return `NOT COMPARABLE: ${r.notComparable ?? 'non-finite scales'}`;
  return r.status.toUpperCase();
}

export function verdict(input: ReportInput): 'PASS' | 'FAIL' | 'INCOMPLETE' {
  return verdictOf(input.status, reportCounts(input.results));
}

function verdictOf(status: string, c: ReturnType<typeof reportCounts>): 'PASS' | 'FAIL' | 'INCOMPLETE' {
  if (status !== 'done' || c.total === 0) return 'INCOMPLETE';
  return c.failed === 0 && c.errors === 0 ? 'PASS' : 'FAIL';
}

export function reportFileName(input: ReportInput, format: 'html' | 'json' | 'md'): string {
  const base = input.model.fileName.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  const stamp = input.createdAt.replace(/[:]/g, '').replace(/\..*$/, '');
  return `quantscope-${base}-${input.backend}-${stamp}.${format}`;
}

export function renderReport(input: ReportInput, format: 'html' | 'json' | 'md'): string {
  return [...reportChunks(reportSource(input), format)].join('');
}

/** The report as pieces of text, for writing a large one without holding it. */
export function reportChunks(src: ReportSource, format: 'html' | 'json' | 'md'): Iterable<string> {
  if (format === 'json')
    return (function* () {
      yield* jsonChunks(reportJsonOf(src));
      yield '\n';
    })();
  if (format === 'md') return markdownChunks(src);
  return htmlChunks(src);
}

export function reportJson(input: ReportInput) {
  return reportJsonOf(reportSource(input));
}

/** The JSON report's object; its `results` is the source's (an iterable the writer streams). */
function reportJsonOf(src: ReportSource) {
  const { input, stats, analysis } = src;
  return {
    schema: REPORT_SCHEMA,
    verdict: verdictOf(input.status, stats.counts),
    counts: stats.counts,
    ...input,
    results: src.results,
    ...(analysis ? { deviceAnalysis: analysis } : {}),
  };
}

// ---- formatting helpers ----

export function fmtExp(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  return v.toExponential(2);
}

export function fmtNum(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(digits);
}

/**
 * Rates (GB/s, TFLOP/s) to significant digits, as the app writes them: 3 below 100 (0.433, 12.5),
 * whole numbers above; a cpu's 0.4 GB/s is not "0".
 */
export function fmtRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) < 0.001) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}

export function fmtBytes(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = b;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

function timingCells(t: TimingSummary | null): string[] {
  if (!t) return ['—', '—', '—', '—'];
  return [
    fmtNum(t.medianUs, 1),
    fmtRate(t.gbps),
    fmtRate(t.tflops),
    t.pctPeak === null ? '—' : `${fmtNum(t.pctPeak, 0)}%`,
  ];
}

const HEAD = [
  'tensor',
  'type',
  'n×k',
  'm',
  'result',
  'NMSE',
  'threshold',
  'max abs',
  'max rel',
  'path',
  'arithmetic',
  'arith. NMSE',
  'µs',
  'GB/s',
  'TFLOP/s',
  '% peak',
];

/** Extra columns when the run also timed the unfused baseline: what fusion saves. */
const UNFUSED_HEAD = ['unfused µs', 'unfused NMSE', 'fused speed-up'];

function headFor(stats: ResultStats): string[] {
  return stats.unfused ? [...HEAD, ...UNFUSED_HEAD] : HEAD;
}

function unfusedCells(r: TensorResult): string[] {
  const u = r.unfused;
  if (!u) return ['—', '—', '—'];
  if (u.error) return [`ERROR: ${u.error}`, '—', '—'];
  const speedup =
    u.timing && r.timing && r.timing.medianUs > 0
      ? `${fmtNum(u.timing.medianUs / r.timing.medianUs, 2)}×`
      : '—';
  return [fmtNum(u.timing?.medianUs, 1), fmtExp(u.metrics?.nmse), speedup];
}

function cellsFor(r: TensorResult, withUnfused: boolean): string[] {
  return withUnfused ? [...rowCells(r), ...unfusedCells(r)] : rowCells(r);
}

function rowCells(r: TensorResult): string[] {
  const status = statusText(r);
  const tag = resultDeviceTag(r);
  return [
    tag ? `${r.tensor} @ ${tag}` : r.tensor,
    r.type,
    `${r.n}×${r.k}`,
    String(r.m),
    status,
    fmtNmse(r.metrics?.nmse, r.threshold),
    fmtThreshold(r.threshold),
    fmtExp(r.metrics?.maxAbsErr),
    fmtExp(r.metrics?.maxRelErr),
    r.path ?? '—',
    r.arithmetic ?? '—',
    fmtExp(r.arithmeticNmse),
    ...timingCells(r.timing),
  ];
}

function deviceLine(d: DeviceInfo | null, backend: string): string {
  if (!d) return backend === 'check' ? 'none: an output made elsewhere (quantscope check)' : backend;
  const bw = d.peakBandwidthGBs ? `, peak ${fmtNum(d.peakBandwidthGBs, 0)} GB/s` : '';
  const c = d.copyBandwidth;
  // the run's own measurement, with its size and repeats: the denominator of "% of copy"
  const how =
    c?.bytes != null ? ` (${fmtNum(c.bytes / 2 ** 20, 0)} MiB × ${c.repeats ?? '?'}, this run)` : '';
  const copy = d.copyBandwidthGBs ? `, measured copy ${fmtNum(d.copyBandwidthGBs, 0)} GB/s${how}` : '';
  // kernels built or launched with settings other than the defaults are named: their figures are not the default build's
  const ks = kernelSettingsText(d.kernelSettings);
  return `${d.backend}:${d.index} ${d.name} (${d.arch}, ${computeUnitsText(d.backend, d.computeUnits, d.threadsKeptForApp)}, ${fmtBytes(d.memoryTotal)}${bw}${copy}${ks ? `; ${ks}` : ''})`;
}

/** " and 2 more files (split model)" after a split model's first file name; "" for a model in one file */
function moreFiles(files: number | undefined): string {
  return files && files > 1 ? ` and ${files - 1} more file${files === 2 ? '' : 's'} (split model)` : '';
}

/**
 * Text from the model file or the run (names, errors) as inert Markdown: HTML special characters
 * as entities, Markdown punctuation backslash-escaped, pipes escaped so table cells stay cells,
 * line breaks as spaces, and control and bidi characters visible as \xNN / \uNNNN.
 */
export function mdEscape(s: string): string {
  return (
    s
      .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
        const c = ch.charCodeAt(0);
        return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
      })
      .replace(/[\\`*_{}[\]()#+!|~]/g, (ch) => `\\${ch}`)
      .replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
  );
}

function* markdownChunks(src: ReportSource): Generator<string> {
  const { input, stats } = src;
  const c = stats.counts;
  const esc = mdEscape;
  const withUnfused = stats.unfused;
  const head = headFor(stats);
  const lines = [
    `# QuantScope correctness report — ${verdictOf(input.status, c)}`,
    '',
    `- Model: ${esc(input.model.fileName)}${moreFiles(input.model.files)} (${esc(input.model.architecture ?? 'unknown architecture')}${input.model.name ? `, ${esc(input.model.name)}` : ''}, ${fmtBytes(input.model.fileSize)})`,
    `- Device: ${esc(deviceLine(input.device, input.backend))}`,
    `- Batch sizes: ${input.request.batchSizes.join(', ')}; seed ${input.request.seed}; timing ${input.request.timing}; path ${input.request.path}; threshold ${input.request.threshold === null ? 'per path (1e-8 against its declared arithmetic)' : fmtThreshold(input.request.threshold)}; arithmetic ${esc(input.request.arithmetic ?? 'per path')}; activations ${esc(input.request.activations ?? 'gaussian')}`,
    ...(input.request.userKernels?.length
      ? [`- User kernels: ${input.request.userKernels.map((u) => esc(userKernelLine(u))).join('; ')}`]
      : []),
    `- Results: ${countsLine(c)}; run ${esc(input.status)}${input.error ? ` (${esc(input.error)})` : ''}`,
    `- Run ${esc(input.runId)}, ${esc(input.startedAt)} → ${esc(input.createdAt)}; QuantScope ${esc(input.appVersion)}; ${esc(input.host)}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
  ];
  // every line ends with a newline (the text is its lines joined, ending in an empty one)
  for (const l of lines) yield l + '\n';
  for (const r of src.results) yield `| ${cellsFor(r, withUnfused).map(esc).join(' | ')} |\n`;
  yield '\n';
  if (src.analysis) for (const l of devicesMarkdown(src.analysis, esc)) yield l + '\n';
  if (stats.diagnoses > 0)
    for (const r of src.results)
      if (r.diagnosis)
        yield `- diagnosis ${esc(r.tensor)} m=${r.m}: **${r.diagnosis.class}**: ${esc(r.diagnosis.sentence)}\n`;
  // the diagnoses' list needs a blank line before the next heading; the table and devices end in one
  yield* mapsMarkdown(src, stats.diagnoses > 0);
}

/** How many of a map's worst cells the Markdown report names. */
const MD_WORST_CELLS = 3;

/**
 * What a saved map's cells say in one table row: the largest and the mean of the cells compared
 * (a cell's value is the largest error of what it covers), the cells that are NaN or infinite, and
 * the worst cells as indices (largest first, the earlier cell first among equals).
 */
export function mapSummary(m: SavedHeatmap): {
  max: number;
  mean: number;
  compared: number;
  nonFinite: number;
  worst: number[];
} {
  const greyCols = notComparedColumns({ ...m, colStart: 0, colEnd: m.n });
  const greyRows = notComparedRows({ ...m, rowStart: 0, rowEnd: m.m });
  let max = 0;
  let sum = 0;
  let finite = 0;
  let nonFinite = 0;
  const ranked: number[] = [];
  for (let i = 0; i < m.rows * m.cols; i++) {
    if (greyCols?.[i % m.cols] || greyRows?.[(i / m.cols) | 0]) continue;
    // NaN arrives as null from JSON that was not a record's; both are NaN or infinite cells
    const v = (m.values[i] as number | null) ?? NaN;
    if (!Number.isFinite(v)) nonFinite++;
    else {
      sum += v;
      finite++;
      if (v > max) max = v;
      if (v <= 0) continue;
    }
    ranked.push(i);
  }
  const key = (i: number) => {
    const v = (m.values[i] as number | null) ?? NaN;
    return Number.isFinite(v) ? v : Infinity;
  };
  ranked.sort((a, b) => key(b) - key(a) || a - b);
  return {
    max: nonFinite > 0 ? Infinity : max,
    mean: finite > 0 ? sum / finite : 0,
    compared: finite + nonFinite,
    nonFinite,
    worst: ranked.slice(0, MD_WORST_CELLS),
  };
}

/** Where an output heatmap's cell lies: its batch rows and output columns. */
function outputCell(m: SavedHeatmap, i: number): string {
  const r = ((i / m.cols) | 0) * m.cellRows;
  const c = (i % m.cols) * m.cellCols;
  return `${rangeText('row', 'rows', r, Math.min(m.m, r + m.cellRows))} × ${rangeText('col', 'cols', c, Math.min(m.n, c + m.cellCols))}`;
}

/**
 * One table row of the Markdown heatmap section: which map of which result, its grid, largest and
 * mean cell, worst cells. Rows start with the map's kind, so the results table's rows stay the only
 * ones that start with a tensor name.
 */
function mapRow(
  label: string,
  kind: 'output' | 'weights',
  m: SavedHeatmap,
  info: WeightMapInfo | null | undefined,
): string {
  const sum = mapSummary(m);
  const where = (i: number) => (kind === 'output' ? outputCell(m, i) : weightCellText(m, i, info));
  const worst = sum.worst.map((i) => `${where(i)}: ${fmtExp(m.values[i] ?? NaN)}`).join('; ') || '—';
  const cols = leftOutCount(m);
  const rows = leftOutRowCount(m);
  const left = [
    ...(cols > 0 ? [`${cols} of ${m.n} output columns`] : []),
    ...(rows > 0 ? [`${rows} of ${m.m} weight rows`] : []),
  ];
  const mean = `${fmtExp(sum.mean)}${sum.nonFinite > 0 ? ` (+${sum.nonFinite} NaN/Inf)` : ''}`;
  return `| ${kind} | ${label} | ${m.rows}×${m.cols} of ${m.cellRows}×${m.cellCols} (${m.m}×${m.n}) | ${fmtExp(sum.max)} | ${mean} | ${worst} | ${left.join(', ') || '—'} |`;
}

/**
 * The maps section of the Markdown report: per result with a map, its output heatmap and weight map
 * as one table row each (the grid's shape, its largest and mean cell, the worst cells with the
 * outputs or weights they cover, what was not compared), in result order.
 */
function* mapsMarkdown(src: ReportSource, gap: boolean): Generator<string> {
  const maps = src.input.maps ?? {};
  if (Object.keys(maps).length === 0) return;
  let first = true;
  for (const r of src.results) {
    const m = maps[r.resultId];
    if (!m?.heatmap && !m?.weights) continue;
    if (first) {
      yield `${gap ? '\n' : ''}## Heatmaps\n\n`;
      yield `Each map reduced by maximum, in absolute error: the grid (cells of rows × columns over the whole output, batch rows × outputs, or over the probed weights, weight rows × probed elements), its largest cell and the mean of its cells, the ${MD_WORST_CELLS} worst cells, and what was not compared (in none of those).\n\n`;
      yield '| map | result | grid | max | mean | worst cells | not compared |\n';
      yield '|---|---|---|---|---|---|---|\n';
      first = false;
    }
    const tag = resultDeviceTag(r);
    const label = `${mdEscape(tag ? `${r.tensor} @ ${tag}` : r.tensor)} m=${r.m}`;
    if (m.heatmap) yield mapRow(label, 'output', m.heatmap, null) + '\n';
    if (m.weights) yield mapRow(label, 'weights', m.weights, r.weightMap) + '\n';
  }
}

function h(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
}

/** Bars of GB/s per result against the device's peak and copy bandwidth, as inline SVG. */
function* bandwidthSvg(src: ReportSource): Generator<string> {
  const { input, stats } = src;
  if (stats.timed === 0) {
    yield '<p class="muted">No timing in this run.</p>';
    return;
  }
  const peak = input.device?.peakBandwidthGBs ?? null;
  const copy = input.device?.copyBandwidthGBs ?? null;
  const max = Math.max(stats.maxGbps, Math.max(peak ?? 0, copy ?? 0)) * 1.05 || 1;
  const rowH = 18;
  const labelW = 330;
  const W = 900;
  const barW = W - labelW - 70;
  const Hh = stats.timed * rowH + 30;
  const x = (v: number) => labelW + (v / max) * barW;
  yield `<svg viewBox="0 0 ${W} ${Hh}" width="100%" role="img" aria-label="GB/s per tensor">`;
  let i = 0;
  for (const r of src.results) {
    if (!r.timing) continue;
    const y = 20 + i++ * rowH;
    const w = Math.max(1, x(r.timing.gbps) - labelW);
    const cls = r.status === 'pass' || r.status === 'not-comparable' ? 'pass' : 'fail';
    yield `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${h(`${r.tensor} (${r.type}) m=${r.m}`)}</text><rect class="${cls}" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 5}"/><text x="${(labelW + w + 4).toFixed(1)}" y="${y + 12}">${fmtRate(r.timing.gbps)}</text>`;
  }
  const line = (v: number | null, label: string, cls: string) =>
    v
      ? `<line class="${cls}" x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="12" y2="${Hh - 4}"/><text class="${cls}" x="${x(v).toFixed(1)}" y="10" text-anchor="middle">${label} ${fmtRate(v)}</text>`
      : '';
  yield `${line(peak, 'peak', 'peak')}${line(copy, 'copy', 'copy')}</svg>`;
}

/** One entry per failing result with a diagnosis: class, sentence and evidence. */
function* diagnosesHtml(src: ReportSource): Generator<string> {
  if (src.stats.diagnoses === 0) return;
  yield '<h2>Diagnosis</h2>\n<ul>\n';
  let first = true;
  for (const r of src.results) {
    if (!r.diagnosis) continue;
    yield `${first ? '' : '\n'}<li><b>${h(r.tensor)}</b> m=${r.m}: <b>${h(r.diagnosis.class)}</b>: ${h(r.diagnosis.sentence)}<ul>${r.diagnosis.evidence.map((e) => `<li>${h(e)}</li>`).join('')}</ul></li>`;
    first = false;
  }
  yield '\n</ul>';
}

/** What the heatmaps' legend says of outputs left out of the comparison, when a map has any. */
export const NOT_COMPARED_LEGEND =
  'Grey: outputs not compared (non-finite block scales in their weight rows); a cell with some of its outputs left out shows the error of the others.';

/** What the legend adds when a weight map left weight rows out (those rows feed the outputs left out). */
export const NOT_COMPARED_ROWS_LEGEND =
  'In a weight map, grey rows are weight rows not compared (the outputs they feed were left out); a cell with some of its rows left out shows the error of the others.';

/** The maps section: per result, the error heatmap and the weight map as inline images. */
function mapsHtml(src: ReportSource): string {
  const maps = src.input.maps ?? {};
  const shown: TensorResult[] = [];
  if (Object.keys(maps).length > 0)
    for (const r of src.results) if (maps[r.resultId]?.heatmap || maps[r.resultId]?.weights) shown.push(r);
  if (shown.length === 0) return '';
  let leftOut = false;
  let rowsLeftOut = false;
  const img = (m: SavedHeatmap, what: string) => {
    // a saved map is the whole output (or all probed weights): its columns run from 0 to n, its rows 0 to m
    const grey = notComparedColumns({ ...m, colStart: 0, colEnd: m.n });
    const greyRows = notComparedRows({ ...m, rowStart: 0, rowEnd: m.m });
    const png = heatmapPng(m.values, m.rows, m.cols, grey, greyRows).toString('base64');
    const w = Math.min(640, Math.max(160, m.cols * 5));
    const ht = Math.min(240, Math.max(24, m.rows * 12));
    const skipped = leftOutCount(m);
    const skippedRows = leftOutRowCount(m);
    if (skipped > 0) leftOut = true;
    if (skippedRows > 0) rowsLeftOut = true;
    const note =
      (skipped > 0 ? `; ${skipped} of ${m.n} output columns not compared${grey ? ' (grey)' : ''}` : '') +
      (skippedRows > 0
        ? `; ${skippedRows} of ${m.m} weight rows not compared${greyRows ? ' (grey)' : ''}`
        : '');
    return `<figure><img class="map" alt="${h(what)}" width="${w}" height="${ht}" src="data:image/png;base64,${png}"><figcaption>${h(what)}: ${m.rows} × ${m.cols} cells of ${m.cellRows} × ${m.cellCols}, largest ${fmtExp(m.max)}${note}</figcaption></figure>`;
  };
  const items = shown.map((r) => {
    const m = maps[r.resultId];
    return `<div class="maps"><h3>${h(r.tensor)} m=${r.m} — ${h(statusText(r))}</h3>${r.diagnosis ? `<p>${h(r.diagnosis.sentence)}</p>` : ''}${m.heatmap ? img(m.heatmap, 'output error (abs, log scale): rows = batch row, columns = output') : ''}${m.weights ? img(m.weights, 'weight map (abs error of the probed weights, log scale): rows = weight row, columns = probed element') : ''}</div>`;
  });
  const legend = `White: no error; magenta: NaN or infinite.${leftOut ? ` ${NOT_COMPARED_LEGEND}` : ''}${rowsLeftOut ? ` ${NOT_COMPARED_ROWS_LEGEND}` : ''}`;
  return `<h2>Heatmaps</h2>\n<p class="muted">${legend}</p>\n${items.join('\n')}`;
}

function* htmlChunks(src: ReportSource): Generator<string> {
  const { input, stats } = src;
  const c = stats.counts;
  const v = verdictOf(input.status, c);
  const withUnfused = stats.unfused;
  yield `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>QuantScope report — ${h(input.model.fileName)} — ${v}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;background:#fff}
h1{font-size:1.4rem}.verdict{padding:.1rem .5rem;border-radius:4px;color:#fff}
.PASS{background:#1f8a4c}.FAIL{background:#c0392b}.INCOMPLETE{background:#b7791f}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #dde;padding:3px 6px;text-align:left;white-space:nowrap}
td.num{text-align:right}tr.fail td,tr.error td{background:#fdecea}tr.not-comparable td{background:#fdf6e3}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{color:#667}
svg text{font-size:11px;fill:#333}rect.pass{fill:#3b82f6}rect.fail{fill:#c0392b}
line.peak{stroke:#c0392b;stroke-dasharray:4 3}line.copy{stroke:#1f8a4c;stroke-dasharray:4 3}
text.peak{fill:#c0392b}text.copy{fill:#1f8a4c}.muted{color:#667}
img.map{image-rendering:pixelated;border:1px solid #dde}figure{margin:.3rem 0 .8rem}figcaption{color:#667;font-size:12px}
</style></head><body>
<h1>QuantScope correctness report <span class="verdict ${v}">${v}</span></h1>
<dl>
<dt>Model</dt><dd>${h(input.model.fileName)}${moreFiles(input.model.files)} — ${h(input.model.architecture ?? 'unknown architecture')}${input.model.name ? `, ${h(input.model.name)}` : ''}, ${fmtBytes(input.model.fileSize)}</dd>
<dt>Device</dt><dd>${h(deviceLine(input.device, input.backend))}</dd>
<dt>Settings</dt><dd>batch sizes ${input.request.batchSizes.join(', ')}; seed ${input.request.seed}; timing ${h(input.request.timing)}; path ${h(input.request.path)}; threshold ${input.request.threshold === null ? 'per path (1e-8 against its declared arithmetic)' : fmtThreshold(input.request.threshold)}; arithmetic ${h(input.request.arithmetic ?? 'per path')}; activations ${h(input.request.activations ?? 'gaussian')}</dd>
${input.request.userKernels?.length ? `<dt>User kernels</dt><dd>${input.request.userKernels.map((u) => h(userKernelLine(u))).join('<br>')}</dd>\n` : ''}<dt>Results</dt><dd>${countsLine(c)} — run ${h(input.status)}${input.error ? `: ${h(input.error)}` : ''}</dd>
<dt>Reference</dt><dd>weights dequantized exactly as llama.cpp does, operands rounded as the path's declared arithmetic says, every product summed in float64; NMSE = Σ(got−ref)² / Σref² (the kernel error, the verdict); arith. NMSE = the declared reference against the exact float32-input one (what the rounding costs)</dd>
<dt>Run</dt><dd>${h(input.runId)}, ${h(input.startedAt)} → ${h(input.createdAt)}; QuantScope ${h(input.appVersion)}; ${h(input.host)}</dd>
</dl>
<h2>Results</h2>
<table><thead><tr>${headFor(stats)
    .map((x) => `<th>${h(x)}</th>`)
    .join('')}</tr></thead><tbody>
`;
  let first = true;
  for (const r of src.results) {
    const cells = cellsFor(r, withUnfused)
      .map((x, i) => `<td${i >= 5 && i !== 9 && i !== 10 ? ' class="num"' : ''}>${h(x)}</td>`)
      .join('');
    yield `${first ? '' : '\n'}<tr class="${r.status}">${cells}</tr>`;
    first = false;
  }
  yield `\n</tbody></table>\n${src.analysis ? devicesHtml(src.analysis, h) : ''}\n`;
  yield* diagnosesHtml(src);
  yield `\n${mapsHtml(src)}\n<h2>Weight bandwidth</h2>\n`;
  yield* bandwidthSvg(src);
  yield '\n<script type="application/json" id="quantscope-data">';
  for (const piece of compactJsonChunks(reportJsonOf(src))) yield piece.replace(/</g, '\\u003c');
  yield '</script>\n</body></html>\n';
}
