/**
 * The scalar roundings the declared arithmetic is made of, each reproducing one hardware or library
 * operation bit for bit (float32 results through Math.fround).
 */
import { bf16ToF32, f32ToBf16, f32ToFp16, fp16ToF32 } from '../formats/half';
import type { FloatActivations, IntRounding } from './schemes';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** A float32 value rounded to an integer: rint (ties to even), roundf (ties away), or truncation. */
export function roundInt(v: number, rule: IntRounding): number {
  if (rule === 'toward-zero') return Math.trunc(v);
  if (rule === 'half-away') return v < 0 ? -Math.round(-v) : Math.round(v);
  const r = Math.round(v); // ties toward +inf
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** An int as the byte the kernels store: two's-complement wrap to -128..127. */
export function wrapInt8(q: number): number {
  return ((((q | 0) + 128) & 255) - 128) | 0;
}

/** float32 -> bfloat16 -> float32, ties to even or toward zero; NaN stays NaN. */
export function roundBf16(x: number, mode: FloatActivations['rounding']): number {
  if (mode === 'nearest-even') return bf16ToF32(f32ToBf16(x));
  f32[0] = x;
  if (x !== x) return x;
  u32[0] = u32[0] & 0xffff0000;
  return f32[0];
}

/** float32 -> IEEE half -> float32, ties to even or toward zero (overflow saturates then). */
export function roundF16(x: number, mode: FloatActivations['rounding']): number {
  let h = f32ToFp16(x);
  const r = fp16ToF32(h);
  if (mode === 'toward-zero' && r === r && Math.abs(r) > Math.abs(Math.fround(x))) {
    h -= 1; // sign-magnitude bits: one step toward zero
    return fp16ToF32(h);
  }
  return r;
}

/** The 16-bit float rounding of a rule, as a function of one value. */
export function floatRounder(rule: FloatActivations): (x: number) => number {
  return rule.format === 'bf16' ? (x) => roundBf16(x, rule.rounding) : (x) => roundF16(x, rule.rounding);
}

/** float32 -> TF32 (10 explicit mantissa bits) with ties away from zero, as PTX cvt.rna.tf32.f32. */
export function roundTf32(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7f800000) === 0x7f800000) return f32[0];
  u32[0] = ((b + 0x1000) & 0xffffe000) >>> 0;
  return f32[0];
}

/** float32 -> half -> float32 (round to nearest even), as __float2half / make_half2. */
export function toHalf(x: number): number {
  return fp16ToF32(f32ToFp16(x));
}
