/**
 * A quantized weight row split the way the int8 kernels multiply it: w[i] = a[i] - c[g] exactly (real
 * arithmetic, float64 holds every value exactly), with a[i] the scale(s) times the weight integer and
 * c[g] the offset of the 32-element group g = i / 32:
 *   Q4_0  a = d * q (q = nibble 0..15), c = 8 d
 *   Q8_0  a = d * q (q int8), c = 0
 *   Q4_K  a = d * sc * q (q 0..15), c = dmin * m of the sub-block
 *   Q5_K  a = d * sc * q (q 0..31), c = dmin * m of the sub-block
 *   Q6_K  a = d * sc * (q - 32), c = 0 (its offset is always in the integers)
 *   Q4_1  a = d * q (q 0..15), c = -m        Q5_1  a = d * q (q 0..31), c = -m
 *   Q5_0  a = d * q (q 0..31), c = 16 d
 *   Q2_K  a = d * sc * q - dmin * m of the 16-element sub-block, c = 0 (folded: its kernels meet the
 *         min with sums of the quantized x)
 *   Q3_K  a = d * (sc - 32) * (q - 4 where the high bit is clear), c = 0 (the -4 is in the integers)
 *   IQ4_NL, IQ4_XS  a = d (* (ls - 32) for IQ4_XS) * level, c = 0
 * For the offset forms that meet the quantized x ('integer', 'quantized-sum', 'none') a[i] - c[g] is
 * folded into a[i] and c is zero; for the exact-sum forms c stays separate (it meets the sum of x).
 */
import { FP16_TABLE } from '../formats/half';
import { scaleMinK4 } from '../formats/kcommon';
import { KVALUES_IQ4NL } from '../formats/iq4_nl';
import { GgmlType, rowBytes, typeName } from '../ggml-types';
import type { OffsetForm } from './schemes';

