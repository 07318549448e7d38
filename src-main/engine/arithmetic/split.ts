/**
 * A quantized weight row split the way the int8 kernels multiply it: w[i] = a[i] - c[g] exactly (real
 * arithmetic, float64 holds every value exactly), with a[i] the scale(s) times the weight integer and
 * c[g] the offset of the 32-element group g = i / 32:
 *   Q4_0  a = d * q (q = nibble 0..15), c = 8 d
 *   Q8_0  a = d * q (q int8), c = 0
 *   Q4_K  a = d * sc * q (q 0..15), c = dmin * m of the sub-block
 *   Q5_K  a = d * sc * q (q 0..31), c = dmin * m of the sub-block
 *   Q6_K  a = d * sc * (q - 32), c = 0 (its offset is always in the integers)
 * For the offset forms that meet the quantized x ('integer', 'quantized-sum', 'none') a[i] - c[g] is
 * folded into a[i] and c is zero; for the exact-sum forms c stays separate (it meets the sum of x).
 */
import { FP16_TABLE } from '../formats/half';
import { scaleMinK4 } from '../formats/kcommon';
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
    default:
      throw new Error(
        `${typeName(type)}: int8 activations need a quantized format (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K)`,
      );
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
