import { describe, it, expect, afterAll } from 'vitest';
import {
  dequantize,
  quantize,
  quantizeEffort,
  setQuantizeEffort,
  type QuantizeEffort,
} from '../../src-main/engine/formats';
import { SUPPORTED_TYPES } from '../../src-main/engine/ggml-types';
import { normals } from './helpers';

const N = 32;
const K = 1024;
const X = normals(N * K, 1234);

/**
 * RMSE bounds on normal(0,1) data (ggml's own quantizers land at about 0.07 Q4_K, 0.036 Q5_K, 0.018 Q6_K;
 * the reference-style quantizers of the other formats a little above their measured values).
 */
const BOUND: Record<string, number> = {
  F32: 0,
  F16: 3e-4,
  BF16: 2.5e-3,
  Q8_0: 8e-3,
  Q4_0: 0.1,
  Q4_K: 0.08,
  Q5_K: 0.04,
  Q6_K: 0.02,
  Q4_1: 0.085,
  Q5_0: 0.046,
  Q5_1: 0.041,
  Q2_K: 0.3,
  Q3_K: 0.16,
  IQ4_NL: 0.082,
  IQ4_XS: 0.083,
};

function rmse(typeId: number): number {
  const y = dequantize(typeId, quantize(typeId, X, N, K), N, K);
  let e = 0;
  for (let i = 0; i < X.length; i++) e += (X[i] - y[i]) ** 2;
  return Math.sqrt(e / X.length);
}

const table: string[] = [];
afterAll(() => {
  console.log(`quantize -> dequantize RMSE on ${N}x${K} normal(0,1):\n${table.join('\n')}`);
});

describe('quantize -> dequantize round trip', () => {
  for (const t of SUPPORTED_TYPES) {
    it(`${t.name} stays under its RMSE bound`, () => {
      const r = rmse(t.id);
      table.push(`  ${t.name.padEnd(5)} ${r.toExponential(3)}  (bound ${BOUND[t.name]})`);
      expect(r).toBeLessThanOrEqual(BOUND[t.name]);
      if (t.name !== 'F32') expect(r).toBeGreaterThan(0); // it really quantized
    });
  }

  it('gives lower or equal error with more K-quant search effort', () => {
    const before = quantizeEffort();
    try {
      const r: Record<string, Record<QuantizeEffort, number>> = {};
      for (const name of ['Q4_K', 'Q5_K', 'Q6_K']) {
        const id = SUPPORTED_TYPES.find((t) => t.name === name)!.id;
        const row = {} as Record<QuantizeEffort, number>;
        for (const e of ['fast', 'balanced', 'ggml'] as const) {
          setQuantizeEffort(e);
          row[e] = rmse(id);
        }
        r[name] = row;
        table.push(
          `  ${name} by effort: fast ${row.fast.toExponential(3)}, balanced ${row.balanced.toExponential(3)}, ggml ${row.ggml.toExponential(3)}`,
        );
        expect(row.balanced).toBeLessThanOrEqual(row.fast * 1.001);
        expect(row.ggml).toBeLessThanOrEqual(row.balanced * 1.001);
        expect(row.fast).toBeLessThanOrEqual(BOUND[name] * 1.1);
      }
    } finally {
      setQuantizeEffort(before);
    }
    expect(() => setQuantizeEffort('max' as QuantizeEffort)).toThrow(/max/);
  });

  it('reproduces F16/BF16/Q8_0 values that are already on their grid exactly', () => {
    const v = new Float32Array(64);
    for (let i = 0; i < 64; i++) v[i] = (i - 32) / 8; // multiples of 1/8 in [-4, 4)
    for (const name of ['F16', 'BF16', 'F32']) {
      const id = SUPPORTED_TYPES.find((t) => t.name === name)!.id;
      expect(Array.from(dequantize(id, quantize(id, v, 2, 32), 2, 32))).toEqual(Array.from(v));
    }
    // Q8_0 with amax 4 -> d = 4/127 is not a half; the level grid is still recovered within half a step
    const y = dequantize(8, quantize(8, v, 2, 32), 2, 32);
    for (let i = 0; i < 64; i++) expect(Math.abs(y[i] - v[i])).toBeLessThanOrEqual(4 / 127 / 2 + 1e-3);
  });

  it('keeps every block valid for awkward inputs (zeros, constants, tiny, huge, one spike, NaN)', () => {
    const cases: [string, (i: number) => number][] = [
      ['zeros', () => 0],
      ['positive constant', () => 3],
      ['negative constant', () => -3],
      ['tiny', (i) => (i % 7) * 1e-9 - 3e-9],
      ['huge', (i) => ((i % 13) - 6) * 5000],
      ['one spike', (i) => (i === 77 ? 100 : (i % 5) * 0.01)],
    ];
    for (const t of SUPPORTED_TYPES) {
      for (const [label, f] of cases) {
        const v = Float32Array.from({ length: 512 }, (_, i) => f(i));
        const y = dequantize(t.id, quantize(t.id, v, 1, 512), 1, 512);
        let amax = 0;
        for (const a of v) amax = Math.max(amax, Math.abs(a));
        for (let i = 0; i < 512; i++) {
          if (!Number.isFinite(y[i])) throw new Error(`${t.name} ${label}: element ${i} is ${y[i]}`);
          // a 4-bit grid is at worst a quarter of the range off, Q2_K's 4 levels (with 4-bit scales)
          // under 0.4 of it; all-zero stays exactly zero
          if (Math.abs(y[i] - v[i]) > amax * (t.name === 'Q2_K' ? 0.4 : 0.25) + 1e-6) {
            throw new Error(`${t.name} ${label}: element ${i} is ${y[i]}, expected about ${v[i]}`);
          }
        }
      }
      if (!t.float) {
        // scales beyond the half range saturate instead of becoming inf: values clip but stay finite
        const big = Float32Array.from({ length: 256 }, (_, i) => ((i % 9) - 4) * 1e9);
        const yb = dequantize(t.id, quantize(t.id, big, 1, 256), 1, 256);
        const bad = Array.from(yb).findIndex(
          (v, i) => !Number.isFinite(v) || Math.sign(v) * Math.sign(big[i]) < 0,
        );
        expect(bad, `${t.name} with 1e9-sized values`).toBe(-1);
      }
      const withNaN = normals(256, 9);
      withNaN[10] = NaN;
      expect(() => quantize(t.id, withNaN, 1, 256)).not.toThrow();
    }
  });
});
