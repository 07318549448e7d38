/**
 * Declared arithmetic: how a kernel path rounds its operands before it multiplies, as data. The
 * reference (./activations.ts, ./split.ts, ../reference/kernel.ts) reproduces exactly these roundings
 * and then sums in float64, so a correct kernel differs from it only by float32 rounding and
 * accumulation order, and every path is judged by the same float32-class bar (KERNEL_BAR). What the
 * declared rounding itself costs (the declared reference against the exact float32-input reference)
 * is reported beside the verdict, for information.
 *
 * docs/arithmetic.md describes every scheme precisely enough to reimplement it.
 */
import type { ARITHMETIC_SCHEMES } from '../../../src-shared/contract';
import type { KernelPath } from '../backends/types';
import { GgmlType } from '../ggml-types';

/** Round-to-integer rules: rint (ties to even), CUDA roundf (ties away from zero), truncation. */
export type IntRounding = 'half-even' | 'half-away' | 'toward-zero';
/** Storage precision of a float value: float32, IEEE half (round to nearest even). */
export type Storage = 'f32' | 'f16';

/** 8-bit activations per 32 values: q = round(x / d) with d = amax / divisor. */
export interface Int8Activations {
  kind: 'int8';
  /** the divisor of amax (127: the int8 range is -127..127) */
  divisor: number;
  /** the divisor of the stored scale d where it differs from `divisor` (a defect's emulation only) */
  scaleDivisor?: number;
  /**
   * how x / d is formed in float32: 'reciprocal' = x * fl(divisor / amax) (qs_x_q8),
   * 'divide' = x / fl(amax / divisor) (llama.cpp's quantize_q8_1)
   */
  quotient: 'reciprocal' | 'divide';
  rounding: IntRounding;
  /** the stored scale d: float32, or rounded to half (llama.cpp's q8_1 ds.x) */
  scale: Storage;
  /**
   * the float32 order of the per-32 sum of the exact x: 'lanes8x4' = 8 lanes of 4 values, each
   * (x0 + x1) + (x2 + x3), then an xor-butterfly over 4, 2, 1 (qs_x_q8); 'lanes32' = 32 lanes of one
   * value, an xor-butterfly over 16, 8, 4, 2, 1 (llama.cpp's warp_reduce_sum); lane 0's value is kept
   */
  sumOrder: 'lanes8x4' | 'lanes32';
  /** the stored sum: float32, or rounded to half (q8_1's ds.y) */
  sum: Storage;
}

/** 16-bit float activations: bfloat16 or IEEE half, from the float32 value. */
export interface FloatActivations {
  kind: 'float';
  format: 'bf16' | 'f16';
  rounding: 'nearest-even' | 'toward-zero';
}

export type ActivationRule = { kind: 'f32' } | FloatActivations | Int8Activations;

/**
 * How the int8 paths form a quantized format's offset (Q4_0's -8, the K-quants' -dmin*min, Q6_K's -32):
 * - 'none': the format has none (Q8_0)
 * - 'integer': folded into the weight integers (q - 8, q - 32), so it meets the quantized x
 * - 'quantized-sum': per 32: offset * d * sum(q) (llama.cpp's K-quants): the same value as 'integer'
 * - 'exact-sum': per 32: offset * S, S the stored sum of the exact x (see Int8Activations.sum)
 * - 'exact-sum-tf32': as 'exact-sum' with both factors rounded to TF32 (10-bit mantissa, ties away)
 */
export type OffsetForm = 'none' | 'integer' | 'quantized-sum' | 'exact-sum' | 'exact-sum-tf32';

/** The quantized formats whose int8 arithmetic differs in the offset term. */
export const OFFSET_FORMATS = [
  GgmlType.Q4_0,
  GgmlType.Q8_0,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.IQ4_NL,
  GgmlType.IQ4_XS,
] as const;

export interface ArithmeticScheme {
  id: string;
  /** one line */
  summary: string;
  activations: ActivationRule;
  /** the weights as the matrix unit sees them: the exact float32 dequantization, or rounded to 16 bits */
  weights: { kind: 'f32' } | FloatActivations;
  /** int8 schemes: the offset form per ggml type id (OFFSET_FORMATS) */
  offsets: Partial<Record<number, OffsetForm>>;
}

