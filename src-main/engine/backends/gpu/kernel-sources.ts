/**
 * The kernel sources (kernels/*.cu and their headers) as strings, and which source serves which ggml
 * type. One source per format; all share kernels/qs_kernels.h (which includes the int8-activation
 * kernels of qs_q8.h, qs_small_q8.h and qs_mma_i8.h, and the AMD matrix-unit kernel of qs_mfma.h) and
 * the portability header qs_port.h.
 */
import portH from '../../../../kernels/qs_port.h?raw';
import kernelsH from '../../../../kernels/qs_kernels.h?raw';
import q8H from '../../../../kernels/qs_q8.h?raw';
import smallQ8H from '../../../../kernels/qs_small_q8.h?raw';
import mmaI8H from '../../../../kernels/qs_mma_i8.h?raw';
import mfmaH from '../../../../kernels/qs_mfma.h?raw';
import hostH from '../../../../kernels/qs_host.h?raw';
import q4_0 from '../../../../kernels/q4_0.cu?raw';
import q8_0 from '../../../../kernels/q8_0.cu?raw';
import q4_k from '../../../../kernels/q4_k.cu?raw';
import q5_k from '../../../../kernels/q5_k.cu?raw';
import q6_k from '../../../../kernels/q6_k.cu?raw';
import f32 from '../../../../kernels/f32.cu?raw';
import f16 from '../../../../kernels/f16.cu?raw';
import bf16 from '../../../../kernels/bf16.cu?raw';

export const KERNEL_HEADERS: Readonly<Record<string, string>> = {
  'qs_port.h': portH,
  'qs_kernels.h': kernelsH,
  'qs_q8.h': q8H,
  'qs_small_q8.h': smallQ8H,
  'qs_mma_i8.h': mmaI8H,
  'qs_mfma.h': mfmaH,
  // CPU stand-ins for the host tests (QS_HOST); listed so the prebuilt manifest's header hash matches
  'qs_host.h': hostH,
};

export interface KernelSource {
  /** file stem: 'q4_0', 'q4_k', ... (also the prefix of the users' override variables) */
  stem: string;
  file: string;
  source: string;
}

const BY_TYPE: Record<number, KernelSource> = {
  2: { stem: 'q4_0', file: 'q4_0.cu', source: q4_0 },
  8: { stem: 'q8_0', file: 'q8_0.cu', source: q8_0 },
  12: { stem: 'q4_k', file: 'q4_k.cu', source: q4_k },
  13: { stem: 'q5_k', file: 'q5_k.cu', source: q5_k },
  14: { stem: 'q6_k', file: 'q6_k.cu', source: q6_k },
  0: { stem: 'f32', file: 'f32.cu', source: f32 },
  1: { stem: 'f16', file: 'f16.cu', source: f16 },
  30: { stem: 'bf16', file: 'bf16.cu', source: bf16 },
};

export function kernelSourceFor(type: number): KernelSource | undefined {
  return BY_TYPE[type];
}
