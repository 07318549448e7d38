/**
 * One output judged: against the reference of the declared arithmetic (the verdict: kernel error),
 * with the declared reference's own distance from the exact float32-input reference beside it
 * (arithmetic error, informational), and for a FAIL a diagnosis (../diagnosis). Shared by verify runs,
 * `quantscope check` and the selftest.
 */
import type { Diagnosis, Metrics } from '../../../src-shared/contract';
import { nonFiniteScaleRows } from '../formats';
import { KERNEL_BAR, isExact, type ArithmeticScheme } from '../arithmetic/schemes';
import { compareOutputs, judge, nmse64 } from '../compare';
import { diagnoseOutputs, diagnoseProbe, type Probe } from '../diagnosis';
import { alternativeReferences, identityReference, probeElements } from '../diagnosis/probe';

/**
 * The identity probe's budget in weight elements read (batches x n x k): a probe of a very long row
 * takes fewer elements (at least a block's worth at each end) rather than hundreds of passes over it.
 */
const PROBE_WORK = 2 ** 34;

/**
 * Rows longer than this (4M elements, beyond any model's) get output-space evidence only: the identity
 * probe and the alternative references each take the whole row's activations again, per batch, which
 * at 2^28 elements ran for minutes and past 20 GB.
 */
const LONG_ROW_DIAGNOSIS = 2 ** 22;
import { memorySource, referenceMatmul } from '../reference';

export interface VerdictInput {
  type: number;
  n: number;
  k: number;
  data: Uint8Array;
  x: Float32Array;
  m: number;
  got: Float32Array;
  scheme: ArithmeticScheme;
  /** NMSE bar (default KERNEL_BAR) */
  threshold?: number | null;
  /** the exact float32-input reference when the caller has it already */
  exact?: Float64Array;
  /** the declared reference when the caller has it already */
  declared?: Float64Array;
  /**
   * runs the kernel on identity rows (float32 [rows][k], rows = the job's m) for the diagnosis; absent:
   * no probe
   */
  runProbe?: (x: Float32Array, rows: number) => Promise<Float32Array>;
  /** the output itself is a probe of these elements (x is their identity rows) */
  selfProbe?: number[];
  /** the output was made elsewhere (check), not in a poisoned buffer of ours */
  external?: boolean;
  /** skip the alternative-rounding references when m * n * k exceeds this (default 2^32) */
  maxAlternativeWork?: number;
  signal?: AbortSignal;
}

export interface Verdict {
  /**
   * 'not-comparable': weight rows with a NaN or infinite block scale feed some outputs; those are
   * left out of the metrics, the others passed. A failure of the others is 'fail'.
   */
  status: 'pass' | 'fail' | 'not-comparable';
  /** blocks with a non-finite scale (0 when none) */
  nonFiniteBlocks: number;
  /** why some outputs were not compared, one line; null when all were */
  notComparable: string | null;
  /** n bytes, 1 = an output feature left out of the metrics (its weight row has a non-finite scale); null when none */
  skipCols: Uint8Array | null;
  threshold: number;
  metrics: Metrics;
  /** the declared reference (the heatmap's reference) */
  declared: Float64Array;
  exact: Float64Array;
  arithmeticNmse: number;
  diagnosis: Diagnosis | null;
  /**
   * for a FAIL: the identity probe the diagnosis looked at (the weights as the kernel decodes them),
   * with the weight rows left out (skipRows = skipCols: output column j is weight row j)
   */
  probe: Probe | null;
}

