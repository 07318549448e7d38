/**
 * The kernel sources (kernels/*.cu and their headers) as strings. Which type has a kernel, and its
 * source stem, comes from the format registry (FormatSpec.gpu); this module maps a stem to the
 * source text. One source per format; all share kernels/qs_kernels.h (which includes the int8-activation
 * kernels of qs_q8.h, qs_small_q8.h and qs_mma_i8.h, and the AMD matrix-unit kernel of qs_mfma.h) and
 * the portability header qs_port.h.
 */
import { formatSpec } from '../../formats/registry';
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

/** The sources by stem (kernels/<stem>.cu). */
const SOURCES: Readonly<Record<string, string>> = { q4_0, q8_0, q4_k, q5_k, q6_k, f32, f16, bf16 };

/**
 * The kernel source of a type, or undefined when the type has no GPU kernel (unsupported, or its spec
 * has `gpu: null`). A spec that names a stem this module has no source for is a build error.
 */
export function kernelSourceFor(type: number): KernelSource | undefined {
  const spec = formatSpec(type);
  if (!spec?.gpu) return undefined;
  const { stem } = spec.gpu;
  const source = SOURCES[stem];
  if (source === undefined)
    throw new Error(`${spec.name}: its GPU kernel kernels/${stem}.cu is not among the built-in sources`);
  return { stem, file: `${stem}.cu`, source };
}
