// Very long rows are computed piece by piece, with bounded scratch, and give bit-identical results to
// the whole-row sums: the cpu backend's plain-type kernel (float32 running sum of 32-element float64
// chunks) and the float64 reference (one running sum in index order). Large activations and tensor
// data live in shared memory, which the workers read in place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend } from '../../src-main/engine/backends/cpu';
import { FP16_TABLE, f32ToFp16 } from '../../src-main/engine/formats';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import {
  referenceMatmul,
  referenceMatmulSync,
  memorySource,
  shareF32,
} from '../../src-main/engine/reference';
import { LONG_ROW } from '../../src-main/engine/reference/kernel';
import { activationsFor, SHARED_FROM_BYTES } from '../../src-main/engine/run/activations';
import { encodeGguf } from '../../src-main/engine/gguf/encode';
import { GgufFile, SHARED_TENSOR_BYTES } from '../../src-main/engine/gguf/file';
import { shutdownPool } from '../../src-main/engine/workers';

afterAll(async () => shutdownPool());

const fround = Math.fround;

/** The whole-row kernel, written out: widen the row, 32-element float64 sums into a float32 total. */
function wholeRow(w: Float32Array, x: Float32Array, xb: number, k: number): number {
  let a = 0;
  let i = 0;
  for (; i + 32 <= k; i += 32) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let l = i; l < i + 32; l += 4) {
      s0 += w[l] * x[xb + l];
      s1 += w[l + 1] * x[xb + l + 1];
      s2 += w[l + 2] * x[xb + l + 2];
      s3 += w[l + 3] * x[xb + l + 3];
    }
    a = fround(a + fround(s0 + s1 + (s2 + s3)));
  }
  if (i < k) {
    let s = 0;
    for (; i < k; i++) s += w[i] * x[xb + i];
    a = fround(a + fround(s));
  }
  return a;
}

describe('long rows', () => {
  it('cpu F16 rows over many pieces (and a partial tail) equal the whole-row sums', async () => {
    const k = (1 << 17) * 3 + 37; // three and a bit pieces of 2^16
    const n = 2;
    const m = 3;
    const rng = new Rng(7);
    const v = rng.normalF32(n * k);
    const data = new Uint8Array(n * k * 2);
    const w = new Float32Array(n * k);
    for (let i = 0; i < n * k; i++) {
      const h = f32ToFp16(v[i]);
      data[2 * i] = h & 0xff;
      data[2 * i + 1] = h >> 8;
      w[i] = FP16_TABLE[h];
    }
    const x = rng.normalF32(m * k);
    const s = await cpuBackend.open(0);
    try {
      const lw = await s.load({ type: GgmlType.F16, n, k, data });
      const { y } = await s.run(lw, x, m);
      for (let r = 0; r < m; r++)
        for (let j = 0; j < n; j++) expect(y[r * n + j]).toBe(wholeRow(w.subarray(j * k), x, r * k, k));
    } finally {
      await s.close();
    }
  });

  it('the float64 reference of rows longer than LONG_ROW is the in-order sum, in and out of workers', async () => {
    const k = LONG_ROW * 2 + 96;
    const n = 2;
    const m = 2;
    const rng = new Rng(9);
    const wv = rng.normalF32(n * k);
    const data = new Uint8Array(wv.buffer);
    const x = rng.normalF32(m * k);
    const want = new Float64Array(m * n);
    for (let r = 0; r < m; r++)
      for (let j = 0; j < n; j++) {
        let a = 0;
        for (let i = 0; i < k; i++) a += wv[j * k + i] * x[r * k + i];
        want[r * n + j] = a;
      }
    expect(referenceMatmulSync(GgmlType.F32, data, n, k, x, m)).toEqual(want);
    expect(await referenceMatmul(memorySource(GgmlType.F32, n, k, data), x, m)).toEqual(want);
  });

  it('large activations and tensor data are shared, not copied, for the workers', async () => {
    const big = activationsFor(1, 't', 1, SHARED_FROM_BYTES / 4);
    expect(big.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shareF32(big)).toBe(big.buffer);
    // the same values as the unshared generator (the seed depends on the name and m, not on k)
    expect(Array.from(big.subarray(0, 1000))).toEqual(Array.from(activationsFor(1, 't', 1, 1000)));
    const small = activationsFor(1, 't', 1, 1000);
    expect(small.buffer).toBeInstanceOf(ArrayBuffer);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-long-'));
    try {
      const k = SHARED_TENSOR_BYTES / 4;
      const file = path.join(dir, 'big.gguf');
      const payload = new Uint8Array(k * 4);
      payload[5] = 7;
      fs.writeFileSync(
        file,
        encodeGguf({
          metadata: [],
          tensors: [{ name: 'w', type: GgmlType.F32, dims: [k, 1], data: payload }],
        }),
      );
      const f = await GgufFile.open(file);
      try {
        const d = await f.readTensor('w');
        expect(d.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(d[5]).toBe(7);
        expect(d.length).toBe(k * 4);
      } finally {
        await f.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
