import { describe, it, expect } from 'vitest';
import { codecFor, dequantize } from '../../src-main/engine/formats';
import { H_HALF, H_MINUS_TWO, H_ONE, H_TWO, deq, diffIdx, putHalf } from './helpers';

const Q4_0 = 2;
const Q8_0 = 8;

/** A Q4_0 block whose every nibble is 8 (value 0) with scale h. */
function q40(h: number): Uint8Array {
  const b = new Uint8Array(18);
  putHalf(b, 0, h);
  b.fill(0x88, 2);
  return b;
}

describe('Q4_0', () => {
  it('has the codec shape of the table', () => {
    const c = codecFor(Q4_0);
    expect([c.typeId, c.name, c.blockElems, c.blockBytes]).toEqual([2, 'Q4_0', 32, 18]);
  });

  it('maps the low nibble of qs[j] to element j and the high nibble to element j+16', () => {
    for (let j = 0; j < 16; j++) {
      const lo = q40(H_ONE);
      lo[2 + j] = 0x8f; // low nibble 15 -> +7
      const e1 = new Float32Array(32);
      e1[j] = 7;
      expect(diffIdx(deq(Q4_0, lo, 32), e1)).toEqual([]);

      const hi = q40(H_ONE);
      hi[2 + j] = 0x08; // high nibble 0 -> -8
      const e2 = new Float32Array(32);
      e2[j + 16] = -8;
      expect(diffIdx(deq(Q4_0, hi, 32), e2)).toEqual([]);
    }
  });

  it('scales every level by d, including a negative d', () => {
    const b = q40(H_TWO);
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const y = deq(Q4_0, b, 32);
    for (let j = 0; j < 16; j++) {
      expect(y[j]).toBe((j - 8) * 2);
      expect(y[j + 16]).toBe((15 - j - 8) * 2);
    }
    putHalf(b, 0, H_MINUS_TWO);
    const z = deq(Q4_0, b, 32);
    expect(z[0]).toBe(16); // (0 - 8) * -2
    expect(z[16]).toBe(-14); // (15 - 8) * -2
  });

  it('reads the half d little-endian and keeps subnormal d exact', () => {
    const b = q40(0x0001); // 2^-24
    b[2] = 0x8f;
    expect(deq(Q4_0, b, 32)[0]).toBe(7 * 2 ** -24);
  });

  it('dequantizes consecutive blocks and rows in order', () => {
    const data = new Uint8Array(18 * 4);
    for (let i = 0; i < 4; i++) {
      data.set(q40(H_ONE), 18 * i);
      data[18 * i + 2] = 0x80 | (9 + i); // element 0 of block i = 1 + i
    }
    const y = dequantize(Q4_0, data, 2, 64); // 2 rows of 2 blocks
    const e = new Float32Array(128);
    for (let i = 0; i < 4; i++) e[32 * i] = 1 + i;
    expect(diffIdx(y, e)).toEqual([]);
  });
});

describe('Q8_0', () => {
  it('has the codec shape of the table', () => {
    const c = codecFor(Q8_0);
    expect([c.typeId, c.name, c.blockElems, c.blockBytes]).toEqual([8, 'Q8_0', 32, 34]);
  });

  it('maps signed byte qs[j] to element j, times d', () => {
    for (const [j, byte, v] of [
      [0, 1, 0.5],
      [7, 0x80, -64],
      [19, 0xff, -0.5],
      [31, 127, 63.5],
    ]) {
      const b = new Uint8Array(34);
      putHalf(b, 0, H_HALF);
      b[2 + j] = byte;
      const e = new Float32Array(32);
      e[j] = v;
      expect(diffIdx(deq(Q8_0, b, 32), e)).toEqual([]);
    }
  });

  it('handles a negative d', () => {
    const b = new Uint8Array(34);
    putHalf(b, 0, H_MINUS_TWO);
    b[2 + 5] = 0x80; // -128
    b[2 + 6] = 3;
    const y = deq(Q8_0, b, 32);
    expect(y[5]).toBe(256);
    expect(y[6]).toBe(-6);
  });
});
