import { describe, expect, it } from 'vitest';
import { compareOutputs, errorGrid, judge, thresholdFor } from '../../src-main/engine/compare';
import { Rng } from '../../src-main/engine/rng';
import type { Metrics } from '../../src-shared/contract';

const f32 = (v: number[]) => new Float32Array(v);
const f64 = (v: number[]) => new Float64Array(v);

describe('compareOutputs', () => {
  it('computes NMSE, max abs error and the worst element exactly', () => {
    const met = compareOutputs(f64([1, 2, 3, 4]), f32([1, 2, 3, 5]), 2, 2);
    expect(met.nmse).toBe(1 / 30);
    expect(met.maxAbsErr).toBe(1);
    expect(met.maxRelErr).toBe(1 / 4);
    expect(met.count).toBe(4);
    expect(met.nanMismatches).toBe(0);
    expect(met.infMismatches).toBe(0);
    expect(met.worst).toEqual({ row: 1, col: 1, ref: 4, got: 5 });
  });

  it('scales relative error by the max |ref| of each output row (1 for an all-zero row)', () => {
    // row 0 scale 2: 0.5/2; row 1 scale 200: 1/200; row 2 all zero: 0.5/1
    const ref = f64([1, -2, 100, -200, 0, 0]);
    const got = f32([1.5, -2, 100, -201, 0, 0]);
    let met = compareOutputs(ref, got, 3, 2);
    expect(met.maxAbsErr).toBe(1);
    expect(met.maxRelErr).toBe(0.25);
    expect(met.worst).toMatchObject({ row: 1, col: 1 });
    met = compareOutputs(ref, f32([1, -2, 100, -200, 0.5, 0]), 3, 2);
    expect(met.maxRelErr).toBe(0.5);
    expect(met.nmse).toBe(0.25 / (1 + 4 + 10000 + 40000));
  });

  it('counts NaN mismatches (NaN on one side only)', () => {
    const met = compareOutputs(f64([NaN, 1, NaN, 2]), f32([NaN, NaN, 2, 2]), 1, 4);
    expect(met.nanMismatches).toBe(2);
    expect(met.infMismatches).toBe(0);
    expect(met.nmse).toBe(0); // the finite pairs agree
    expect(met.worst).toMatchObject({ row: 0, col: 1 });
    expect(judge(met, 1)).toBe('fail');
  });

  it('counts Inf mismatches (sign differs, or one side only)', () => {
    const met = compareOutputs(
      f64([Infinity, -Infinity, Infinity, 1, -Infinity]),
      f32([Infinity, Infinity, 5, Infinity, -Infinity]),
      1,
      5,
    );
    expect(met.infMismatches).toBe(3);
    expect(met.nanMismatches).toBe(0);
    expect(met.worst).toMatchObject({ col: 1 });
    expect(judge(met, 1)).toBe('fail');
    expect(compareOutputs(f64([NaN, Infinity]), f32([Infinity, NaN]), 1, 2).nanMismatches).toBe(2);
  });

  it('handles all-zero references', () => {
    expect(compareOutputs(f64([0, 0]), f32([0, 0]), 1, 2).nmse).toBe(0);
    expect(compareOutputs(f64([0, 0]), f32([0, 0]), 1, 2).worst).toBeNull();
    expect(compareOutputs(f64([0, 0]), f32([0, 1e-30]), 1, 2).nmse).toBe(Infinity);
  });

  it('rejects mismatched shapes', () => {
    expect(() => compareOutputs(f64([1, 2]), f32([1]), 1, 2)).toThrow('output has 1 values');
    expect(() => compareOutputs(f64([1]), f32([1, 2]), 1, 2)).toThrow('reference has 1 values');
  });
});

describe('thresholdFor / judge', () => {
  it('every kernel path has the float32-class bar against its declared arithmetic', () => {
    for (const p of [
      'cpu-f32',
      'fused-small-f32',
      'fused-tiled-f32',
      'unfused-f32',
      'custom',
      'fused-small-q8',
      'fused-mma-i8',
      'fused-mma-f16',
    ] as const) {
      expect(thresholdFor(p)).toBe(1e-8);
    }
  });

  it('fails on NaN/Inf mismatches, NMSE above the threshold, or a NaN NMSE', () => {
    const base: Metrics = {
      nmse: 1e-9,
      maxAbsErr: 0,
      maxRelErr: 0,
      nanMismatches: 0,
      infMismatches: 0,
      count: 1,
      worst: null,
    };
    expect(judge(base, 1e-8)).toBe('pass');
    expect(judge({ ...base, nmse: 1e-8 }, 1e-8)).toBe('pass');
    expect(judge({ ...base, nmse: 2e-8 }, 1e-8)).toBe('fail');
    expect(judge({ ...base, nmse: NaN }, 1e-8)).toBe('fail');
    expect(judge({ ...base, nmse: Infinity }, 1e-8)).toBe('fail');
    expect(judge({ ...base, nanMismatches: 1 }, 1e-8)).toBe('fail');
    expect(judge({ ...base, infMismatches: 1 }, 1e-8)).toBe('fail');
  });
});

