/**
 * Activations as a scheme's kernel sees them. For 'f32' they are x itself; for 16-bit float schemes x
 * rounded element by element; for int8 schemes, per 32 values, the quantizer reproduced bit for bit
 * (amax, scale, quotient, rounding and the stored scale and sum, each in the float32 or half operation
 * the kernel uses), giving
 *   xa[i]   = d * q[i] (the stored d times the integer), exact in float64
 *   sums[g] = the stored sum of the 32 exact x of group g (float32 or half, in the kernel's order)
 * A group with a NaN or an infinity gets NaN for every xa and its sum, so every output it reaches is
 * NaN (the kernels' own convention).
 */
import type { ArithmeticScheme, Int8Activations } from './schemes';
import { floatRounder, roundInt, toHalf, wrapInt8 } from './rounding';

export interface PreparedActivations {
  /** the activations the weights meet: Float32Array for 'f32' and 16-bit schemes, float64 for int8 */
  xa: Float32Array | Float64Array;
  /** int8 schemes: the stored sum per 32 values, [m][k/32] */
  sums: Float64Array | null;
  /** int8 schemes: the integers q, [m][k] (for tests and diagnosis) */
  q: Int8Array | null;
  /** int8 schemes: the stored scale d per 32 values, [m][k/32] */
  d: Float64Array | null;
}

const fr = Math.fround;

const lanesA = new Float64Array(32);
const lanesB = new Float64Array(32);

/** The float32 sum of 32 values in the kernel's order (see Int8Activations.sumOrder). */
export function groupSum(x: ArrayLike<number>, o: number, order: Int8Activations['sumOrder']): number {
  let v = lanesA;
  let next = lanesB;
  let lanes: number;
  if (order === 'lanes8x4') {
    lanes = 8;
    for (let l = 0; l < 8; l++) {
      const b = o + 4 * l;
      v[l] = fr(fr(x[b] + x[b + 1]) + fr(x[b + 2] + x[b + 3]));
    }
  } else {
    lanes = 32;
    for (let l = 0; l < 32; l++) v[l] = x[o + l];
  }
  // xor butterfly: every lane adds the value of lane l ^ off, for off = lanes/2, ..., 1
  for (let off = lanes >> 1; off > 0; off >>= 1) {
    for (let l = 0; l < lanes; l++) next[l] = fr(v[l] + v[l ^ off]);
    const t = v;
    v = next;
    next = t;
  }
  return v[0];
}

/** Quantizes x [m][k] per 32 as `rule` says (k a multiple of 32). */
export function quantizeInt8(
  rule: Int8Activations,
  x: Float32Array,
  m: number,
  k: number,
): { xa: Float64Array; sums: Float64Array; q: Int8Array; d: Float64Array } {
  if (k % 32 !== 0) throw new Error(`int8 activations need k a multiple of 32, got k=${k}`);
  const groups = (m * k) / 32;
  const xa = new Float64Array(m * k);
  const q = new Int8Array(m * k);
  const sums = new Float64Array(groups);
  const ds = new Float64Array(groups);
  const div = rule.divisor;
  for (let g = 0; g < groups; g++) {
    const o = g * 32;
    let amax = 0;
    let bad = false;
    for (let i = 0; i < 32; i++) {
      const v = x[o + i];
      if (!Number.isFinite(v)) bad = true;
      const a = Math.abs(v);
      if (a > amax) amax = a;
    }
    const d = fr(amax / (rule.scaleDivisor ?? div));
    const id = amax > 0 ? fr(div / amax) : 0;
    const dStored = rule.scale === 'f16' ? toHalf(d) : d;
    let s = groupSum(x, o, rule.sumOrder);
    if (rule.sum === 'f16') s = toHalf(s);
    if (bad) {
      for (let i = 0; i < 32; i++) xa[o + i] = NaN;
      sums[g] = NaN;
      ds[g] = NaN;
      continue;
    }
    for (let i = 0; i < 32; i++) {
      let v: number;
      if (rule.quotient === 'reciprocal') v = fr(x[o + i] * id);
      else v = amax === 0 ? 0 : fr(x[o + i] / d);
      const qi = wrapInt8(roundInt(v, rule.rounding));
      q[o + i] = qi;
      xa[o + i] = dStored * qi;
    }
    sums[g] = s;
    ds[g] = dStored;
  }
  return { xa, sums, q, d: ds };
}

/** The activations x [m][k] as `scheme`'s kernel multiplies them. */
export function prepareActivations(
  scheme: ArithmeticScheme,
  x: Float32Array,
  m: number,
  k: number,
): PreparedActivations {
  const a = scheme.activations;
  if (a.kind === 'f32') return { xa: x, sums: null, q: null, d: null };
  if (a.kind === 'float') {
    const round = floatRounder(a);
    const xa = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) xa[i] = round(x[i]);
    return { xa, sums: null, q: null, d: null };
  }
  return quantizeInt8(a, x, m, k);
}
