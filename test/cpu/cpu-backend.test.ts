import { afterAll, describe, expect, it } from 'vitest';
import { cpuBackend, measureCopyBandwidth } from '../../src-main/engine/backends/cpu';
import { simdTile } from '../../src-main/engine/backends/cpu-simd';
import { compareOutputs, judge, thresholdFor } from '../../src-main/engine/compare';
import { FORMATS, quantize } from '../../src-main/engine/formats';
import { GgmlType, rowBytes, typeInfo } from '../../src-main/engine/ggml-types';
import { Rng } from '../../src-main/engine/rng';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { shutdownPool } from '../../src-main/engine/workers';

afterAll(() => shutdownPool());

/** every registered format: the cpu backend computes them all */
const TYPES = FORMATS.map((f) => f.id);

describe('cpu backend', () => {
  it('has the WebAssembly SIMD kernel (m >= 2 would otherwise silently take the slower loops)', () => {
    expect(simdTile()).not.toBeNull();
  });

  it('reports one available device', async () => {
    const st = await cpuBackend.status();
    expect(st.available).toBe(true);
    expect(st.devices).toHaveLength(1);
    const d = st.devices[0];
    expect(d.backend).toBe('cpu');
    expect(d.warpSize).toBe(1);
    expect(d.computeUnits).toBeGreaterThanOrEqual(1);
    expect(d.memoryTotal).toBeGreaterThan(0);
    // status and open measure nothing; the copy bandwidth comes with the first timing
    expect(d.copyBandwidthGBs).toBeNull();
    const session = await cpuBackend.open(0);
    expect(session.device.copyBandwidthGBs).toBeNull();
    const w = await session.load({ type: GgmlType.Q8_0, n: 2, k: 32, data: new Uint8Array(2 * 34) });
    await session.time(w, new Float32Array(32), 1, { protocol: 'hot', repeats: 1, warmup: 0 });
    w.dispose();
    await session.close();
    expect(session.device.copyBandwidthGBs).toBeGreaterThan(0);
    // the session's own measurement, with its size and repeats (small: 16 MiB, best of 5)
    expect(session.device.copyBandwidth).toMatchObject({
      gbs: session.device.copyBandwidthGBs,
      bytes: 16 << 20,
      repeats: 5,
    });
    // listings show the last figure measured; a new session (a new run) measures its own
    expect((await cpuBackend.status()).devices[0].copyBandwidthGBs).toBe(session.device.copyBandwidthGBs);
    const again = await cpuBackend.open(0);
    expect(again.device.copyBandwidth).toBeNull();
    const c = measureCopyBandwidth(1 << 20, 2);
    expect(c).toMatchObject({ bytes: 1 << 20, repeats: 2 });
    expect(c!.gbs).toBeGreaterThan(0);
    await again.close();
    expect(d.arch).toBe(process.arch);
    await expect(cpuBackend.open(1)).rejects.toThrow('cpu:1 does not exist');
  });

  for (const type of TYPES) {
    const info = typeInfo(type)!;
    it(`${info.name}: matches the float64 reference (NMSE < 1e-8) at several m`, async () => {
      const s = await cpuBackend.open(0);
      const bk = info.float ? 64 : info.blockElems;
      const shapes: [number, number, number][] = [
        [1, 1, bk],
        [1, 41, 4 * bk],
        [3, 17, 2 * bk],
        [8, 23, 3 * bk],
        [4, 9, 512], // Q4_0 / Q8_0: eight blocks decoded as one 256-element group
        [2, 6, 256],
      ];
      if (info.float) shapes.push([2, 5, 37]);
      for (const [m, n, k] of shapes) {
        const rng = new Rng(n * 31 + k + m);
        const data = quantize(type, rng.normalF32(n * k, 0.02), n, k);
        const x = rng.normalF32(m * k);
        const w = await s.load({ type, n, k, data, name: 'w' });
        expect(w.bytes).toBe(n * rowBytes(type, k));
        const r = await s.run(w, x, m);
        expect(r.path).toBe('cpu-f32');
        const ref = referenceMatmulSync(type, data, n, k, x, m);
        const met = compareOutputs(ref, r.y, m, n);
        expect(met.nmse, `${info.name} m=${m} n=${n} k=${k}`).toBeLessThan(1e-8);
        expect(met.nmse).toBeGreaterThanOrEqual(0);
        expect(judge(met, thresholdFor(r.path))).toBe('pass');
        // float32 accumulation really happened: not bit-equal to the float64 sums in general
        if (k >= 256) expect(met.maxAbsErr).toBeGreaterThan(0);
        w.dispose();
      }
      await s.close();
    });
  }

  it('times runs and validates its input', async () => {
    const s = await cpuBackend.open(0);
    const n = 64;
    const k = 512;
    const data = quantize(GgmlType.Q4_K, new Rng(1).normalF32(n * k), n, k);
    const w = await s.load({ type: GgmlType.Q4_K, n, k, data });
    const x = new Rng(2).normalF32(k);
    const t = await s.time(w, x, 1, { protocol: 'hot', warmup: 1, repeats: 5 });
    expect(t.samplesUs).toHaveLength(5);
    expect(t.path).toBe('cpu-f32');
    expect(t.weightCopies).toBe(1);
    expect(t.minUs).toBeGreaterThan(0);
    expect(t.minUs).toBeLessThanOrEqual(t.medianUs);
    expect(t.medianUs).toBeLessThanOrEqual(t.maxUs);
    expect([...t.samplesUs].sort((a, b) => a - b)).toEqual(t.samplesUs);
    await expect(s.run(w, new Float32Array(k - 1), 1)).rejects.toThrow('expected m*k');
    await expect(s.run(w, x, 1, { path: 'mma' })).rejects.toThrow('only the float32 path');
    await expect(s.load({ type: GgmlType.Q8_K, n: 1, k: 256, data: new Uint8Array(292) })).rejects.toThrow(
      'not supported by the cpu backend',
    );
    await expect(s.load({ type: GgmlType.Q4_K, n: 2, k: 256, data: new Uint8Array(100) })).rejects.toThrow(
      'needs 288 bytes',
    );
    await expect(s.run(w, x, 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    w.dispose();
    await expect(s.run(w, x, 1)).rejects.toThrow('disposed');
    await s.close();
    await expect(s.load({ type: GgmlType.Q4_K, n, k, data })).rejects.toThrow('closed');
  });
});
