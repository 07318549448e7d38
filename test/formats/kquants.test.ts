import { describe, it, expect } from 'vitest';
import { codecFor } from '../../src-main/engine/formats';
import { H_HALF, H_MINUS_ONE, H_ONE, H_QUARTER, deq, diffIdx, putHalf, putScaleMin } from './helpers';

const Q4_K = 12;
const Q5_K = 13;
const Q6_K = 14;

// byte offsets inside the blocks (docs/formats.md)
const K4 = { bytes: 144, scales: 4, qs: 16 };
const K5 = { bytes: 176, scales: 4, qh: 16, qs: 48 };
const K6 = { bytes: 210, ql: 0, qh: 128, scales: 192, d: 208 };

function kBlock(type: number, d: number, dmin: number): Uint8Array {
  const b = new Uint8Array(type === Q4_K ? K4.bytes : K5.bytes);
  putHalf(b, 0, d);
  putHalf(b, 2, dmin);
  return b;
}

describe('codec shapes', () => {
  it('match the type table', () => {
    for (const [id, name, bytes] of [
      [Q4_K, 'Q4_K', 144],
      [Q5_K, 'Q5_K', 176],
      [Q6_K, 'Q6_K', 210],
    ] as const) {
      const c = codecFor(id);
      expect([c.typeId, c.name, c.blockElems, c.blockBytes]).toEqual([id, name, 256, bytes]);
    }
  });
});

for (const [type, name, qsOff] of [
  [Q4_K, 'Q4_K', K4.qs],
  [Q5_K, 'Q5_K', K5.qs],
] as const) {
  describe(`${name} scales and mins`, () => {
    it('is all zero when every scale and min is zero', () => {
      const b = kBlock(type, H_ONE, H_ONE);
      b.fill(0x77, qsOff);
      expect(diffIdx(deq(type, b, 256), new Float32Array(256))).toEqual([]);
    });

    for (let j = 0; j < 8; j++) {
      it(`scale of sub-block ${j} (${j < 4 ? 'j<4' : 'j>=4'} packing) touches exactly elements ${32 * j}..${32 * j + 31}`, () => {
        const b = kBlock(type, H_HALF, H_ONE);
        b.fill(0x33, qsOff); // every 4-bit level 3 (5th bits stay 0)
        putScaleMin(b, K4.scales, j, 45, 0); // 45 = 0b101101: both the low 4 bits and the top 2 bits matter
        const e = new Float32Array(256);
        for (let l = 0; l < 32; l++) e[32 * j + l] = 0.5 * 45 * 3;
        expect(diffIdx(deq(type, b, 256), e)).toEqual([]);
      });

      it(`min of sub-block ${j} (${j < 4 ? 'j<4' : 'j>=4'} packing) touches exactly elements ${32 * j}..${32 * j + 31}`, () => {
        const b = kBlock(type, H_ONE, H_QUARTER);
        b.fill(0x55, qsOff); // levels are multiplied by a zero scale
        putScaleMin(b, K4.scales, j, 0, 54); // 54 = 0b110110
        const e = new Float32Array(256);
        for (let l = 0; l < 32; l++) e[32 * j + l] = -0.25 * 54;
        expect(diffIdx(deq(type, b, 256), e)).toEqual([]);
      });
    }

    it('reads the documented bytes: j=5 sc from s[9] low nibble and s[1] top bits, m from s[9] high nibble and s[5] top bits', () => {
      const b = kBlock(type, H_ONE, H_ONE);
      b.fill(0x11, qsOff); // level 1 everywhere
      const s = K4.scales;
      b[s + 9] = 0x3a; // sc low = 10, m low = 3
      b[s + 1] = 0x80; // sc high = 2 -> sc = 42 (and sc(1) = 0)
      b[s + 5] = 0x40; // m high = 1 -> m = 19 (and m(1) = 0)
      const y = deq(type, b, 256);
      const e = new Float32Array(256);
      for (let l = 0; l < 32; l++) e[160 + l] = 42 * 1 - 19;
      expect(diffIdx(y, e)).toEqual([]);
    });

    it('maps low nibbles of qs[32g+l] to element 64g+l and high nibbles to 64g+32+l', () => {
      for (let g = 0; g < 4; g++) {
        for (const high of [false, true]) {
          const b = kBlock(type, H_ONE, H_ONE);
          for (let j = 0; j < 8; j++) putScaleMin(b, K4.scales, j, 1, 0);
          const l = 5 + 7 * g;
          b[qsOff + 32 * g + l] = high ? 0x90 : 0x09;
          const e = new Float32Array(256);
          e[64 * g + (high ? 32 : 0) + l] = 9;
          expect(diffIdx(deq(type, b, 256), e)).toEqual([]);
        }
      }
    });

    it('handles a negative d and rounds d1*q - m1 once in float32', () => {
      const b = kBlock(type, H_MINUS_ONE, H_ONE);
      putScaleMin(b, K4.scales, 0, 2, 0);
      b[qsOff] = 0x05;
      expect(deq(type, b, 256)[0]).toBe(-10);

      // d = 1 + 2^-10, sc = 63, q = 15: d1*q = 945 + 945/1024 exactly; m1 = dmin*m = 3*2^-24 is below
      // half an ulp of the product, so the float32 result is the product itself (double arithmetic
      // rounded once to float32 gives the same)
      const c = kBlock(type, 0x3c01, 0x0001);
      putScaleMin(c, K4.scales, 2, 63, 3);
      c[qsOff + 32] = 0x0f; // group 1, low nibble, element 64
      const y = deq(type, c, 256);
      const d1 = Math.fround((1 + 2 ** -10) * 63);
      expect(y[64]).toBe(Math.fround(Math.fround(d1 * 15) - 3 * 2 ** -24));
      expect(y[64]).toBe(945 + 945 / 1024);
      // m1 = 10*63 * 2^-24 = 0.615 ulp of the product (ulp 2^-14 at 945): rounds to one ulp below
      putHalf(c, 2, 0x000a);
      putScaleMin(c, K4.scales, 2, 63, 63);
      expect(deq(type, c, 256)[64]).toBe(945 + 945 / 1024 - 2 ** -14);
      // m1 = exactly half an ulp: the tie goes to the even neighbour (the product, 15498000 ulps)
      putHalf(c, 2, 0x0200);
      putScaleMin(c, K4.scales, 2, 63, 1);
      expect(deq(type, c, 256)[64]).toBe(945 + 945 / 1024);
    });
  });
}

