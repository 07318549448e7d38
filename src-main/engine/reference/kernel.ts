/**
 * The reference arithmetic, shared by referenceMatmulSync and the worker task so that both give
 * bit-identical results: each weight row is dequantized exactly (codecFor(type).dequantizeRow) into a
 * float32 scratch, then every output y[r][j] = sum_i w[j][i] * x[r][i] is summed in float64, strictly
 * in order i = 0, 1, ..., k-1 with one accumulator per output (float32 * float32 is exact in float64,
 * so the only rounding is that of the sequential sum, the same as a naive float64 loop).
 *
 * Speed without changing the order: four weight rows are dequantized at once and their dot products
 * with one or two activation rows run interleaved (4 or 8 independent accumulators, one per output),
 * which hides the add latency and shares each load between several outputs.
 */
import { codecFor } from '../formats';
import { rowBytes, typeName } from '../ggml-types';
import { isExact, type ArithmeticScheme } from '../arithmetic/schemes';
import type { RefRowsPayload } from './index';
import { floatRounder, roundTf32 } from '../arithmetic/rounding';
import { splitRow } from '../arithmetic/split';

const ROW_TILE = 4;

/**
 * Computes rows [0, rows) of a weight block that starts at data[dataOff]: out[r * outStride + outOff + j]
 * = y[r][j] for r < m, j < rows. `scratch` (>= 4*k floats) may be passed to avoid allocation.
 */
export function referenceRows(
  type: number,
  data: Uint8Array,
  dataOff: number,
  rows: number,
  k: number,
  x: Float32Array,
  m: number,
  out: Float64Array,
  outStride: number,
  outOff: number,
  scratch?: Float32Array,
  roundWeight?: ((w: number) => number) | null,
): void {
  const codec = codecFor(type);
  const dequantizeRow = roundWeight
    ? (src: Uint8Array, o: number, n: number, dst: Float32Array, d: number) => {
        codec.dequantizeRow(src, o, n, dst, d);
        for (let i = d; i < d + n; i++) dst[i] = roundWeight(dst[i]);
      }
    : codec.dequantizeRow.bind(codec);
  const rb = rowBytes(type, k);
  if (k > LONG_ROW) {
    longRows(
      codec.blockElems,
      codec.blockBytes,
      dequantizeRow,
      data,
      dataOff,
      rb,
      rows,
      k,
      x,
      m,
      out,
      outStride,
      outOff,
      scratch,
    );
    return;
  }
  // four rows of scratch only when a full tile exists
  const need = (rows >= ROW_TILE ? ROW_TILE : 1) * k;
  const w = scratch && scratch.length >= need ? scratch : new Float32Array(need);
  let j = 0;
  for (; j + ROW_TILE <= rows; j += ROW_TILE) {
    const src = dataOff + j * rb;
    dequantizeRow(data, src, k, w, 0);
    dequantizeRow(data, src + rb, k, w, k);
    dequantizeRow(data, src + 2 * rb, k, w, 2 * k);
    dequantizeRow(data, src + 3 * rb, k, w, 3 * k);
    const k2 = 2 * k;
    const k3 = 3 * k;
    let r = 0;
    // two activation rows at a time: 8 outputs, 8 independent accumulators, 6 loads per step
    for (; r + 2 <= m; r += 2) {
      const xa = r * k;
      const xb = xa + k;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      for (let i = 0; i < k; i++) {
        const u = x[xa + i];
        const v = x[xb + i];
        const w0 = w[i];
        const w1 = w[k + i];
        const w2 = w[k2 + i];
        const w3 = w[k3 + i];
        a0 += w0 * u;
        a1 += w1 * u;
        a2 += w2 * u;
        a3 += w3 * u;
        b0 += w0 * v;
        b1 += w1 * v;
        b2 += w2 * v;
        b3 += w3 * v;
      }
      const o = r * outStride + outOff + j;
      out[o] = a0;
      out[o + 1] = a1;
      out[o + 2] = a2;
      out[o + 3] = a3;
      const o2 = o + outStride;
      out[o2] = b0;
      out[o2 + 1] = b1;
      out[o2 + 2] = b2;
      out[o2 + 3] = b3;
    }
    for (; r < m; r++) {
      const xb = r * k;
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      for (let i = 0; i < k; i++) {
        const xv = x[xb + i];
        a0 += w[i] * xv;
        a1 += w[k + i] * xv;
        a2 += w[k2 + i] * xv;
        a3 += w[k3 + i] * xv;
      }
      const o = r * outStride + outOff + j;
      out[o] = a0;
      out[o + 1] = a1;
      out[o + 2] = a2;
      out[o + 3] = a3;
    }
  }
  for (; j < rows; j++) {
    dequantizeRow(data, dataOff + j * rb, k, w, 0);
    for (let r = 0; r < m; r++) {
      const xb = r * k;
      let a = 0;
      for (let i = 0; i < k; i++) a += w[i] * x[xb + i];
      out[r * outStride + outOff + j] = a;
    }
  }
}

/** Rows longer than this are dequantized piece by piece (LONG_ROW floats of scratch, 4 MiB). */
export const LONG_ROW = 1 << 20;

/**
 * Very long rows (k = 2^28 is 1 GiB of float32): each row is dequantized LONG_ROW elements at a
 * time, and each output's float64 sum runs on across the pieces in index order, so the result is
 * bit-identical to dequantizing the whole row first.
 */