const EXACT = { kind: 'f32' } as const;

/** Our kernels' quantizer (kernels/qs_q8.h, qs_x_q8). */
const QS_X_Q8: Int8Activations = {
  kind: 'int8',
  divisor: 127,
  quotient: 'reciprocal',
  rounding: 'half-even',
  scale: 'f32',
  sumOrder: 'lanes8x4',
  sum: 'f32',
};

export const SCHEMES = {
  f32: {
    id: 'f32',
    summary: 'float32 activations and the exact float32 dequantization (no rounding before the multiply)',
    activations: EXACT,
    weights: EXACT,
    offsets: {},
  },
  q8_1: {
    id: 'q8_1',
    summary:
      "llama.cpp's CUDA q8_1: d = amax/127, q = roundf(x/d), d and sum(x) stored as half; offsets as its mmvq kernels form them",
    activations: {
      kind: 'int8',
      divisor: 127,
      quotient: 'divide',
      rounding: 'half-away',
      scale: 'f16',
      sumOrder: 'lanes32',
      sum: 'f16',
    },
    weights: EXACT,
    offsets: {
      [GgmlType.Q4_0]: 'exact-sum',
      [GgmlType.Q8_0]: 'none',
      [GgmlType.Q4_K]: 'quantized-sum',
      [GgmlType.Q5_K]: 'quantized-sum',
      [GgmlType.Q6_K]: 'integer',
      [GgmlType.Q4_1]: 'exact-sum',
      [GgmlType.Q5_0]: 'exact-sum',
      [GgmlType.Q5_1]: 'exact-sum',
      [GgmlType.Q2_K]: 'quantized-sum',
      [GgmlType.Q3_K]: 'integer',
      [GgmlType.IQ4_NL]: 'none',
      [GgmlType.IQ4_XS]: 'none',
    },
  },
  qs8: {
    id: 'qs8',
    summary:
      'QuantScope int8 (fused-small-q8): d = amax/127 in float32, q = rint(x * (127/amax)), float32 d and exact-x sums',
    activations: QS_X_Q8,
    weights: EXACT,
    offsets: {
      [GgmlType.Q4_0]: 'exact-sum',
      [GgmlType.Q8_0]: 'none',
      [GgmlType.Q4_K]: 'exact-sum',
      [GgmlType.Q5_K]: 'exact-sum',
      [GgmlType.Q6_K]: 'integer',
      // the new formats' small kernels: Q4_1/Q5_1's min and Q5_0's -16 meet the exact float sums of x
      // per 32; Q2_K's min and Q3_K's -4 meet the int8 sums per 16 (as llama.cpp's dots)
      [GgmlType.Q4_1]: 'exact-sum',
      [GgmlType.Q5_0]: 'exact-sum',
      [GgmlType.Q5_1]: 'exact-sum',
      [GgmlType.Q2_K]: 'quantized-sum',
      [GgmlType.Q3_K]: 'quantized-sum',
      [GgmlType.IQ4_NL]: 'none',
      [GgmlType.IQ4_XS]: 'none',
    },
  },
  'qs8-mma': {
    id: 'qs8-mma',
    summary:
      'QuantScope int8 matrix units (fused-mma-i8): the qs8 quantizer; Q4_0 and Q6_K offsets in the integers, K-quant offsets in TF32',
    activations: QS_X_Q8,
    weights: EXACT,
    offsets: {
      [GgmlType.Q4_0]: 'integer',
      [GgmlType.Q8_0]: 'none',
      [GgmlType.Q4_K]: 'exact-sum-tf32',
      [GgmlType.Q5_K]: 'exact-sum-tf32',
      [GgmlType.Q6_K]: 'integer',
      // the int8 matrix units: Q4_1/Q5_1's min as the K-quants' (TF32), Q5_0's -16 and Q3_K's -4 in the
      // integers (Q2_K has no int8 matrix-unit path)
      [GgmlType.Q4_1]: 'exact-sum-tf32',
      [GgmlType.Q5_0]: 'integer',
      [GgmlType.Q5_1]: 'exact-sum-tf32',
      [GgmlType.Q3_K]: 'integer',
      [GgmlType.IQ4_NL]: 'none',
      [GgmlType.IQ4_XS]: 'none',
    },
  },
  bf16: {
    id: 'bf16',
    summary: 'activations and dequantized weights rounded to bfloat16 (nearest even), products exact',
    activations: { kind: 'float', format: 'bf16', rounding: 'nearest-even' },
    weights: { kind: 'float', format: 'bf16', rounding: 'nearest-even' },
    offsets: {},
  },
  f16: {
    id: 'f16',
    summary: 'activations and dequantized weights rounded to IEEE half (nearest even), products exact',
    activations: { kind: 'float', format: 'f16', rounding: 'nearest-even' },
    weights: { kind: 'float', format: 'f16', rounding: 'nearest-even' },
    offsets: {},
  },
} as const satisfies Record<string, ArithmeticScheme>;

