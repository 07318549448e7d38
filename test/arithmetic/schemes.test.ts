// The declared arithmetic: every scheme's rounding rules on hand-computed values and blocks, the
// weight split against the codecs, and the declared reference (sync and worker pool) against direct
// evaluations of the same formulas.
import { afterAll, describe, expect, it } from 'vitest';
import { groupSum, prepareActivations, quantizeInt8 } from '../../src-main/engine/arithmetic/activations';
import { roundBf16, roundF16, roundInt, roundTf32, toHalf } from '../../src-main/engine/arithmetic/rounding';
import {
  PATH_ARITHMETIC,
  SCHEMES,
  SCHEME_IDS,
  arithmeticFor,
  schemeById,
} from '../../src-main/engine/arithmetic/schemes';
import { splitRow } from '../../src-main/engine/arithmetic/split';
import { dequantize, f32ToFp16, quantize } from '../../src-main/engine/formats';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';
import { memorySource, referenceMatmul, referenceMatmulSync } from '../../src-main/engine/reference';
import { Rng } from '../../src-main/engine/rng';
import { shutdownPool } from '../../src-main/engine/workers/pool';

afterAll(() => shutdownPool());
const fr = Math.fround;

describe('rounding rules', () => {
  it('rint, roundf and truncation on ties and negatives', () => {
    expect([2.5, 3.5, -2.5, -3.5, 2.4999].map((v) => roundInt(v, 'half-even'))).toEqual([2, 4, -2, -4, 2]);
    expect([2.5, 3.5, -2.5, -3.5].map((v) => roundInt(v, 'half-away'))).toEqual([3, 4, -3, -4]);
    expect([2.9, -2.9].map((v) => roundInt(v, 'toward-zero'))).toEqual([2, -2]);
  });
  it('bfloat16 and half: nearest even and truncation', () => {
    expect(roundBf16(1 + 2 ** -8, 'nearest-even')).toBe(1); // tie, to even
    expect(roundBf16(1 + 3 * 2 ** -9, 'nearest-even')).toBe(1 + 2 ** -7);
    expect(roundBf16(1 + 3 * 2 ** -9, 'toward-zero')).toBe(1);
    expect(roundBf16(-(1 + 3 * 2 ** -9), 'toward-zero')).toBe(-1);
    expect(roundF16(1 + 3 * 2 ** -12, 'nearest-even')).toBe(1 + 2 ** -10);
    expect(roundF16(1 + 3 * 2 ** -12, 'toward-zero')).toBe(1);
    expect(roundF16(70000, 'toward-zero')).toBe(65504);
  });
  it('TF32 rounds to 10 mantissa bits, ties away from zero', () => {
    expect(roundTf32(1 + 2 ** -11)).toBe(1 + 2 ** -10);
    expect(roundTf32(-(1 + 2 ** -11))).toBe(-(1 + 2 ** -10));
    expect(roundTf32(1 + 2 ** -12)).toBe(1);
  });
});

