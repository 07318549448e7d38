/**
 * History (pure, unit-tested): filtering and ordering the saved runs, turning a record's rows back
 * into the TensorResult rows the results and charts views show, and shaping a comparison for its
 * table and chart.
 */
import type {
  CompareRow,
  CopyBandwidthMeasurement,
  ErrorGrid,
  ErrorGridRequest,
  Metrics,
  QuantScopeApi,
  RecordKindName,
  RecordSummaryEntry,
  RowVerdict,
  RunRecordData,
  SavedHeatmap,
  TensorResult,
  TimingSummary,
  WeightMapInfo,
} from '../../../src-shared/contract';
import { vsPeer } from '../../../src-shared/bench-chart';
import { probedCount } from '../../../src-shared/weightmap';
import { fmtRate } from './format';

export interface HistoryFilter {
  /** '' = any */
  kind: '' | RecordKindName;
  /** '' = any */
  model: string;
  device: string;
  /** failures: a failed or errored row; clean: every row passed */
  verdict: 'any' | 'failures' | 'clean';
  /** 'YYYY-MM-DD' local days, inclusive, '' = open */
  from: string;
  to: string;
}

export const EMPTY_HISTORY_FILTER: HistoryFilter = {
  kind: '',
  model: '',
  device: '',
  verdict: 'any',
  from: '',
  to: '',
};

const hasProblems = (r: RecordSummaryEntry) => r.counts.fail + r.counts.error > 0;

/**
 * "2026-12-04 17:27:05": an ISO time in the local time zone, as the History list shows it (the text
 * as given when it is not a date).
 */
export function localDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The local day ('YYYY-MM-DD') of an ISO time: the day the list's date column shows. */
export function localDay(iso: string): string {
  return localDateTime(iso).slice(0, 10);
}

/** The records the filter lets through, newest first. */
export function filterRecords(
  records: readonly RecordSummaryEntry[],
  f: HistoryFilter,
): RecordSummaryEntry[] {
  const out = records.filter((r) => {
    if (f.kind && r.kind !== f.kind) return false;
    if (f.model && r.model !== f.model) return false;
    if (f.device && r.device !== f.device) return false;
    if (f.verdict === 'failures' && !hasProblems(r)) return false;
    if (f.verdict === 'clean' && (hasProblems(r) || r.counts.total === 0)) return false;
    // the day the date column shows (local time), which a date input's value also is
    const day = localDay(r.createdAt);
    if (f.from && day < f.from) return false;
    if (f.to && day > f.to) return false;
    return true;
  });
  return sortNewestFirst(out);
}

/** Newest first by creation time; ties by id, so the order is stable. */
export function sortNewestFirst<T extends { createdAt: string; id: string }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => {
    const ta = Date.parse(a.createdAt);
    const tb = Date.parse(b.createdAt);
    if (ta !== tb) return (Number.isNaN(tb) ? -Infinity : tb) - (Number.isNaN(ta) ? -Infinity : ta);
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}

/** The kinds of record, in the order the kind filter offers them. */
export const RECORD_KINDS: readonly RecordKindName[] = ['verify', 'check', 'bench', 'selftest'];

/** The distinct values of a column, for the filter's select boxes. */
export function choicesOf(
  records: readonly RecordSummaryEntry[],
  key: 'model' | 'device' | 'kind',
): string[] {
  return [...new Set(records.map((r) => r[key]).filter((x): x is string => !!x))].sort();
}

/**
 * The two selected records in comparison order: the older is the baseline, the newer the candidate.
 * Null unless exactly two are selected.
 */
export function comparePair(
  selected: readonly string[],
  records: readonly RecordSummaryEntry[],
): { baseline: string; candidate: string } | null {
  if (selected.length !== 2) return null;
  const [a, b] = selected.map((id) => records.find((r) => r.id === id));
  if (!a || !b) return null;
  const [older, newer] = sortNewestFirst([a, b]).reverse();
  return { baseline: older.id, candidate: newer.id };
}

/** Toggles one record in a selection of at most two; a third pick replaces the earliest. */
export function toggleSelection(selected: readonly string[], id: string): string[] {
  if (selected.includes(id)) return selected.filter((x) => x !== id);
  return [...selected, id].slice(-2);
}

