/**
 * Comparison of two run records of the same kind, per tensor and batch size (or per bench or selftest
 * case): new failures, fixes, kernel and arithmetic errors, diagnoses, and speed changes. A speed change counts only when it is larger than both the tolerance and the runs'
 * own spread (the larger of the two timings' relative spreads): a change inside the noise is not a
 * regression. The CLI's `compare`, `verify --baseline` and the app's comparison view share this.
 */
import type { CompareRow, CompareSide, Comparison, RowVerdict } from '../../../src-shared/contract';
import type { RunRecord } from './schema';

// The comparison's types are the contract's: the app shows a Comparison as this module makes it.
export type { CompareRow, Comparison, RowVerdict } from '../../../src-shared/contract';

const REGRESSIONS: ReadonlySet<RowVerdict> = new Set(['new-failure', 'slower', 'missing']);

/**
 * One comparable row of a record: a tensor at a batch size (verify, check), a format, shape, batch
 * size, protocol and path (bench), or a selftest case. `key` pairs rows across the two records.
 */
interface Item {
  key: string;
  label: string;
  type: string;
  m: number;
  status: string;
  nmse: number | null;
  arithmeticError: number | null;
  diagnosis: { class: string; sentence: string } | null;
  timing: { protocol: string; medianUs: number; spread: number } | null;
}

const finite = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

const diag = (status: string, d: { class: string; sentence: string } | null | undefined) =>
  status !== 'pass' && d ? { class: d.class, sentence: d.sentence } : null;

function itemsOf(r: RunRecord): Item[] {
  if (r.kind === 'bench')
    return (r.bench?.rows ?? []).map((b) => {
      // rows pair by the path asked for, so 'auto' choosing another kernel still compares
      const asked = typeof b.requested === 'string' ? b.requested : b.path;
      return {
        key: `${b.format}\u0000${b.n}x${b.k}\u0000${b.m}\u0000${b.protocol}\u0000${asked}`,
        label: `${b.format} ${b.n}×${b.k} ${b.protocol} ${b.path}`,
        type: b.format,
        m: b.m,
        status: b.check.status,
        nmse: finite(b.check.nmse),
        arithmeticError: null,
        diagnosis: null,
        timing: { protocol: b.protocol, medianUs: b.medianUs, spread: b.spread },
      };
    });
  if (r.kind === 'selftest')
    return (r.selftest?.rows ?? []).map((c) => ({
      key: `${c.format}\u0000${c.n}x${c.k}\u0000${c.m}\u0000${c.weights}\u0000${c.requested}`,
      label: `${c.format} ${c.n}×${c.k} ${c.weights} ${c.requested}`,
      type: c.format,
      m: c.m,
      status: c.status,
      nmse: finite(c.nmse),
      arithmeticError: finite(c.arithmeticError),
      diagnosis: diag(c.status, c.diagnosis),
      timing: null,
    }));
  return r.results.map((x) => ({
    key: `${x.tensor}\u0000${x.m}`,
    label: x.tensor,
    type: x.type,
    m: x.m,
    status: x.status,
    nmse: finite(x.metrics?.nmse),
    arithmeticError: finite(
      x.arithmeticError ?? (typeof x.arithmeticNmse === 'number' ? x.arithmeticNmse : null),
    ),
    diagnosis: diag(x.status, x.diagnosis),
    timing: x.timing
      ? { protocol: x.timing.protocol, medianUs: x.timing.medianUs, spread: x.timing.spread }
      : null,
  }));
}

function side(r: Item): CompareSide {
  return {
    status: r.status,
    nmse: r.nmse,
    arithmeticError: r.arithmeticError,
    diagnosis: r.diagnosis,
    us: r.timing?.medianUs ?? null,
    spread: r.timing?.spread ?? null,
  };
}

/** How the diagnosis moved between the two sides (information only), or null when it did not. */
function diagnosisChange(b: Item, c: Item): string | null {
  const was = b.diagnosis?.class ?? null;
  const now = c.diagnosis?.class ?? null;
  if (was === now) return null;
  return `${was ?? 'none'} → ${now ?? 'none'}`;
}

const label = (r: RunRecord) => ({
  id: r.id,
  createdAt: r.createdAt,
  device: r.device ? `${r.device.backend}:${r.device.index} ${r.device.name}` : null,
  model: r.model?.fileName ?? null,
});

/** Why two records cannot be compared at all (different kinds), or null. */
export function mixedKinds(a: RunRecord, b: RunRecord): string | null {
  if (a.kind === b.kind) return null;
  return `cannot compare a ${a.kind} record with a ${b.kind} record: compare two records of the same kind`;
}

