/**
 * Shared pieces of the K-quants (256-element super-blocks): the 6-bit scale/min packing of Q4_K/Q5_K
 * and the quantizer searches modelled on ggml's make_qkx2_quants (asymmetric, scale + min) and
 * make_qx_quants (symmetric, signed).
 *
 * The quantizers work in float64 (they need valid blocks and low error, not ggml's exact bits) and
 * use module-level scratch arrays so no memory is allocated per block.
 */

import { newFields, pair, type RowFields } from './fields';
import { FP16_TABLE } from './half';

export const QK_K = 256;

/**
 * How hard the K-quant quantizers search (see makeQkx2 / makeQx; IQ4_NL / IQ4_XS: IQ4_TRIES in
 * iq4_nl.ts). RMSE on normal(0,1) data:
 * Q4_K fast 0.0752, balanced 0.0725, ggml 0.0714 (ggml's full 21-grid search); Q5_K 0.0372 / 0.0362 /
 * 0.0361; Q6_K 0.0184 / 0.0183 / 0.0178. 'fast' (the default) is 2-3x quicker than 'balanced' and
 * about 5x quicker than 'ggml', and keeps Q4_K near 20 M values/s on one core.
 */
export type QuantizeEffort = 'fast' | 'balanced' | 'ggml';

const GRIDS: Record<QuantizeEffort, { q4: Float64Array; q5: Float64Array; q6: Float64Array }> = {
  fast: { q4: new Float64Array([0]), q5: new Float64Array([0]), q6: new Float64Array([0]) },
  balanced: {
    q4: new Float64Array([0, -0.5, 0.5]),
    q5: new Float64Array([0, -0.5, 0.5]),
    q6: new Float64Array([0, -0.4, 0.4]),
  },
  // make_qkx2_quants(..., rmin, 0.1, nstep): Q4_K -1.0..+1.0 (21 grids), Q5_K -0.5..+1.0 (16 grids)
  ggml: {
    q4: Float64Array.from({ length: 21 }, (_, i) => -1 + 0.1 * i),
    q5: Float64Array.from({ length: 16 }, (_, i) => -0.5 + 0.1 * i),
    // make_qx_quants: the plain grid, then -0.9..+0.9 step 0.1
    q6: Float64Array.from({ length: 19 }, (_, i) => -0.9 + 0.1 * i),
  },
};
let effort: QuantizeEffort = 'fast';

/** Choose the K-quant search effort for later quantize calls (process-wide; default 'fast'). */
export function setQuantizeEffort(e: QuantizeEffort): void {
  if (!(e in GRIDS)) throw new Error(`quantize effort '${String(e)}' is not one of fast, balanced, ggml`);
  effort = e;
}

export function quantizeEffort(): QuantizeEffort {
  return effort;
}

/**
 * The grid offsets of the current effort for nmax 15 (Q4_K), 31 (Q5_K; also Q2_K's nmax 3, whose
 * ggml search uses the same -0.5..+1.0 grids) or 32 and 4 (the makeQx searches of Q6_K and Q3_K).
 */
export function kGrids(nmax: number): Float64Array {
  return nmax === 15 ? GRIDS[effort].q4 : nmax === 31 || nmax === 3 ? GRIDS[effort].q5 : GRIDS[effort].q6;
}

/**
 * Unpack scale `sc` and min `m` of sub-block j (0..7) from the 12 scale bytes at s[o..o+12):
 * j < 4: sc = s[j] & 63, m = s[j+4] & 63;
 * j >= 4: sc = (s[j+4] & 15) | (s[j-4] >> 6) << 4, m = (s[j+4] >> 4) | (s[j] >> 6) << 4.
 * Returns sc | m << 8.
 */
export function scaleMinK4(j: number, s: Uint8Array, o: number): number {
  if (j < 4) return (s[o + j] & 63) | ((s[o + j + 4] & 63) << 8);
  const sc = (s[o + j + 4] & 15) | ((s[o + j - 4] >> 6) << 4);
  const m = (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4);
  return sc | (m << 8);
}

