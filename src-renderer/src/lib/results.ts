/** Results table logic: sort keys, summaries, per-tensor progress (pure, unit-tested). */
import type { RunRequest, TensorResult } from '../../../src-shared/contract';
import { fmtNmse, fmtThreshold } from '../../../src-shared/threshold';
import { compareValues, type SortState } from './tensors';

export type ResultSortKey =
  | 'order'
  | 'tensor'
  | 'type'
  | 'm'
  | 'status'
  | 'nmse'
  | 'maxAbs'
  | 'maxRel'
  | 'time'
  | 'gbps'
  | 'pctPeak'
  | 'path';

const STATUS_ORDER = { error: 0, fail: 1, 'not-comparable': 2, pass: 3 } as const;

const resultKey: Record<ResultSortKey, (r: TensorResult, i: number) => number | string> = {
  order: (_r, i) => i,
  tensor: (r) => r.tensor,
  type: (r) => r.type,
  m: (r) => r.m,
  status: (r) => STATUS_ORDER[r.status],
  nmse: (r) => r.metrics?.nmse ?? NaN,
  maxAbs: (r) => r.metrics?.maxAbsErr ?? NaN,
  maxRel: (r) => r.metrics?.maxRelErr ?? NaN,
  time: (r) => r.timing?.medianUs ?? NaN,
  gbps: (r) => r.timing?.gbps ?? NaN,
  pctPeak: (r) => r.timing?.pctPeak ?? r.timing?.pctCopy ?? NaN,
  path: (r) => r.path ?? '',
};

/**
 * Sort results; missing values (NaN) always go last whichever the direction. The default order,
 * status ascending, is worst first: errors, then failures, then passes, each by NMSE descending.
 */
export function sortResults(results: TensorResult[], s: SortState<ResultSortKey>): TensorResult[] {
  const get = resultKey[s.key];
  const sign = s.dir === 'asc' ? 1 : -1;
  const keyed = results.map((r, i) => ({ r, i, v: get(r, i) }));
  keyed.sort((a, b) => {
    const an = typeof a.v === 'number' && Number.isNaN(a.v);
    const bn = typeof b.v === 'number' && Number.isNaN(b.v);
    if (an !== bn) return an ? 1 : -1;
    const c = sign * compareValues(a.v, b.v);
    if (c !== 0 || s.key !== 'status') return c || a.i - b.i;
    // Status ties: the larger error first in either direction, so "worst first" is status ascending.
    return compareValues(b.r.metrics?.nmse ?? -1, a.r.metrics?.nmse ?? -1) || a.i - b.i;
  });
  return keyed.map((k) => k.r);
}

/** Which results the table shows: all, the problems (anything but a pass), failures or errors. */
export type StatusFilter = 'all' | 'problems' | 'fail' | 'error';

/** The table's rows: the results the status filter lets through, in the sort order. */
export function visibleResults(
  results: TensorResult[],
  filter: StatusFilter,
  sort: SortState<ResultSortKey>,
): TensorResult[] {
  const shown =
    filter === 'all'
      ? results
      : results.filter((r) => (filter === 'problems' ? r.status !== 'pass' : r.status === filter));
  return sortResults(shown, sort);
}

/**
 * The result the detail pane shows, given the table's rows: the one chosen while the table shows it;
 * else the table's first row (the worst result, in the default order), so the pane and the table
 * agree whatever arrived first; null when the table shows none.
 */
export function shownResult(rows: TensorResult[], selectedId: string | null): TensorResult | null {
  return (selectedId !== null ? rows.find((r) => r.resultId === selectedId) : undefined) ?? rows[0] ?? null;
}

export interface ResultCounts {
  pass: number;
  fail: number;
  error: number;
  /** outputs fed by blocks with NaN/Inf scales left out, the rest passed */
  'not-comparable': number;
  total: number;
}

export function countResults(results: TensorResult[]): ResultCounts {
  const c: ResultCounts = { pass: 0, fail: 0, error: 0, 'not-comparable': 0, total: results.length };
  for (const r of results) c[r.status]++;
  return c;
}

export interface TensorProgress {
  tensor: string;
  done: number;
  total: number;
  pass: number;
  fail: number;
  error: number;
  'not-comparable': number;
  running: boolean;
}

/** Per-tensor progress rows for the run panel, in request order. */
export function tensorProgress(
  request: RunRequest | null,
  results: TensorResult[],
  current: { tensor: string } | null,
): TensorProgress[] {
  if (!request) return [];
  const rows = new Map<string, TensorProgress>();
  for (const t of request.tensors) {
    rows.set(t, {
      tensor: t,
      done: 0,
      total: request.batchSizes.length,
      pass: 0,
      fail: 0,
      error: 0,
      'not-comparable': 0,
      running: current?.tensor === t,
    });
  }
  for (const r of results) {
    const row = rows.get(r.tensor);
    if (!row) continue;
    row.done++;
    row[r.status]++;
  }
  return [...rows.values()];
}

/** The verdict badge text of a result. */
export function statusLabel(status: TensorResult['status']): string {
  return status === 'not-comparable' ? 'NOT COMPARABLE' : status.toUpperCase();
}

/**
 * The verdict line: NMSE against the threshold it was judged by, the threshold as given and the NMSE
 * at the digits it takes for the printed comparison to be true (shared with the metrics table).
 */
export function verdictText(r: TensorResult): string {
  if (r.status === 'error') return r.error ?? 'error';
  if (!r.metrics) return r.status;
  const nmse = r.metrics.nmse;
  // the sign states the comparison itself (a FAIL by NaN/Inf mismatches may have an NMSE below the
  // threshold); a record that kept no threshold falls back to the verdict
  const below = Number.isFinite(r.threshold) ? nmse <= r.threshold : r.status !== 'fail';
  const vs = `NMSE ${fmtNmse(nmse, r.threshold)} ${below ? '≤' : '>'} ${fmtThreshold(r.threshold)}`;
  if (r.status === 'not-comparable')
    return `${r.notComparable ?? 'non-finite scales'}; the other outputs: ${vs}`;
  const extra: string[] = [];
  if (r.metrics.nanMismatches) extra.push(`${r.metrics.nanMismatches} NaN mismatches`);
  if (r.metrics.infMismatches) extra.push(`${r.metrics.infMismatches} Inf mismatches`);
  return `${vs}${extra.length ? ', ' + extra.join(', ') : ''}`;
}

/**
 * Where a result's output came from, for its detail: the backend and device of a run, or for a pair
 * judged by check (an output made elsewhere, which the engine names as "output <file>" in place of
 * a device) the output file.
 */
export function outputSource(r: Pick<TensorResult, 'backend' | 'device' | 'path'>): {
  label: string;
  text: string;
} {
  if (r.path === 'custom' && r.device.startsWith('output '))
    return { label: 'Output', text: `${r.device.slice('output '.length)}, made elsewhere` };
  return { label: 'Device', text: `${r.backend} · ${r.device}` };
}

/** "9 of the 16 planned": how far a run that stopped early got. */
export function plannedText(done: number, total: number): string {
  return `${done} of the ${total} planned`;
}