export type SchemeId = keyof typeof SCHEMES;
export const SCHEME_IDS = Object.keys(SCHEMES) as SchemeId[];
// the contract lists the same ids for the API's schemas: a scheme added on one side only fails to compile
const SAME_IDS: [SchemeId, (typeof ARITHMETIC_SCHEMES)[number]] = [
  '' as (typeof ARITHMETIC_SCHEMES)[number],
  '' as SchemeId,
];
void SAME_IDS;

/** Each kernel path's declared arithmetic (a user kernel declares its own; f32 until it does). */
export const PATH_ARITHMETIC: Record<KernelPath, SchemeId> = {
  'cpu-f32': 'f32',
  'fused-small-f32': 'f32',
  'fused-tiled-f32': 'f32',
  'unfused-f32': 'f32',
  'fused-small-q8': 'qs8',
  'fused-mma-i8': 'qs8-mma',
  // bfloat16 activations and weights on both the CUDA mma.sync and the AMD MFMA kernels
  'fused-mma-f16': 'bf16',
  custom: 'f32',
};

/**
 * The verdict's NMSE bar for every path: against its declared reference a correct kernel differs only
 * by float32 rounding of partial products and sums (relative 2^-24 each, NMSE around 1e-14 on
 * random data, under 1e-11 on the selftest's adversarial blocks), while a one-step activation
 * rounding defect (a /128 scale, truncation instead of rounding, a truncating bfloat16 conversion)
 * lands at 1e-7 or above. 1e-8 sits between on a log scale, and is the bar the float32 paths have
 * always been judged by. docs/arithmetic.md has the measurements.
 */
export const KERNEL_BAR = 1e-8;

export function isSchemeId(s: string): s is SchemeId {
  return Object.prototype.hasOwnProperty.call(SCHEMES, s);
}

/** The scheme for a name, or a one-line error listing the known ones. */
export function schemeById(id: string, what = '--arithmetic'): ArithmeticScheme {
  if (!isSchemeId(id))
    throw new Error(`${what}: unknown arithmetic '${id}' (one of ${SCHEME_IDS.join(', ')})`);
  return SCHEMES[id];
}

/** The environment variable a user kernel for `typeName` (Q4_K, ...) declares its arithmetic in. */
export function arithmeticVar(typeName: string): string {
  return `${typeName.toUpperCase()}_MATMUL_ARITHMETIC`;
}

/**
 * The arithmetic a result is judged by: the user's explicit choice, else for a user kernel its
 * environment variable, else the path's own.
 */
export function arithmeticFor(
  path: KernelPath,
  typeName: string,
  override: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ArithmeticScheme {
  if (override) return schemeById(override);
  if (path === 'custom') {
    const v = env[arithmeticVar(typeName)];
    if (v) return schemeById(v, arithmeticVar(typeName));
  }
  return SCHEMES[PATH_ARITHMETIC[path]];
}

/** Whether the scheme rounds nothing (its reference is the exact float32-input reference). */
export function isExact(s: ArithmeticScheme): boolean {
  return s.activations.kind === 'f32' && s.weights.kind === 'f32';
}
