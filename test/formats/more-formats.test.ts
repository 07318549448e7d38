// Hand-built blocks of Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, IQ4_NL and IQ4_XS, with the values worked out
// from the layouts in docs/formats.md.
import { describe, it, expect } from 'vitest';
import { codecFor } from '../../src-main/engine/formats';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { H_HALF, H_MINUS_ONE, H_ONE, H_QUARTER, H_TWO, deq, diffIdx, putHalf } from './helpers';

const KV = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

describe('block shapes', () => {
  it('match the ggml table', () => {
    const want: [number, string, number, number][] = [
      [GgmlType.Q4_1, 'Q4_1', 32, 20],
      [GgmlType.Q5_0, 'Q5_0', 32, 22],
      [GgmlType.Q5_1, 'Q5_1', 32, 24],
      [GgmlType.Q2_K, 'Q2_K', 256, 84],
      [GgmlType.Q3_K, 'Q3_K', 256, 110],
      [GgmlType.IQ4_NL, 'IQ4_NL', 32, 18],
      [GgmlType.IQ4_XS, 'IQ4_XS', 256, 136],
    ];
    for (const [id, name, e, b] of want) {
      const c = codecFor(id);
      expect([c.typeId, c.name, c.blockElems, c.blockBytes]).toEqual([id, name, e, b]);
    }
  });
});

describe('Q4_1', () => {
  it('is nibble * d + m, low nibbles first', () => {
    const b = new Uint8Array(20);
    putHalf(b, 0, H_HALF);
    putHalf(b, 2, H_MINUS_ONE);
    for (let j = 0; j < 16; j++) b[4 + j] = j | ((15 - j) << 4);
    const e = new Float32Array(32);
    for (let j = 0; j < 16; j++) {
      e[j] = j * 0.5 - 1;
      e[j + 16] = (15 - j) * 0.5 - 1;
    }
    expect(diffIdx(deq(GgmlType.Q4_1, b, 32), e)).toEqual([]);
  });
});

describe('Q5_0', () => {
  it('takes the fifth bit of element j from bit j of qh and subtracts 16', () => {
    const b = new Uint8Array(22);
    putHalf(b, 0, H_TWO);
    const qh = (1 << 3) | (1 << 20);
    for (let i = 0; i < 4; i++) b[2 + i] = (qh >>> (8 * i)) & 255;
    b[6 + 5] = 0xf0; // element 21 (high nibble of qs[5]) = 15
    const e = new Float32Array(32).fill(-32); // (0 - 16) * 2
    e[3] = 0; // (16 - 16) * 2
    e[20] = 0; // high nibble of qs[4] with bit 20
    e[21] = -2; // (15 - 16) * 2
    expect(diffIdx(deq(GgmlType.Q5_0, b, 32), e)).toEqual([]);
  });
});

describe('Q5_1', () => {
  it('is (nibble | fifth bit << 4) * d + m', () => {
    const b = new Uint8Array(24);
    putHalf(b, 0, H_ONE);
    putHalf(b, 2, H_HALF);
    b[7] = 0x80; // qh bit 31: element 31
    b[8 + 2] = 0x07; // element 2 = 7
    const e = new Float32Array(32).fill(0.5);
    e[31] = 16.5;
    e[2] = 7.5;
    expect(diffIdx(deq(GgmlType.Q5_1, b, 32), e)).toEqual([]);
  });
});

describe('Q2_K', () => {
  it('walks qs in 2-bit planes with a 4-bit scale and min per 16 elements', () => {
    const b = new Uint8Array(84);
    b.fill(1 | (2 << 4), 0, 16); // sc 1, min 2: dl = 1, ml = 2 * 0.5 = 1
    b[9] = 3; // sub-block 9: sc 3, min 0
    b[16 + 0] = 0b11100100; // levels 0, 1, 2, 3 for elements 0, 32, 64, 96
    b[16 + 16] = 3; // element 16 (second sub-block of plane 0)
    b[16 + 32] = 2; // element 128 (second half)
    b[16 + 48] = 1; // element 144: sub-block 9
    putHalf(b, 80, H_ONE);
    putHalf(b, 82, H_HALF);
    const e = new Float32Array(256).fill(-1);
    e.fill(0, 144, 160);
    e[0] = -1;
    e[32] = 0;
    e[64] = 1;
    e[96] = 2;
    e[16] = 2;
    e[128] = 1;
    e[144] = 3;
    expect(diffIdx(deq(GgmlType.Q2_K, b, 256), e)).toEqual([]);
  });
});

describe('Q3_K', () => {
  it('unpacks 16 six-bit scales and subtracts 4 where the hmask bit is clear', () => {
    const b = new Uint8Array(110);
    b.fill(0xff, 0, 32); // every high bit set: levels are the 2 low bits
    // scale 33 (1 after the bias) everywhere but scale 5 = 30 (-2): low nibbles in s[0..7], high
    // pairs in s[8..11]
    b.fill(0x11, 96, 104);
    b[96 + 5] = 0x1e; // scale 5 low 14, scale 13 low 1
    b.fill(0xaa, 104, 108); // high pair 2 for all
    b[105] = 0xa6; // scale 5 (s[8 + 1] bits 2-3) high pair 1
    putHalf(b, 108, H_ONE);
    b[0] &= ~1; // element 0: high bit clear -> 0 - 4
    b[32 + 16] = 3 << 4; // element 80 (half 0, plane 2, l = 16) = 3, sub-block 5
    b[8] &= ~(1 << 6); // element 200 (half 1, plane 2, l = 8): high bit clear
    b[32 + 32 + 8] = 1 << 4; // ... and low bits 1 -> 1 - 4
    const e = new Float32Array(256);
    e[0] = -4;
    e[80] = -6;
    e[200] = -3;
    expect(diffIdx(deq(GgmlType.Q3_K, b, 256), e)).toEqual([]);
  });
});

describe('IQ4_NL', () => {
  it('looks each nibble up in the non-linear table', () => {
    const b = new Uint8Array(18);
    putHalf(b, 0, H_HALF);
    for (let j = 0; j < 16; j++) b[2 + j] = j | ((15 - j) << 4);
    const e = new Float32Array(32);
    for (let j = 0; j < 16; j++) {
      e[j] = 0.5 * KV[j];
      e[j + 16] = 0.5 * KV[15 - j];
    }
    expect(diffIdx(deq(GgmlType.IQ4_NL, b, 32), e)).toEqual([]);
  });
});

describe('IQ4_XS', () => {
  it('scales each 32 elements by d * (ls - 32), ls split over scales_l and scales_h', () => {
    const b = new Uint8Array(136);
    putHalf(b, 0, H_QUARTER);
    let sh = 0;
    for (let ib = 0; ib < 8; ib++) {
      const ls = 28 + ib; // 28..35: -4..3 after the bias
      b[4 + (ib >> 1)] |= (ls & 15) << (4 * (ib & 1));
      sh |= (ls >> 4) << (2 * ib);
      for (let j = 0; j < 16; j++) b[8 + 16 * ib + j] = j | ((15 - j) << 4);
    }
    b[2] = sh & 255;
    b[3] = sh >> 8;
    const e = new Float32Array(256);
    for (let ib = 0; ib < 8; ib++)
      for (let j = 0; j < 16; j++) {
        e[32 * ib + j] = 0.25 * (ib - 4) * KV[j];
        e[32 * ib + 16 + j] = 0.25 * (ib - 4) * KV[15 - j];
      }
    expect(diffIdx(deq(GgmlType.IQ4_XS, b, 256), e)).toEqual([]);
  });
});