/** Pack eight 6-bit scales and mins into 12 bytes at dst[o..o+12) (inverse of scaleMinK4). */
export function packScaleMinK4(
  ls: ArrayLike<number>,
  lm: ArrayLike<number>,
  dst: Uint8Array,
  o: number,
): void {
  for (let j = 0; j < 12; j++) dst[o + j] = 0;
  for (let j = 0; j < 8; j++) {
    const a = ls[j] & 63;
    const b = lm[j] & 63;
    if (j < 4) {
      dst[o + j] |= a;
      dst[o + j + 4] |= b;
    } else {
      dst[o + j + 4] = (a & 15) | ((b & 15) << 4);
      dst[o + j - 4] |= (a >> 4) << 6;
      dst[o + j] |= (b >> 4) << 6;
    }
  }
}

const MAX_N = 32;
const lAux = new Uint8Array(MAX_N);
const xb = new Float64Array(MAX_N);
const wb = new Float64Array(MAX_N);

/**
 * Like make_qkx2_quants: fit x[i] ~ scale * L[i] - theMin with L in [0, nmax], weights
 * w[i] = sqrt(mean(x^2)) + |x[i]| (as quantize_row_q4_K_ref). Tries the min/max grid stretched by
 * each offset in `grids` (ggml: iscale = (nmax + offset) / (max - min), with min the best fit so far),
 * each followed by a weighted least-squares refit of scale and min, then one more round-and-refit
 * from the best fit; keeps the lowest weighted squared error. Writes L to lOut[lOff..lOff+n) and
 * returns [scale, theMin] through res (theMin >= 0, the value subtracted).
 *
 * Speed (ggml tries 21 grids and recomputes each error with a second pass): every error here comes in
 * closed form from the running sums, the values and weights sit in small float64 scratch arrays, and
 * the default effort tries one grid, which makes Q4_K quantization several times faster than the full
 * search at about 5% more RMSE. The 'ggml' effort uses ggml's grids (plus the final refit).
 */
export function makeQkx2(
  x: Float32Array,
  xo: number,
  n: number,
  nmax: number,
  grids: Float64Array,
  lOut: Uint8Array,
  lOff: number,
  res: Float64Array,
): void {
  let sX = 0;
  let sX2 = 0;
  let sA = 0;
  let sAX = 0;
  let sAX2 = 0;
  let min = x[xo];
  let max = min;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    const a = Math.abs(v);
    xb[i] = v;
    wb[i] = a; // the weight less avX, completed below
    if (v < min) min = v;
    if (v > max) max = v;
    sX += v;
    sX2 += v * v;
    sA += a;
    sAX += a * v;
    sAX2 += a * v * v;
  }
  const avX = Math.sqrt(sX2 / n);
  for (let i = 0; i < n; i++) wb[i] += avX;
  const sumW = n * avX + sA;
  const sumX = avX * sX + sAX;
  const sumWx2 = avX * sX2 + sAX2;
  if (min > 0) min = 0;
  // constant non-positive block, or a non-finite input: an all-zero sub-block
  if (!(max > min) || !Number.isFinite(max - min) || !Number.isFinite(sumWx2)) {
    for (let i = 0; i < n; i++) lOut[lOff + i] = 0;
    res[0] = 0;
    res[1] = Number.isFinite(min) ? -min : 0;
    return;
  }
  let scale = (max - min) / nmax;
  let bestErr = Infinity;
  const ng = grids.length;
  for (let gi = 0; gi <= ng; gi++) {
    // grids first, then one round-and-refit from the best fit found (gi === ng)
    const iscale = gi < ng ? (nmax + grids[gi]) / (max - min) : scale > 0 ? 1 / scale : 0;
    if (!(iscale > 0) || !Number.isFinite(iscale)) continue;
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const v = xb[i];
      // round half up and clamp to [0, nmax]; NaN-safe (t > 0 is false for NaN)
      const t = iscale * (v - min);
      const l = t >= nmax ? nmax : t > 0 ? (t + 0.5) | 0 : 0;
      lAux[i] = l;
      const wl = wb[i] * l;
      sumL += wl;
      sumL2 += wl * l;
      sumXL += wl * v;
    }
    const D = sumW * sumL2 - sumL * sumL;
    if (!(D > 0)) continue;
    let s = (sumW * sumXL - sumX * sumL) / D;
    let m = (sumL2 * sumX - sumL * sumXL) / D;
    if (m > 0) {
      m = 0;
      s = sumXL / sumL2;
    }
    // sum w (s*l + m - x)^2 expanded over the running sums
    const err = s * s * sumL2 + 2 * s * m * sumL - 2 * s * sumXL + m * m * sumW - 2 * m * sumX + sumWx2;
    if (err < bestErr) {
      for (let i = 0; i < n; i++) lOut[lOff + i] = lAux[i];
      bestErr = err;
      scale = s;
      min = m;
    }
  }
  if (bestErr === Infinity) {
    // no grid gave a usable fit (degenerate data): plain min/max levels
    const iscale = nmax / (max - min);
    for (let i = 0; i < n; i++) {
      const l = Math.round(iscale * (x[xo + i] - min));
      lOut[lOff + i] = l < 0 ? 0 : l > nmax ? nmax : l;
    }
    scale = 1 / iscale;
  }
  res[0] = scale;
  res[1] = -min;
}