/** What a not-comparable row says when its record did not keep the reason. */
export const NOT_COMPARABLE_UNSAID =
  'non-finite scales (this record does not say how many blocks, rows and outputs were left out)';

/**
 * A record's rows as TensorResult rows, for the results and charts views in read-only mode. Records
 * the engine made carry every TensorResult field; older and CLI records miss some, which stay
 * absent (the views show '—'). Outputs are never kept in records; the heatmap, where the record kept
 * one, is its saved summary (readOnlyApi serves it), so zoom is off. Every verdict is the saved one:
 * a not-comparable result stays not comparable, with the reason its record kept.
 */
export function recordResults(rec: RunRecordData): TensorResult[] {
  return rec.results.map((r, i): TensorResult => {
    const device = rec.device;
    const extra = r as Partial<TensorResult>;
    return {
      ...extra,
      resultId: `${rec.id}#${i}`,
      runId: rec.id,
      tensor: r.tensor,
      type: r.type,
      n: r.n,
      k: r.k,
      m: r.m,
      backend: (extra.backend ?? device?.backend ?? 'cpu') as TensorResult['backend'],
      device: typeof extra.device === 'string' ? extra.device : (device?.name ?? '—'),
      path: r.path as TensorResult['path'],
      status: r.status,
      ...(r.status === 'not-comparable'
        ? { notComparable: typeof r.notComparable === 'string' ? r.notComparable : NOT_COMPARABLE_UNSAID }
        : {}),
      ...(r.error !== undefined ? { error: r.error } : {}),
      threshold: r.threshold ?? Number.NaN,
      metrics: r.metrics
        ? ({ nanMismatches: 0, infMismatches: 0, count: 0, worst: null, ...r.metrics } as Metrics)
        : null,
      timing: r.timing ? ({ ...r.timing } as TimingSummary) : null,
      unfused: extra.unfused ?? null,
      weightBytes: extra.weightBytes ?? 0,
      gridAvailable: false,
      elapsedMs: extra.elapsedMs ?? 0,
    };
  });
}

export const VERDICT_LABEL: Record<RowVerdict, string> = {
  'new-failure': 'new failure',
  missing: 'missing',
  slower: 'slower',
  'still-failing': 'still failing',
  fixed: 'fixed',
  faster: 'faster',
  new: 'new',
  same: 'same',
};

export const REGRESSION_VERDICTS: ReadonlySet<RowVerdict> = new Set(['new-failure', 'missing', 'slower']);

/** The chart's data: median µs of the same tensor and batch size in both records. */
export function speedBars(rows: readonly CompareRow[], limit = 40) {
  return rows
    .filter((r) => r.baseline?.us != null || r.candidate?.us != null)
    .slice(0, limit)
    .map((r) => ({
      label: `${r.tensor} m=${r.m}`,
      baseline: r.baseline?.us ?? null,
      candidate: r.candidate?.us ?? null,
    }));
}

