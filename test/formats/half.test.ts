import { describe, it, expect } from 'vitest';
import { FP16_TABLE, bf16ToF32, f32ToBf16, f32ToFp16, fp16ToF32 } from '../../src-main/engine/formats';

describe('fp16', () => {
  it('decodes normals, zeros, subnormals, infinities and NaN exactly', () => {
    expect(fp16ToF32(0x3c00)).toBe(1);
    expect(fp16ToF32(0xc000)).toBe(-2);
    expect(fp16ToF32(0x3555)).toBe(0.333251953125);
    expect(fp16ToF32(0x7bff)).toBe(65504);
    expect(fp16ToF32(0x0400)).toBe(2 ** -14); // smallest normal
    expect(fp16ToF32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(fp16ToF32(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(fp16ToF32(0x8001)).toBe(-(2 ** -24));
    expect(Object.is(fp16ToF32(0x0000), 0)).toBe(true);
    expect(Object.is(fp16ToF32(0x8000), -0)).toBe(true);
    expect(fp16ToF32(0x7c00)).toBe(Infinity);
    expect(fp16ToF32(0xfc00)).toBe(-Infinity);
    expect(fp16ToF32(0x7e00)).toBeNaN();
    expect(fp16ToF32(0x7c01)).toBeNaN();
    expect(fp16ToF32(0xfe00)).toBeNaN();
  });

  it('has a 65536-entry table agreeing with fp16ToF32', () => {
    expect(FP16_TABLE).toBeInstanceOf(Float32Array);
    expect(FP16_TABLE.length).toBe(65536);
    let nan = 0;
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const v = FP16_TABLE[h];
      if (Number.isNaN(v)) nan++;
      else if (!Object.is(v, fp16ToF32(h))) bad.push(h);
    }
    expect(bad).toEqual([]);
    expect(nan).toBe(2 * 1023); // every exponent-31 pattern with a non-zero mantissa
  });

  it('encodes every finite half back to itself', () => {
    let checked = 0;
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN
      if (f32ToFp16(FP16_TABLE[h]) !== h) bad.push(h);
      checked++;
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(65536 - 2046);
  });

  it('rounds to nearest even, overflows to inf and underflows through subnormals', () => {
    expect(f32ToFp16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToFp16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToFp16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToFp16(65504)).toBe(0x7bff);
    expect(f32ToFp16(65519)).toBe(0x7bff);
    expect(f32ToFp16(65520)).toBe(0x7c00); // tie at the top rounds to inf
    expect(f32ToFp16(1e6)).toBe(0x7c00);
    expect(f32ToFp16(-1e6)).toBe(0xfc00);
    expect(f32ToFp16(Infinity)).toBe(0x7c00);
    expect(f32ToFp16(-Infinity)).toBe(0xfc00);
    expect(f32ToFp16(2 ** -25)).toBe(0x0000); // half of the smallest subnormal: tie -> 0
    expect(f32ToFp16(2 ** -25 + 2 ** -40)).toBe(0x0001);
    expect(f32ToFp16(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp: tie -> even 2
    expect(f32ToFp16(1023.5 * 2 ** -24)).toBe(0x0400); // largest subnormal rounds up into the normals
    expect(f32ToFp16(-(2 ** -30))).toBe(0x8000);
    expect(f32ToFp16(-0)).toBe(0x8000);
    expect(f32ToFp16(1e-45)).toBe(0x0000); // float32 subnormal
    expect(f32ToFp16(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('rounds the number to float32 first, like a C float argument', () => {
    // 1 + 2^-11 + 2^-30 is not a float32; as a float it is exactly the tie 1 + 2^-11 -> even (1.0)
    expect(f32ToFp16(1 + 2 ** -11 + 2 ** -30)).toBe(0x3c00);
  });
});

describe('bf16', () => {
  it('decodes by placing the bits on top of a float32', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x7f7f)).toBe(3.3895313892515355e38);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133); // subnormal
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0xff80)).toBe(-Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(Object.is(bf16ToF32(0x8000), -0)).toBe(true);
  });

  it('encodes with round-to-nearest-even and quiet NaN like ggml', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even (up)
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16(3.4e38)).toBe(0x7f80); // rounds up to inf
    expect(f32ToBf16(-Infinity)).toBe(0xff80);
    expect(f32ToBf16(2 ** -133)).toBe(0x0001); // subnormals are kept, not flushed
    expect(f32ToBf16(NaN) & 0x7fc0).toBe(0x7fc0);
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) continue;
      if (f32ToBf16(bf16ToF32(h)) !== h) throw new Error(`bf16 0x${h.toString(16)} does not round-trip`);
    }
  });
});
