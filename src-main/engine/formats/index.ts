/**
 * Exact GGUF block formats: dequantize (bit-exact to ggml's dequantize_row_*) and quantize (in the spirit
 * of ggml's quantize_row_*_ref) for every format of ./registry.ts and plain F32/F16/BF16.
 *
 * Hand-written: no maintained JS package implements ggml's block formats bit-exactly; the layouts are
 * written down in docs/formats.md.
 */
import { typeInfo, typeName } from '../ggml-types';
import type { FormatCodec } from './codec';
import { formatSpec } from './registry';

export type { FormatCodec } from './codec';
export { setQuantizeEffort, quantizeEffort, type QuantizeEffort } from './kcommon';
export { FP16_TABLE, fp16ToF32, f32ToFp16, bf16ToF32, f32ToBf16 } from './half';

export {
  FORMATS,
  formatSpec,
  formatByName,
  gpuHasPath,
  type FormatSpec,
  type GpuPath,
  type GpuSupport,
  type CpuSupport,
  type CpuRowsKernel,
  type CpuDecoder,
  type CpuSimdShape,
} from './registry';

/** The codec of a type; throws `Q2_K is not supported` / `type#99 is unknown`. */
export function codecFor(typeId: number): FormatCodec {
  const c = formatSpec(typeId)?.codec;
  if (c) return c;
  if (typeInfo(typeId)) throw new Error(`${typeName(typeId)} is not supported`);
  throw new Error(`${typeName(typeId)} is unknown`);
}

function checkShape(name: string, n: number, k: number, blockElems: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name}: row count n=${n} is not a non-negative integer`);
  if (!Number.isSafeInteger(k) || k < 0)
    throw new Error(`${name}: row length k=${k} is not a non-negative integer`);
  if (k % blockElems !== 0)
    throw new Error(`${name}: row length k=${k} is not a multiple of the block size ${blockElems}`);
  if (n * k > MAX_WHOLE)
    throw new Error(`${name}: ${n}x${k} is too large to convert in one piece; use the codec row by row`);
}

/** Largest tensor (elements) converted in one call: 2^30 floats = 4 GiB. */
const MAX_WHOLE = 2 ** 30;

/** Dequantize an [n][k] tensor stored row after row; returns n*k floats. */
export function dequantize(typeId: number, data: Uint8Array, n: number, k: number): Float32Array {
  const c = codecFor(typeId);
  checkShape(c.name, n, k, c.blockElems);
  const rb = (k / c.blockElems) * c.blockBytes;
  if (data.length < n * rb) {
    throw new Error(`${c.name}: ${n}x${k} needs ${n * rb} bytes but only ${data.length} were given`);
  }
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) c.dequantizeRow(data, r * rb, k, out, r * k);
  return out;
}

/** Quantize an [n][k] tensor (n*k floats, row after row) into n rows of blocks. */
export function quantize(typeId: number, values: Float32Array, n: number, k: number): Uint8Array {
  const c = codecFor(typeId);
  checkShape(c.name, n, k, c.blockElems);
  if (values.length < n * k)
    throw new Error(`${c.name}: ${n}x${k} needs ${n * k} values but only ${values.length} were given`);
  const rb = (k / c.blockElems) * c.blockBytes;
  const out = new Uint8Array(n * rb);
  for (let r = 0; r < n; r++) c.quantizeRow(values, r * k, k, out, r * rb);
  return out;
}

/**
 * docs/gguf-hardening.md rule 9: count whole blocks whose half scales (d, and dmin where present) are NaN or Inf.
 * Plain float types have no scales (always 0 bad blocks); a trailing partial block is not scanned.
 */
export function scanScales(
  typeId: number,
  data: Uint8Array,
): { badBlocks: number; firstBadBlock: number | null } {
  const c = codecFor(typeId);
  const offs = formatSpec(typeId)?.scaleOffsets ?? [];
  let badBlocks = 0;
  let firstBadBlock: number | null = null;
  if (!offs.length) return { badBlocks, firstBadBlock };
  const bb = c.blockBytes;
  const nb = Math.floor(data.length / bb);
  for (let i = 0, o = 0; i < nb; i++, o += bb) {
    let bad = false;
    for (const s of offs) if ((data[o + s + 1] & 0x7c) === 0x7c) bad = true; // exponent all ones
    if (bad) {
      if (firstBadBlock === null) firstBadBlock = i;
      badBlocks++;
    }
  }
  return { badBlocks, firstBadBlock };
}

/**
 * The weight rows of an [n][k] tensor with at least one block whose half scales are NaN or Inf:
 * their outputs are not comparable (the exact reference and a correct kernel may disagree there,
 * NaN against infinity). `rows` is a mask of n bytes (1 = such a row), null when there is none.
 * Linear in the tensor's bytes; plain float types have no scales.
 */
export function nonFiniteScaleRows(
  typeId: number,
  data: Uint8Array,
  n: number,
  k: number,
): { badBlocks: number; badRows: number; rows: Uint8Array | null } {
  const offs = formatSpec(typeId)?.scaleOffsets ?? [];
  if (!offs.length || n <= 0 || k <= 0) return { badBlocks: 0, badRows: 0, rows: null };
  const c = codecFor(typeId);
  const bb = c.blockBytes;
  const perRow = Math.floor(k / c.blockElems);
  const nRows = Math.min(n, Math.floor(data.length / (perRow * bb)));
  let badBlocks = 0;
  let badRows = 0;
  let rows: Uint8Array | null = null;
  for (let r = 0, o = 0; r < nRows; r++) {
    let rowBad = false;
    for (let b = 0; b < perRow; b++, o += bb) {
      for (const s of offs)
        if ((data[o + s + 1] & 0x7c) === 0x7c) {
          badBlocks++;
          rowBad = true;
          break;
        }
    }
    if (rowBad) {
      rows ??= new Uint8Array(n);
      rows[r] = 1;
      badRows++;
    }
  }
  return { badBlocks, badRows, rows };
}
