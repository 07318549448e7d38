/**
 * Diagnosis of a FAIL: which defect most likely made the kernel's output wrong.
 *
 * With an identity probe (activations = rows of the k x k identity, so the kernel outputs the weights
 * as it dequantizes them) every probed weight is compared with the declared reference's and each wrong
 * one is located as (row, block, sub-block, position in block); then defect hypotheses, each a
 * dequantization with one specific defect (the format's `fields` decoder gives the fields they
 * recombine), are scored
 * against the wrong weights, and the best one that explains (almost) all of them names the class.
 * Without a probe, or with a probe that is clean (the weights are decoded right, so the defect is on
 * the activation side), the output itself is the evidence: NaN / unwritten elements, a fitted
 * constant factor, errors confined to some rows or columns, and references of alternative roundings
 * (a /128 scale, truncation, half-away ties, no rounding at all): an output that matches one of those
 * at the kernel bar was computed with that rounding.
 *
 * Weight rows with a non-finite block scale are left out of the verdict (the outputs they feed are not
 * compared), and so of the evidence: their probed weights are neither wrong nor right weights, and
 * their outputs count in no row, column or fit.
 */
import type { Diagnosis, DiagnosisClass } from '../../../src-shared/contract';
import { KERNEL_BAR } from '../arithmetic/schemes';
import { compareOutputs } from '../compare';
import type { FieldTraits, RowFields } from '../formats/fields';
import { formatSpec } from '../formats/registry';
import { rowBytes, typeName } from '../ggml-types';

export interface Probe {
  type: number;
  n: number;
  k: number;
  /** the weight bytes, [n] rows in GGUF layout */
  data: Uint8Array;
  /** probed element indices (identity rows), E of them */
  elems: number[];
  /** kernel output for those identity rows: [E][n], got[r * n + j] = weight j, element elems[r] */
  got: Float32Array;
  /** the declared reference of the same, [E][n] */
  ref: Float64Array;
  /**
   * n bytes, 1 = a weight row left out of the comparison (a non-finite block scale: the verdict left
   * its outputs out); absent: none
   */
  skipRows?: Uint8Array | null;
}

export interface Alternative {
  /** what the kernel would have done, e.g. 'activation scale amax/128' */
  name: string;
  cls: DiagnosisClass;
  ref: Float64Array;
}

export interface OutputEvidence {
  ref: Float64Array;
  got: Float32Array;
  m: number;
  n: number;
  /** references of alternative roundings, tried in order */
  alternatives?: Alternative[];
  /**
   * the output was made elsewhere (check): there was no poisoned buffer, so a NaN says nothing about
   * outputs left unwritten
   */
  external?: boolean;
  /** n bytes, 1 = an output column left out of the comparison (the verdict's skipCols); absent: none */
  skipCols?: Uint8Array | null;
}

const fmt = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)).toString() : String(v));

interface Hypothesis {
  cls: DiagnosisClass;
  sentence: string;
  /** the weight element i of a row under this defect; null where it does not apply */
  predict: (f: RowFields, i: number) => number | null;
}

/** The defect hypotheses that apply to a format, from its field traits. */
function hypotheses(type: number, t: FieldTraits): Hypothesis[] {
  const name = typeName(type);
  const hs: Hypothesis[] = [];
  if (t.nibbles)
    hs.push({
      cls: 'nibble-order',
      sentence: `the low and high nibbles of each ${name} byte are swapped (elements read from the other half of their byte)`,
      predict: (f, i) => {
        const p = f.partner[i];
        if (p < 0) return null;
        const q = f.levels ? f.levels[f.lo[p]] : f.lo[p] + (f.q[i] - f.lo[i]);
        return f.s[i] * (q - f.qoff) - f.c[i];
      },
    });
  if (t.signedBytes)
    hs.push({
      cls: 'unsigned',
      sentence: `${name} weight bytes are read as unsigned (negative weights come out 256 steps too large)`,
      predict: (f, i) => f.s[i] * (f.q[i] & 255),
    });
  if (t.offset) hs.push({ cls: 'offset-missing', sentence: t.offset, predict: (f, i) => f.s[i] * f.q[i] });
  if (t.minSign)
    hs.push({
      cls: 'min-sign',
      sentence: `the ${name} minimum term has the wrong sign`,
      predict: (f, i) => f.s[i] * (f.q[i] - f.qoff) + f.c[i],
    });
  if (t.highBits)
    hs.push({
      cls: 'high-bits',
      sentence: `the ${name} high bits (${t.highBits}) are lost`,
      predict: (f, i) => f.s[i] * (f.lo[i] - f.qoff) - f.c[i],
    });
  if (t.subScales)
    hs.push({
      cls: 'scale-index',
      sentence: `the wrong ${name} sub-block scale or min is used (another sub-block's)`,
      predict: () => null, // scored separately: the scale and the min of any other sub-block
    });
  return hs;
}

