/**
 * IEEE binary16 and bfloat16 <-> float32 conversions, bit-exact to ggml.
 *
 * Hand-written: Node 20 has no Math.f16round / Float16Array, and no maintained package gives
 * ggml's exact NaN and bf16 rounding conventions; the bit manipulation is small and fully tested.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function halfBitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals (exact)
  if (exp === 0x1f) {
    if (mant === 0) return sign * Infinity;
    // keep the payload: quiet bit and payload move to the top of the float32 mantissa
    u32[0] = ((h & 0x8000) << 16) | 0x7f800000 | (mant << 13);
    return f32[0];
  }
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** float32 value of every half bit pattern; index with `lo | hi << 8`. */
export const FP16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = halfBitsToF32(h);
  return t;
})();

/** Half bits -> float (exact, incl. subnormals, infinities, NaN). */
export function fp16ToF32(h: number): number {
  return FP16_TABLE[h & 0xffff];
}

/**
 * Number -> half bits. The input is first rounded to float32 (C passes a float), then to half with
 * round-to-nearest-even, like GGML_FP32_TO_FP16 (F16C `vcvtps2ph` with imm 0, or ggml's portable
 * bit version): overflow -> inf, tiny -> signed zero, NaN -> quiet NaN 0x7e00 with the sign kept.
 */
export function f32ToFp16(x: number): number {
  f32[0] = x;
  return fp16FromF32Bits(u32[0]);
}

/** Half bits of the float32 with bit pattern b (the body of f32ToFp16; hot loops call it on raw bits). */
export function fp16FromF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | (mant ? 0x7e00 : 0x7c00);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry correctly walks into the exponent / inf
  return sign | h;
}

/** bf16 bits -> float (exact: bf16 is the top half of a float32). */
export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/**
 * Number -> bf16 bits like ggml's GGML_FP32_TO_BF16: round to float32, then round-to-nearest-even on
 * the top 16 bits; NaN keeps its top bits and is forced quiet (| 0x40). Subnormals are rounded, not flushed.
 */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  return bf16FromF32Bits(u32[0]);
}

/** bf16 bits of the float32 with bit pattern b (the body of f32ToBf16). */
export function bf16FromF32Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}
