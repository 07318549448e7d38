/**
 * Comparison of two run records of the same kind, per tensor and batch size (or per bench or selftest
 * case): new failures, fixes, kernel and arithmetic errors, diagnoses, and speed changes. A speed change counts only when it is larger than both the tolerance and the runs'
 * own spread (the larger of the two timings' relative spreads): a change inside the noise is not a
 * regression. Two records that are not of the same work (other weights, another tensor selection,
 * threshold, seed, activations or arithmetic) get no verdict: `workDifferences` names each difference.
 * The CLI's `compare`, `verify --baseline`, the comparison report and the app's comparison view share
 * this.
 */
import type {
  CompareRow,
  CompareSide,
  Comparison,
  ComparisonVerdict,
  RowVerdict,
} from '../../../src-shared/contract';
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
  /** the bar the verdict was judged by, where the record says */
  threshold: number | null;
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
        threshold: null,
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
      threshold: finite(c.threshold),
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
    threshold: finite(x.threshold),
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
    threshold: r.threshold,
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

/**
 * The tensors a record's tensorsHash covers: those that ran, which are its results' tensors unless
 * it left results out (then the tensors it asked for, where it lists them); null when it cannot say.
 */
function hashedTensors(r: RunRecord): Set<string> | null {
  if (!r.omittedResults) return new Set(r.results.map((x) => x.tensor));
  return r.request.tensors ? new Set(r.request.tensors) : null;
}

const short = (hash: string) => hash.slice(0, 12);
/** A threshold as given (1.75e-14, not 2e-14); null: each path's own bar. */
const bar = (t: number | null) => (t === null ? 'per path' : t.toExponential());

/**
 * What makes two records' runs different work, one phrase each (empty when they are the same work):
 *  - the weights: tensorsHash covers only the tensors that ran, so it tells the weights apart only
 *    when both records ran the same tensors; another selection is named as such (with the number of
 *    tensors in common), and another file beside it;
 *  - no tensor (or bench or selftest case) in common;
 *  - the request: threshold (null: each path's own bar), seed, activations and declared arithmetic
 *    (absent: each path's own), each compared where both records state it.
 * The device, the kernel path and the timing protocol may differ: comparing those is what records
 * are for.
 */
export function workDifferences(a: RunRecord, b: RunRecord): string[] {
  const out: string[] = [];
  const cases = a.kind === 'bench' || a.kind === 'selftest';
  if (a.model && b.model) {
    const ta = hashedTensors(a);
    const tb = hashedTensors(b);
    const common = ta && tb ? [...ta].filter((t) => tb.has(t)).length : null;
    const sameTensors = ta !== null && tb !== null && common === ta.size && common === tb.size;
    if (ta && tb && !sameTensors)
      out.push(
        `a different tensor selection (${ta.size} vs ${tb.size} tensors, ${common || 'none'} in common)`,
      );
    const ha = a.model.tensorsHash;
    const hb = b.model.tensorsHash;
    const files = `${a.model.fileName} vs ${b.model.fileName}`;
    if (ha && hb) {
      if (ha !== hb) {
        if (sameTensors)
          out.push(`the weights differ (${files}: tensor hashes ${short(ha)} vs ${short(hb)})`);
        else if (!ta || !tb)
          out.push(
            `the weights or the tensors that ran differ (${files}: tensor hashes ${short(ha)} vs ${short(hb)})`,
          );
        else if (a.model.fileName !== b.model.fileName || a.model.fileSize !== b.model.fileSize)
          // the hashes cover other tensors: they cannot tell whether the common tensors' weights differ
          out.push(`different model files (${files})`);
      }
    } else if (a.model.fileName !== b.model.fileName) out.push(`different models (${files})`);
  }
  if (cases || !out.some((d) => d.startsWith('a different tensor selection'))) {
    const groups = (r: RunRecord) =>
      new Set(cases ? itemsOf(r).map((x) => x.key) : r.results.map((x) => x.tensor));
    const ga = groups(a);
    const gb = groups(b);
    if (ga.size > 0 && gb.size > 0 && ![...ga].some((t) => gb.has(t)))
      out.push(cases ? 'the records share no case' : 'the records share no tensor');
  }
  const ra = a.request;
  const rb = b.request;
  if (ra.threshold !== undefined && rb.threshold !== undefined && ra.threshold !== rb.threshold)
    out.push(`the thresholds differ (${bar(ra.threshold)} vs ${bar(rb.threshold)})`);
  if (ra.seed !== undefined && rb.seed !== undefined && ra.seed !== rb.seed)
    out.push(`the seeds differ (${ra.seed} vs ${rb.seed})`);
  if (ra.activations !== undefined && rb.activations !== undefined && ra.activations !== rb.activations)
    out.push(`the activations differ (${ra.activations} vs ${rb.activations})`);
  // a verify record names the arithmetic only when the run forced one
  const arithA = ra.arithmetic ?? 'per path';
  const arithB = rb.arithmetic ?? 'per path';
  if (arithA !== arithB) out.push(`the arithmetic differs (${arithA} vs ${arithB})`);
  return out;
}

/** Why two records are not runs of the same work (every difference, in one line), or null. */
export function differentWork(a: RunRecord, b: RunRecord): string | null {
  const d = workDifferences(a, b);
  return d.length ? d.join('; ') : null;
}

/**
 * The comparison's verdict: regressed or not, and none for records that are not of the same work
 * (the CLI refuses to compare those unless told to; the app and the report show their rows without a
 * verdict).
 */
export function comparisonVerdict(c: Pick<Comparison, 'regressed' | 'differences'>): ComparisonVerdict {
  if (c.differences.length > 0) return 'not-same-work';
  return c.regressed ? 'regressed' : 'no-regression';
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
  const regressed = rows.some((r) => REGRESSIONS.has(r.verdict));
  const differences = workDifferences(baseline, candidate);
  return {
    kind: baseline.kind,
    baseline: label(baseline),
    candidate: label(candidate),
    tolerance,
    rows,
    counts,
    verdict: comparisonVerdict({ regressed, differences }),
    regressed,
    differences,
    different: differences.length ? differences.join('; ') : null,
  };
}

function omitsOnlyPasses(r: RunRecord): boolean {
  const o = r.omittedResults;
  return !!o && o.pass > 0 && o.fail + o.error + o.notComparable === 0;
}

/** The row a record left out as a pass: its verdict, nothing measured. */
function omittedPass(like: Item): Item {
  return {
    ...like,
    status: 'pass',
    nmse: null,
    threshold: null,
    arithmeticError: null,
    diagnosis: null,
    timing: null,
  };
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
  // not comparable on its own is no failure (the outputs that were compared passed)
  const bOk = b.status === 'pass' || b.status === 'not-comparable';
  const cOk = c.status === 'pass' || c.status === 'not-comparable';
  const bn = b.nmse;
  const cn = c.nmse;
  if (bn !== null && cn !== null && bn > 0 && cn > 0) row.nmseRatio = cn / bn;
  if (bOk && !cOk) row.verdict = 'new-failure';
  else if (!bOk && cOk) row.verdict = 'fixed';
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