function tolFor(f: RowFields | null, i: number, ref: number): number {
  const mag = f ? Math.abs(f.s[i]) + Math.abs(f.c[i]) : 0;
  return 2 ** -16 * (Math.abs(ref) + mag) + 1e-30;
}

/** Diagnosis from an identity probe; null when every probed weight of the compared rows is right. */
export function diagnoseProbe(p: Probe): Diagnosis | null {
  const { n, elems, got, ref, type, k } = p;
  const E = elems.length;
  if (got.length !== E * n || ref.length !== E * n)
    throw new Error(`probe: ${got.length} / ${ref.length} values for ${E} probed elements x n=${n}`);
  const skip = p.skipRows ?? null;
  if (skip && skip.length !== n) throw new Error(`probe: skip mask has ${skip.length} entries, n=${n}`);
  let left = 0;
  if (skip) for (let j = 0; j < n; j++) if (skip[j]) left++;
  const compared = n - left;
  const spec = formatSpec(type)?.fields;
  const quant = !!spec;
  const rb = quant ? rowBytes(type, k) : 0;
  const fieldsCache = new Map<number, RowFields>();
  const fields = (j: number) => {
    let f = fieldsCache.get(j);
    if (!f) {
      f = spec!.decode(p.data, j * rb, k);
      fieldsCache.set(j, f);
    }
    return f;
  };
  const wrong: { j: number; r: number }[] = [];
  let nan = 0;
  for (let r = 0; r < E; r++)
    for (let j = 0; j < n; j++) {
      if (skip && skip[j]) continue;
      const idx = r * n + j;
      const g = got[idx];
      const e = ref[idx];
      if (g !== g && e !== e) continue;
      if (g !== g) {
        nan++;
        wrong.push({ j, r });
        continue;
      }
      const f = quant ? fields(j) : null;
      if (!(Math.abs(g - e) <= tolFor(f, elems[r], e))) wrong.push({ j, r });
    }
  if (wrong.length === 0) return null;

  const rowsWrong = new Set(wrong.map((w) => w.j));
  const blockElems = quant ? fields(wrong[0].j).blockElems : 1;
  const first = wrong[0];
  const locate = (j: number, r: number) => {
    const e = elems[r];
    if (!quant) return `row ${j}, element ${e}`;
    const f = fields(j);
    return `row ${j}, block ${Math.floor(e / f.blockElems)}, sub-block ${Math.floor((e % f.blockElems) / f.subElems)}, position ${e % f.blockElems}`;
  };
  const evidence = [
    `${wrong.length} of ${E * compared} probed weights wrong (${E} elements of each of ${compared} rows), in ${rowsWrong.size} rows`,
    ...(left > 0
      ? [
          `${left} weight row${left === 1 ? '' : 's'} not compared (non-finite block scales; their outputs were left out)`,
        ]
      : []),
    `first: ${locate(first.j, first.r)}: expected ${fmt(ref[first.r * n + first.j])}, got ${fmt(got[first.r * n + first.j])}`,
  ];
  const positions = new Set(wrong.map((w) => elems[w.r] % blockElems));
  evidence.push(`positions in block: ${positions.size} distinct of ${Math.min(blockElems, E)} probed`);

  if (nan === wrong.length) {
    const cols = [...rowsWrong].sort((a, b) => a - b);
    return {
      class: 'unwritten',
      sentence: `${nan} outputs were never written (still NaN from the poisoned buffer), rows ${cols[0]}..${cols[cols.length - 1]} of W`,
      evidence,
    };
  }
  // zeros from some element on, in every wrong row, and right before it: the tail of k is not reduced
  let tailStart = k;
  for (const w of wrong) if (elems[w.r] < tailStart) tailStart = elems[w.r];
  if (
    tailStart > 0 &&
    wrong.every((w) => got[w.r * n + w.j] === 0) &&
    [...rowsWrong].every((j) =>
      elems.every((e, r) => e < tailStart || got[r * n + j] === 0 || ref[r * n + j] === 0),
    )
  )
    return {
      class: 'tail-dropped',
      sentence: `elements ${tailStart}..${k - 1} of each row contribute nothing: the tail of k is dropped`,
      evidence,
    };

  if (quant) {
    // Every probed element of the rows with a wrong weight is scored. A hypothesis explains a wrong
    // weight when it predicts a value other than the declared one and the kernel's output is that
    // value; the defect may touch only some sub-blocks (a lost bit in one nibble half, one scale
    // index off), so the right weights are not held against it. It must explain nearly every wrong
    // weight; among those that do, the one that also agrees with more of the right ones wins.
    const scored: { j: number; r: number }[] = [];
    for (const j of rowsWrong) for (let r = 0; r < E; r++) scored.push({ j, r });
    const near = (pred: number, g: number, f: RowFields, i: number) =>
      Math.abs(pred - g) <= 2 ** -9 * (Math.abs(g) + Math.abs(f.s[i]) + Math.abs(f.c[i])) + 1e-30;
    let best: { h: Hypothesis; explained: number; agree: number } | null = null;
    for (const h of hypotheses(type, spec.traits)) {
      let explained = 0;
      let agree = 0;
      for (const { j, r } of scored) {
        const f = fields(j);
        const i = elems[r];
        const g = got[r * n + j];
        const e = ref[r * n + j];
        const isWrong = !(Math.abs(g - e) <= tolFor(f, i, e));
        let hit = false;
        if (h.cls === 'scale-index') {
          // the scale and the min of any sub-block of the block, taken separately
          const list = f.blockScales(i);
          for (let a = 0; a < list.length && !hit; a++)
            for (let b = 0; b < list.length && !hit; b++) {
              if (a === f.sub[i] && b === f.sub[i]) continue;
              const pred = list[a].s * (f.q[i] - f.qoff) - list[b].c;
              hit = !near(pred, e, f, i) && near(pred, g, f, i);
            }
        } else {
          const pred = h.predict(f, i);
          hit = pred !== null && !near(pred, e, f, i) && near(pred, g, f, i);
        }
        if (isWrong && hit) explained++;
        if (!isWrong && !hit) agree++;
      }
      const ex = explained / wrong.length;
      if (
        ex >= 0.98 &&
        (!best || ex > best.explained + 1e-9 || (ex >= best.explained - 1e-9 && agree > best.agree))
      )
        best = { h, explained: ex, agree };
    }
    if (best) {
      evidence.push(
        `the ${best.h.cls} emulation reproduces ${(100 * best.explained).toFixed(1)}% of the wrong weights`,
      );
      return { class: best.h.cls, sentence: best.h.sentence, evidence };
    }
    // a permutation inside blocks: the same values, other places
    let perm = true;
    for (const j of rowsWrong) {
      const byBlock = new Map<number, { g: number[]; e: number[] }>();
      for (let r = 0; r < E; r++) {
        const b = Math.floor(elems[r] / blockElems);
        const v = byBlock.get(b) ?? { g: [], e: [] };
        v.g.push(got[r * n + j]);
        v.e.push(ref[r * n + j]);
        byBlock.set(b, v);
      }
      for (const [, v] of byBlock) {
        v.g.sort((a, b) => a - b);
        v.e.sort((a, b) => a - b);
        const scale = Math.max(...v.e.map(Math.abs), 1e-30);
        // as close as a right weight must be: a uniform rescaling is not a permutation
        if (v.g.some((x, t) => !(Math.abs(x - v.e[t]) <= 2 ** -16 * scale))) perm = false;
      }
      if (!perm) break;
    }
    if (perm)
      return {
        class: 'layout',
        sentence:
          'every block holds the right values in the wrong places: the element order (block layout) is wrong',
        evidence,
      };
  }
  const fit = fitFactor(ref, got, skip);
  if (fit.residual <= 1e-10 && Math.abs(fit.alpha - 1) > 1e-6)
    return {
      class: 'constant-factor',
      sentence: `every weight comes out ${fmt(fit.alpha)} times the right value`,
      evidence: [
        ...evidence,
        `fitted factor ${fmt(fit.alpha)}, residual NMSE ${fit.residual.toExponential(2)}`,
      ],
    };
  const rel = relativeSpread(ref, got, skip);
  if (rel.max < 2 ** -6 && rel.fraction > 0.3)
    return {
      class: 'precision',
      sentence: `weights are rounded more coarsely than declared (${(100 * rel.fraction).toFixed(0)}% off, at most ${rel.max.toExponential(1)} relative)`,
      evidence,
    };
  return { class: 'unknown', sentence: 'wrong weights that match none of the known defects', evidence };
}

