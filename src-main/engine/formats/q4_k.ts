/**
 * Q4_K: 256 elements per 144-byte super-block: half d; half dmin; u8 scales[12]; u8 qs[128].
 * Group g (0..3) of 64 elements uses qs[32g..32g+31]: element 64g+l = d1 * (qs & 15) - m1 and element
 * 64g+32+l = d2 * (qs >> 4) - m2, with d1 = d*sc(2g), m1 = dmin*m(2g), d2 = d*sc(2g+1), m2 = dmin*m(2g+1).
 *
 * Exactness: d*sc (11 x 6 bits) and d1*q (17 x 4 bits) are exact in float32, so only the subtraction
 * rounds. JS computes it in float64 and the Float32Array store rounds again; for one subtraction of
 * two float32 values double rounding is innocuous (53 >= 2*24 + 2), so the stored value equals C's
 * float result. GCC may contract `d1 * q - m1` into an FMA; because d1*q is exact, fma gives the same
 * bits too, so this codec matches llama.cpp with or without contraction.
 */
import type { RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import { QK_K, kFieldsRow, kGrids, makeQkx2, packScaleMinK4, scaleMinK4 } from './kcommon';
import type { FormatSpec } from './spec';
import { kScales, needSums } from './cpu-common';

const BYTES = 144;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q4_K', k, QK_K, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK_K;
  const fr = Math.fround;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK_K) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const dmin = FP16_TABLE[src[o + 2] | (src[o + 3] << 8)];
    const s = o + 4;
    for (let g = 0; g < 4; g++) {
      const sm1 = scaleMinK4(2 * g, src, s);
      const sm2 = scaleMinK4(2 * g + 1, src, s);
      const d1 = fr(d * (sm1 & 63));
      const m1 = fr(dmin * (sm1 >> 8));
      const d2 = fr(d * (sm2 & 63));
      const m2 = fr(dmin * (sm2 >> 8));
      const q = o + 16 + 32 * g;
      const yy = y + 64 * g;
      for (let l = 0; l < 32; l++) {
        const b = src[q + l];
        dst[yy + l] = d1 * (b & 15) - m1;
        dst[yy + 32 + l] = d2 * (b >> 4) - m2;
      }
    }
  }
}

const L = new Uint8Array(QK_K);
const scales = new Float64Array(8);
const mins = new Float64Array(8);
const ls = new Uint8Array(8);
const lm = new Uint8Array(8);
const res = new Float64Array(2);

/**
 * Like quantize_row_q4_K_ref: per 32-element sub-block a weighted scale+min fit (makeQkx2 with the
 * grids of the current effort), scales and mins quantized to 6 bits against the block maxima, then every
 * element re-rounded against the stored (half/6-bit) scale and min.
 */
export function quantizeRowKAsym(
  name: string,
  nmax: number,
  src: Float32Array,
  srcOff: number,
  k: number,
  emit: (L: Uint8Array, dst: Uint8Array, o: number) => void,
  bytes: number,
  dst: Uint8Array,
  dstOff: number,
): void {
  checkRow(name, k, QK_K, bytes, dst, dstOff, src, srcOff);
  const nb = k / QK_K;
  const grids = kGrids(nmax);
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK_K;
    const o = dstOff + i * bytes;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      makeQkx2(src, x + 32 * j, 32, nmax, grids, L, 32 * j, res);
      scales[j] = res[0];
      mins[j] = res[1];
      if (res[0] > maxScale) maxScale = res[0];
      if (res[1] > maxMin) maxMin = res[1];
    }
    const invScale = maxScale > 0 ? 63 / maxScale : 0;
    const invMin = maxMin > 0 ? 63 / maxMin : 0;
    for (let j = 0; j < 8; j++) {
      ls[j] = Math.min(63, Math.max(0, Math.round(invScale * scales[j])));
      lm[j] = Math.min(63, Math.max(0, Math.round(invMin * mins[j])));
    }
    packScaleMinK4(ls, lm, dst, o + 4);
    const hd = halfScale(maxScale / 63);
    const hm = halfScale(maxMin / 63);
    dst[o] = hd & 255;
    dst[o + 1] = hd >> 8;
    dst[o + 2] = hm & 255;
    dst[o + 3] = hm >> 8;
    const d = FP16_TABLE[hd];
    const dmin = FP16_TABLE[hm];
    for (let j = 0; j < 8; j++) {
      const dd = d * ls[j];
      if (!dd || !Number.isFinite(dd)) continue; // keep the makeQkx2 levels
      const dm = dmin * lm[j];
      const idd = 1 / dd; // ggml divides; a reciprocal only moves exact ties
      const xo = x + 32 * j;
      for (let ii = 0; ii < 32; ii++) {
        const t = (src[xo + ii] + dm) * idd;
        L[32 * j + ii] = t >= nmax ? nmax : t > 0 ? (t + 0.5) | 0 : 0; // round half up, clamp, NaN -> 0
      }
    }
    emit(L, dst, o);
  }
}

