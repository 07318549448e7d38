// The int8 small-batch kernel's launch geometry comes from the compiled module itself (qs_q8_geometry,
// kernels/qs_small_q8.h, from the format header's table); parseQ8Geometry checks what it returns.
import { describe, expect, it } from 'vitest';
import { parseQ8Geometry } from '../../src-main/engine/backends/gpu/backend';
import { GgmlType } from '../../src-main/engine/ggml-types';

const NONE = [0, 0, 0, 0, 0, 0, 0, 0];
const out = (type: number, rows: number[], warps: number[], split = NONE, align = 16) =>
  new Int32Array([type, ...rows, ...warps, ...split, align]);

describe('parseQ8Geometry', () => {
  it("reads rows, warps per block and split rows for m = 1..8, and the split rows' alignment", () => {
    const g = parseQ8Geometry(
      out(GgmlType.Q4_K, [4, 8, 8, 8, 8, 8, 8, 8], [8, 2, 2, 2, 2, 2, 2, 2]),
      GgmlType.Q4_K,
    );
    expect(g.rows).toEqual([4, 8, 8, 8, 8, 8, 8, 8]);
    expect(g.warps).toEqual([8, 2, 2, 2, 2, 2, 2, 2]);
    expect(g.split).toEqual(new Array(8).fill(false));
    const s = parseQ8Geometry(
      out(GgmlType.Q6_K, [4, 8, 8, 8, 8, 4, 4, 4], [8, 2, 2, 2, 2, 2, 2, 2], [1, 1, 0, 0, 1, 1, 1, 1], 32),
      GgmlType.Q6_K,
    );
    expect(s.split).toEqual([true, true, false, false, true, true, true, true]);
    expect(s.splitAlign).toBe(32);
  });
  it("refuses another format's module, a short answer and values out of range", () => {
    const ok = [4, 4, 4, 4, 4, 4, 4, 4];
    expect(() => parseQ8Geometry(out(GgmlType.Q6_K, ok, ok), GgmlType.Q4_K)).toThrow(
      /qs_q8_geometry of the Q4_K module returned 14,4,/,
    );
    expect(() => parseQ8Geometry(new Int32Array([GgmlType.Q4_K, 1, 2]), GgmlType.Q4_K)).toThrow(
      /Q4_K module/,
    );
    expect(() => parseQ8Geometry(out(GgmlType.Q8_0, [0, ...ok.slice(1)], ok), GgmlType.Q8_0)).toThrow(/Q8_0/);
    expect(() => parseQ8Geometry(out(GgmlType.Q8_0, ok, [...ok.slice(1), 99]), GgmlType.Q8_0)).toThrow(
      /Q8_0/,
    );
    // the module of a build before split rows (17 values) and bad split flags or alignment
    expect(() => parseQ8Geometry(out(GgmlType.Q8_0, ok, ok).slice(0, 17), GgmlType.Q8_0)).toThrow(/Q8_0/);
    expect(() =>
      parseQ8Geometry(out(GgmlType.Q8_0, ok, ok, [1, 1, 1, 1, 1, 1, 1, 3]), GgmlType.Q8_0),
    ).toThrow(/Q8_0/);
    expect(() => parseQ8Geometry(out(GgmlType.Q8_0, ok, ok, NONE, 0), GgmlType.Q8_0)).toThrow(/Q8_0/);
  });
});