/**
 * Least-squares alpha for got ~ alpha * ref over finite pairs, and the NMSE left after it. With
 * `skipCols` (one byte per column of row-major data: an output column, or a probe's weight row), the
 * pairs of the columns set are left out.
 */
export function fitFactor(
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  skipCols?: Uint8Array | null,
): { alpha: number; residual: number } {
  const cols = skipCols?.length ?? 0;
  let gr = 0;
  let rr = 0;
  for (let i = 0; i < ref.length; i++) {
    if (skipCols && skipCols[i % cols]) continue;
    const r = ref[i];
    const g = got[i];
    if (!Number.isFinite(r) || !Number.isFinite(g)) continue;
    gr += g * r;
    rr += r * r;
  }
  if (rr === 0) return { alpha: 1, residual: 0 };
  const alpha = gr / rr;
  let se = 0;
  for (let i = 0; i < ref.length; i++) {
    if (skipCols && skipCols[i % cols]) continue;
    const r = ref[i];
    const g = got[i];
    if (!Number.isFinite(r) || !Number.isFinite(g)) continue;
    se += (g - alpha * r) ** 2;
  }
  return { alpha, residual: se / (alpha * alpha * rr) };
}

/** The largest relative error over finite pairs, and the fraction off; `skipCols` as fitFactor's. */
function relativeSpread(
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  skipCols?: Uint8Array | null,
): { max: number; fraction: number } {
  const cols = skipCols?.length ?? 0;
  let max = 0;
  let off = 0;
  let count = 0;
  for (let i = 0; i < ref.length; i++) {
    if (skipCols && skipCols[i % cols]) continue;
    const r = ref[i];
    const g = got[i];
    if (!Number.isFinite(r) || !Number.isFinite(g) || r === 0) continue;
    count++;
    const e = Math.abs(g - r) / Math.abs(r);
    if (e > 2 ** -20) off++;
    if (e > max) max = e;
  }
  return { max, fraction: count ? off / count : 0 };
}