function emitQ4K(Lq: Uint8Array, dst: Uint8Array, o: number): void {
  for (let g = 0; g < 4; g++) {
    const q = o + 16 + 32 * g;
    for (let l = 0; l < 32; l++) dst[q + l] = Lq[64 * g + l] | (Lq[64 * g + 32 + l] << 4);
  }
}

function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  quantizeRowKAsym('Q4_K', 15, src, srcOff, k, emitQ4K, BYTES, dst, dstOff);
}

export const Q4_K: FormatCodec = {
  typeId: 12,
  name: 'Q4_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};

// cpu backend: the fused dot product (bsums: d*sc*sum(q*x) - dmin*m*sum(x)) and the SIMD decoder

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
    let o = j * nb * 144;
    for (let b = 0; b < nb; b++, o += 144) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const dmin = FP16_TABLE[data[o + 2] | (data[o + 3] << 8)];
      kScales(data, o + 4, sc, mn);
      for (let s = 0; s < 8; s++) {
        ds[s] = fround(d * sc[s]);
        ms[s] = fround(dmin * mn[s]);
      }
      const q = o + 16;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 256;
        const sb = r * g32 + b * 8;
        let a = acc[r];
        for (let g = 0; g < 4; g++) {
          const qg = q + 32 * g;
          const xl = xb + 64 * g;
          let lo0 = 0;
          let lo1 = 0;
          let hi0 = 0;
          let hi1 = 0;
          for (let l = 0; l < 32; l += 2) {
            const v0 = data[qg + l];
            const v1 = data[qg + l + 1];
            lo0 += (v0 & 15) * x[xl + l];
            lo1 += (v1 & 15) * x[xl + l + 1];
            hi0 += (v0 >> 4) * x[xl + 32 + l];
            hi1 += (v1 >> 4) * x[xl + 33 + l];
          }
          const s0 = 2 * g;
          a = fround(a + fround(ds[s0] * fround(lo0 + lo1) - ms[s0] * xs[sb + s0]));
          a = fround(a + fround(ds[s0 + 1] * fround(hi0 + hi1) - ms[s0 + 1] * xs[sb + s0 + 1]));
        }
        acc[r] = a;
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

const kSc = new Int32Array(8);
const kMn = new Int32Array(8);

function decQ4_K(
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
    sc[dso + 4 * s] = d * kSc[s]; // exact in float32 (11 x 6 bits): the store does not round
    sc[mso + 4 * s] = dmin * kMn[s];
  }
  for (let g = 0; g < 4; g++) {
    const b = o + 16 + 32 * g;
    const t = qo + 256 * g;
    for (let l = 0; l < 32; l++) {
      const v = data[b + l];
      q[t + 4 * l] = v & 15;
      q[t + 128 + 4 * l] = v >> 4;
    }
  }
}

/** Q4_K fields: see kFieldsRow. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  return kFieldsRow(data, off, k, false);
}

export const Q4_K_SPEC: FormatSpec = {
  id: 12,
  name: 'Q4_K',
  blockElems: QK_K,
  blockBytes: BYTES,
  float: false,
  codec: Q4_K,
  scaleOffsets: [0, 2],
  cpu: { rows: cpuRows, xsums: true, simd: { dec: decQ4_K, E: 256, B: 144, S: 32, mins: true } },
  gpu: {
    stem: 'q4_k',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // Hopper: bfloat16 warpgroup kernels above m = 16 (H200, n = 4096, k = 14336, hot, int8
    // tiles / bfloat16 warpgroup kernel with the slice decode: m = 16: 30.0 / 32.1 us, 24: 39.2 /
    // 32.9, 32: 39.5 / 33.6, 64: 60.3 / 38.2)
    wgmmaBf16Above: 16,
  },
  fields: {
    decode: fieldsRow,
    traits: {
      nibbles: true,
      minSign: true,
      subScales: true,
      offset: 'the Q4_K minimum term (-dmin * min per sub-block) is missing',
    },
  },
};