describe('Q5_K fifth bit', () => {
  for (let g = 0; g < 4; g++) {
    for (const high of [false, true]) {
      it(`qh bit ${2 * g + (high ? 1 : 0)} adds 16 to the ${high ? 'high' : 'low'}-nibble element of group ${g}`, () => {
        const b = kBlock(Q5_K, H_ONE, H_ONE);
        for (let j = 0; j < 8; j++) putScaleMin(b, K5.scales, j, 1, 0);
        b.fill(0x22, K5.qs); // level 2 everywhere
        const l = 3 + 9 * g;
        b[K5.qh + l] = 1 << (2 * g + (high ? 1 : 0));
        const e = new Float32Array(256).fill(2);
        e[64 * g + (high ? 32 : 0) + l] = 18;
        expect(diffIdx(deq(Q5_K, b, 256), e)).toEqual([]);
      });
    }
  }

  it('reaches level 31 with all bits set', () => {
    const b = kBlock(Q5_K, H_HALF, H_ONE);
    for (let j = 0; j < 8; j++) putScaleMin(b, K5.scales, j, 2, 1);
    b.fill(0xff, K5.qs);
    b.fill(0xff, K5.qh, K5.qh + 32);
    expect(diffIdx(deq(Q5_K, b, 256), new Float32Array(256).fill(0.5 * 2 * 31 - 1))).toEqual([]);
  });
});