/** Diagnosis from the output alone (no probe, or a clean probe: the weights decode right). */
export function diagnoseOutputs(o: OutputEvidence, probeClean = false): Diagnosis {
  const { ref, got, m, n } = o;
  const skip = o.skipCols ?? null;
  if (skip && skip.length !== n) throw new Error(`diagnosis: skip mask has ${skip.length} entries, n=${n}`);
  // the output columns compared, in order (a column left out is evidence of nothing)
  const cmp: number[] = [];
  for (let c = 0; c < n; c++) if (!(skip && skip[c])) cmp.push(c);
  const nc = cmp.length;
  const evidence: string[] = [];
  if (probeClean)
    evidence.push(
      `the identity probe reproduces every probed weight${nc < n ? ' of the compared rows' : ''}: the defect is on the activation side`,
    );
  if (nc < n)
    evidence.push(
      `${n - nc} output column${n - nc === 1 ? '' : 's'} not compared (non-finite block scales in their weight rows)`,
    );
  // NaN where the reference is finite: never written
  let unwritten = 0;
  let rowMin = m;
  let rowMax = -1;
  let colMin = n;
  let colMax = -1;
  for (let r = 0; r < m; r++)
    for (const c of cmp) {
      const i = r * n + c;
      if (got[i] !== got[i] && ref[i] === ref[i]) {
        unwritten++;
        rowMin = Math.min(rowMin, r);
        rowMax = Math.max(rowMax, r);
        colMin = Math.min(colMin, c);
        colMax = Math.max(colMax, c);
      }
    }
  if (unwritten > 0) {
    evidence.push(`${unwritten} NaN outputs in rows ${rowMin}..${rowMax}, columns ${colMin}..${colMax}`);
    return o.external
      ? {
          class: 'non-finite',
          sentence: `${unwritten} of ${m * nc} outputs are NaN where the reference is finite`,
          evidence,
        }
      : {
          class: 'unwritten',
          sentence: `${unwritten} of ${m * nc} outputs were never written (still NaN from the poisoned buffer)`,
          evidence,
        };
  }
  // infinite where the reference is finite: an overflow (float16 partial sums, a scale of 0 divided by)
  let infinite = 0;
  let first = -1;
  for (let i = 0; i < m * n; i++)
    if (!(skip && skip[i % n]) && !Number.isFinite(got[i]) && Number.isFinite(ref[i])) {
      infinite++;
      if (first < 0) first = i;
    }
  if (infinite > 0) {
    evidence.push(`first at activation row ${Math.floor(first / n)}, output column ${first % n}`);
    return {
      class: 'non-finite',
      sentence: `${infinite} of ${m * nc} outputs are infinite where the reference is finite: an overflow`,
      evidence,
    };
  }
  // per-row and per-column error: all-zero tails of rows or columns
  const colErr = new Float64Array(n);
  const colRef = new Float64Array(n);
  const rowErr = new Float64Array(m);
  const rowRef = new Float64Array(m);
  for (let r = 0; r < m; r++)
    for (const c of cmp) {
      const i = r * n + c;
      const d = got[i] - ref[i];
      if (!Number.isFinite(d)) continue;
      colErr[c] += d * d;
      colRef[c] += ref[i] * ref[i];
      rowErr[r] += d * d;
      rowRef[r] += ref[i] * ref[i];
    }
  const bad = (e: number, s: number) => e > KERNEL_BAR * Math.max(s, 1e-300);
  const badCols = cmp.filter((c) => bad(colErr[c], colRef[c]));
  const badRows = [...rowErr.keys()].filter((r) => bad(rowErr[r], rowRef[r]));
  evidence.push(
    `error above the bar in ${badRows.length} of ${m} activation rows and ${badCols.length} of ${nc} ${nc < n ? 'compared ' : ''}output columns`,
  );
  const zeroIn = (rows: number[], cols: number[]) =>
    rows.every((r) => cols.every((c) => got[r * n + c] === 0 || ref[r * n + c] === 0));
  // the bad columns are the last ones compared
  const tail = badCols.length > 0 && badCols.length < nc && badCols[0] === cmp[nc - badCols.length];
  if (tail && zeroIn(badRows, badCols))
    return {
      class: 'tail-dropped',
      sentence: `the last ${badCols.length} output columns are zero: the tail of n is dropped`,
      evidence,
    };
  if (
    badRows.length > 0 &&
    badRows.length < m &&
    badRows[0] === m - badRows.length &&
    zeroIn(badRows, badCols)
  )
    return {
      class: 'tail-dropped',
      sentence: `the last ${badRows.length} activation rows give zeros: the tail of m is dropped`,
      evidence,
    };
  // No row or column above the bar: the whole output is within it too, so only a threshold below the
  // kernel bar can have failed it. Checked before the alternative roundings, which differ from the
  // declared reference by less than the bar for the int8 schemes and would all match.
  if (badCols.length === 0 && badRows.length === 0)
    return {
      class: 'unknown',
      sentence: `every output row and column is within the kernel bar (NMSE ${KERNEL_BAR}): only a threshold below that bar fails this output`,
      evidence,
    };
  for (const alt of o.alternatives ?? []) {
    const met = compareOutputs(alt.ref, got, m, n, skip);
    if (met.nanMismatches === 0 && met.infMismatches === 0 && met.nmse <= KERNEL_BAR) {
      evidence.push(`NMSE against the ${alt.name} reference: ${met.nmse.toExponential(2)}`);
      return { class: alt.cls, sentence: `the output matches ${alt.name}`, evidence };
    }
  }
  const fit = fitFactor(ref, got, skip);
  evidence.push(`fitted factor ${fmt(fit.alpha)}, residual NMSE ${fit.residual.toExponential(2)}`);
  if (fit.residual <= KERNEL_BAR && Math.abs(fit.alpha - 1) > 1e-6)
    return {
      class: 'constant-factor',
      sentence: `every output is ${fmt(fit.alpha)} times the right value${near(fit.alpha, 127 / 128) ? ' (127/128: a scale of amax/128 instead of amax/127)' : ''}`,
      evidence,
    };
  const rel = relativeSpread(ref, got, skip);
  if (badCols.length > 0.5 * nc && rel.max < 2 ** -4)
    return {
      class: 'precision',
      sentence:
        'small errors spread over every output: an operand or accumulation of lower precision than declared',
      evidence,
    };
  return {
    class: 'unknown',
    sentence:
      badCols.length > 0 && badCols.length < 0.5 * nc
        ? `errors confined to ${badCols.length} output columns (weight rows): a defect in the weights of those rows`
        : 'errors that match none of the known defects',
    evidence,
  };
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-4;
}

/** Diagnosis of a FAIL: the probe's when it finds wrong weights, else the output's. */
export function diagnose(o: OutputEvidence, probe?: Probe | null): Diagnosis {
  if (probe) {
    const d = diagnoseProbe(probe);
    if (d) return d;
  }
  return diagnoseOutputs(o, !!probe);
}