describe('int8 quantizers per 32', () => {
  it('qs8: d = amax/127 in float32, q = rint(x * fl(127/amax)); ties to even', () => {
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -3.5;
    x[3] = 0.3;
    const p = quantizeInt8(SCHEMES.qs8.activations, x, 1, 32);
    expect(p.d[0]).toBe(1);
    expect([...p.q.slice(0, 4)]).toEqual([127, 2, -4, 0]);
    expect(p.xa[1]).toBe(2);
  });
  it('q8_1: q = roundf(x / d) ties away; d and the sum stored as half', () => {
    const x = new Float32Array(32);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -3.5;
    const p = quantizeInt8(SCHEMES.q8_1.activations, x, 1, 32);
    expect([...p.q.slice(0, 3)]).toEqual([127, 3, -4]);
    // amax 12.7: d = fl(12.7 / 127) = 0.1f, stored as half
    const y = new Float32Array(32);
    y[0] = 12.7;
    y[5] = 1.0;
    const r = quantizeInt8(SCHEMES.q8_1.activations, y, 1, 32);
    const d = fr(fr(12.7) / 127);
    expect(r.d[0]).toBe(toHalf(d));
    const q5 = roundInt(fr(1 / d), 'half-away');
    expect(r.q[5]).toBe(q5);
    expect(r.xa[5]).toBe(toHalf(d) * q5);
    expect(r.sums[0]).toBe(toHalf(fr(fr(12.7) + 1)));
  });
  it('the multiply-by-reciprocal and divide quotients differ where the product rounds differently', () => {
    // some x where fl(x * fl(127/amax)) and fl(x / fl(amax/127)) round to different integers
    const rng = new Rng(3);
    let differ = 0;
    for (let t = 0; t < 20000; t++) {
      const amax = fr(0.5 + rng.next());
      const x = fr(rng.next() * amax);
      const a = roundInt(fr(x * fr(127 / amax)), 'half-even');
      const b = roundInt(fr(x / fr(amax / 127)), 'half-even');
      if (a !== b) differ++;
    }
    expect(differ).toBeGreaterThan(0);
  });
  it('sum orders: 8 lanes of 4 (qs_x_q8) and 32 lanes (warp_reduce_sum) round differently', () => {
    const x = new Float32Array(32);
    x[0] = 2 ** 24;
    x[1] = 1;
    x[3] = 1;
    // lanes8x4: lane 0 = fl(fl(2^24 + 1) + fl(0 + 1)) = 2^24; the other lanes add 0
    expect(groupSum(x, 0, 'lanes8x4')).toBe(2 ** 24);
    // lanes32: lane 1 collects x1 + x3 = 2 before it meets lane 0: 2^24 + 2
    expect(groupSum(x, 0, 'lanes32')).toBe(2 ** 24 + 2);
  });
  it('a block with NaN or infinity gives NaN for all its values', () => {
    const x = new Float32Array(64).fill(1);
    x[40] = Infinity;
    const p = quantizeInt8(SCHEMES.qs8.activations, x, 1, 64);
    expect(p.xa[0]).toBe(fr(1 / 127) * 127);
    expect(Number.isNaN(p.xa[33])).toBe(true);
    expect(Number.isNaN(p.sums[1])).toBe(true);
  });
});

