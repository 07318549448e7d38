/**
 * Q5_K: 256 elements per 176-byte super-block: half d; half dmin; u8 scales[12]; u8 qh[32]; u8 qs[128].
 * As Q4_K plus a fifth bit: in group g the low-nibble element 64g+l adds 16 when qh[l] & (1 << 2g),
 * the high-nibble element 64g+32+l adds 16 when qh[l] & (2 << 2g).
 *
 * Exactness: as Q4_K (d1*q is 17 x 5 bits, exact; only the subtraction rounds, once; an FMA
 * contraction by GCC gives the same bits because the product is exact).
 */
import type { RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, type FormatCodec } from './codec';
import { QK_K, kFieldsRow, scaleMinK4 } from './kcommon';
import { quantizeRowKAsym } from './q4_k';
import type { FormatSpec } from './spec';
import { kScales, needSums } from './cpu-common';

const BYTES = 176;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q5_K', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const dmin = FP16_TABLE[src[o + 2] | (src[o + 3] << 8)];
    const s = o + 4;
    const qh = o + 16;
    for (let g = 0; g < 4; g++) {
      const sm1 = scaleMinK4(2 * g, src, s);
      const sm2 = scaleMinK4(2 * g + 1, src, s);
      const d1 = fr(d * (sm1 & 63));
      const m1 = fr(dmin * (sm1 >> 8));
      const d2 = fr(d * (sm2 & 63));
      const m2 = fr(dmin * (sm2 >> 8));
      const sh = 2 * g;
      const q = o + 48 + 32 * g;
      const yy = y + 64 * g;
      for (let l = 0; l < 32; l++) {
        const b = src[q + l];
        const h = src[qh + l] >> sh;
        dst[yy + l] = d1 * ((b & 15) | ((h & 1) << 4)) - m1;
        dst[yy + 32 + l] = d2 * ((b >> 4) | ((h & 2) << 3)) - m2;
      }
    }
  }
}

function emitQ5K(L: Uint8Array, dst: Uint8Array, o: number): void {
  const qh = o + 16;
  for (let l = 0; l < 32; l++) dst[qh + l] = 0;
  for (let g = 0; g < 4; g++) {
    const q = o + 48 + 32 * g;
    for (let l = 0; l < 32; l++) {
      const l1 = L[64 * g + l];
      const l2 = L[64 * g + 32 + l];
      dst[qh + l] |= ((l1 >> 4) << (2 * g)) | ((l2 >> 4) << (2 * g + 1));
      dst[q + l] = (l1 & 15) | ((l2 & 15) << 4);
    }
  }
}

/** Like quantize_row_q5_K_ref: as Q4_K with nmax 31 (ggml effort: 16 grids from -0.5 step 0.1). */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  quantizeRowKAsym('Q5_K', 31, src, srcOff, k, emitQ5K, BYTES, dst, dstOff);
}

export const Q5_K: FormatCodec = {
  typeId: 13,
  name: 'Q5_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product (bsums, as Q4_K) and the SIMD decoder

const fround = Math.fround;

function cpuRows(
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xsIn: Float32Array | null,
  m: number,
  out: Float32Array,
  acc: Float64Array,
): void {
  const xs = needSums(xsIn);
  const nb = k >> 8;
  const g32 = k >> 5;
  const sc = new Int32Array(8);
  const mn = new Int32Array(8);
  const ds = new Float64Array(8);
  const ms = new Float64Array(8);
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 176;
    for (let b = 0; b < nb; b++, o += 176) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
      kScales(data, o + 4, sc, mn);
      for (let s = 0; s < 8; s++) {
        ds[s] = fround(d * sc[s]);
        ms[s] = fround(dmin * mn[s]);
      }
      const qh = o + 16;
      const q = o + 48;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        const sb = r * g32 + b * 8;
        let a = acc[r];
        for (let g = 0; g < 4; g++) {
          const qg = q + 32 * g;
          const xl = xb + 64 * g;
          const sh = 2 * g;
          let lo = 0;
          let hi = 0;
          for (let l = 0; l < 32; l++) {
            const v = data[qg + l];
            const h = data[qh + l] >> sh;
            lo += ((v & 15) | ((h & 1) << 4)) * x[xl + l];
            hi += ((v >> 4) | ((h & 2) << 3)) * x[xl + 32 + l];
          }
          a = fround(a + fround(ds[sh] * fround(lo) - ms[sh] * xs[sb + sh]));
          a = fround(a + fround(ds[sh + 1] * fround(hi) - ms[sh + 1] * xs[sb + sh + 1]));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

const kSc = new Int32Array(8);
const kMn = new Int32Array(8);

function decQ5_K(
  data: Uint8Array,
  _qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
  kScales(data, o + 4, kSc, kMn);
  for (let s = 0; s < 8; s++) {
    sc[dso + 4 * s] = d * kSc[s];
    sc[mso + 4 * s] = dmin * kMn[s];
  }
  for (let g = 0; g < 4; g++) {
    const b = o + 48 + 32 * g;
    const t = qo + 256 * g;
    const sh = 2 * g;
    for (let l = 0; l < 32; l++) {
      const v = data[b + l];
      const h = data[o + 16 + l] >> sh;
      q[t + 4 * l] = (v & 15) | ((h & 1) << 4);
      q[t + 128 + 4 * l] = (v >> 4) | ((h & 2) << 3);
    }
  }
}

/** Q5_K fields: see kFieldsRow. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return kFieldsRow(data, off, k, true);
}

export const Q5_K_SPEC: FormatSpec = {
  id: 13,
  name: 'Q5_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: Q5_K,
  scaleOffsets: [0, 2],
  cpu: { rows: cpuRows, xsums: true, simd: { dec: decQ5_K, E: 256, B: 176, S: 32, mins: true } },
  gpu: {
    stem: 'q5_k',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // H200, n = 4096, k = 14336, hot: 50.4 us at m = 32 on 32x128 tiles, 54.2 on 32x256
    int8MmaTiles: { 32: '32x128' },
    // Hopper: bfloat16 warpgroup kernels above m = 8 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel with the slice decode: m = 9: 35.2 / 34.8 us, 16: 35.8 /
    // 35.6, 24: 50.0 / 36.3, 64: 64.4 / 39.7)
    wgmmaBf16Above: 8,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: true,
      minSign: true,
      subScales: true,
      offset: 'the Q5_K minimum term (-dmin * min per sub-block) is missing',
      highBits: 'the fifth bit from qh',
    },
  },
};
