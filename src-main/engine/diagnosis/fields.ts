/**
 * A quantized row decoded into its per-element fields, so that a wrong weight can be explained:
 *   w[i] = s[i] * (q[i] - qoff) - c[i]
 * with q the stored integer (Q4_0 nibble 0..15, Q8_0 int8, Q4_K nibble, Q5_K 5 bits, Q6_K 6 bits),
 * lo[i] its low nibble (the 4 bits stored in a nibble array), s the element's multiplier (d, or d * the
 * sub-block scale), c the sub-block's subtracted minimum (dmin * m; 0 elsewhere), sub the index of the
 * scale sub-block within the block, and partner[i] the element that shares q's byte in the other nibble.
 */
import { FP16_TABLE } from '../formats/half';
import { scaleMinK4 } from '../formats/kcommon';
import { GgmlType, rowBytes } from '../ggml-types';

export interface RowFields {
  q: Int32Array;
  lo: Int32Array;
  s: Float64Array;
  c: Float64Array;
  sub: Int32Array;
  partner: Int32Array;
  /** the integer offset subtracted from q: 8 (Q4_0), 32 (Q6_K), else 0 */
  qoff: number;
  /** per element: the multipliers of every sub-block of its block, for scale-index hypotheses */
  blockScales: (i: number) => { s: number; c: number }[];
  /** elements per block and per scale sub-block */
  blockElems: number;
  subElems: number;
}

export function isQuantized(type: number): boolean {
  return (
    type === GgmlType.Q4_0 ||
    type === GgmlType.Q8_0 ||
    type === GgmlType.Q4_K ||
    type === GgmlType.Q5_K ||
    type === GgmlType.Q6_K
  );
}

export function decodeRow(type: number, data: Uint8Array, row: number, k: number): RowFields {
  const off = row * rowBytes(type, k);
  const q = new Int32Array(k);
  const lo = new Int32Array(k);
  const s = new Float64Array(k);
  const c = new Float64Array(k);
  const sub = new Int32Array(k);
  const partner = new Int32Array(k).fill(-1);
  const half = (o: number) => FP16_TABLE[data[o] | (data[o + 1] << 8)];
  let qoff = 0;
  let blockElems = 32;
  let subElems = 32;
  let blockScales: RowFields['blockScales'] = () => [];
  switch (type) {
    case GgmlType.Q4_0:
      qoff = 8;
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * 18;
        const d = half(o);
        for (let j = 0; j < 16; j++) {
          const v = data[o + 2 + j];
          const i = b * 32 + j;
          q[i] = lo[i] = v & 15;
          q[i + 16] = lo[i + 16] = v >> 4;
          s[i] = s[i + 16] = d;
          partner[i] = i + 16;
          partner[i + 16] = i;
        }
      }
      break;
    case GgmlType.Q8_0:
      for (let b = 0; b < k / 32; b++) {
        const o = off + b * 34;
        const d = half(o);
        for (let j = 0; j < 32; j++) {
          q[b * 32 + j] = (data[o + 2 + j] << 24) >> 24;
          lo[b * 32 + j] = q[b * 32 + j];
          s[b * 32 + j] = d;
        }
      }
      break;
    case GgmlType.Q4_K:
    case GgmlType.Q5_K: {
      const q5 = type === GgmlType.Q5_K;
      const bb = q5 ? 176 : 144;
      blockElems = 256;
      const scales: { s: number; c: number }[][] = [];
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * bb;
        const d = half(o);
        const dmin = half(o + 2);
        const qs = o + (q5 ? 48 : 16);
        const list: { s: number; c: number }[] = [];
        for (let j = 0; j < 8; j++) {
          const sm = scaleMinK4(j, data, o + 4);
          list.push({ s: d * (sm & 63), c: dmin * (sm >> 8) });
        }
        scales.push(list);
        for (let g = 0; g < 4; g++)
          for (let l = 0; l < 32; l++) {
            const v = data[qs + 32 * g + l];
            const h = q5 ? data[o + 16 + l] >> (2 * g) : 0;
            const i = b * 256 + 64 * g + l;
            lo[i] = v & 15;
            lo[i + 32] = v >> 4;
            q[i] = lo[i] | ((h & 1) << 4);
            q[i + 32] = lo[i + 32] | ((h & 2) << 3);
            sub[i] = 2 * g;
            sub[i + 32] = 2 * g + 1;
            s[i] = list[2 * g].s;
            c[i] = list[2 * g].c;
            s[i + 32] = list[2 * g + 1].s;
            c[i + 32] = list[2 * g + 1].c;
            partner[i] = i + 32;
            partner[i + 32] = i;
          }
      }
      blockScales = (i) => scales[Math.floor(i / 256)];
      break;
    }
    case GgmlType.Q6_K: {
      qoff = 32;
      blockElems = 256;
      subElems = 16;
      const scales: { s: number; c: number }[][] = [];
      for (let b = 0; b < k / 256; b++) {
        const o = off + b * 210;
        const d = half(o + 208);
        const list: { s: number; c: number }[] = [];
        for (let j = 0; j < 16; j++) list.push({ s: d * ((data[o + 192 + j] << 24) >> 24), c: 0 });
        scales.push(list);
        for (let h = 0; h < 2; h++)
          for (let l = 0; l < 32; l++) {
            const a = data[o + 64 * h + l];
            const a2 = data[o + 64 * h + l + 32];
            const hb = data[o + 128 + 32 * h + l];
            const is = l >> 4;
            const base = b * 256 + 128 * h + l;
            const vals = [
              [a & 15, hb & 3, 0],
              [a2 & 15, (hb >> 2) & 3, 2],
              [a >> 4, (hb >> 4) & 3, 4],
              [a2 >> 4, (hb >> 6) & 3, 6],
            ];
            for (let t = 0; t < 4; t++) {
              const i = base + 32 * t;
              lo[i] = vals[t][0];
              q[i] = vals[t][0] | (vals[t][1] << 4);
              sub[i] = 8 * h + is + vals[t][2];
              s[i] = list[sub[i]].s;
            }
            partner[base] = base + 64;
            partner[base + 64] = base;
            partner[base + 32] = base + 96;
            partner[base + 96] = base + 32;
          }
      }
      blockScales = (i) => scales[Math.floor(i / 256)];
      break;
    }
    default:
      throw new Error(`type ${type} has no quantized fields`);
  }
  return { q, lo, s, c, sub, partner, qoff, blockScales, blockElems, subElems };
}
