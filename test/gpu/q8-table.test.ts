// The int8 small-batch kernel's launch geometry comes from the table in kernels/qs_small_q8.h; the
// backend parses it from the header text, so a launch cannot disagree with the compiled kernel.
import { describe, expect, it } from 'vitest';
import { q8Table } from '../../src-main/engine/backends/gpu/backend';
import { GgmlType } from '../../src-main/engine/ggml-types';

describe('q8Table', () => {
  it('has rows and warps for m = 1..8 for every quantized format', () => {
    for (const t of [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]) {
      const g = q8Table(t);
      expect(g.rows).toHaveLength(8);
      expect(g.warps).toHaveLength(8);
      for (const v of [...g.rows, ...g.warps]) expect(v >= 1 && v <= 16 && Number.isInteger(v)).toBe(true);
    }
  });
  it('refuses a format without a table', () => {
    expect(() => q8Table(GgmlType.F16)).toThrow(/no launch table for F16/);
  });
});