function longRows(
  blockElems: number,
  blockBytes: number,
  dequantizeRow: (src: Uint8Array, o: number, n: number, dst: Float32Array, d: number) => void,
  data: Uint8Array,
  dataOff: number,
  rb: number,
  rows: number,
  k: number,
  x: Float32Array,
  m: number,
  out: Float64Array,
  outStride: number,
  outOff: number,
  scratch?: Float32Array,
): void {
  const piece = Math.max(blockElems, LONG_ROW - (LONG_ROW % blockElems));
  const w = scratch && scratch.length >= piece ? scratch : new Float32Array(piece);
  const acc = new Float64Array(m);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    for (let c0 = 0; c0 < k; c0 += piece) {
      const len = Math.min(piece, k - c0);
      dequantizeRow(data, dataOff + j * rb + (c0 / blockElems) * blockBytes, len, w, 0);
      for (let r = 0; r < m; r++) {
        const xb = r * k + c0;
        let a = acc[r];
        for (let i = 0; i < len; i++) a += w[i] * x[xb + i];
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * outStride + outOff + j] = acc[r];
  }
}

/**
 * The declared-arithmetic reference of rows [0, rows): like referenceRows, with the operands rounded
 * as `scheme` declares (../arithmetic). `xa` and `sums` come from prepareActivations(scheme, x, ...):
 * - 'f32': exactly referenceRows;
 * - 16-bit float schemes: xa is x rounded; each dequantized weight is rounded the same way, then the
 *   products (exact in float64) are summed as in referenceRows;
 * - int8 schemes: each row is split into a[i] - c[g] (../arithmetic/split.ts), and
 *   y = sum_i a[i] * xa[i] - sum_g c[g] * sums[g] (the second sum only for the exact-sum offset forms;
 *   with 'exact-sum-tf32' both c and the sums rounded to TF32), summed in float64 in index order.
 */
export function referenceRowsDeclared(
  scheme: ArithmeticScheme,
  type: number,
  data: Uint8Array,
  dataOff: number,
  rows: number,
  k: number,
  xa: Float32Array | Float64Array,
  sums: Float64Array | null,
  m: number,
  out: Float64Array,
  outStride: number,
  outOff: number,
): void {
  const act = scheme.activations;
  if (act.kind !== 'int8') {
    if (!(xa instanceof Float32Array)) throw new Error(`${scheme.id}: activations must be float32`);
    const wr = scheme.weights;
    const round = wr.kind === 'float' ? floatRounder(wr) : null;
    referenceRows(type, data, dataOff, rows, k, xa, m, out, outStride, outOff, undefined, round);
    return;
  }
  if (!(xa instanceof Float64Array) || !sums) throw new Error(`${scheme.id}: int8 activations are missing`);
  const form = scheme.offsets[type];
  if (!form) throw new Error(`${scheme.id}: ${typeName(type)} has no int8 form (quantized formats only)`);
  const rb = rowBytes(type, k);
  const groups = k / 32;
  const exactSum = form === 'exact-sum' || form === 'exact-sum-tf32';
  let s = sums;
  if (form === 'exact-sum-tf32') s = sums.map(roundTf32);
  const a = new Float64Array(ROW_TILE * k);
  const c = new Float64Array(ROW_TILE * groups);
  for (let j0 = 0; j0 < rows; j0 += ROW_TILE) {
    const tile = Math.min(ROW_TILE, rows - j0);
    for (let t = 0; t < tile; t++) {
      splitRow(type, form, data, dataOff + (j0 + t) * rb, k, a, t * k, c, t * groups);
      if (form === 'exact-sum-tf32')
        for (let g = 0; g < groups; g++) c[t * groups + g] = roundTf32(c[t * groups + g]);
    }
    for (let r = 0; r < m; r++) {
      const xb = r * k;
      const sb = r * groups;
      for (let t = 0; t < tile; t++) {
        const ab = t * k;
        let acc = 0;
        for (let i = 0; i < k; i++) acc += a[ab + i] * xa[xb + i];
        if (exactSum) {
          const cb = t * groups;
          for (let g = 0; g < groups; g++) acc -= c[cb + g] * s[sb + g];
        }
        out[r * outStride + outOff + j0 + t] = acc;
      }
    }
  }
}

/** The rows of one 'ref-rows' task (the worker side of referenceMatmul). */
export function refRowsTask(p: RefRowsPayload, scratch?: Float32Array): Float64Array<ArrayBuffer> {
  const out = new Float64Array(p.m * p.rows);
  const scheme = p.arithmetic ?? null;
  if (!scheme || isExact(scheme)) {
    const x = new Float32Array(p.x, 0, p.m * p.k);
    referenceRows(p.type, p.data, 0, p.rows, p.k, x, p.m, out, p.rows, 0, scratch);
  } else {
    const int8 = scheme.activations.kind === 'int8';
    const xa = int8 ? new Float64Array(p.x, 0, p.m * p.k) : new Float32Array(p.x, 0, p.m * p.k);
    const sums = p.sums ? new Float64Array(p.sums) : null;
    referenceRowsDeclared(scheme, p.type, p.data, 0, p.rows, p.k, xa, sums, p.m, out, p.rows, 0);
  }
  return out;
}
