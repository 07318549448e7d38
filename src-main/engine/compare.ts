/**
 * Comparison of a backend's float32 output with the float64 reference: the metrics a result is
 * judged by, the pass/fail rule, and the max-reduced error grid the heatmap draws.
 *
 * Hand-written: these are a few tight loops over typed arrays with project-specific rules (NaN/Inf
 * mismatch counting, per-row relative error, max-reduction into cells); no library does exactly this,
 * and a generic one would allocate per element.
 *
 * Conventions:
 * - Outputs are row-major [m][n]: "row" is the activation row (0..m-1), "col" the output feature.
 * - Sums and maxima run over pairs where both sides are finite. A pair with a NaN on exactly one side
 *   is a NaN mismatch; a pair where an infinity is not matched by the same infinity (one side inf, or
 *   opposite signs) is an Inf mismatch. Matching NaN/NaN or +inf/+inf pairs count as exact.
 * - The per-row scale for relative error is max |ref| over the finite values of that output row
 *   (1 when the row has no non-zero finite value).
 */
import type { ErrorGrid, KernelPath, Metrics } from '../../src-shared/contract';
import { KERNEL_BAR } from './arithmetic/schemes';

function checkShape(
  what: string,
  ref: ArrayLike<number>,
  got: ArrayLike<number>,
  m: number,
  n: number,
): void {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 0 || n < 0) {
    throw new Error(`${what}: bad output shape m=${m} n=${n}`);
  }
  if (ref.length !== m * n)
    throw new Error(`${what}: reference has ${ref.length} values, expected m*n=${m * n}`);
  if (got.length !== m * n)
    throw new Error(`${what}: output has ${got.length} values, expected m*n=${m * n}`);
}

/** max |ref| over the finite, compared values of each output row; 1 where that is 0. */
function rowScales(ref: Float64Array, m: number, n: number, skipCols?: Uint8Array): Float64Array {
  const s = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let mx = 0;
    const base = r * n;
    for (let c = 0; c < n; c++) {
      if (skipCols && skipCols[c]) continue;
      const a = Math.abs(ref[base + c]);
      if (a > mx && a !== Infinity) mx = a; // NaN fails the comparison
    }
    s[r] = mx > 0 ? mx : 1;
  }
  return s;
}

/**
 * Error of one pair for max-type statistics: |got - ref| when both are finite; +Infinity for a
 * NaN or Inf mismatch; 0 for matching NaN/NaN or same-signed infinities.
 */
function pairError(r: number, g: number): number {
  const d = g - r;
  if (d === d && d !== Infinity && d !== -Infinity) {
    // both finite (finite - finite is finite; anything involving NaN/Inf is NaN or +-Inf... except
    // finite - finite overflowing, impossible for float32-range values)
    return d < 0 ? -d : d;
  }
  const rn = r !== r;
  const gn = g !== g;
  if (rn && gn) return 0;
  if (rn || gn) return Infinity;
  return r === g ? 0 : Infinity; // at least one infinite: equal only when the same infinity
}

/**
 * The metrics of one output. `skipCols` (n bytes, 1 = skip) leaves out output features that are not
 * comparable (those of weight rows with a non-finite block scale); `count` is the pairs compared.
 */
export function compareOutputs(
  ref: Float64Array,
  got: Float32Array,
  m: number,
  n: number,
  skipCols?: Uint8Array | null,
): Metrics {
  checkShape('compareOutputs', ref, got, m, n);
  const skip = skipCols ?? undefined;
  if (skip && skip.length !== n)
    throw new Error(`compareOutputs: skip mask has ${skip.length} entries, n=${n}`);
  const scales = rowScales(ref, m, n, skip);
  let skipped = 0;
  let se = 0;
  let sr = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let nanMis = 0;
  let infMis = 0;
  let worstErr = 0;
  let worstIdx = -1;
  for (let row = 0; row < m; row++) {
    const base = row * n;
    const inv = 1 / scales[row];
    for (let col = 0; col < n; col++) {
      if (skip && skip[col]) {
        skipped++;
        continue;
      }
      const i = base + col;
      const r = ref[i];
      const g = got[i];
      const d = g - r;
      if (Number.isFinite(r) && Number.isFinite(g)) {
        se += d * d;
        sr += r * r;
        const a = d < 0 ? -d : d;
        if (a > maxAbs) maxAbs = a;
        const rel = a * inv;
        if (rel > maxRel) maxRel = rel;
        if (a > worstErr) {
          worstErr = a;
          worstIdx = i;
        }
        continue;
      }
      const rn = r !== r;
      const gn = g !== g;
      let mismatch = false;
      if (rn !== gn) {
        nanMis++;
        mismatch = true;
      } else if (!rn && r !== g) {
        infMis++; // one side infinite, or opposite infinities
        mismatch = true;
      }
      if (mismatch && worstErr !== Infinity) {
        worstErr = Infinity;
        worstIdx = i;
      }
    }
  }
  let nmse: number;
  if (sr === 0) nmse = se === 0 ? 0 : Infinity;
  else nmse = se / sr;
  return {
    nmse,
    maxAbsErr: maxAbs,
    maxRelErr: maxRel,
    nanMismatches: nanMis,
    infMismatches: infMis,
    count: m * n - skipped,
    worst:
      worstIdx < 0
        ? null
        : {
            row: Math.floor(worstIdx / n),
            col: worstIdx % n,
            ref: ref[worstIdx],
            got: got[worstIdx],
          },
  };
}

