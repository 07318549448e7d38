/**
 * Q2_K: 256 elements per 84-byte super-block: u8 scales[16]; u8 qs[64]; half d; half dmin.
 * Sub-block s (0..15) of 16 elements has scale sc = scales[s] & 15 and min mn = scales[s] >> 4.
 * Half h (0..1) uses qs[32h..32h+31]; within it, shift pair p (0..3) holds 32 elements:
 *   element 128h + 32p + l      (l < 16) = (qs[32h + l] >> 2p) & 3,      sub-block 8h + 2p
 *   element 128h + 32p + 16 + l (l < 16) = (qs[32h + 16 + l] >> 2p) & 3, sub-block 8h + 2p + 1
 * value = (d * sc) * q - (dmin * mn).
 *
 * Exactness: d * sc and dmin * mn (11 x 4 bits) and (d*sc) * q (15 x 2 bits) are exact in float32, so
 * only the subtraction rounds, once (as Q4_K); an FMA contraction gives the same bits.
 */
import { newFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import { QK_K, kGrids, makeQkx2 } from './kcommon';
import type { FormatSpec } from './spec';

const BYTES = 84;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q2_K', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o + 80] | (src[o + 81] << 8)];
    const dmin = FP16_TABLE[src[o + 82] | (src[o + 83] << 8)];
    for (let s = 0; s < 16; s++) {
      const sc = src[o + s];
      const dl = fr(d * (sc & 15));
      const ml = fr(dmin * (sc >> 4));
      const h = s >> 3;
      const sh = 2 * ((s & 7) >> 1);
      const q = o + 16 + 32 * h + 16 * (s & 1);
      const yy = y + 16 * s;
      for (let l = 0; l < 16; l++) dst[yy + l] = dl * ((src[q + l] >> sh) & 3) - ml;
    }
  }
}

/** Packs 256 2-bit levels into the 64 bytes at dst[o..] (the Q2_K / Q3_K low-bit layout). */
export function pack2bit(L: Uint8Array, dst: Uint8Array, o: number): void {
  for (let h = 0; h < 2; h++) {
    const b = 128 * h;
    for (let l = 0; l < 32; l++)
      dst[o + 32 * h + l] =
        (L[b + l] & 3) | ((L[b + l + 32] & 3) << 2) | ((L[b + l + 64] & 3) << 4) | ((L[b + l + 96] & 3) << 6);
  }
}

const L = new Uint8Array(QK_K);
const scales = new Float64Array(16);
const mins = new Float64Array(16);
const res = new Float64Array(2);

