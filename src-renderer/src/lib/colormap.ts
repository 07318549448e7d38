/**
 * Heatmap colour mapping: a 256-entry RGBA LUT (perceptually ordered, "inferno"-like stops) and
 * a log scale, written straight into an ImageData buffer so a 512 x 4096 grid draws in a few ms.
 * Hand-written: a charting library would create millions of DOM/SVG nodes for this.
 */

import { NOT_COMPARED_RGB } from '../../../src-shared/heatmap';

export const LUT_SIZE = 256;

/** Key stops of matplotlib's inferno colormap (CC0), interpolated linearly. */
const STOPS: [number, number, number][] = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

export function buildLut(stops: [number, number, number][] = STOPS): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(LUT_SIZE * 4);
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = (i / (LUT_SIZE - 1)) * (stops.length - 1);
    const j = Math.min(Math.floor(t), stops.length - 2);
    const f = t - j;
    for (let c = 0; c < 3; c++) lut[i * 4 + c] = Math.round(stops[j][c] * (1 - f) + stops[j + 1][c] * f);
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

export const DEFAULT_LUT = buildLut();
/** Colours for exact zero (no error) and for NaN/Inf cells. */
export const ZERO_RGBA: [number, number, number, number] = [0, 0, 0, 0];
export const NAN_RGBA: [number, number, number, number] = [0, 230, 255, 255];
/** Colour of cells whose outputs were all left out of the comparison (non-finite block scales). */
export const NOT_COMPARED_RGBA: [number, number, number, number] = [...NOT_COMPARED_RGB, 255];

export interface LogScale {
  /** log10 of the lowest and highest value mapped */
  lo: number;
  hi: number;
}

/**
 * The log range for a grid: top = the largest finite value; bottom = the smallest positive
 * value, but never more than `decades` below the top (tiny rounding noise would wash out the rest).
 */
export function logScale(values: ArrayLike<number>, decades = 8): LogScale | null {
  let max = 0;
  let minPos = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v > 0) || v === Infinity) continue;
    if (v > max) max = v;
    if (v < minPos) minPos = v;
  }
  if (max === 0) return null;
  const hi = Math.log10(max);
  let lo = Math.max(Math.log10(minPos), hi - decades);
  if (hi - lo < 1e-9) lo = hi - 1;
  return { lo, hi };
}

/**
 * The log range of an engine grid: from its min/max when the min is positive (no pass over the
 * values), else by scanning (zeros and NaN cells present).
 */
export function gridScale(
  g: { values: ArrayLike<number | null>; min: number; max: number },
  decades = 8,
): LogScale | null {
  if (g.min > 0 && g.max > 0 && Number.isFinite(g.min) && Number.isFinite(g.max)) {
    const hi = Math.log10(g.max);
    let lo = Math.max(Math.log10(g.min), hi - decades);
    if (hi - lo < 1e-9) lo = hi - 1;
    return { lo, hi };
  }
  return logScale(g.values as ArrayLike<number>, decades);
}

/** LUT index of a value, -1 for zero/negative (shown as ZERO), -2 for NaN/Inf. */
export function lutIndex(v: number, s: LogScale): number {
  if (Number.isNaN(v) || v === Infinity || v === -Infinity) return -2;
  if (!(v > 0)) return -1;
  const t = (Math.log10(v) - s.lo) / (s.hi - s.lo);
  const i = Math.round(t * (LUT_SIZE - 1));
  return i < 0 ? 0 : i > LUT_SIZE - 1 ? LUT_SIZE - 1 : i;
}

/** log2(1 + (i + 0.5) / 4096): the mantissa part of a table-driven log2 (error < 2e-4 octave). */
const MANT_BITS = 12;
const LOG2_MANT = new Float64Array(1 << MANT_BITS);
for (let i = 0; i < LOG2_MANT.length; i++) LOG2_MANT[i] = Math.log2(1 + (i + 0.5) / LOG2_MANT.length);
const LOG10_2 = Math.log10(2);

const packCache = new WeakMap<Uint8ClampedArray, Uint32Array>();
/** The LUT as one 32-bit RGBA word per entry (platform byte order), for one store per pixel. */
function packedLut(lut: Uint8ClampedArray): Uint32Array {
  let p = packCache.get(lut);
  if (!p) {
    p = new Uint32Array(LUT_SIZE);
    new Uint8ClampedArray(p.buffer).set(lut.subarray(0, LUT_SIZE * 4));
    packCache.set(lut, p);
  }
  return p;
}
const packOne = (rgba: readonly number[]) => new Uint32Array(new Uint8ClampedArray(rgba).buffer)[0];
const ZERO_WORD = packOne(ZERO_RGBA);
const NAN_WORD = packOne(NAN_RGBA);
const NOT_COMPARED_WORD = packOne(NOT_COMPARED_RGBA);

