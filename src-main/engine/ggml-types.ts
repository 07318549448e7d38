/**
 * The ggml tensor type table. Block sizes always come from here, never from a file
 * (GGUF-HARDENING.md rule 7). Every id ggml has ever assigned is listed so that a model
 * with types we cannot compute still opens and shows its tensors with correct byte sizes. Which of
 * them QuantScope computes (`supported`, `float`) comes from the format registry.
 */
import { FORMATS, formatSpec } from './formats/registry';

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;
export type GgmlTypeId = number;

export interface GgmlTypeInfo {
  id: number;
  name: string;
  /** elements per block (1 for plain types) */
  blockElems: number;
  /** bytes per block */
  blockBytes: number;
  /** QuantScope can dequantize, reference and run this type (it has a spec in formats/registry.ts) */
  supported: boolean;
  /** plain float storage (F32/F16/BF16): no quantization */
  float: boolean;
}

const T = (id: number, name: string, blockElems: number, blockBytes: number): GgmlTypeInfo => {
  const spec = formatSpec(id);
  if (spec && (spec.name !== name || spec.blockElems !== blockElems || spec.blockBytes !== blockBytes))
    throw new Error(`ggml type table: ${name} disagrees with its format spec`);
  return { id, name, blockElems, blockBytes, supported: !!spec, float: spec?.float ?? false };
};

const TABLE: GgmlTypeInfo[] = [
  T(0, 'F32', 1, 4),
  T(1, 'F16', 1, 2),
  T(2, 'Q4_0', 32, 18),
  T(3, 'Q4_1', 32, 20),
  T(6, 'Q5_0', 32, 22),
  T(7, 'Q5_1', 32, 24),
  T(8, 'Q8_0', 32, 34),
  T(9, 'Q8_1', 32, 36),
  T(10, 'Q2_K', 256, 84),
  T(11, 'Q3_K', 256, 110),
  T(12, 'Q4_K', 256, 144),
  T(13, 'Q5_K', 256, 176),
  T(14, 'Q6_K', 256, 210),
  T(15, 'Q8_K', 256, 292),
  T(16, 'IQ2_XXS', 256, 66),
  T(17, 'IQ2_XS', 256, 74),
  T(18, 'IQ3_XXS', 256, 98),
  T(19, 'IQ1_S', 256, 50),
  T(20, 'IQ4_NL', 32, 18),
  T(21, 'IQ3_S', 256, 110),
  T(22, 'IQ2_S', 256, 82),
  T(23, 'IQ4_XS', 256, 136),
  T(24, 'I8', 1, 1),
  T(25, 'I16', 1, 2),
  T(26, 'I32', 1, 4),
  T(27, 'I64', 1, 8),
  T(28, 'F64', 1, 8),
  T(29, 'IQ1_M', 256, 56),
  T(30, 'BF16', 1, 2),
  T(34, 'TQ1_0', 256, 54),
  T(35, 'TQ2_0', 256, 66),
  T(39, 'MXFP4', 32, 17),
];

const BY_ID = new Map<number, GgmlTypeInfo>(TABLE.map((t) => [t.id, t]));
const BY_NAME = new Map<string, GgmlTypeInfo>(TABLE.map((t) => [t.name.toLowerCase(), t]));
for (const f of FORMATS)
  if (!BY_ID.has(f.id)) throw new Error(`ggml type table: format ${f.name} (${f.id}) is missing`);

/** Ids that ggml retired (Q4_2, Q4_3, Q4_0_4_4, ...): known but never valid in a current file. */
export const RETIRED_TYPE_IDS: ReadonlySet<number> = new Set([4, 5, 31, 32, 33, 36, 37, 38]);

export function typeInfo(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}

/** The type's name, or `type#<id>` for an id this build does not know. */
export function typeName(id: number): string {
  return BY_ID.get(id)?.name ?? (RETIRED_TYPE_IDS.has(id) ? `retired#${id}` : `type#${id}`);
}

export function typeByName(name: string): GgmlTypeInfo | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function isSupported(id: number): boolean {
  return BY_ID.get(id)?.supported ?? false;
}

/** The types QuantScope computes, in display order. */
export const SUPPORTED_TYPES: readonly GgmlTypeInfo[] = TABLE.filter((t) => t.supported);
/** The quantized types our fused kernels cover. */
export const QUANT_TYPES: readonly GgmlTypeInfo[] = TABLE.filter((t) => t.supported && !t.float);

/** Bytes of one row of k elements; throws if k is not a multiple of the block size. */
export function rowBytes(id: number, k: number): number {
  const t = BY_ID.get(id);
  if (!t) throw new Error(`unknown ggml type ${id}`);
  if (k % t.blockElems !== 0)
    throw new Error(`${t.name}: k=${k} is not a multiple of the block size ${t.blockElems}`);
  return (k / t.blockElems) * t.blockBytes;
}