/**
 * Like quantize_row_q2_K_ref: per 16-element sub-block a weighted scale + min fit with levels 0..3
 * (makeQkx2, nmax 3), scales and mins quantized to 4 bits against the block maxima, then every element
 * re-rounded against the stored scale and min.
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q2_K', k, QK_K, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK_K;
  const grids = kGrids(3);
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK_K;
    const o = dstOff + i * BYTES;
    let maxScale = 0;
    let maxMin = 0;
    for (let s = 0; s < 16; s++) {
      makeQkx2(src, x + 16 * s, 16, 3, grids, L, 16 * s, res);
      scales[s] = res[0];
      mins[s] = res[1];
      if (res[0] > maxScale) maxScale = res[0];
      if (res[1] > maxMin) maxMin = res[1];
    }
    const iScale = maxScale > 0 ? 15 / maxScale : 0;
    const iMin = maxMin > 0 ? 15 / maxMin : 0;
    const hd = halfScale(maxScale / 15);
    const hm = halfScale(maxMin / 15);
    dst[o + 80] = hd & 255;
    dst[o + 81] = hd >> 8;
    dst[o + 82] = hm & 255;
    dst[o + 83] = hm >> 8;
    const d = FP16_TABLE[hd];
    const dmin = FP16_TABLE[hm];
    for (let s = 0; s < 16; s++) {
      const ls = Math.min(15, Math.max(0, Math.round(iScale * scales[s])));
      const lm = Math.min(15, Math.max(0, Math.round(iMin * mins[s])));
      dst[o + s] = ls | (lm << 4);
      const dd = d * ls;
      if (!dd || !Number.isFinite(dd)) continue; // keep the makeQkx2 levels
      const dm = dmin * lm;
      const xo = x + 16 * s;
      for (let l = 0; l < 16; l++) {
        const t = (src[xo + l] + dm) / dd;
        L[16 * s + l] = t >= 3 ? 3 : t > 0 ? (t + 0.5) | 0 : 0; // round half up, clamp, NaN -> 0
      }
    }
    pack2bit(L, dst, o + 16);
  }
}

export const Q2_K: FormatCodec = {
  typeId: 10,
  name: 'Q2_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product. Its mins are per 16 elements, finer than the SIMD kernel's
// activation sums (per 32), so every batch size runs these loops, which sum x per sub-block themselves.

const fround = Math.fround;

function cpuRows(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  _xs: Float32Array | null,
  m: number,
  out: Float32Array,
  acc: Float64Array,
): void {
  const nb = k >> 8;
  const dl = new Float64Array(16);
  const ml = new Float64Array(16);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * BYTES;
    for (let b = 0; b < nb; b++, o += BYTES) {
      const d = FP16_TABLE[data[o + 80] | (data[o + 81] << 8)];
      const dmin = FP16_TABLE[data[o + 82] | (data[o + 83] << 8)];
      for (let s = 0; s < 16; s++) {
        dl[s] = fround(d * (data[o + s] & 15));
        ml[s] = fround(dmin * (data[o + s] >> 4));
      }
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        let a = acc[r];
        for (let s = 0; s < 16; s++) {
          const sh = 2 * ((s & 7) >> 1);
          const q = o + 16 + 32 * (s >> 3) + 16 * (s & 1);
          const xl = xb + 16 * s;
          let sq = 0;
          let sx = 0;
          for (let l = 0; l < 16; l++) {
            const v = x[xl + l];
            sq += ((data[q + l] >> sh) & 3) * v;
            sx += v;
          }
          a = fround(a + fround(dl[s] * fround(sq) - ml[s] * fround(sx)));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

/** Q2_K fields: 16 sub-blocks of 16, d * scale * 2-bit value - dmin * min (both products in float32). */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  const f = newFields(k, QK_K, 16, 0);
  const fr = Math.fround;
  const lists: { s: number; c: number }[][] = [];
  for (let b = 0; b < k / QK_K; b++) {
    const o = off + b * BYTES;
    const d = FP16_TABLE[data[o + 80] | (data[o + 81] << 8)];
    const dmin = FP16_TABLE[data[o + 82] | (data[o + 83] << 8)];
    const list: { s: number; c: number }[] = [];
    for (let s = 0; s < 16; s++) {
      const sc = data[o + s];
      list.push({ s: fr(d * (sc & 15)), c: fr(dmin * (sc >> 4)) });
      const sh = 2 * ((s & 7) >> 1);
      const q = o + 16 + 32 * (s >> 3) + 16 * (s & 1);
      for (let l = 0; l < 16; l++) {
        const i = b * QK_K + 16 * s + l;
        f.q[i] = f.lo[i] = (data[q + l] >> sh) & 3;
        f.s[i] = list[s].s;
        f.c[i] = list[s].c;
        f.sub[i] = s;
      }
    }
    lists.push(list);
  }
  f.blockScales = (i) => lists[Math.floor(i / QK_K)];
  return f;
}

export const Q2_K_SPEC: FormatSpec = {
  id: 10,
  name: 'Q2_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: Q2_K,
  scaleOffsets: [80, 82],
  cpu: { rows: cpuRows, xsums: false },
  gpu: { stem: 'q2_k', paths: ['f32', 'int8', 'mma'] },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: false,
      minSign: true,
      subScales: true,
      offset: 'the Q2_K minimum term (-dmin * min per sub-block) is missing',
    },
  },
};