/** "+12.3%" for a ratio of 1.123; null: '—'. */
export function fmtChange(ratio: number | null): string {
  if (ratio == null || !Number.isFinite(ratio)) return '—';
  const d = (ratio - 1) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}%`;
}

/** What a saved run's heatmap says: a record keeps the metrics, not the outputs they came from. */
export const NO_OUTPUTS = 'this record kept no heatmap of that result';

/**
 * What a saved FAIL's weight map says when its record kept where the identity probe looked (and how
 * many weight rows were not compared) but no grid of the probed weights: a record written before
 * records kept it, or one whose run no longer had the probed weights.
 */
export const NO_WEIGHTS = 'this record kept where the probe looked, not the probed weights';

/** What a saved weight map says when its grid does not fit where the probe looked. */
export const BAD_WEIGHTS = "this record's weight map does not fit where the probe looked";

/** What a saved weight map says when asked for a region: it is the whole map, without zoom. */
export const NO_WEIGHT_ZOOM = 'a saved weight map is the whole map: it has no zoom';

/**
 * A record's saved weight map as the error grid the weight map draws: the whole map, its weight rows
 * left out counted per row, no hover detail (the cell's weights and value say where). Refuses a grid
 * that does not fit its probe's geometry (rows = weight rows, columns = probed elements, one value a
 * cell), so a damaged record says so rather than drawing something else.
 */
export function savedWeightGrid(
  resultId: string,
  info: Pick<WeightMapInfo, 'n' | 'spans'>,
  h: SavedHeatmap,
  metric: 'abs' | 'rel',
): ErrorGrid {
  const fits =
    h.m === info.n &&
    h.n === probedCount(info.spans) &&
    h.rows === Math.ceil(h.m / h.cellRows) &&
    h.cols === Math.ceil(h.n / h.cellCols) &&
    h.values.length === h.rows * h.cols &&
    (!h.leftOutRows || h.leftOutRows.length === h.rows);
  if (!fits) throw new Error(BAD_WEIGHTS);
  return savedGrid(resultId, h, metric);
}

/**
 * The API a saved run's views see: reading only. The heatmap asks for an error grid and gets the
 * record's saved one, or is told outputs are not kept; the weight map gets the record's saved grid
 * of the probed weights (the whole map), or is told the record kept none; anything that would start
 * work is refused. Every other call goes to `api`.
 */
export function readOnlyApi(api: QuantScopeApi, rec?: RunRecordData): QuantScopeApi {
  const refuse = async (): Promise<never> => {
    throw new Error('a saved run is read-only');
  };
  const ro = Object.create(api) as QuantScopeApi;
  return Object.assign(ro, {
    onRunEvent: () => () => undefined,
    errorGrid: async (req: ErrorGridRequest): Promise<ErrorGrid> => {
      const i = rec ? Number(req.resultId.slice(rec.id.length + 1)) : NaN;
      const saved = rec && req.resultId.startsWith(`${rec.id}#`) ? rec.results[i]?.heatmap : undefined;
      if (!saved) throw new Error(NO_OUTPUTS);
      return savedGrid(req.resultId, saved[req.metric], req.metric);
    },
    weightGrid: async (req: ErrorGridRequest): Promise<ErrorGrid> => {
      const i = rec ? Number(req.resultId.slice(rec.id.length + 1)) : NaN;
      const map = rec && req.resultId.startsWith(`${rec.id}#`) ? rec.results[i]?.weightMap : undefined;
      if (!map?.grid) throw new Error(NO_WEIGHTS);
      const whole =
        (req.rowStart ?? 0) === 0 &&
        (req.rowEnd ?? map.n) === map.n &&
        (req.colStart ?? 0) === 0 &&
        (req.colEnd ?? probedCount(map.spans)) === probedCount(map.spans);
      if (!whole) throw new Error(NO_WEIGHT_ZOOM);
      return savedWeightGrid(req.resultId, map, map.grid[req.metric], req.metric);
    },
    startRun: refuse,
    cancelRun: refuse,
    exportReport: refuse,
  });
}

/**
 * A record's saved heatmap as the error grid the heatmap draws (the whole output; no hover detail),
 * with its count of left-out outputs per column (a weight map's: weight rows per row) where the
 * record kept one.
 */
export function savedGrid(resultId: string, h: SavedHeatmap, metric: 'abs' | 'rel'): ErrorGrid {
  return {
    resultId,
    metric,
    m: h.m,
    n: h.n,
    rowStart: 0,
    rowEnd: h.m,
    colStart: 0,
    colEnd: h.n,
    rows: h.rows,
    cols: h.cols,
    cellRows: h.cellRows,
    cellCols: h.cellCols,
    values: h.values,
    worst: [],
    min: h.min,
    max: h.max,
    // the outputs left out of the comparison, so the heatmap marks them as it marks a live run's
    ...(h.leftOutCols ? { leftOutCols: h.leftOutCols } : {}),
    ...(h.leftOutRows ? { leftOutRows: h.leftOutRows } : {}),
  };
}

/** "31.8 GB/s · 16 MiB × 5 · 10:15:00": the copy bandwidth a run measured, and how; null without one. */
export function copyBandwidthText(
  c: CopyBandwidthMeasurement | null | undefined,
  gbs?: number | null,
): string | null {
  if (!c) return gbs ? `${gbs.toFixed(1)} GB/s` : null;
  const parts = [`${c.gbs.toFixed(1)} GB/s`];
  if (c.bytes != null)
    parts.push(`${Math.round(c.bytes / 2 ** 20)} MiB${c.repeats != null ? ` × ${c.repeats}` : ''}`);
  if (c.measuredAt) {
    const d = new Date(c.measuredAt);
    parts.push(Number.isNaN(d.getTime()) ? c.measuredAt : `measured ${d.toLocaleString()}`);
  } else parts.push('measurement not recorded');
  return parts.join(' · ');
}