/** Why two records are not runs of the same work, or null. */
export function differentWork(a: RunRecord, b: RunRecord): string | null {
  if (a.model && b.model) {
    if (a.model.tensorsHash && b.model.tensorsHash && a.model.tensorsHash !== b.model.tensorsHash)
      return `the weights differ (${a.model.fileName} vs ${b.model.fileName}: tensor hashes ${a.model.tensorsHash.slice(0, 12)} vs ${b.model.tensorsHash.slice(0, 12)})`;
    if (!a.model.tensorsHash && a.model.fileName !== b.model.fileName)
      return `different models (${a.model.fileName} vs ${b.model.fileName})`;
  }
  const cases = a.kind === 'bench' || a.kind === 'selftest';
  const groups = (r: RunRecord) =>
    new Set(cases ? itemsOf(r).map((x) => x.key) : r.results.map((x) => x.tensor));
  const ta = groups(a);
  const tb = groups(b);
  const shared = [...ta].filter((t) => tb.has(t)).length;
  if (shared === 0 && ta.size > 0 && tb.size > 0)
    return cases ? 'the records share no case' : 'the records share no tensor';
  return null;
}

/**
 * Compares two records of the same kind (an Error names the two kinds otherwise). Verify and check
 * records pair tensors and batch sizes; bench records pair format, shape, batch size, protocol and
 * path, judged by their correctness check and their speed; selftest records pair cases (new failures
 * and fixes). A diagnosis that changed is reported on its row and never changes the verdict.
 */
export function compareRecords(baseline: RunRecord, candidate: RunRecord, tolerance = 0.05): Comparison {
  if (!(tolerance >= 0 && tolerance < 10)) throw new Error(`speed tolerance ${tolerance} is out of range`);
  const mixed = mixedKinds(baseline, candidate);
  if (mixed) throw new Error(mixed);
  const base = new Map(itemsOf(baseline).map((r) => [r.key, r]));
  const cand = new Map(itemsOf(candidate).map((r) => [r.key, r]));
  // a record that left out only passes (a run larger than a record keeps) lacks a row because it passed
  const baseOmitsPasses = omitsOnlyPasses(baseline);
  const candOmitsPasses = omitsOnlyPasses(candidate);
  const rows: CompareRow[] = [];
  for (const [key, b] of base) {
    const c = cand.get(key) ?? (candOmitsPasses ? omittedPass(b) : undefined);
    rows.push(compareItems(b, c, tolerance));
  }
  for (const [key, c] of cand) {
    if (base.has(key)) continue;
    if (baseOmitsPasses) {
      rows.push(compareItems(omittedPass(c), c, tolerance));
      continue;
    }
    rows.push({
      tensor: c.label,
      type: c.type,
      m: c.m,
      verdict: 'new',
      baseline: null,
      candidate: side(c),
      speedRatio: null,
      noise: null,
      nmseRatio: null,
      diagnosisChange: null,
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
    kind: baseline.kind,
    baseline: label(baseline),
    candidate: label(candidate),
    tolerance,
    rows,
    counts,
    regressed: rows.some((r) => REGRESSIONS.has(r.verdict)),
    different: differentWork(baseline, candidate),
  };
}

function omitsOnlyPasses(r: RunRecord): boolean {
  const o = r.omittedResults;
  return !!o && o.pass > 0 && o.fail + o.error + o.notComparable === 0;
}

/** The row a record left out as a pass: its verdict, nothing measured. */
function omittedPass(like: Item): Item {
  return { ...like, status: 'pass', nmse: null, arithmeticError: null, diagnosis: null, timing: null };
}

/** One pair of rows (c undefined: the candidate lacks it). */
function compareItems(b: Item, c: Item | undefined, tolerance: number): CompareRow {
  const row: CompareRow = {
    tensor: b.label,
    type: b.type,
    m: b.m,
    verdict: 'same',
    baseline: side(b),
    candidate: c ? side(c) : null,
    speedRatio: null,
    noise: null,
    nmseRatio: null,
    diagnosisChange: null,
  };
  if (!c) {
    row.verdict = 'missing';
    return row;
  }
  row.diagnosisChange = diagnosisChange(b, c);
  const bOk = b.status === 'pass';
  const cOk = c.status === 'pass';
  const bn = b.nmse;
  const cn = c.nmse;
  if (bn !== null && cn !== null && bn > 0 && cn > 0) row.nmseRatio = cn / bn;
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
  return row;
}

/** "5%" or "0.05" -> 0.05. */
export function parseTolerance(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  if (!m) throw new Error(`'${s}' is not a tolerance (e.g. 5% or 0.05)`);
  const v = Number(m[1]) / (m[2] ? 100 : 1);
  if (v >= 10) throw new Error(`tolerance ${s} is too large`);
  return v;
}
