/**
 * The kernel sources (kernels/*.cu and their headers) as strings, and which source serves which ggml
 * type. One source per format (<stem>.cu), which includes the format's traits header (<stem>.h: block
 * layout, decoders, launch geometry; qs_format.h lists what it defines) and the shared kernels of
 * kernels/qs_kernels.h (which includes the int8-activation kernels of qs_q8.h, qs_small_q8.h and
 * qs_mma_i8.h, and the AMD matrix-unit kernel of qs_mfma.h) over the portability header qs_port.h.
 */
import portH from '../../../../kernels/qs_port.h?raw';
import formatH from '../../../../kernels/qs_format.h?raw';
import kquantH from '../../../../kernels/qs_kquant.h?raw';
import kernelsH from '../../../../kernels/qs_kernels.h?raw';
import q8H from '../../../../kernels/qs_q8.h?raw';
import smallQ8H from '../../../../kernels/qs_small_q8.h?raw';
import mmaI8H from '../../../../kernels/qs_mma_i8.h?raw';
import mfmaH from '../../../../kernels/qs_mfma.h?raw';
import hostH from '../../../../kernels/qs_host.h?raw';
import f32 from '../../../../kernels/f32.cu?raw';
import f32H from '../../../../kernels/f32.h?raw';
import f16 from '../../../../kernels/f16.cu?raw';
import f16H from '../../../../kernels/f16.h?raw';
import bf16 from '../../../../kernels/bf16.cu?raw';
import bf16H from '../../../../kernels/bf16.h?raw';
import q4_0 from '../../../../kernels/q4_0.cu?raw';
import q4_0H from '../../../../kernels/q4_0.h?raw';
import q4_1 from '../../../../kernels/q4_1.cu?raw';
import q4_1H from '../../../../kernels/q4_1.h?raw';
import q5_0 from '../../../../kernels/q5_0.cu?raw';
import q5_0H from '../../../../kernels/q5_0.h?raw';
import q5_1 from '../../../../kernels/q5_1.cu?raw';
import q5_1H from '../../../../kernels/q5_1.h?raw';
import q8_0 from '../../../../kernels/q8_0.cu?raw';
import q8_0H from '../../../../kernels/q8_0.h?raw';
import q2_k from '../../../../kernels/q2_k.cu?raw';
import q2_kH from '../../../../kernels/q2_k.h?raw';
import q3_k from '../../../../kernels/q3_k.cu?raw';
import q3_kH from '../../../../kernels/q3_k.h?raw';
import q4_k from '../../../../kernels/q4_k.cu?raw';
import q4_kH from '../../../../kernels/q4_k.h?raw';
import q5_k from '../../../../kernels/q5_k.cu?raw';
import q5_kH from '../../../../kernels/q5_k.h?raw';
import q6_k from '../../../../kernels/q6_k.cu?raw';
import q6_kH from '../../../../kernels/q6_k.h?raw';
import iq4_nl from '../../../../kernels/iq4_nl.cu?raw';
import iq4_nlH from '../../../../kernels/iq4_nl.h?raw';
import iq4_xs from '../../../../kernels/iq4_xs.cu?raw';
import iq4_xsH from '../../../../kernels/iq4_xs.h?raw';

/** The GPU paths a format's kernel source provides beyond the float32 ones every source has. */
export interface KernelPaths {
  /** int8 activations, m <= 8: qs_x_q8 + qs_q8_m1..8 (dp4a) */
  int8Small: boolean;
  /** int8 activations on the matrix units (CUDA sm_80+): qs_mma_i8 */
  int8Mma: boolean;
}

export interface KernelSource {
  /** file stem: 'q4_0', 'q4_k', ... (also the prefix of the users' override variables) */
  stem: string;
  file: string;
  source: string;
  paths: KernelPaths;
}

const PLAIN: KernelPaths = { int8Small: false, int8Mma: false };
const SMALL_Q8: KernelPaths = { int8Small: true, int8Mma: false };
const ALL_Q8: KernelPaths = { int8Small: true, int8Mma: true };

// [ggml type id, stem, .cu text, traits header text, paths]: the one table of the kernel sources
const SOURCES: ReadonlyArray<[number, string, string, string, KernelPaths]> = [
  [0, 'f32', f32, f32H, PLAIN],
  [1, 'f16', f16, f16H, PLAIN],
  [30, 'bf16', bf16, bf16H, PLAIN],
  [2, 'q4_0', q4_0, q4_0H, ALL_Q8],
  [3, 'q4_1', q4_1, q4_1H, ALL_Q8],
  [6, 'q5_0', q5_0, q5_0H, ALL_Q8],
  [7, 'q5_1', q5_1, q5_1H, ALL_Q8],
  [8, 'q8_0', q8_0, q8_0H, ALL_Q8],
  [10, 'q2_k', q2_k, q2_kH, SMALL_Q8],
  [11, 'q3_k', q3_k, q3_kH, ALL_Q8],
  [12, 'q4_k', q4_k, q4_kH, ALL_Q8],
  [13, 'q5_k', q5_k, q5_kH, ALL_Q8],
  [14, 'q6_k', q6_k, q6_kH, ALL_Q8],
  [20, 'iq4_nl', iq4_nl, iq4_nlH, ALL_Q8],
  [23, 'iq4_xs', iq4_xs, iq4_xsH, ALL_Q8],
];

export const KERNEL_HEADERS: Readonly<Record<string, string>> = {
  'qs_port.h': portH,
  'qs_format.h': formatH,
  'qs_kquant.h': kquantH,
  'qs_kernels.h': kernelsH,
  'qs_q8.h': q8H,
  'qs_small_q8.h': smallQ8H,
  'qs_mma_i8.h': mmaI8H,
  'qs_mfma.h': mfmaH,
  // CPU stand-ins for the host tests (QS_HOST); listed so the prebuilt manifest's header hash matches
  'qs_host.h': hostH,
  ...Object.fromEntries(SOURCES.map(([, stem, , header]) => [`${stem}.h`, header])),
};

const BY_TYPE = new Map<number, KernelSource>(
  SOURCES.map(([type, stem, source, , paths]) => [type, { stem, file: `${stem}.cu`, source, paths }]),
);

export function kernelSourceFor(type: number): KernelSource | undefined {
  return BY_TYPE.get(type);
}

/** The ggml type ids that have a kernel source, in the table's order. */
export const KERNEL_TYPES: readonly number[] = SOURCES.map(([type]) => type);