describe('Q6_K', () => {
  /** All-zero values: ql nibbles 0 and qh pairs 2 give level 32, q = 0. */
  function q6(d: number): Uint8Array {
    const b = new Uint8Array(K6.bytes);
    b.fill(0xaa, K6.qh, K6.qh + 64);
    b.fill(1, K6.scales, K6.scales + 16);
    putHalf(b, K6.d, d);
    return b;
  }

  it('is all zero at level 32', () => {
    expect(diffIdx(deq(Q6_K, q6(H_ONE), 256), new Float32Array(256))).toEqual([]);
  });

  for (let h = 0; h < 2; h++) {
    for (let p = 0; p < 4; p++) {
      it(`half ${h}, quarter q${p + 1}: its ql nibble lands on element 128h + l + ${32 * p}`, () => {
        for (const l of [0, 15, 16, 31]) {
          const b = q6(H_ONE);
          // q1: ql[l] low, q2: ql[l+32] low, q3: ql[l] high, q4: ql[l+32] high
          const byte = K6.ql + 64 * h + l + (p & 1 ? 32 : 0);
          b[byte] = p < 2 ? 0x07 : 0x70;
          const e = new Float32Array(256);
          e[128 * h + l + 32 * p] = 7;
          expect(diffIdx(deq(Q6_K, b, 256), e)).toEqual([]);
        }
      });

      it(`half ${h}, qh bits ${2 * p}-${2 * p + 1}: the high pair of element 128h + l + ${32 * p}`, () => {
        for (const [pair, v] of [
          [0, -32],
          [1, -16],
          [3, 16],
        ]) {
          const b = q6(H_ONE);
          const l = 21;
          const q = K6.qh + 32 * h + l;
          b[q] = (b[q] & ~(3 << (2 * p))) | (pair << (2 * p));
          const e = new Float32Array(256);
          e[128 * h + l + 32 * p] = v;
          expect(diffIdx(deq(Q6_K, b, 256), e)).toEqual([]);
        }
      });

      for (let is = 0; is < 2; is++) {
        it(`half ${h}: scales[${8 * h + is + 2 * p}] scales exactly elements ${128 * h + 32 * p + 16 * is}..+15`, () => {
          const b = q6(H_HALF);
          b.fill(0x11, K6.ql, K6.ql + 128); // level 33 -> q = 1 everywhere
          b.fill(0, K6.scales, K6.scales + 16);
          b[K6.scales + 8 * h + is + 2 * p] = 0xfd; // -3
          const e = new Float32Array(256);
          for (let l = 0; l < 16; l++) e[128 * h + 32 * p + 16 * is + l] = -1.5;
          expect(diffIdx(deq(Q6_K, b, 256), e)).toEqual([]);
        });
      }
    }
  }

  it('multiplies negative i8 scales, negative d and extreme levels exactly', () => {
    const b = q6(H_QUARTER);
    b[K6.scales] = 0x80; // -128
    b[K6.ql] = 0x0f; // element 0: low 15, qh pair 2 -> 47 -> q = 15
    b[K6.qh] = 0xa8; // element 0 pair 0 -> 0: level 15 -> q = -17
    expect(deq(Q6_K, b, 256)[0]).toBe(0.25 * -128 * -17);
    b[K6.qh] = 0xab; // pair 3 -> level 63 -> q = 31
    expect(deq(Q6_K, b, 256)[0]).toBe(0.25 * -128 * 31);
    putHalf(b, K6.d, H_MINUS_ONE);
    b[K6.scales + 15] = 127;
    b[K6.ql + 64 + 32 + 31] = 0xf0; // half 1, l = 31, q4 (element 255): ql[l+32] high nibble 15
    b[K6.qh + 32 + 31] = 0xea; // pair 3 -> 3: level 63 -> q = 31
    const y = deq(Q6_K, b, 256);
    expect(y[0]).toBe(-1 * -128 * 31);
    expect(y[255]).toBe(-1 * 127 * 31);
    // the largest product d*scale*q still fits float32 exactly
    const c = q6(0x3bff); // d = 1 - 2^-11 (11 significant bits)
    c[K6.scales] = 127;
    c[K6.ql] = 0x0f;
    c[K6.qh] = 0xab;
    expect(deq(Q6_K, c, 256)[0]).toBe((1 - 2 ** -11) * 127 * 31);
  });
});