describe('weight split w = a - c', () => {
  const rng = new Rng(11);
  for (const type of [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
    it(`type ${type}: a - c equals the exact dequantization (float32-rounded)`, () => {
      const k = 512;
      const data = quantize(type, rng.normalF32(2 * k), 2, k);
      const w = dequantize(type, data, 2, k);
      for (const form of ['exact-sum', 'integer'] as const) {
        const a = new Float64Array(k);
        const c = new Float64Array(k / 32);
        splitRow(type, form, data, rowBytes(type, k), k, a, 0, c, 0);
        for (let i = 0; i < k; i++) expect(fr(a[i] - c[i >> 5]) - w[k + i], `${form} element ${i}`).toBe(0);
        if (form === 'integer') expect(c.every((v) => v === 0)).toBe(true);
      }
    });
  }
});

describe('declared references', () => {
  // one Q4_0 block, d = 0.5, nibbles 0..15 twice
  const block = new Uint8Array(18);
  block[0] = f32ToFp16(0.5) & 255;
  block[1] = f32ToFp16(0.5) >> 8;
  for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
  const nib = (i: number) => (i < 16 ? i : 15 - (i - 16));
  const x = new Float32Array(32).map((_, i) => fr(Math.sin(i + 1) * 3));

  it('qs8 Q4_0: d_w * d_x * sum(nib * q) - 8 d_w * S (exact-x float32 sum)', () => {
    const p = quantizeInt8(SCHEMES.qs8.activations, x, 1, 32);
    let s = 0;
    for (let i = 0; i < 32; i++) s += nib(i) * p.q[i];
    const want = 0.5 * p.d[0] * s - 8 * 0.5 * groupSum(x, 0, 'lanes8x4');
    const got = referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1, SCHEMES.qs8)[0];
    expect(got).toBeCloseTo(want, 12);
    expect(Math.abs(got - want)).toBeLessThan(1e-13 * Math.abs(want) + 1e-15);
  });
  it('qs8-mma Q4_0: the -8 in the integers: d_w * d_x * sum((nib - 8) * q)', () => {
    const p = quantizeInt8(SCHEMES.qs8.activations, x, 1, 32);
    let s = 0;
    for (let i = 0; i < 32; i++) s += (nib(i) - 8) * p.q[i];
    const got = referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1, SCHEMES['qs8-mma'])[0];
    expect(got).toBe(0.5 * p.d[0] * s);
  });
  it('q8_1 Q4_0: half d and half sum', () => {
    const p = quantizeInt8(SCHEMES.q8_1.activations, x, 1, 32);
    let s = 0;
    for (let i = 0; i < 32; i++) s += nib(i) * p.q[i];
    const want = 0.5 * p.d[0] * s - 4 * toHalf(groupSum(x, 0, 'lanes32'));
    const got = referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1, SCHEMES.q8_1)[0];
    expect(Math.abs(got - want)).toBeLessThan(1e-13 * Math.abs(want) + 1e-15);
  });
  it('bf16: both operands rounded to bfloat16, products exact', () => {
    let want = 0;
    for (let i = 0; i < 32; i++)
      want += roundBf16(0.5 * (nib(i) - 8), 'nearest-even') * roundBf16(x[i], 'nearest-even');
    expect(referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1, SCHEMES.bf16)[0]).toBe(want);
  });
  it('f32 is the exact reference', () => {
    const e = referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1);
    expect(referenceMatmulSync(GgmlType.Q4_0, block, 1, 32, x, 1, SCHEMES.f32)).toEqual(e);
  });
  it('the worker pool gives the sync results bit for bit, for every scheme and format', async () => {
    const rng = new Rng(5);
    for (const type of [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const n = 37;
      const k = 512;
      const m = 3;
      const data = quantize(type, rng.normalF32(n * k), n, k);
      const xx = rng.normalF32(m * k);
      for (const id of SCHEME_IDS) {
        const s = SCHEMES[id];
        const sync = referenceMatmulSync(type, data, n, k, xx, m, s);
        const pool = await referenceMatmul(memorySource(type, n, k, data), xx, m, {
          arithmetic: s,
          threads: 2,
        });
        expect(pool, `${id} type ${type}`).toEqual(sync);
      }
    }
  });
  it('int8 schemes refuse float weights with a one-line error', () => {
    const xx = new Float32Array(32);
    expect(() => referenceMatmulSync(GgmlType.F32, new Uint8Array(128), 1, 32, xx, 1, SCHEMES.qs8)).toThrow(
      /has no offset form for F32/,
    );
  });
  it('activations as prepared: bf16 scheme rounds x element by element', () => {
    const p = prepareActivations(SCHEMES.bf16, new Float32Array([1 + 3 * 2 ** -9]), 1, 1);
    expect(p.xa[0]).toBe(1 + 2 ** -7);
  });
});

describe('path table and user declarations', () => {
  it('every path declares a known scheme; the int8 paths their own quantizer', () => {
    for (const id of Object.values(PATH_ARITHMETIC)) expect(SCHEME_IDS).toContain(id);
    expect(PATH_ARITHMETIC['fused-small-q8']).toBe('qs8');
    expect(PATH_ARITHMETIC['fused-mma-i8']).toBe('qs8-mma');
    expect(PATH_ARITHMETIC['fused-mma-f16']).toBe('bf16');
  });
  it('a user kernel declares its arithmetic in <TYPE>_MATMUL_ARITHMETIC; --arithmetic wins', () => {
    const env = { Q4_K_MATMUL_ARITHMETIC: 'q8_1' };
    expect(arithmeticFor('custom', 'Q4_K', null, env).id).toBe('q8_1');
    expect(arithmeticFor('custom', 'Q6_K', null, env).id).toBe('f32');
    expect(arithmeticFor('custom', 'Q4_K', 'bf16', env).id).toBe('bf16');
    expect(arithmeticFor('fused-small-q8', 'Q4_K', null, env).id).toBe('qs8');
    expect(() => arithmeticFor('custom', 'Q4_K', null, { Q4_K_MATMUL_ARITHMETIC: 'int4' })).toThrow(
      /Q4_K_MATMUL_ARITHMETIC: unknown arithmetic 'int4'/,
    );
    expect(() => schemeById('nope')).toThrow(/one of f32, q8_1, qs8, qs8-mma, bf16, f16/);
  });
});
