/**
 * IQ4_XS: 256 elements per 136-byte super-block: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128].
 * Sub-block ib (0..7) of 32 elements has the 6-bit scale
 *   ls = (scales_l[ib >> 1] >> 4*(ib & 1)) & 15 | ((scales_h >> 2*ib) & 3) << 4
 * and dl = d * (ls - 32); its bytes qs[16ib..16ib+15] hold the IQ4_NL table indices: element
 * 32ib + j (j < 16) the low nibble of qs[16ib+j], element 32ib + 16 + j the high nibble;
 * value = dl * KVALUES_IQ4NL[nibble], evaluated as (d * (ls - 32)) * value like ggml.
 *
 * Exactness: d * (ls - 32) has at most 11 + 6 significant bits and times a 7-bit table value at most
 * 24, so both float32 products are exact and the JS result is bit-identical.
 */
import { newFields, pair, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, nearestInt, type FormatCodec } from './codec';
import { QK_K } from './kcommon';
import { KVALUES_IQ4NL as KV, iq4Scale, nearestIq4 } from './iq4_nl';
import type { FormatSpec } from './spec';

const BYTES = 136;

/** The 6-bit scale of sub-block ib from the block at o (biased by 32). */
function scaleXs(src: Uint8Array, o: number, ib: number): number {
  const sh = src[o + 2] | (src[o + 3] << 8);
  return ((src[o + 4 + (ib >> 1)] >> (4 * (ib & 1))) & 15) | (((sh >> (2 * ib)) & 3) << 4);
}

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('IQ4_XS', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    for (let ib = 0; ib < 8; ib++) {
      const dl = fr(d * (scaleXs(src, o, ib) - 32));
      const q = o + 8 + 16 * ib;
      const yy = y + 32 * ib;
      for (let j = 0; j < 16; j++) {
        const b = src[q + j];
        dst[yy + j] = dl * KV[b & 15];
        dst[yy + j + 16] = dl * KV[b >> 4];
      }
    }
  }
}

const L = new Uint8Array(QK_K);
const scales = new Float64Array(8);

/**
 * Like quantize_row_iq4_xs_ref: a signed scale per 32 elements (iq4Scale), the scales quantized to 6
 * bits against the largest-magnitude one (which maps to -32), then each element's level re-chosen
 * against its stored scale d * (ls - 32).
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('IQ4_XS', k, QK_K, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK_K;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK_K;
    const o = dstOff + i * BYTES;
    let maxScale = 0;
    for (let ib = 0; ib < 8; ib++) {
      const s = iq4Scale(src, x + 32 * ib, 32, L, 32 * ib);
      scales[ib] = s;
      if (Math.abs(s) > Math.abs(maxScale)) maxScale = s;
    }
    for (let b = 0; b < BYTES; b++) dst[o + b] = 0;
    if (!maxScale || !Number.isFinite(maxScale)) continue; // d = 0: an all-zero block
    const hd = halfScale(-maxScale / 32);
    dst[o] = hd & 255;
    dst[o + 1] = hd >> 8;
    const d = FP16_TABLE[hd];
    const id = d ? 1 / d : 0;
    let sh = 0;
    for (let ib = 0; ib < 8; ib++) {
      const l = Math.min(31, Math.max(-32, nearestInt(id * scales[ib])));
      const ls = l + 32;
      dst[o + 4 + (ib >> 1)] |= (ls & 15) << (4 * (ib & 1));
      sh |= (ls >> 4) << (2 * ib);
      const dl = d * l;
      if (dl && Number.isFinite(dl)) {
        const xo = x + 32 * ib;
        for (let j = 0; j < 32; j++) L[32 * ib + j] = nearestIq4(src[xo + j] / dl);
      }
      const q = o + 8 + 16 * ib;
      for (let j = 0; j < 16; j++) dst[q + j] = L[32 * ib + j] | (L[32 * ib + j + 16] << 4);
    }
    dst[o + 2] = sh & 255;
    dst[o + 3] = sh >> 8;
  }
}

export const IQ4_XS: FormatCodec = {
  typeId: 23,
  name: 'IQ4_XS',
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
  const dl = new Float64Array(8);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * BYTES;
    for (let b = 0; b < nb; b++, o += BYTES) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      for (let ib = 0; ib < 8; ib++) dl[ib] = fround(d * (scaleXs(data, o, ib) - 32));
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        let a = acc[r];
        for (let ib = 0; ib < 8; ib++) {
          const q = o + 8 + 16 * ib;
          const xl = xb + 32 * ib;
          let s0 = 0;
          let s1 = 0;
          for (let l = 0; l < 16; l++) {
            const v = data[q + l];
            s0 += KV[v & 15] * x[xl + l];
            s1 += KV[v >> 4] * x[xl + l + 16];
          }
          a = fround(a + fround(dl[ib] * fround(s0 + s1)));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decIQ4_XS(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
): void {
  const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  for (let ib = 0; ib < 8; ib++) {
    sc[dso + 4 * ib] = d * (scaleXs(data, o, ib) - 32); // 11 x 6 bits: exact
    sc[mso + 4 * ib] = 0;
    const b = o + 8 + 16 * ib;
    const t = qo + 128 * ib;
    for (let l = 0; l < 16; l++) {
      const v = data[b + l];
      q[t + 4 * l] = KV[v & 15];
      q[t + 4 * l + 64] = KV[v >> 4];
    }
  }
}

/** IQ4_XS fields: 8 sub-blocks of 32, d * (scale - 32) * level[nibble] (the product in float32). */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  const f = newFields(k, QK_K, 32, 0, KV);
  const fr = Math.fround;
  const lists: { s: number; c: number }[][] = [];
  for (let b = 0; b < k / QK_K; b++) {
    const o = off + b * BYTES;
    const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
    const list: { s: number; c: number }[] = [];
    for (let ib = 0; ib < 8; ib++) {
      list.push({ s: fr(d * (scaleXs(data, o, ib) - 32)), c: 0 });
      for (let j = 0; j < 16; j++) {
        const v = data[o + 8 + 16 * ib + j];
        const i = b * QK_K + 32 * ib + j;
        f.lo[i] = v & 15;
        f.lo[i + 16] = v >> 4;
        f.q[i] = KV[f.lo[i]];
        f.q[i + 16] = KV[f.lo[i + 16]];
        f.s[i] = f.s[i + 16] = list[ib].s;
        f.sub[i] = f.sub[i + 16] = ib;
        pair(f, i, i + 16);
      }
    }
    lists.push(list);
  }
  f.blockScales = (i) => lists[Math.floor(i / QK_K)];
  return f;
}

export const IQ4_XS_SPEC: FormatSpec = {
  id: 23,
  name: 'IQ4_XS',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: IQ4_XS,
  scaleOffsets: [0],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decIQ4_XS, E: 256, B: BYTES, S: 32, mins: false } },
  gpu: {
    stem: 'iq4_xs',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // Hopper: bfloat16 warpgroup kernels above m = 16 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel: m = 16: 35.5 / 41.1 us, 24: 42.9 / 41.7, 32: 44.8 /
    // 42.5, 64: 65.1 / 47.0)
    wgmmaBf16Above: 16,
  },
  fields: { decode: fieldsRow, traits: { nibbles: true, subScales: true } },
};