// which columns a view marks as not compared: shared with the engine's saved heatmaps and report
export { notComparedColumns, notComparedRows } from '../../../src-shared/heatmap';

/**
 * Paint rows x cols values (row-major) into `out` (rows*cols*4 RGBA). Per value: the float's
 * exponent bits plus a mantissa table give log2 (no Math.log call), then one 32-bit LUT store.
 * null (what JSON makes of NaN/Inf), NaN and Inf paint as NAN_RGBA; zero and negatives as ZERO_RGBA;
 * the columns set in `notCompared` (notComparedColumns) and the rows set in `notComparedRows`
 * (notComparedRows: a weight map's) as NOT_COMPARED_RGBA.
 */
export function paintGrid(
  values: ArrayLike<number | null>,
  rows: number,
  cols: number,
  scale: LogScale | null,
  out: Uint8ClampedArray,
  lut: Uint8ClampedArray = DEFAULT_LUT,
  notCompared: Uint8Array | null = null,
  notComparedRows: Uint8Array | null = null,
): void {
  const n = rows * cols;
  if (out.length < n * 4) throw new Error(`heatmap buffer too small: ${out.length} < ${n * 4}`);
  if (out.byteOffset % 4 !== 0) throw new Error('heatmap buffer must be 4-byte aligned');
  const px = new Uint32Array(out.buffer, out.byteOffset, n);
  const lut32 = packedLut(lut);
  const span = scale ? scale.hi - scale.lo : 1;
  // index = round((log10 v - lo) / span * 255) = floor(log2 v * a + b)
  const a = (LOG10_2 * (LUT_SIZE - 1)) / span;
  const b = scale ? (-scale.lo * (LUT_SIZE - 1)) / span + 0.5 : 0;
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const HI = 1; // little-endian: the high word (sign, exponent, top mantissa) is the second
  const shift = 20 - MANT_BITS;
  const mantMask = (1 << MANT_BITS) - 1;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) {
      px[i] = NAN_WORD;
      continue;
    }
    f64[0] = v;
    const hi = u32[HI];
    const e = (hi >>> 20) & 0x7ff;
    if (e === 0x7ff) px[i] = NAN_WORD;
    else if (hi >>> 31 || e === 0 || !scale)
      px[i] = ZERO_WORD; // negative, zero/subnormal
    else {
      const l2 = e - 1023 + LOG2_MANT[(hi >>> shift) & mantMask];
      let j = (l2 * a + b) | 0; // truncation = floor here, negatives clamp to 0 anyway
      if (j < 0) j = 0;
      else if (j > LUT_SIZE - 1) j = LUT_SIZE - 1;
      px[i] = lut32[j];
    }
  }
  if (notCompared)
    for (let c = 0; c < cols; c++)
      if (notCompared[c]) for (let i = c; i < n; i += cols) px[i] = NOT_COMPARED_WORD;
  if (notComparedRows)
    for (let r = 0; r < rows; r++)
      if (notComparedRows[r]) px.fill(NOT_COMPARED_WORD, r * cols, (r + 1) * cols);
}

/** CSS colour of a LUT entry (legend gradient). */
export function lutCss(i: number, lut: Uint8ClampedArray = DEFAULT_LUT): string {
  const j = Math.max(0, Math.min(LUT_SIZE - 1, i)) * 4;
  return `rgb(${lut[j]}, ${lut[j + 1]}, ${lut[j + 2]})`;
}