describe('errorGrid', () => {
  const m = 512;
  const n = 4096;
  const rng = new Rng(11);
  const ref = new Float64Array(m * n);
  for (let i = 0; i < ref.length; i++) ref[i] = rng.normal();
  const got = new Float32Array(ref); // float32 rounding only: errors <= ~2e-7
  const R = 301;
  const C = 2777;
  got[R * n + C] = ref[R * n + C] + 0.5;

  const cellOf = (g: ReturnType<typeof errorGrid>, row: number, col: number) =>
    Math.floor((row - g.rowStart) / g.cellRows) * g.cols + Math.floor((col - g.colStart) / g.cellCols);

  it('a single bad element survives every grid size (max reduction)', () => {
    const sizes: [number, number][] = [
      [1, 1],
      [7, 13],
      [64, 64],
      [100, 1000],
      [512, 1024],
      [512, 4096],
      [4000, 9000],
    ];
    for (const [mr, mc] of sizes) {
      const g = errorGrid(ref, got, m, n, { maxRows: mr, maxCols: mc, metric: 'abs' });
      expect(g.rows).toBeLessThanOrEqual(Math.min(mr, m));
      expect(g.cols).toBeLessThanOrEqual(Math.min(mc, n));
      expect(g.rows * g.cellRows).toBeGreaterThanOrEqual(m);
      expect(g.cols * g.cellCols).toBeGreaterThanOrEqual(n);
      expect(g.values).toHaveLength(g.rows * g.cols);
      expect(g.worst).toHaveLength(4 * g.rows * g.cols);
      const cell = cellOf(g, R, C);
      const err = Math.abs(got[R * n + C] - ref[R * n + C]);
      expect(g.values[cell], `${mr}x${mc}`).toBe(err);
      expect(g.max).toBe(err);
      expect(g.worst.slice(4 * cell, 4 * cell + 4)).toEqual([R, C, ref[R * n + C], got[R * n + C]]);
      const others = g.values.filter((_, i) => i !== cell);
      expect(others.reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(1e-5);
      expect(g.min).toBeGreaterThanOrEqual(0);
    }
  });

  it('512x4096 into 512x1024 gives cells of 1x4', () => {
    const g = errorGrid(ref, got, m, n, { maxRows: 512, maxCols: 1024, metric: 'abs' });
    expect([g.rows, g.cols, g.cellRows, g.cellCols]).toEqual([512, 1024, 1, 4]);
  });

  it('a region request covers only that region', () => {
    const inside = errorGrid(ref, got, m, n, {
      rowStart: 300,
      rowEnd: 310,
      colStart: 2700,
      colEnd: 2800,
      maxRows: 4,
      maxCols: 10,
      metric: 'abs',
    });
    expect([inside.rows, inside.cols, inside.cellRows, inside.cellCols]).toEqual([4, 10, 3, 10]);
    expect([inside.rowStart, inside.rowEnd, inside.colStart, inside.colEnd]).toEqual([300, 310, 2700, 2800]);
    expect(inside.values[cellOf(inside, R, C)]).toBeCloseTo(0.5, 6);
    expect(inside.worst.slice(4 * cellOf(inside, R, C), 4 * cellOf(inside, R, C) + 2)).toEqual([R, C]);
    for (let c = 0; c < inside.rows * inside.cols; c++) {
      const [r, col] = inside.worst.slice(4 * c, 4 * c + 2);
      expect(r >= 300 && r < 310 && col >= 2700 && col < 2800).toBe(true);
    }
    const outside = errorGrid(ref, got, m, n, {
      rowStart: 0,
      rowEnd: 300,
      maxRows: 50,
      maxCols: 50,
      metric: 'abs',
    });
    expect(outside.max).toBeLessThan(1e-5);
    expect(() =>
      errorGrid(ref, got, m, n, { rowStart: 10, rowEnd: 5, maxRows: 5, maxCols: 5, metric: 'abs' }),
    ).toThrow('bad row range');
    expect(() => errorGrid(ref, got, m, n, { colEnd: n + 1, maxRows: 5, maxCols: 5, metric: 'abs' })).toThrow(
      'bad column range',
    );
    expect(() => errorGrid(ref, got, m, n, { maxRows: 0, maxCols: 5, metric: 'abs' })).toThrow('grid size');
  });

  it('rel metric divides by the row scale; NaN and Inf mismatches are +Infinity', () => {
    const r = f64([1, -4, 10, 0, NaN, 3, Infinity, -Infinity]);
    const g = f32([1.5, -4, 10, 0, NaN, NaN, Infinity, Infinity]);
    const rel = errorGrid(r, g, 2, 4, { maxRows: 2, maxCols: 4, metric: 'rel' });
    expect(rel.values).toEqual([0.5 / 10, 0, 0, 0, 0, Infinity, 0, Infinity]);
    const coarse = errorGrid(r, g, 2, 4, { maxRows: 2, maxCols: 2, metric: 'abs' });
    expect(coarse.values).toEqual([0.5, 0, Infinity, Infinity]);
    expect(coarse.worst.slice(8, 10)).toEqual([1, 1]); // the NaN mismatch
    expect(coarse.worst.slice(12, 14)).toEqual([1, 3]); // -inf vs +inf
    expect(coarse.max).toBe(Infinity);
  });
});
