import { afterAll, describe, expect, it } from 'vitest';
import { dequantize, quantize } from '../../src-main/engine/formats';
import { GgmlType, rowBytes, typeInfo } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import {
  memorySource,
  referenceMatmul,
  referenceMatmulSync,
  type WeightSource,
} from '../../src-main/engine/reference';
import { getPool, isAbortError, shutdownPool } from '../../src-main/engine/workers';

afterAll(() => shutdownPool());

const TYPES = [
  GgmlType.Q4_0,
  GgmlType.Q8_0,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
];

function weights(type: number, n: number, k: number, seed: number): Uint8Array {
  return quantize(type, new Rng(seed).normalF32(n * k, 0.05), n, k);
}

/** The obvious float64 loop over the dequantized weights: one accumulator, i in order. */
function naive(
  type: number,
  data: Uint8Array,
  n: number,
  k: number,
  x: Float32Array,
  m: number,
): Float64Array {
  const w = dequantize(type, data, n, k);
  const y = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += w[j * k + i] * x[r * k + i];
      y[r * n + j] = s;
    }
  }
  return y;
}

/** bit-identical (Object.is: NaN equals NaN, +0 differs from -0) */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('referenceMatmulSync', () => {
  for (const type of TYPES) {
    const info = typeInfo(type)!;
    const bk = info.blockElems === 1 ? 32 : info.blockElems;
    const shapes: [number, number, number][] = [
      [1, 1, bk],
      [1, 6, bk],
      [3, 5, 2 * bk],
      [8, 9, 3 * bk],
      [5, 1, 4 * bk],
    ];
    if (info.float) shapes.push([2, 3, 7], [4, 5, 33]); // plain types: any k
    it(`${info.name} is bit-identical to a naive float64 loop over dequantize()`, () => {
      for (const [m, n, k] of shapes) {
        const data = weights(type, n, k, 1000 * m + n + k);
        const x = new Rng(k + n).normalF32(m * k);
        const got = referenceMatmulSync(type, data, n, k, x, m);
        const want = naive(type, data, n, k, x, m);
        expect(firstDifference(got, want), `${info.name} m=${m} n=${n} k=${k}`).toBe(-1);
        expect(got.some((v) => v !== 0)).toBe(true);
      }
    });
  }

  it('is bit-identical on arbitrary bytes too (any scale bits, NaN/Inf included)', () => {
    const rng = new Rng(7);
    for (const type of [
      GgmlType.Q4_K,
      GgmlType.Q5_K,
      GgmlType.Q6_K,
      GgmlType.Q4_0,
      GgmlType.Q8_0,
      GgmlType.F16,
    ]) {
      const n = 6;
      const k = 512;
      const data = new Uint8Array(n * rowBytes(type, k)).map(() => rng.u32() & 255);
      const x = rng.normalF32(2 * k);
      expect(
        firstDifference(referenceMatmulSync(type, data, n, k, x, 2), naive(type, data, n, k, x, 2)),
      ).toBe(-1);
    }
  });

  it('rejects bad input with one-line errors', () => {
    const data = weights(GgmlType.Q4_0, 2, 32, 1);
    const x = new Float32Array(32);
    expect(() => referenceMatmulSync(GgmlType.Q8_K, data, 2, 32, x, 1)).toThrow('Q8_K is not supported');
    expect(() => referenceMatmulSync(77, data, 2, 32, x, 1)).toThrow('type#77');
    expect(() => referenceMatmulSync(GgmlType.Q4_0, data, 2, 32, new Float32Array(31), 1)).toThrow(
      'expected m*k',
    );
    expect(() => referenceMatmulSync(GgmlType.Q4_0, data, 2, 48, new Float32Array(48), 1)).toThrow(
      'multiple of',
    );
    expect(() => referenceMatmulSync(GgmlType.Q4_0, data, 3, 32, x, 1)).toThrow('needs 54 bytes');
    expect(() => referenceMatmulSync(GgmlType.Q4_0, data, 2, 32, x, 0)).toThrow('batch size');
    expect(() => memorySource(GgmlType.Q4_0, 3, 32, data)).toThrow('needs 54 bytes');
  });
});

