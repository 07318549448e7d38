/**
 * Comparison of two run records, per tensor and batch size: new failures, fixes, error changes and
 * speed changes. A speed change counts only when it is larger than both the tolerance and the runs'
 * own spread (the larger of the two timings' relative spreads): a change inside the noise is not a
 * regression. The CLI's `compare`, `verify --baseline` and the app's comparison view share this.
 */
import type { CompareRow, Comparison, RowVerdict } from '../../../src-shared/contract';
import type { RecordResult, RunRecord } from './schema';

// The comparison's types are the contract's: the app shows a Comparison as this module makes it.
export type { CompareRow, Comparison, RowVerdict } from '../../../src-shared/contract';

const REGRESSIONS: ReadonlySet<RowVerdict> = new Set(['new-failure', 'slower', 'missing']);

const keyOf = (r: RecordResult) => `${r.tensor}\u0000${r.m}`;

function side(r: RecordResult) {
  return {
    status: r.status,
    nmse: r.metrics?.nmse ?? null,
    us: r.timing?.medianUs ?? null,
    spread: r.timing?.spread ?? null,
  };
}

const label = (r: RunRecord) => ({
  id: r.id,
  createdAt: r.createdAt,
  device: r.device ? `${r.device.backend}:${r.device.index} ${r.device.name}` : null,
  model: r.model?.fileName ?? null,
});

/** Why two records are not runs of the same work, or null. */
export function differentWork(a: RunRecord, b: RunRecord): string | null {
  if (a.model && b.model) {
    if (a.model.tensorsHash && b.model.tensorsHash && a.model.tensorsHash !== b.model.tensorsHash)
      return `the weights differ (${a.model.fileName} vs ${b.model.fileName}: tensor hashes ${a.model.tensorsHash.slice(0, 12)} vs ${b.model.tensorsHash.slice(0, 12)})`;
    if (!a.model.tensorsHash && a.model.fileName !== b.model.fileName)
      return `different models (${a.model.fileName} vs ${b.model.fileName})`;
  }
  const ta = new Set(a.results.map((r) => r.tensor));
  const tb = new Set(b.results.map((r) => r.tensor));
  const shared = [...ta].filter((t) => tb.has(t)).length;
  if (shared === 0 && ta.size > 0 && tb.size > 0) return 'the records share no tensor';
  return null;
}

export function compareRecords(baseline: RunRecord, candidate: RunRecord, tolerance = 0.05): Comparison {
  if (!(tolerance >= 0 && tolerance < 10)) throw new Error(`speed tolerance ${tolerance} is out of range`);
  const base = new Map(baseline.results.map((r) => [keyOf(r), r]));
  const cand = new Map(candidate.results.map((r) => [keyOf(r), r]));
  const rows: CompareRow[] = [];
  for (const [key, b] of base) {
    const c = cand.get(key);
    const row: CompareRow = {
      tensor: b.tensor,
      type: b.type,
      m: b.m,
      verdict: 'same',
      baseline: side(b),
      candidate: c ? side(c) : null,
      speedRatio: null,
      noise: null,
      nmseRatio: null,
    };
    if (!c) {
      row.verdict = 'missing';
      rows.push(row);
      continue;
    }
    const bOk = b.status === 'pass';
    const cOk = c.status === 'pass';
    const bn = b.metrics?.nmse;
    const cn = c.metrics?.nmse;
    if (
      bn !== undefined &&
      cn !== undefined &&
      bn > 0 &&
      cn > 0 &&
      Number.isFinite(bn) &&
      Number.isFinite(cn)
    )
      row.nmseRatio = cn / bn;
    if (bOk && !cOk && c.status !== 'not-comparable') row.verdict = 'new-failure';
    else if (!bOk && b.status !== 'not-comparable' && cOk) row.verdict = 'fixed';
    else if (!bOk && !cOk) row.verdict = 'still-failing';
    else if (b.timing && c.timing && b.timing.protocol === c.timing.protocol && b.timing.medianUs > 0) {
      const ratio = c.timing.medianUs / b.timing.medianUs;
      const noise = Math.max(tolerance, b.timing.spread, c.timing.spread);
      row.speedRatio = ratio;
      row.noise = noise;
      row.verdict = ratio > 1 + noise ? 'slower' : ratio < 1 / (1 + noise) ? 'faster' : 'same';
    }
    rows.push(row);
  }
  for (const [key, c] of cand) {
    if (base.has(key)) continue;
    rows.push({
      tensor: c.tensor,
      type: c.type,
      m: c.m,
      verdict: 'new',
      baseline: null,
      candidate: side(c),
      speedRatio: null,
      noise: null,
      nmseRatio: null,
    });
  }
  const counts = Object.fromEntries(
    (['new-failure', 'fixed', 'still-failing', 'slower', 'faster', 'same', 'missing', 'new'] as const).map(
      (v) => [v, 0],
    ),
  ) as Record<RowVerdict, number>;
  for (const r of rows) counts[r.verdict]++;
  // worst first: regressions, then fixes and improvements, then the rest
  const order: RowVerdict[] = [
    'new-failure',
    'missing',
    'slower',
    'still-failing',
    'fixed',
    'faster',
    'new',
    'same',
  ];
  rows.sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict));
  return {
    baseline: label(baseline),
    candidate: label(candidate),
    tolerance,
    rows,
    counts,
    regressed: rows.some((r) => REGRESSIONS.has(r.verdict)),
    different: differentWork(baseline, candidate),
  };
}

/** "5%" or "0.05" -> 0.05. */
export function parseTolerance(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  if (!m) throw new Error(`'${s}' is not a tolerance (e.g. 5% or 0.05)`);
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  if (v >= 10) throw new Error(`tolerance ${s} is too large`);
  return v;
}