/**
 * The NMSE threshold of a path. Every path is judged against the reference of its own declared
 * arithmetic (../arithmetic/schemes.ts), where a correct kernel differs only by float32 rounding and
 * accumulation order, so every path has the same float32-class bar (KERNEL_BAR, argued there).
 */
export function thresholdFor(path: KernelPath): number {
  switch (path) {
    case 'fused-mma-f16':
    case 'fused-mma-i8':
    case 'fused-small-q8':
    case 'cpu-f32':
    case 'fused-small-f32':
    case 'fused-tiled-f32':
    case 'unfused-f32':
    case 'custom':
      return KERNEL_BAR;
    default:
      throw new Error(`unknown kernel path '${String(path)}'`);
  }
}

/**
 * NMSE of one float64 output against another (the declared reference against the exact one: what the
 * declared rounding costs). Pairs with a non-finite value on either side are left out; 0 when both
 * are all zero.
 */
export function nmse64(exact: Float64Array, declared: Float64Array): number {
  if (exact.length !== declared.length)
    throw new Error(`nmse64: ${exact.length} values against ${declared.length}`);
  let se = 0;
  let sr = 0;
  for (let i = 0; i < exact.length; i++) {
    const r = exact[i];
    const d = declared[i] - r;
    if (!Number.isFinite(d) || !Number.isFinite(r)) continue;
    se += d * d;
    sr += r * r;
  }
  if (sr === 0) return se === 0 ? 0 : Infinity;
  return se / sr;
}

export function judge(metrics: Metrics, threshold: number): 'pass' | 'fail' {
  if (metrics.nanMismatches > 0 || metrics.infMismatches > 0) return 'fail';
  if (Number.isNaN(metrics.nmse) || !(metrics.nmse <= threshold)) return 'fail';
  return 'pass';
}

export interface ErrorGridSpec {
  rowStart?: number;
  rowEnd?: number;
  colStart?: number;
  colEnd?: number;
  maxRows: number;
  maxCols: number;
  metric: 'abs' | 'rel';
  /**
   * n bytes, 1 = an output feature left out of the comparison (compareOutputs' skipCols: those of
   * weight rows with a non-finite block scale). Their errors are not part of any cell's value.
   */
  skipCols?: Uint8Array | null;
  /**
   * m bytes, 1 = a row left out of the comparison: a weight map's rows are weight rows, and one with
   * a non-finite block scale is left out as the outputs it feeds are. Its errors are part of no cell's value.
   */
  skipRows?: Uint8Array | null;
}

function span(
  what: string,
  start: number | undefined,
  end: number | undefined,
  size: number,
): [number, number] {
  const s = start ?? 0;
  const e = end ?? size;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > size || s >= e) {
    throw new Error(`errorGrid: bad ${what} range [${s}, ${e}) for an output with ${size} ${what}s`);
  }
  return [s, e];
}

/**
 * The error of a region of the output reduced by MAXIMUM into at most maxRows x maxCols cells, so no
 * bad element can hide. A NaN/Inf mismatch counts as +Infinity. `worst` holds [row, col, ref, got]
 * of the element that gave each cell its value (the first element of the cell when all are exact).
 * Output features in `skipCols` are left out as the metrics leave them out: a cell's value is the
 * maximum over its compared outputs, a cell with none is 0 (and not in min/max), and `leftOutCols`
 * counts, per grid column, the output features left out, so a view can mark them. Rows in `skipRows`
 * (a weight map's weight rows with a non-finite block scale) are left out alike, counted per grid row
 * in `leftOutRows`.
 */
