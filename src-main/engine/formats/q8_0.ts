/**
 * Q8_0: 32 elements per 34-byte block: half d; i8 qs[32]; value = qs[j] * d.
 *
 * Exactness: (int8 * half) has at most 19 significant bits, so the float32 product is exact and the
 * JS double product stored into a Float32Array is bit-identical to ggml's.
 */
import { newFields, type RowFields } from './fields';
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';
import type { FormatSpec } from './spec';

const QK = 32;
const BYTES = 34;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q8_0', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const q = o + 2;
    for (let j = 0; j < QK; j++) dst[y + j] = ((src[q + j] << 24) >> 24) * d;
  }
}

/**
 * Like quantize_row_q8_0_ref: d = amax / 127, q = roundf(x * (1/d)) (ties away from zero), in float32
 * steps, so the bytes equal the reference algorithm's (checked against C); a scale beyond the half
 * range saturates instead of becoming inf.
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q8_0', k, QK, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * BYTES;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(src[x + j]));
    let d = Math.fround(amax / 127);
    const h = halfScale(d);
    if ((h & 0x7fff) === 0x7bff) d = FP16_TABLE[h]; // saturated scale: quantize against what is stored
    const id = d ? Math.fround(1 / d) : 0;
    dst[o] = h & 255;
    dst[o + 1] = h >> 8;
    for (let j = 0; j < QK; j++) {
      const v = Math.fround(src[x + j] * id);
      // roundf: half away from zero; |v| <= 127 (+rounding slack), clamp keeps the byte a valid int8
      const r = Math.sign(v) * Math.round(Math.abs(v));
      dst[o + 2 + j] = Math.max(-127, Math.min(127, r || 0)) & 255;
    }
  }
}

export const Q8_0: FormatCodec = {
  typeId: 8,
  name: 'Q8_0',
  blockElems: QK,
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
  const qi = new Int8Array(data.buffer, data.byteOffset, data.byteLength);
  const nb = k >> 5;
  for (let j = 0; j < rows; j++) {
    acc.fill(0);
    let o = j * nb * 34;
    for (let b = 0; b < nb; b++, o += 34) {
      const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
      const q = o + 2;
      for (let r = 0; r < m; r++) {
        const xb = r * k + b * 32;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let l = 0; l < 32; l += 4) {
          s0 += qi[q + l] * x[xb + l];
          s1 += qi[q + l + 1] * x[xb + l + 1];
          s2 += qi[q + l + 2] * x[xb + l + 2];
          s3 += qi[q + l + 3] * x[xb + l + 3];
        }
        acc[r] = fround(acc[r] + fround(d * fround(s0 + s1 + (s2 + s3))));
      }
    }
    for (let r = 0; r < m; r++) out[r * rows + j] = acc[r];
  }
}

function decQ8_0(
  data: Uint8Array,
  qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) {
  sc[dso] = FP16_TABLE[data[o] | (data[o + 1] << 8)];
  sc[mso] = 0;
  for (let l = 0; l < 32; l++) q[qo + 4 * l] = qi[o + 2 + l];
}

/** Q8_0 fields: d * int8. */
function fieldsRow(data: Uint8Array, off: number, k: number): RowFields {
  const f = newFields(k, QK, QK, 0);
  for (let b = 0; b < k / QK; b++) {
    const o = off + b * BYTES;
    const d = FP16_TABLE[data[o] | (data[o + 1] << 8)];
    for (let j = 0; j < QK; j++) {
      const i = b * QK + j;
      f.q[i] = f.lo[i] = (data[o + 2 + j] << 24) >> 24;
      f.s[i] = d;
    }
  }
  return f;
}

export const Q8_0_SPEC: FormatSpec = {
  id: 8,
  name: 'Q8_0',
  blockElems: QK,
  blockBytes: BYTES,
  float: false,
  codec: Q8_0,
  scaleOffsets: [0],
  cpu: { rows: cpuRows, xsums: false, simd: { dec: decQ8_0, E: 32, B: 34, S: 32, mins: false } },
  gpu: {
    stem: 'q8_0',
    paths: ['f32', 'int8', 'int8-mma', 'mma'],
    // H200, n = 4096, k = 14336, hot: 62.0 us at m = 64 on 64x256 tiles, 70.0 on 64x128
    int8MmaTiles: { 64: '64x256' },
    // Hopper: bfloat16 warpgroup kernels above m = 8 (H200, n = 4096, k = 14336, hot, int8 tiles
    // / bfloat16 warpgroup kernel: m = 16: 40.7 / 32.1 us, 32: 48.6 / 33.4, 64: 63.5 / 37.2; at
    // m = 9 to 15 both run the tile they run at 16)
    wgmmaBf16Above: 8,
  },
  fields: { decode: fieldsRow, traits: { nibbles: false, signedBytes: true } },
};
