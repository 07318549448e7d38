/**
 * Q4_0: 32 elements per 18-byte block: half d; u8 qs[16]. Element j (j < 16) is the low nibble of
 * qs[j], element j+16 the high nibble; value = (nibble - 8) * d.
 *
 * Exactness: (int4 * half) has at most 15 significant bits, so the float32 product is exact; the JS
 * double product is the same value and the Float32Array store is lossless. No FMA question arises.
 */
import { FP16_TABLE } from './half';
import { checkRow, halfScale, type FormatCodec } from './codec';

const QK = 32;
const BYTES = 18;

function dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void {
  checkRow('Q4_0', k, QK, BYTES, src, srcOff, dst, dstOff);
  const nb = k / QK;
  let o = srcOff;
  let y = dstOff;
  for (let i = 0; i < nb; i++, o += BYTES, y += QK) {
    const d = FP16_TABLE[src[o] | (src[o + 1] << 8)];
    const q = o + 2;
    for (let j = 0; j < 16; j++) {
      const b = src[q + j];
      dst[y + j] = ((b & 15) - 8) * d;
      dst[y + j + 16] = ((b >> 4) - 8) * d;
    }
  }
}

/**
 * Like quantize_row_q4_0_ref: d = max / -8 where max is the signed value of largest magnitude, so the
 * extreme maps to -8 exactly; the rest rounds to nearest with (int8)(x*id + 8.5) clamped to 15. Every
 * step is emulated in float32, so the bytes equal the reference algorithm's (checked against C in
 * test/formats/c-crosscheck.test.ts); only a scale beyond the half range differs (saturated, not inf).
 */
function quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void {
  checkRow('Q4_0', k, QK, BYTES, dst, dstOff, src, srcOff);
  const nb = k / QK;
  for (let i = 0; i < nb; i++) {
    const x = srcOff + i * QK;
    const o = dstOff + i * BYTES;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[x + j];
      const a = Math.abs(v);
      if (amax < a) {
        amax = a;
        max = v;
      }
    }
    let d = Math.fround(max / -8);
    const h = halfScale(d);
    if ((h & 0x7fff) === 0x7bff) d = FP16_TABLE[h]; // saturated scale: quantize against what is stored
    const id = d ? Math.fround(1 / d) : 0;
    dst[o] = h & 255;
    dst[o + 1] = h >> 8;
    for (let j = 0; j < 16; j++) {
      const x0 = Math.fround(src[x + j] * id);
      const x1 = Math.fround(src[x + 16 + j] * id);
      // (int8_t)(x + 8.5f): truncation toward zero; x*id lies in [-8, 8] so the result is in [0, 16]
      const q0 = Math.min(15, Math.max(0, Math.trunc(Math.fround(x0 + 8.5))));
      const q1 = Math.min(15, Math.max(0, Math.trunc(Math.fround(x1 + 8.5))));
      dst[o + 2 + j] = q0 | (q1 << 4);
    }
  }
}

export const Q4_0: FormatCodec = {
  typeId: 2,
  name: 'Q4_0',
  blockElems: QK,
  blockBytes: BYTES,
  dequantizeRow,
  quantizeRow,
};
