/**
 * Q3_K: 256 elements per 110-byte super-block: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d.
 * Sixteen 6-bit scales, biased by 32, are packed in scales[12] (s): scale i has low 4 bits
 * s[i] & 15 (i < 8) or s[i-8] >> 4 (i >= 8), and high 2 bits (s[8 + i%4] >> 2*(i/4)) & 3.
 * Element e (half h = e >> 7, shift pair p = (e >> 5) & 3, l = e & 31) has the low 2 bits
 * (qs[32h + l] >> 2p) & 3 and the high bit hmask[l] bit (e >> 5), i.e. bit 4h + p; its level is
 * low - (high bit set ? 0 : 4), in [-4, 3]. Sub-block e >> 4; value = (d * (scale - 32)) * level.
 *
 * Exactness: d * (scale - 32) has at most 11 + 6 significant bits and times a 3-bit level at most 20,
 * so both float32 products are exact and the JS result is bit-identical. No additions.
 */
import { newFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, nearestInt, type FormatCodec } from './codec';
import { QK_K, kGrids, makeQx } from './kcommon';
import { pack2bit } from './q2_k';
import type { FormatSpec } from './spec';

const BYTES = 110;

/** The 16 scales of the block at o, biased by 32 (0..63), into out[0..16). */
function scalesQ3(src: Uint8Array, o: number, out: Int32Array): void {
  const s = o + 96;
  for (let i = 0; i < 16; i++) {
    const lo = i < 8 ? src[s + i] & 15 : src[s + i - 8] >> 4;
    out[i] = lo | (((src[s + 8 + (i & 3)] >> (2 * (i >> 2))) & 3) << 4);
  }
}

const SC = new Int32Array(16);

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q3_K', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o + 108] | (src[o + 109] << 8)];
    scalesQ3(src, o, SC);
    for (let s = 0; s < 16; s++) {
      const dl = fr(d * (SC[s] - 32));
      const e0 = 16 * s;
      const bit = 1 << (e0 >> 5);
      const sh = 2 * ((e0 >> 5) & 3);
      const lo = e0 & 31;
      const q = o + 32 + 32 * (e0 >> 7) + lo;
      for (let l = 0; l < 16; l++) {
        const lev = ((src[q + l] >> sh) & 3) - (src[o + lo + l] & bit ? 0 : 4);
        dst[y + e0 + l] = dl * lev;
      }
    }
  }
}

const L = new Uint8Array(QK_K);
const scales = new Float64Array(16);

