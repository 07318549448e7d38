/**
 * Q8_0: 32 elements per 34-byte block: half d; i8 qs[32]; value = qs[j] * d.
 *
 * Exactness: (int8 * half) has at most 19 significant bits, so the float32 product is exact and the
 * JS double product stored into a Float32Array is bit-identical to ggml's.
 */
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';

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