describe('referenceMatmul (worker pool)', () => {
  it('is bit-identical to the sync version for every format, in several row blocks', async () => {
    for (const type of TYPES) {
      const k = typeInfo(type)!.blockElems === 1 ? 96 : 2 * typeInfo(type)!.blockElems;
      const n = 37;
      const m = 5;
      const data = weights(type, n, k, type);
      const x = new Rng(type + 1).normalF32(m * k);
      const progress: number[] = [];
      const got = await referenceMatmul(memorySource(type, n, k, data), x, m, {
        onProgress: (done, total) => {
          expect(total).toBe(n);
          progress.push(done);
        },
      });
      expect(firstDifference(got, referenceMatmulSync(type, data, n, k, x, m))).toBe(-1);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress[progress.length - 1]).toBe(n);
      const one = await referenceMatmul(memorySource(type, n, k, data), x, m, { threads: 1 });
      expect(firstDifference(one, got)).toBe(-1);
    }
  });

  it('reads each row block from the source once and leaves the caller buffers intact', async () => {
    const type = GgmlType.Q8_0;
    const n = 20;
    const k = 64;
    const rb = rowBytes(type, k);
    const data = weights(type, n, k, 3);
    const big = new Uint8Array(data.length + 100);
    big.set(data, 50);
    const reads: [number, number][] = [];
    const src: WeightSource = {
      type,
      n,
      k,
      readRows: async (s, c) => {
        reads.push([s, c]);
        return big.subarray(50 + s * rb, 50 + (s + c) * rb);
      },
    };
    const x = new Rng(4).normalF32(2 * k);
    const got = await referenceMatmul(src, x, 2);
    expect(firstDifference(got, referenceMatmulSync(type, data, n, k, x, 2))).toBe(-1);
    expect(reads.reduce((a, [, c]) => a + c, 0)).toBe(n);
    expect(big.byteLength).toBe(data.length + 100); // not transferred away
    expect(x.byteLength).toBe(2 * k * 4);
  });

  it('rejects a short read from the source with a clear error', async () => {
    const src: WeightSource = { type: GgmlType.Q8_0, n: 4, k: 32, readRows: async () => new Uint8Array(3) };
    await expect(referenceMatmul(src, new Float32Array(32), 1)).rejects.toThrow('weight source gave 3 bytes');
  });

  it('cancellation rejects promptly with an AbortError and the pool still works afterwards', async () => {
    const type = GgmlType.Q8_0;
    const n = 2048;
    const k = 8192;
    const rng = new Rng(9);
    const data = new Uint8Array(n * rowBytes(type, k));
    for (let i = 0; i < data.length; i += 4) {
      const v = rng.u32();
      data[i] = v & 255;
      data[i + 1] = (v >> 8) & 0x3b; // keep the half scales finite
      data[i + 2] = (v >> 16) & 255;
      data[i + 3] = v >>> 24;
    }
    const m = 8;
    const x = rng.normalF32(m * k);
    const ac = new AbortController();
    let rowsDone = 0;
    const p = referenceMatmul(memorySource(type, n, k, data), x, m, {
      signal: ac.signal,
      onProgress: (d) => (rowsDone = d),
    });
    await new Promise((r) => setTimeout(r, 40));
    const t0 = Date.now();
    ac.abort();
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAbortError(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(200);
    expect(rowsDone).toBeLessThan(n);
    // the pool is usable again
    const small = weights(GgmlType.Q4_K, 9, 256, 5);
    const xs = new Rng(6).normalF32(2 * 256);
    const y = await referenceMatmul(memorySource(GgmlType.Q4_K, 9, 256, small), xs, 2);
    expect(firstDifference(y, referenceMatmulSync(GgmlType.Q4_K, small, 9, 256, xs, 2))).toBe(-1);
    expect(getPool().size).toBeGreaterThanOrEqual(1);
    // an already aborted signal rejects at once
    await expect(
      referenceMatmul(memorySource(GgmlType.Q4_K, 9, 256, small), xs, 2, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
