/** F32 / F16 / BF16 stored as plain little-endian floats (block of 1 element). */
import { FP16_TABLE, bf16FromF32Bits, fp16FromF32Bits } from './half';
import { checkRow, type FormatCodec } from './codec';

const T = FP16_TABLE; // a local binding keeps the hot loop free of module-namespace lookups

export const F32: FormatCodec = {
  typeId: 0,
  name: 'F32',
  blockElems: 1,
  blockBytes: 4,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F32', k, 1, 4, src, srcOff, dst, dstOff);
    // a byte copy: alignment-free and keeps every bit (NaN payloads too); little-endian hosts only
    new Uint8Array(dst.buffer, dst.byteOffset + dstOff * 4, k * 4).set(src.subarray(srcOff, srcOff + k * 4));
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F32', k, 1, 4, dst, dstOff, src, srcOff);
    dst.set(new Uint8Array(src.buffer, src.byteOffset + srcOff * 4, k * 4), dstOff);
  },
};

export const F16: FormatCodec = {
  typeId: 1,
  name: 'F16',
  blockElems: 1,
  blockBytes: 2,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F16', k, 1, 2, src, srcOff, dst, dstOff);
    for (let j = 0, o = srcOff; j < k; j++, o += 2) dst[dstOff + j] = T[src[o] | (src[o + 1] << 8)];
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('F16', k, 1, 2, dst, dstOff, src, srcOff);
    const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, k); // the float32 bits, no copy
    for (let j = 0, o = dstOff; j < k; j++, o += 2) {
      const h = fp16FromF32Bits(bits[j]);
      dst[o] = h & 255;
      dst[o + 1] = h >> 8;
    }
  },
};

export const BF16: FormatCodec = {
  typeId: 30,
  name: 'BF16',
  blockElems: 1,
  blockBytes: 2,
  dequantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('BF16', k, 1, 2, src, srcOff, dst, dstOff);
    // write the float32 bits directly (bf16 is the top half), so every bit pattern survives
    const out = new Uint32Array(dst.buffer, dst.byteOffset + dstOff * 4, k);
    for (let j = 0, o = srcOff; j < k; j++, o += 2) out[j] = (src[o] << 16) | (src[o + 1] << 24);
  },
  quantizeRow(src, srcOff, k, dst, dstOff) {
    checkRow('BF16', k, 1, 2, dst, dstOff, src, srcOff);
    const bits = new Uint32Array(src.buffer, src.byteOffset + srcOff * 4, k);
    for (let j = 0, o = dstOff; j < k; j++, o += 2) {
      const h = bf16FromF32Bits(bits[j]);
      dst[o] = h & 255;
      dst[o + 1] = h >> 8;
    }
  },
};
