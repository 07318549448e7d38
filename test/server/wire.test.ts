import { describe, expect, it } from 'vitest';
import { wireParse, wireStringify } from '../../src-shared/contract';

describe('wire JSON', () => {
  it('keeps Infinity, -Infinity and NaN that plain JSON would turn into null', () => {
    const v = { nmse: Infinity, values: [1, -Infinity, NaN, 0.5], worst: { ref: 1, got: NaN } };
    const back = wireParse<typeof v>(wireStringify(v));
    expect(back.nmse).toBe(Infinity);
    expect(back.values[1]).toBe(-Infinity);
    expect(Number.isNaN(back.values[2])).toBe(true);
    expect(Number.isNaN(back.worst.got)).toBe(true);
    expect(back.values[3]).toBe(0.5);
  });
  it('leaves ordinary objects that merely look similar alone', () => {
    expect(wireParse(wireStringify({ $num: 'x' }))).toEqual({ $num: 'x' });
    expect(wireParse(wireStringify({ $num: 'Infinity', other: 1 }))).toEqual({ $num: 'Infinity', other: 1 });
  });
});
