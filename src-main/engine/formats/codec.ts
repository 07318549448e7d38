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

/** Throws a one-line error unless k is a positive-or-zero multiple of the block size. */
export function checkRowLength(name: string, k: number, blockElems: number): void {
  if (!Number.isInteger(k) || k < 0 || k % blockElems !== 0) {
    throw new Error(`${name}: row length k=${k} is not a multiple of the block size ${blockElems}`);
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
