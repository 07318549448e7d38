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
import { rowBytes } from '../ggml-types';

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
): void {
  const codec = codecFor(type);
  const rb = rowBytes(type, k);
  // four rows of scratch only when a full tile exists: one row of a very long tensor (k = 2^28)
  // needs 1 GiB of float32, not 4
  const need = (rows >= ROW_TILE ? ROW_TILE : 1) * k;
  const w = scratch && scratch.length >= need ? scratch : new Float32Array(need);
  let j = 0;
  for (; j + ROW_TILE <= rows; j += ROW_TILE) {
    const src = dataOff + j * rb;
    codec.dequantizeRow(data, src, k, w, 0);
    codec.dequantizeRow(data, src + rb, k, w, k);
    codec.dequantizeRow(data, src + 2 * rb, k, w, 2 * k);
    codec.dequantizeRow(data, src + 3 * rb, k, w, 3 * k);
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
    codec.dequantizeRow(data, dataOff + j * rb, k, w, 0);
    for (let r = 0; r < m; r++) {
      const xb = r * k;
      let a = 0;
      for (let i = 0; i < k; i++) a += w[i] * x[xb + i];
      out[r * outStride + outOff + j] = a;
    }
  }
}