/** Fills a[aOff .. aOff+k) and c[cOff .. cOff+k/32) from the row at src[off]. */
export function splitRow(
  type: number,
  form: OffsetForm,
  src: Uint8Array,
  off: number,
  k: number,
  a: Float64Array,
  aOff: number,
  c: Float64Array,
  cOff: number,
): void {
  const groups = k / 32;
  for (let g = 0; g < groups; g++) c[cOff + g] = 0;
  switch (type) {
    case GgmlType.Q4_0:
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * 18;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const y = aOff + b * 32;
        for (let j = 0; j < 16; j++) {
          const v = src[o + 2 + j];
          a[y + j] = d * (v & 15);
          a[y + j + 16] = d * (v >> 4);
        }
        c[cOff + b] = 8 * d;
      }
      break;
    case GgmlType.Q8_0:
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * 34;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const y = aOff + b * 32;
        for (let j = 0; j < 32; j++) a[y + j] = d * ((src[o + 2 + j] << 24) >> 24);
      }
      break;
    case GgmlType.Q4_K:
    case GgmlType.Q5_K: {
      const q5 = type === GgmlType.Q5_K;
      const bb = q5 ? 176 : 144;
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * bb;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const dmin = FP16_TABLE[src[o + 2] | (src[o + 3] << 8)];
        const qs = o + (q5 ? 48 : 16);
        for (let g = 0; g < 4; g++) {
          const sm1 = scaleMinK4(2 * g, src, o + 4);
          const sm2 = scaleMinK4(2 * g + 1, src, o + 4);
          const d1 = d * (sm1 & 63);
          const d2 = d * (sm2 & 63);
          const y = aOff + b * 256 + 64 * g;
          for (let l = 0; l < 32; l++) {
            const v = src[qs + 32 * g + l];
            let lo = v & 15;
            let hi = v >> 4;
            if (q5) {
              const h = src[o + 16 + l] >> (2 * g);
              lo |= (h & 1) << 4;
              hi |= (h & 2) << 3;
            }
            a[y + l] = d1 * lo;
            a[y + 32 + l] = d2 * hi;
          }
          c[cOff + b * 8 + 2 * g] = dmin * (sm1 >> 8);
          c[cOff + b * 8 + 2 * g + 1] = dmin * (sm2 >> 8);
        }
      }
      break;
    }
    case GgmlType.Q6_K:
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * 210;
        const d = FP16_TABLE[src[o + 208] | (src[o + 209] << 8)];
        for (let h = 0; h < 2; h++) {
          const ql = o + 64 * h;
          const qh = o + 128 + 32 * h;
          const sc = o + 192 + 8 * h;
          const y = aOff + b * 256 + 128 * h;
          for (let is = 0; is < 2; is++) {
            const s1 = d * ((src[sc + is] << 24) >> 24);
            const s2 = d * ((src[sc + is + 2] << 24) >> 24);
            const s3 = d * ((src[sc + is + 4] << 24) >> 24);
            const s4 = d * ((src[sc + is + 6] << 24) >> 24);
            for (let l = 16 * is; l < 16 * is + 16; l++) {
              const lq = src[ql + l];
              const lq2 = src[ql + l + 32];
              const hb = src[qh + l];
              a[y + l] = s1 * (((lq & 15) | ((hb & 3) << 4)) - 32);
              a[y + l + 32] = s2 * (((lq2 & 15) | (((hb >> 2) & 3) << 4)) - 32);
              a[y + l + 64] = s3 * (((lq >> 4) | (((hb >> 4) & 3) << 4)) - 32);
              a[y + l + 96] = s4 * (((lq2 >> 4) | (((hb >> 6) & 3) << 4)) - 32);
            }
          }
        }
      }
      break;
    case GgmlType.Q4_1:
    case GgmlType.Q5_0:
    case GgmlType.Q5_1: {
      const hasMin = type !== GgmlType.Q5_0;
      const five = type !== GgmlType.Q4_1;
      const bb = type === GgmlType.Q4_1 ? 20 : type === GgmlType.Q5_0 ? 22 : 24;
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * bb;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const mn = hasMin ? FP16_TABLE[src[o + 2] | (src[o + 3] << 8)] : 0;
        const hq = o + (hasMin ? 4 : 2);
        const qh = five
          ? (src[hq] | (src[hq + 1] << 8) | (src[hq + 2] << 16) | (src[hq + 3] << 24)) >>> 0
          : 0;
        const qs = hq + (five ? 4 : 0);
        const y = aOff + b * 32;
        for (let j = 0; j < 16; j++) {
          const v = src[qs + j];
          const h0 = five ? ((qh >>> j) & 1) << 4 : 0;
          const h1 = five ? ((qh >>> (j + 16)) & 1) << 4 : 0;
          a[y + j] = d * ((v & 15) | h0);
          a[y + j + 16] = d * ((v >> 4) | h1);
        }
        c[cOff + b] = hasMin ? -mn : 16 * d;
      }
      break;
    }
    case GgmlType.Q2_K:
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * 84;
        const d = FP16_TABLE[src[o + 80] | (src[o + 81] << 8)];
        const dmin = FP16_TABLE[src[o + 82] | (src[o + 83] << 8)];
        let is = 0;
        for (let n = 0; n < 2; n++) {
          const q = o + 16 + 32 * n;
          for (let j = 0; j < 4; j++) {
            const shift = 2 * j;
            for (let half = 0; half < 2; half++) {
              const sc = src[o + is++];
              const dl = d * (sc & 15);
              const ml = dmin * (sc >> 4);
              const y = aOff + b * 256 + 128 * n + 32 * j + 16 * half;
              for (let l = 0; l < 16; l++) a[y + l] = dl * ((src[q + 16 * half + l] >> shift) & 3) - ml;
            }
          }
        }
      }
      break;
    case GgmlType.Q3_K:
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * 110;
        const d = FP16_TABLE[src[o + 108] | (src[o + 109] << 8)];
        const sb = o + 96;
        // the 16 six-bit scales: low 4 bits from bytes 0..7, high 2 bits from bytes 8..11
        const scales = new Int32Array(16);
        for (let i = 0; i < 16; i++) {
          const lo = i < 8 ? src[sb + i] & 15 : src[sb + i - 8] >> 4;
          const hi = (src[sb + 8 + (i % 4)] >> (2 * Math.floor(i / 4))) & 3;
          scales[i] = (lo | (hi << 4)) - 32;
        }
        let is = 0;
        let mbit = 1;
        for (let n = 0; n < 2; n++) {
          const q = o + 32 + 32 * n;
          for (let j = 0; j < 4; j++) {
            const shift = 2 * j;
            for (let half = 0; half < 2; half++) {
              const dl = d * scales[is++];
              const y = aOff + b * 256 + 128 * n + 32 * j + 16 * half;
              for (let l = 0; l < 16; l++) {
                const li = 16 * half + l;
                const qv = ((src[q + li] >> shift) & 3) - (src[o + li] & mbit ? 0 : 4);
                a[y + l] = dl * qv;
              }
            }
            mbit <<= 1;
          }
        }
      }
      break;
    case GgmlType.IQ4_NL:
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * 18;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const y = aOff + b * 32;
        for (let j = 0; j < 16; j++) {
          const v = src[o + 2 + j];
          a[y + j] = d * KVALUES_IQ4NL[v & 15];
          a[y + j + 16] = d * KVALUES_IQ4NL[v >> 4];
        }
      }
      break;
    case GgmlType.IQ4_XS:
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * 136;
        const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
        const sh = src[o + 2] | (src[o + 3] << 8);
        for (let ib = 0; ib < 8; ib++) {
          const ls = ((src[o + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
          const dl = d * (ls - 32);
          const qs = o + 8 + 16 * ib;
          const y = aOff + b * 256 + 32 * ib;
          for (let j = 0; j < 16; j++) {
            const v = src[qs + j];
            a[y + j] = dl * KVALUES_IQ4NL[v & 15];
            a[y + j + 16] = dl * KVALUES_IQ4NL[v >> 4];
          }
        }
      }
      break;
    default:
      throw new Error(`${typeName(type)}: int8 activations need a quantized format with an int8 kernel`);
  }
  if (form !== 'exact-sum' && form !== 'exact-sum-tf32') {
    for (let g = 0; g < groups; g++) {
      const cg = c[cOff + g];
      if (cg === 0) continue;
      const y = aOff + g * 32;
      for (let i = 0; i < 32; i++) a[y + i] -= cg;
      c[cOff + g] = 0;
    }
  }
}

/** Bytes per row, checked: k a multiple of 32 (int8 activations) and of the block size. */
export function splitRowBytes(type: number, k: number): number {
  if (k % 32 !== 0) throw new Error(`${typeName(type)}: k=${k} is not a multiple of 32`);
  return rowBytes(type, k);
}
