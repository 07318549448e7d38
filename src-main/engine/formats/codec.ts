/** The contract every format implements (re-exported from ./index). */
export interface FormatCodec {
  typeId: number;
  name: string;
  blockElems: number;
  blockBytes: number;
  /** dequantize one row of k elements starting at src[srcOff] into dst[dstOff..dstOff+k) — bit-exact to ggml's dequantize_row_* */
  dequantizeRow(src: Uint8Array, srcOff: number, k: number, dst: Float32Array, dstOff: number): void;
  /** quantize one row (like ggml's quantize_row_*_ref): valid blocks, sensible error */
  quantizeRow(src: Float32Array, srcOff: number, k: number, dst: Uint8Array, dstOff: number): void;
}

import { f32ToFp16 } from './half';

/**
 * Half bits for a block scale: like f32ToFp16, but a finite scale too large for a half saturates to
 * +-65504 instead of becoming inf, so blocks made from huge inputs stay finite (their values clip).
 */
export function halfScale(x: number): number {
  const h = f32ToFp16(x);
  return (h & 0x7fff) === 0x7c00 && Number.isFinite(x) ? (h & 0x8000) | 0x7bff : h;
}

/**
 * Argument check of every row call: k a non-negative multiple of the block size, and both the byte
 * row (bytes[byteOff..+rowBytes)) and the float row (floats[floatOff..+k)) inside their arrays.
 * Throws a one-line error naming the format and what is wrong.
 */
export function checkRow(
  name: string,
  k: number,
  blockElems: number,
  blockBytes: number,
  bytes: Uint8Array,
  byteOff: number,
  floats: Float32Array,
  floatOff: number,
): void {
  if (!Number.isInteger(k) || k < 0 || k % blockElems !== 0) {
    throw new Error(`${name}: row length k=${k} is not a multiple of the block size ${blockElems}`);
  }
  const rb = (k / blockElems) * blockBytes;
  if (!Number.isInteger(byteOff) || byteOff < 0 || byteOff + rb > bytes.length) {
    throw new Error(
      `${name}: a row of ${rb} bytes at offset ${byteOff} does not fit a ${bytes.length}-byte buffer`,
    );
  }
  if (!Number.isInteger(floatOff) || floatOff < 0 || floatOff + k > floats.length) {
    throw new Error(
      `${name}: a row of ${k} floats at offset ${floatOff} does not fit a ${floats.length}-float array`,
    );
  }
}

/**
 * ggml's nearest_int (float x + 1.5*2^23, read back the mantissa): round half to even, for |x| < 2^22.
 * JS has no rint and Math.round rounds ties up, so ties are fixed up here.
 */
export function nearestInt(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}