export function errorGrid(
  ref: Float64Array,
  got: Float32Array,
  m: number,
  n: number,
  req: ErrorGridSpec,
): Omit<ErrorGrid, 'resultId'> {
  checkShape('errorGrid', ref, got, m, n);
  if (
    !Number.isInteger(req.maxRows) ||
    !Number.isInteger(req.maxCols) ||
    req.maxRows < 1 ||
    req.maxCols < 1
  ) {
    throw new Error(`errorGrid: grid size must be positive integers, got ${req.maxRows}x${req.maxCols}`);
  }
  if (req.metric !== 'abs' && req.metric !== 'rel') {
    throw new Error(`errorGrid: metric must be 'abs' or 'rel', got '${String(req.metric)}'`);
  }
  const [r0, r1] = span('row', req.rowStart, req.rowEnd, m);
  const [c0, c1] = span('column', req.colStart, req.colEnd, n);
  const regionRows = r1 - r0;
  const regionCols = c1 - c0;
  const cellRows = Math.ceil(regionRows / Math.min(req.maxRows, regionRows));
  const cellCols = Math.ceil(regionCols / Math.min(req.maxCols, regionCols));
  const rows = Math.ceil(regionRows / cellRows);
  const cols = Math.ceil(regionCols / cellCols);

  const cells = rows * cols;
  // Plain arrays, filled first so V8 keeps them packed (holey arrays are several times slower);
  // `values` is the running maximum itself, so there is no extra copy at the end.
  const values: number[] = new Array<number>(cells).fill(-1);
  const worstRow = new Int32Array(cells);
  const worstCol = new Int32Array(cells);
  const rel = req.metric === 'rel';
  const skip = req.skipCols ?? null;
  if (skip && skip.length !== n) throw new Error(`errorGrid: skip mask has ${skip.length} entries, n=${n}`);
  const scales = rel ? rowScales(ref, m, n, skip ?? undefined) : null;
  // per grid column: the output features left out (null when none in the region)
  let leftOut: number[] | null = null;
  if (skip) {
    const counts = new Array<number>(cols).fill(0);
    let any = false;
    for (let c = c0; c < c1; c++)
      if (skip[c]) {
        counts[((c - c0) / cellCols) | 0]++;
        any = true;
      }
    if (any) leftOut = counts;
  }
  const skipRows = req.skipRows ?? null;
  if (skipRows && skipRows.length !== m)
    throw new Error(`errorGrid: row skip mask has ${skipRows.length} entries, m=${m}`);
  // per grid row: the rows left out (null when none in the region)
  let leftOutRows: number[] | null = null;
  if (skipRows) {
    const counts = new Array<number>(rows).fill(0);
    let any = false;
    for (let r = r0; r < r1; r++)
      if (skipRows[r]) {
        counts[((r - r0) / cellRows) | 0]++;
        any = true;
      }
    if (any) leftOutRows = counts;
  }

  for (let row = r0; row < r1; row++) {
    if (leftOutRows && skipRows![row]) continue;
    const cellBase = (((row - r0) / cellRows) | 0) * cols;
    const rowBase = row * n;
    const rowEnd = rowBase + c1;
    const inv = scales ? 1 / scales[row] : 1;
    for (let cc = 0; cc < cols; cc++) {
      // each cell's columns get their own short loop (V8 compiles this several times faster than
      // one running column index shared across cells)
      const i0 = rowBase + c0 + cc * cellCols;
      const i1 = i0 + cellCols < rowEnd ? i0 + cellCols : rowEnd;
      let best = -1;
      let bestI = i0;
      if (leftOut && leftOut[cc] > 0) {
        // a cell with left-out features: the same, over its compared outputs only
        for (let i = i0; i < i1; i++) {
          if (skip![i - rowBase]) continue;
          let e = Math.abs(got[i] - ref[i]) * inv;
          if (e !== e) e = pairError(ref[i], got[i]);
          if (e > best) {
            best = e;
            bestI = i;
          }
        }
      } else {
        for (let i = i0; i < i1; i++) {
          let e = Math.abs(got[i] - ref[i]) * inv; // an Inf mismatch gives Infinity here already
          if (e !== e) e = pairError(ref[i], got[i]); // NaN: NaN on one side, or inf - inf
          if (e > best) {
            best = e;
            bestI = i;
          }
        }
      }
      const cell = cellBase + cc;
      if (best > values[cell]) {
        values[cell] = best;
        worstRow[cell] = row;
        worstCol[cell] = bestI - rowBase;
      }
    }
  }

  const worst: number[] = new Array<number>(cells * 4).fill(0);
  let min = Infinity;
  let max = -Infinity;
  for (let cell = 0; cell < cells; cell++) {
    let v = values[cell];
    let row = worstRow[cell];
    let col = worstCol[cell];
    if (v < 0) {
      // no output of the cell was compared: 0, and its first output for the hover
      v = values[cell] = 0;
      row = r0 + ((cell / cols) | 0) * cellRows;
      col = c0 + (cell % cols) * cellCols;
    } else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const i = row * n + col;
    const w = cell * 4;
    worst[w] = row;
    worst[w + 1] = col;
    worst[w + 2] = ref[i];
    worst[w + 3] = got[i];
  }
  return {
    metric: req.metric,
    m,
    n,
    rowStart: r0,
    rowEnd: r1,
    colStart: c0,
    colEnd: c1,
    rows,
    cols,
    cellRows,
    cellCols,
    values,
    worst,
    // every cell left out: nothing was compared, no error anywhere
    min: min === Infinity ? 0 : min,
    max: max === -Infinity ? 0 : max,
    ...(leftOut ? { leftOutCols: leftOut } : {}),
    ...(leftOutRows ? { leftOutRows } : {}),
  };
}
