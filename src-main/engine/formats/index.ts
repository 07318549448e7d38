/**
 * Exact GGUF block formats: dequantize (bit-exact to ggml's dequantize_row_*) and quantize (in the spirit
 * of ggml's quantize_row_*_ref) for Q4_0, Q8_0, Q4_K, Q5_K, Q6_K and plain F32/F16/BF16.
 *
 * Hand-written: no maintained JS package implements ggml's block formats bit-exactly; the layouts are
 * the ones in /work/shared/reference/FORMATS.md.
 */
import { typeInfo, typeName } from '../ggml-types';
import type { FormatCodec } from './codec';
import { Q4_0 } from './q4_0';
import { Q8_0 } from './q8_0';
import { Q4_K } from './q4_k';
import { Q5_K } from './q5_k';
import { Q6_K } from './q6_k';
import { BF16, F16, F32 } from './plain';

export type { FormatCodec } from './codec';
export { setQuantizeEffort, quantizeEffort, type QuantizeEffort } from './kcommon';
export { FP16_TABLE, fp16ToF32, f32ToFp16, bf16ToF32, f32ToBf16 } from './half';

const CODECS = new Map<number, FormatCodec>();
for (const c of [F32, F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K]) CODECS.set(c.typeId, c);

/** The codec of a type; throws `Q2_K is not supported` / `type#99 is unknown`. */
export function codecFor(typeId: number): FormatCodec {
  const c = CODECS.get(typeId);
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

/** Byte offsets, inside a block, of the half scales checked by scanScales. */
const SCALE_OFFSETS: Record<string, number[]> = {
  Q4_0: [0],
  Q8_0: [0],
  Q4_K: [0, 2],
  Q5_K: [0, 2],
  Q6_K: [208],
};

/**
 * GGUF-HARDENING rule 9: count whole blocks whose half scales (d, and dmin where present) are NaN or Inf.
 * Plain float types have no scales (always 0 bad blocks); a trailing partial block is not scanned.
 */
export function scanScales(
  typeId: number,
  data: Uint8Array,
): { badBlocks: number; firstBadBlock: number | null } {
  const c = codecFor(typeId);
  const offs = SCALE_OFFSETS[c.name];
  let badBlocks = 0;
  let firstBadBlock: number | null = null;
  if (!offs) return { badBlocks, firstBadBlock };
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
