/**
 * The contract of one supported format: everything the rest of QuantScope needs to know about a ggml
 * type id lives in its FormatSpec (./registry.ts lists them). The codec, the scale fields, the cpu
 * backend's fused kernel and the GPU capabilities are all read from here, so adding a format is one
 * spec file and one line in the registry (plus its device kernel in kernels/).
 */
import type { FormatCodec } from './codec';
import type { FieldsSpec } from './fields';

/**
 * GPU kernel paths a format can run (see backends/gpu/backend.ts resolvePath):
 * - 'f32': float32 activations (the small-batch and tiled kernels, and the unfused dequantize kernel);
 * - 'int8': activations quantized to 8 bits per 32, m <= 8 (the dp4a small-batch kernel);
 * - 'int8-mma': the same activations on the int8 matrix units, m > 8 (qs_mma_i8, CUDA sm_80+; qs_mfma_i8,
 *   AMD gfx90a / gfx94x, with QS_HIP_MFMA_I8=1);
 * - 'mma': the 16-bit matrix-unit kernel (mma.sync on CUDA, MFMA on AMD).
 */
export type GpuPath = 'f32' | 'int8' | 'int8-mma' | 'mma';

/**
 * The CUDA int8 matrix-unit tile shapes (rows x columns of y per block), each its own kernel; 'wgmma' is
 * the 128 x 128 tile on Hopper's warpgroup matrix units (qs_wgmma_i8, sm_90a, formats with one scale per
 * 32 elements).
 */
export const INT8_MMA_TILES = ['128x128', '64x256', '64x128', '32x256', '32x128', '16x256', 'wgmma'] as const;
export type Int8MmaTile = (typeof INT8_MMA_TILES)[number];

export interface GpuSupport {
  /** kernel source stem: 'q4_k' is kernels/q4_k.cu (also the prefix of the custom-kernel variables) */
  stem: string;
  paths: readonly GpuPath[];
  /**
   * `auto` takes the int8 matrix units up to this batch size and the bfloat16 tiles above it, for a
   * format whose int8 tiles are the slower ones at large m (measured; default: int8 at every m > 8)
   */
  int8MmaUpTo?: number;
  /**
   * The CUDA int8 matrix-unit tile `auto` takes for m up to 16, 32 and 64, where this format's fastest
   * differs from the default (16x256, 32x256, 64x128; above 64: 128x128), measured
   */
  int8MmaTiles?: { 16?: Int8MmaTile; 32?: Int8MmaTile; 64?: Int8MmaTile };
  /**
   * On Hopper (modules with the bfloat16 warpgroup kernels), `auto` takes those above this batch size,
   * where they measured faster than the int8 kernels (the matrix-unit tiles, and below m = 9 the
   * small-batch kernel) (default 64)
   */
  wgmmaBf16Above?: number;
}

/**
 * The cpu backend's fused dot products for all rows of a chunk: out[r * rows + j] = dot(weight row j,
 * activation row r) in float32, for j < rows and r < m. `data` holds `rows` weight rows of k elements;
 * `x` is float32 [m][k]; `xs` the float32 sums of x per 32 elements ([m][k/32]) when the spec asks for
 * them (cpu.xsums), else null; `acc` is float64 scratch of length m.
 */
export type CpuRowsKernel = (
  data: Uint8Array,
  rows: number,
  k: number,
  x: Float32Array,
  xs: Float32Array | null,
  m: number,
  out: Float32Array,
  acc: Float64Array,
) => void;

/**
 * Decodes one block (or super-block) at byte offset `o` for the WebAssembly SIMD kernel: integer
 * weights go to q[qo + 4*l] and the float32 sub-block scales / mins to sc[dso + 4*s] / sc[mso + 4*s]
 * (0 where the format has no min); the stride 4 interleaves four weight rows. The kernel computes
 * per sub-block acc += ds * sum(q*x) - ms * sum(x over the sub-block's 32-element group), so a format
 * whose min is added (value = d*q + m) stores ms = -m.
 */
export type CpuDecoder = (
  data: Uint8Array,
  qi: Int8Array,
  o: number,
  q: Float32Array,
  qo: number,
  sc: Float32Array,
  dso: number,
  mso: number,
) => void;

export interface CpuSimdShape {
  dec: CpuDecoder;
  /** elements and bytes per (super-)block, elements per sub-block */
  E: number;
  B: number;
  S: number;
  /** has a min per sub-block (uses the activation sums, which are per 32 elements: needs S === 32) */
  mins: boolean;
}

export interface CpuSupport {
  /** the per-format fused kernel (every batch size; m >= 2 prefers `simd` where present) */
  rows: CpuRowsKernel;
  /** rows() reads the activation sums per 32 elements */
  xsums: boolean;
  /** the decode-once WebAssembly SIMD shape for m >= 2; absent: rows() serves every m */
  simd?: CpuSimdShape;
}

export interface FormatSpec {
  /** ggml type id */
  id: number;
  /** ggml's name, upper case: 'Q4_K' */
  name: string;
  blockElems: number;
  blockBytes: number;
  /** plain float storage (F32/F16/BF16): no quantization */
  float: boolean;
  /** exact dequantizeRow, reference-style quantizeRow */
  codec: FormatCodec;
  /** byte offsets inside a block of its half scales (d, dmin, ...), checked by scanScales */
  scaleOffsets: readonly number[];
  cpu: CpuSupport;
  /** null: no GPU kernel yet (the GPU backends refuse the type with a clear message) */
  gpu: GpuSupport | null;
  /** quantized formats: the row taken apart into fields, for the diagnosis of wrong weights */
  fields?: FieldsSpec;
}