/** Whether a record kind shows its own table (bench, selftest) rather than the results and charts views. */
export function hasCaseTable(kind: RecordKindName): kind is 'bench' | 'selftest' {
  return kind === 'bench' || kind === 'selftest';
}

/** A read-only table: column labels, right-aligned columns, and rows of text. */
export interface CaseTable {
  columns: string[];
  numeric: boolean[];
  rows: { key: string; status: string; cells: string[] }[];
}

const sci = (v: number | null | undefined) =>
  v == null || !Number.isFinite(v) ? '—' : v === 0 ? '0' : v.toExponential(2);
const fixed = (v: number | null | undefined, d: number) =>
  v == null || !Number.isFinite(v) ? '—' : v.toFixed(d);

const ratio = (v: number | null) => (v == null ? '—' : `${v.toFixed(2)}×`);

/**
 * A bench record's rows as a table: timings with their spread, bandwidth, the check, and the peer's
 * time with the peer's time over ours (above 1: ours is faster).
 */
export function benchTable(rec: RunRecordData): CaseTable {
  const rows = rec.bench?.rows ?? [];
  const peer = rows.some((r) => r.peerUs != null);
  return {
    columns: [
      'Format',
      'n×k',
      'm',
      'Protocol',
      'Path',
      'Median µs',
      'IQR µs',
      'Spread',
      'Samples',
      'GB/s',
      'TFLOP/s',
      '% peak',
      '% copy',
      ...(peer ? ['Peer µs', 'vs peer'] : []),
      'Check',
    ],
    numeric: [
      false,
      false,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      ...(peer ? [true, true] : []),
      false,
    ],
    rows: rows.map((r, i) => ({
      key: String(i),
      status: r.check.status,
      cells: [
        r.format,
        `${r.n}×${r.k}`,
        String(r.m),
        r.protocol,
        r.path,
        fixed(r.medianUs, 2),
        fixed(r.iqrUs, 2),
        r.spread == null ? '—' : `${(r.spread * 100).toFixed(1)}%`,
        String(r.samples),
        fixed(r.gbps, 1),
        fixed(r.tflops, 3),
        // shares to significant digits: a cpu's 0.4 % of its copy bandwidth is not "0"
        fmtRate(r.pctPeak),
        fmtRate(r.pctCopy),
        ...(peer ? [fixed(r.peerUs, 2), ratio(vsPeer(r))] : []),
        `${r.check.status.toUpperCase()}${r.check.nmse != null ? ` ${sci(r.check.nmse)}` : ''}`,
      ],
    })),
  };
}

/** A selftest record's cases as a table: verdict, errors and the diagnosis of a failure. */
export function selftestTable(rec: RunRecordData): CaseTable {
  const rows = rec.selftest?.rows ?? [];
  return {
    columns: [
      'Format',
      'n×k',
      'm',
      'Weights',
      'Path',
      'Result',
      'NMSE',
      'Bar',
      'Arithmetic',
      'Arith. NMSE',
      'Diagnosis / detail',
    ],
    numeric: [false, false, true, false, false, false, true, true, false, true, false],
    rows: rows.map((r, i) => ({
      key: String(i),
      status: r.status,
      cells: [
        r.format,
        `${r.n}×${r.k}`,
        String(r.m),
        r.weights,
        r.path ?? r.requested,
        r.status.toUpperCase(),
        sci(r.nmse),
        sci(r.threshold),
        r.arithmetic ?? '—',
        sci(r.arithmeticError),
        r.diagnosis ? `${r.diagnosis.class}: ${r.diagnosis.sentence}` : r.detail || '—',
      ],
    })),
  };
}

/** The diagnosis cell of a comparison row: the change, then each failing side's class. */
export function diagnosisSummary(r: CompareRow): string {
  const sides = [
    r.baseline?.diagnosis ? `was ${r.baseline.diagnosis.class}` : null,
    r.candidate?.diagnosis ? `now ${r.candidate.diagnosis.class}` : null,
  ].filter(Boolean);
  if (r.diagnosisChange) return r.diagnosisChange;
  return sides.length ? sides.join(', ') : '—';
}
