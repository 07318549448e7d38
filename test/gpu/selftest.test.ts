// The GPU self-test through vitest: runs the same code as `quantscope selftest --quick` on the first
// CUDA device, and skips with the reason printed when there is none.
import { describe, it, expect } from 'vitest';
import { cudaBackend } from '../../src-main/engine/backends/cuda';
import { makeWeights, selftestCases } from '../../src-main/engine/selftest';
import { selftest } from '../../src-main/engine/selftest';
import { Rng } from '../../src-main/engine/rng';
import { GgmlType, QUANT_TYPES, SUPPORTED_TYPES } from '../../src-main/engine/ggml-types';
import { formatSpec, fp16ToF32 } from '../../src-main/engine/formats';

const status = await cudaBackend.status();
if (!status.available) console.log(`GPU selftest skipped: cuda unavailable: ${status.reason}`);

describe('selftest case list', () => {
  it('covers every format, every batch size, every path and the adversarial patterns', () => {
    const full = selftestCases(false, undefined, true);
    for (const t of SUPPORTED_TYPES) expect(full.some((c) => c.type === t.id)).toBe(true);
    for (const m of [1, 2, 3, 4, 5, 8, 16, 64, 512]) expect(full.some((c) => c.m === m)).toBe(true);
    for (const p of ['auto', 'f32', 'unfused', 'mma']) expect(full.some((c) => c.path === p)).toBe(true);
    for (const wc of ['zero-scales', 'max-scales', 'negative-scales', 'subnormal-scales', 'max-nibbles'])
      expect(full.some((c) => c.weights === wc)).toBe(true);
    expect(full.some((c) => c.n === 1)).toBe(true);
    expect(full.some((c) => c.type === GgmlType.Q4_K && c.k === 256)).toBe(true);
    // every quantized format at m > 64 with rows of a multiple of 16 bytes (Hopper's tensor-copy kernels)
    // and, where a format's blocks are not themselves a multiple of 16 bytes (all but Q4_K and Q5_K), with
    // rows that are not (its row-copy kernels)
    for (const t of QUANT_TYPES)
      for (const quick of [true, false]) {
        const own = selftestCases(quick, [t.id]).filter((c) => c.m > 64 && c.path === 'auto');
        const rb = (c: { k: number }) => (c.k / t.blockElems) * t.blockBytes;
        expect(
          own.some((c) => rb(c) % 16 === 0),
          t.name,
        ).toBe(true);
        expect(
          own.some((c) => rb(c) % 16 !== 0),
          t.name,
        ).toBe(t.blockBytes % 16 !== 0);
      }
    expect(selftestCases(true).length).toBeLessThan(full.length);
  });

  it('adversarial weights carry the scales they name', () => {
    const rng = new Rng(7);
    for (const t of QUANT_TYPES) {
      const off = formatSpec(t.id)!.scaleOffsets[0];
      const d = (b: Uint8Array) => fp16ToF32(b[off] | (b[off + 1] << 8));
      expect(d(makeWeights(t.id, 2, t.blockElems, 'max-scales', rng))).toBe(65504);
      expect(d(makeWeights(t.id, 2, t.blockElems, 'zero-scales', rng))).toBe(0);
      expect(d(makeWeights(t.id, 2, t.blockElems, 'negative-scales', rng))).toBeLessThan(0);
      expect(Number.isFinite(d(makeWeights(t.id, 2, t.blockElems, 'random', rng)))).toBe(true);
      expect(makeWeights(t.id, 1, t.blockElems, 'max-nibbles', rng)[off + 4] ?? 0xff).toBe(0xff);
    }
  });
});

describe.skipIf(!status.available)('cuda selftest (GPU)', () => {
  it('quick selftest passes on every case', async () => {
    const lines: string[] = [];
    const res = await selftest(cudaBackend, { quick: true, onLine: (s) => lines.push(s) });
    const bad = res.rows.filter((r) => r.result !== 'pass');
    if (bad.length) console.log(lines.filter((l) => !l.startsWith('PASS')).join('\n'));
    expect(res.rows.length).toBeGreaterThan(100);
    expect(res.failed).toBe(0);
    expect(res.passed).toBe(res.rows.length);
  }, 600_000);
});