/**
 * Like make_qx_quants with rmse_type 1 (weights x^2): symmetric signed fit x[i] ~ scale * l[i],
 * l in [-nmax, nmax-1], on the grids iscale = -(nmax + offset) / max (max: the signed value of largest
 * magnitude), keeping the weighted least-squares scale of the best grid. Returns the signed scale.
 */
export function makeQx(x: Float32Array, xo: number, n: number, nmax: number, grids: Float64Array): number {
  let amax = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[xo + i]);
    if (a > amax) {
      amax = a;
      max = x[xo + i];
    }
  }
  if (!(amax >= 1e-15) || !Number.isFinite(amax)) return 0;
  for (let i = 0; i < n; i++) {
    const v = x[xo + i];
    xb[i] = v;
    wb[i] = v * v; // the weight
  }
  let best = -1;
  let bestScale = -max / nmax;
  for (let g = 0; g < grids.length; g++) {
    const iscale = -(nmax + grids[g]) / max;
    let sumLX = 0;
    let sumL2 = 0;
    for (let i = 0; i < n; i++) {
      const v = xb[i];
      let l = Math.round(iscale * v);
      l = l < -nmax ? -nmax : l > nmax - 1 ? nmax - 1 : l;
      const wl = wb[i] * l;
      sumLX += wl * v;
      sumL2 += wl * l;
    }
    // maximising sumLX^2 / sumL2 minimises the weighted error of the least-squares scale
    if (sumL2 > 0) {
      const gain = (sumLX * sumLX) / sumL2;
      if (gain > best) {
        best = gain;
        bestScale = sumLX / sumL2;
      }
    }
  }
  return bestScale;
}

/**
 * Q4_K / Q5_K fields: 8 sub-blocks of 32, d * scale * q - dmin * min; in each 64-element group the
 * low nibbles hold the first 32 elements and the high nibbles the next 32 (so element i pairs with
 * i + 32), and Q5_K's fifth bits come from qh (bit 2g for the first sub-block of group g, 2g+1 for the
 * second).
 */
export function kFieldsRow(data: Uint8Array, off: number, k: number, q5: boolean): RowFields {
  const f = newFields(k, QK_K, 32, 0);
  const bb = q5 ? 176 : 144;
  const lists: { s: number; c: number }[][] = [];
  for (let b = 0; b < k / QK_K; b++) {
    const o = off + b * bb;
    const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
    const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
    const qs = o + (q5 ? 48 : 16);
    const list: { s: number; c: number }[] = [];
    for (let j = 0; j < 8; j++) {
      const sm = scaleMinK4(j, data, o + 4);
      list.push({ s: d * (sm & 63), c: dmin * (sm >> 8) });
    }
    lists.push(list);
    for (let g = 0; g < 4; g++)
      for (let l = 0; l < 32; l++) {
        const v = data[qs + 32 * g + l];
        const h = q5 ? data[o + 16 + l] >> (2 * g) : 0;
        const i = b * QK_K + 64 * g + l;
        f.lo[i] = v & 15;
        f.lo[i + 32] = v >> 4;
        f.q[i] = f.lo[i] | ((h & 1) << 4);
        f.q[i + 32] = f.lo[i + 32] | ((h & 2) << 3);
        f.sub[i] = 2 * g;
        f.sub[i + 32] = 2 * g + 1;
        f.s[i] = list[2 * g].s;
        f.c[i] = list[2 * g].c;
        f.s[i + 32] = list[2 * g + 1].s;
        f.c[i + 32] = list[2 * g + 1].c;
        pair(f, i, i + 32);
      }
  }
  f.blockScales = (i) => lists[Math.floor(i / QK_K)];
  return f;
}