/** A CSS linear-gradient for the legend bar. */
export function legendGradient(lut: Uint8ClampedArray = DEFAULT_LUT): string {
  const parts: string[] = [];
  for (let i = 0; i <= 8; i++)
    parts.push(`${lutCss(Math.round((i / 8) * (LUT_SIZE - 1)), lut)} ${i * 12.5}%`);
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/** Legend tick labels: one per decade between lo and hi (at most ~7). */
export function legendTicks(s: LogScale): { pos: number; label: string }[] {
  const ticks: { pos: number; label: string }[] = [];
  const first = Math.ceil(s.lo);
  const last = Math.floor(s.hi);
  const step = Math.max(1, Math.ceil((last - first + 1) / 7));
  for (let d = first; d <= last; d += step) ticks.push({ pos: (d - s.lo) / (s.hi - s.lo), label: `1e${d}` });
  return ticks;
}

/** A grid's cells and the output region they cover (an ErrorGrid's geometry). */
export interface GridGeometry {
  rows: number;
  cols: number;
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
  cellRows: number;
  cellCols: number;
}

/** A half-open region of output coordinates: a zoom request. */
export interface GridRegion {
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
}

/** Cell under a pixel position of a canvas shown at width x height CSS pixels. */
export function cellAt(
  x: number,
  y: number,
  width: number,
  height: number,
  rows: number,
  cols: number,
): { row: number; col: number } | null {
  if (x < 0 || y < 0 || x >= width || y >= height || rows <= 0 || cols <= 0) return null;
  return {
    row: Math.min(rows - 1, Math.floor((y / height) * rows)),
    col: Math.min(cols - 1, Math.floor((x / width) * cols)),
  };
}

/**
 * The output-coordinate region covered by grid cells [r0..r1] x [c0..c1] (inclusive), for a
 * zoom request. Half-open, clamped to the grid's own region.
 */
export function cellsToRegion(
  g: Omit<GridGeometry, 'rows' | 'cols'>,
  r0: number,
  c0: number,
  r1: number,
  c1: number,
): GridRegion {
  const [ra, rb] = r0 <= r1 ? [r0, r1] : [r1, r0];
  const [ca, cb] = c0 <= c1 ? [c0, c1] : [c1, c0];
  return {
    rowStart: Math.floor(g.rowStart + ra * g.cellRows),
    rowEnd: Math.min(g.rowEnd, Math.ceil(g.rowStart + (rb + 1) * g.cellRows)),
    colStart: Math.floor(g.colStart + ca * g.cellCols),
    colEnd: Math.min(g.colEnd, Math.ceil(g.colStart + (cb + 1) * g.cellCols)),
  };
}

/**
 * The zoom region of a drag on a grid drawn at width x height CSS pixels, from (x0, y0) to (x1, y1)
 * in the canvas' own coordinates. An end outside the canvas (the mouse released beyond an edge) is
 * clamped to that edge. null for a click (under 4 px either way) or a region that is the grid's own.
 */
export function dragRegion(
  g: GridGeometry,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  width: number,
  height: number,
): GridRegion | null {
  if (Math.abs(x1 - x0) < 4 && Math.abs(y1 - y0) < 4) return null;
  const cx = (x: number) => Math.max(0, Math.min(width - 1, x));
  const cy = (y: number) => Math.max(0, Math.min(height - 1, y));
  const a = cellAt(cx(x0), cy(y0), width, height, g.rows, g.cols);
  const b = cellAt(cx(x1), cy(y1), width, height, g.rows, g.cols);
  if (!a || !b) return null;
  const r = cellsToRegion(g, a.row, a.col, b.row, b.col);
  const same =
    r.rowStart === g.rowStart && r.rowEnd === g.rowEnd && r.colStart === g.colStart && r.colEnd === g.colEnd;
  return same ? null : r;
}

export interface ErrorHistogram {
  /** log10 edges of the bins, bins.length + 1 of them */
  edges: number[];
  bins: number[];
  /** cells below the scale's bottom (but above zero), exactly zero, and NaN/Inf */
  below: number;
  zero: number;
  nonFinite: number;
  /** cells whose outputs were all left out of the comparison: in no other count */
  notCompared: number;
  total: number;
}

/**
 * How the grid's cell errors spread over the heatmap's log scale: `count` equal bins from lo to hi,
 * plus the cells that are zero, not finite, or below the scale. Same data as the heatmap, so the two
 * agree; null cells count as not finite (NaN crosses JSON as null). Cells of the grid columns set in
 * `notCompared` (one entry per column) count as not compared, and in nothing else.
 */
export function errorHistogram(
  values: ArrayLike<number | null>,
  scale: LogScale | null,
  count = 16,
  notCompared: Uint8Array | null = null,
): ErrorHistogram {
  const h: ErrorHistogram = {
    edges: [],
    bins: [],
    below: 0,
    zero: 0,
    nonFinite: 0,
    notCompared: 0,
    total: values.length,
  };
  const cols = notCompared?.length ?? 0;
  if (scale) {
    const w = (scale.hi - scale.lo) / count;
    for (let i = 0; i <= count; i++) h.edges.push(scale.lo + i * w);
    h.bins = new Array<number>(count).fill(0);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (notCompared && notCompared[i % cols]) h.notCompared++;
    else if (v === null || !Number.isFinite(v)) h.nonFinite++;
    else if (v === 0) h.zero++;
    else if (!scale) h.below++;
    else {
      const x = Math.log10(Math.abs(v));
      if (x < scale.lo) h.below++;
      else {
        const b = Math.min(count - 1, Math.floor(((x - scale.lo) / (scale.hi - scale.lo)) * count));
        h.bins[b]++;
      }
    }
  }
  return h;
}