export async function judgeOutput(v: VerdictInput): Promise<Verdict> {
  const { type, n, k, data, x, m, got, scheme, signal } = v;
  const src = memorySource(type, n, k, data);
  const exactScheme = isExact(scheme);
  const declared =
    v.declared ??
    (v.selfProbe
      ? identityReference(scheme, type, data, n, k, v.selfProbe)
      : exactScheme && v.exact
        ? v.exact
        : await referenceMatmul(src, x, m, { arithmetic: exactScheme ? undefined : scheme, signal }));
  const exact = exactScheme
    ? declared
    : (v.exact ??
      (v.selfProbe
        ? identityReference(
            { ...scheme, activations: { kind: 'f32' }, weights: { kind: 'f32' } },
            type,
            data,
            n,
            k,
            v.selfProbe,
          )
        : await referenceMatmul(src, x, m, { signal })));
  const nonFinite = nonFiniteScaleRows(type, data, n, k);
  const metrics = compareOutputs(declared, got, m, n, nonFinite.rows);
  const threshold = v.threshold ?? KERNEL_BAR;
  const judged = judge(metrics, threshold);
  const notComparable =
    nonFinite.badRows > 0
      ? `non-finite scales: ${nonFinite.badBlocks} blocks in ${nonFinite.badRows} of ${n} weight rows; ` +
        `their ${m * nonFinite.badRows} outputs are not compared`
      : null;
  const status = judged === 'pass' && notComparable ? 'not-comparable' : judged;
  const arithmeticNmse = exactScheme ? 0 : nmse64(exact, declared);
  let diagnosis: Diagnosis | null = null;
  let probe: Probe | null = null;
  if (status === 'fail') {
    // the weight rows whose outputs were left out are left out of the probe's evidence too
    const skipRows = nonFinite.rows;
    if (v.selfProbe) probe = { type, n, k, data, elems: v.selfProbe, got, ref: declared, skipRows };
    else if (v.runProbe && k <= LONG_ROW_DIAGNOSIS) {
      const elems = probeElements(k, Math.ceil(PROBE_WORK / (n * k)) * m);
      const pg = new Float32Array(elems.length * n);
      // one activation buffer for every batch (a long row's k floats each time would be gigabytes):
      // always m rows (zero rows pad the last batch), so the probe takes the job's own path
      const px = new Float32Array(m * k);
      for (let r0 = 0; r0 < elems.length; r0 += m) {
        const rows = Math.min(m, elems.length - r0);
        px.fill(0);
        for (let r = 0; r < rows; r++) px[r * k + elems[r0 + r]] = 1;
        const y = await v.runProbe(px, m);
        pg.set(y.subarray(0, rows * n), r0 * n);
      }
      probe = {
        type,
        n,
        k,
        data,
        elems,
        got: pg,
        ref: identityReference(scheme, type, data, n, k, elems),
        skipRows,
      };
    }
    const fromProbe = probe ? diagnoseProbe(probe) : null;
    diagnosis = fromProbe;
    // a clean probe (the weights decode right), no probe, or one whose finding is only a scale or a
    // precision: the output's own evidence, where an alternative rounding that matches the output
    // (an activation-side defect also shows in the probe's weights) is the better explanation
    const weak = !fromProbe || ['constant-factor', 'precision', 'unknown'].includes(fromProbe.class);
    if (weak) {
      const alternatives =
        !v.selfProbe && k <= LONG_ROW_DIAGNOSIS && m * n * k <= (v.maxAlternativeWork ?? 2 ** 32)
          ? await alternativeReferences(scheme, type, data, n, k, x, m, signal)
          : [];
      const fromOutput = diagnoseOutputs(
        { ref: declared, got, m, n, alternatives, external: v.external, skipCols: nonFinite.rows },
        !!probe && !fromProbe,
      );
      const matched = fromOutput.evidence.some((e) => e.startsWith('NMSE against the '));
      if (!fromProbe || matched || ['unwritten', 'non-finite', 'tail-dropped'].includes(fromOutput.class))
        diagnosis = fromProbe
          ? { ...fromOutput, evidence: [...fromOutput.evidence, `identity probe: ${fromProbe.sentence}`] }
          : fromOutput;
    }
  }
  return {
    status,
    nonFiniteBlocks: nonFinite.badBlocks,
    notComparable,
    skipCols: nonFinite.rows,
    threshold,
    metrics,
    declared,
    exact,
    arithmeticNmse,
    diagnosis,
    probe,
  };
}