/**
 * Like quantize_row_q3_K_ref: a signed scale per 16 elements (makeQx, levels -4..3), the scales
 * quantized to 6 bits against the largest-magnitude one (which maps to -32), then every element
 * re-rounded to [-4, 3] against its stored scale and split into 2 low bits and the high bit.
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q3_K', k, QK_K, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK_K;
  const grids = kGrids(4);
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK_K;
    const o = dstOff + i * BYTES;
    for (let b = 0; b < BYTES; b++) dst[o + b] = 0;
    let maxScale = 0;
    for (let s = 0; s < 16; s++) {
      scales[s] = makeQx(src, x + 16 * s, 16, 4, grids);
      if (Math.abs(scales[s]) > Math.abs(maxScale)) maxScale = scales[s];
    }
    if (!(Math.abs(maxScale) >= 1e-15) || !Number.isFinite(maxScale)) continue; // d = 0: all zero
    const iscale = -32 / maxScale;
    const hd = halfScale(1 / iscale);
    dst[o + 108] = hd & 255;
    dst[o + 109] = hd >> 8;
    const d = FP16_TABLE[hd];
    for (let s = 0; s < 16; s++) {
      const ls = Math.min(31, Math.max(-32, nearestInt(iscale * scales[s]))) + 32;
      if (s < 8) dst[o + 96 + s] = ls & 15;
      else dst[o + 96 + s - 8] |= (ls & 15) << 4;
      dst[o + 104 + (s & 3)] |= (ls >> 4) << (2 * (s >> 2));
      const dl = d * (ls - 32);
      for (let l = 0; l < 16; l++) {
        const t = dl ? Math.round(src[x + 16 * s + l] / dl) : 0;
        // stored level = clamp(t, -4, 3) + 4, in 0..7; NaN -> level 0 (stored 4)
        L[16 * s + l] = t >= 3 ? 7 : t > -4 ? t + 4 : t <= -4 ? 0 : 4;
      }
    }
    for (let e = 0; e < QK_K; e++) {
      if (L[e] > 3) {
        dst[o + (e & 31)] |= 1 << (e >> 5);
        L[e] -= 4;
      }
    }
    pack2bit(L, dst, o + 32);
  }
}

export const Q3_K: FormatCodec = {
  typeId: 11,
  name: 'Q3_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product and the SIMD decoder

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
  const sc = new Int32Array(16);
  const dl = new Float64Array(16);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * BYTES;
    for (let b = 0; b < nb; b++, o += BYTES) {
      const d = FP16_TABLE[data[o + 108] | (data[o + 109] << 8)];
      scalesQ3(data, o, sc);
      for (let s = 0; s < 16; s++) dl[s] = fround(d * (sc[s] - 32));
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        let a = acc[r];
        for (let s = 0; s < 16; s++) {
          const e0 = 16 * s;
          const bit = 1 << (e0 >> 5);
          const sh = 2 * ((e0 >> 5) & 3);
          const lo = e0 & 31;
          const q = o + 32 + 32 * (e0 >> 7) + lo;
          const xl = xb + e0;
          let sum = 0;
          for (let l = 0; l < 16; l++)
            sum += (((data[q + l] >> sh) & 3) - (data[o + lo + l] & bit ? 0 : 4)) * x[xl + l];
          a = fround(a + fround(dl[s] * fround(sum)));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

const dSc = new Int32Array(16);

function decQ3_K(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
): void {
  const d = FP16_TABLE[data[o + 108] | (data[o + 109] << 8)];
  scalesQ3(data, o, dSc);
  for (let s = 0; s < 16; s++) {
    sc[dso + 4 * s] = d * (dSc[s] - 32); // 11 x 6 bits: exact
    sc[mso + 4 * s] = 0;
  }
  for (let e = 0; e < QK_K; e++) {
    const l = e & 31;
    const lev =
      ((data[o + 32 + 32 * (e >> 7) + l] >> (2 * ((e >> 5) & 3))) & 3) -
      (data[o + l] & (1 << (e >> 5)) ? 0 : 4);
    q[qo + 4 * e] = lev;
  }
}

/**
 * Q3_K fields: 16 sub-blocks of 16, d * (scale - 32) * (q - 4) with q = the 2 low bits + 4 * the hmask
 * bit (a set bit means no -4), so lo holds the 2 low bits and qoff is 4.
 */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  const f = newFields(k, QK_K, 16, 4);
  const fr = Math.fround;
  const sc = new Int32Array(16);
  const lists: { s: number; c: number }[][] = [];
  for (let b = 0; b < k / QK_K; b++) {
    const o = off + b * BYTES;
    const d = FP16_TABLE[data[o + 108] | (data[o + 109] << 8)];
    scalesQ3(data, o, sc);
    const list: { s: number; c: number }[] = [];
    for (let s = 0; s < 16; s++) {
      list.push({ s: fr(d * (sc[s] - 32)), c: 0 });
      const e0 = 16 * s;
      const bit = 1 << (e0 >> 5);
      const sh = 2 * ((e0 >> 5) & 3);
      const lo = e0 & 31;
      const q = o + 32 + 32 * (e0 >> 7) + lo;
      for (let l = 0; l < 16; l++) {
        const i = b * QK_K + e0 + l;
        f.lo[i] = (data[q + l] >> sh) & 3;
        f.q[i] = f.lo[i] + (data[o + lo + l] & bit ? 4 : 0);
        f.s[i] = list[s].s;
        f.sub[i] = s;
      }
    }
    lists.push(list);
  }
  f.blockScales = (i) => lists[Math.floor(i / QK_K)];
  return f;
}

export const Q3_K_SPEC: FormatSpec = {
  id: 11,
  name: 'Q3_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: Q3_K,
  scaleOffsets: [108],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decQ3_K, E: 256, B: BYTES, S: 16, mins: false } },
  gpu: {
    stem: 'q3_k',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // auto: int8 matrix units up to m = 64, bfloat16 tiles above (H200, n = 4096, k = 14336, hot:
    // int8 / bf16 49.6 / 88 us at m = 16 (16x256 tiles), 81.8 / 111.5 at 64 (64x256; 141 on 128x128),
    // 484 / 438 at 512)
    int8MmaUpTo: 64,
    int8MmaTiles: { 64: '64x256' },
    // Hopper: bfloat16 warpgroup kernels above m = 16 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel with the slice decode: m = 16: 49.4 / 51.6 us, 24: 63.5 /
    // 52.3, 32: 59.6 / 53.0, 64: 82.0 / 58.3)
    wgmmaBf16Above: 16,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: false,
      subScales: true,
      offset: 'the Q3_K offset (-4 where the hmask bit is clear) is missing',
      highBits: 'the hmask bit',
    },
  },
};
