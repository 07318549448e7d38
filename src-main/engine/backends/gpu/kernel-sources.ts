/**
 * The kernel sources (kernels/*.cu and their headers) as strings. Which type has a kernel, its source
 * stem and its paths come from the format registry (FormatSpec.gpu); this module maps a stem to the
 * source text. One source per format (<stem>.cu), which includes the format's traits header (<stem>.h:
 * block layout, decoders, launch geometry; qs_format.h lists what it defines; Q4_0 and IQ4_NL share the
 * split-row traits of qs_split16.h, the six formats of 32-element blocks the int8 matrix-unit traits of
 * qs_i8_block32.h) and the shared kernels of
 * kernels/qs_kernels.h (which includes the int8-activation kernels of qs_q8.h, qs_small_q8.h,
 * qs_mma_i8.h and qs_wgmma_i8.h over qs_async.h and qs_wgmma.h, the Hopper bfloat16 kernel of
 * qs_wgmma_bf16.h, and the AMD matrix-unit kernels of qs_mfma.h and qs_mfma_i8.h) over
 * the portability header qs_port.h.
 */
import { formatSpec } from '../../formats/registry';
import portH from '../../../../kernels/qs_port.h?raw';
import formatH from '../../../../kernels/qs_format.h?raw';
import split16H from '../../../../kernels/qs_split16.h?raw';
import i8Block32H from '../../../../kernels/qs_i8_block32.h?raw';
import kquantH from '../../../../kernels/qs_kquant.h?raw';
import kernelsH from '../../../../kernels/qs_kernels.h?raw';
import q8H from '../../../../kernels/qs_q8.h?raw';
import smallQ8H from '../../../../kernels/qs_small_q8.h?raw';
import mmaI8H from '../../../../kernels/qs_mma_i8.h?raw';
import asyncH from '../../../../kernels/qs_async.h?raw';
import wgmmaH from '../../../../kernels/qs_wgmma.h?raw';
import wgmmaI8H from '../../../../kernels/qs_wgmma_i8.h?raw';
import wgmmaBf16H from '../../../../kernels/qs_wgmma_bf16.h?raw';
import mfmaH from '../../../../kernels/qs_mfma.h?raw';
import mfmaI8H from '../../../../kernels/qs_mfma_i8.h?raw';
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

export interface KernelSource {
  /** file stem: 'q4_0', 'q4_k', ... (also the prefix of the users' override variables) */
  stem: string;
  file: string;
  source: string;
}

/** The sources by stem: kernels/<stem>.cu and its traits header kernels/<stem>.h. */
const SOURCES: Readonly<Record<string, { cu: string; h: string }>> = {
  f32: { cu: f32, h: f32H },
  f16: { cu: f16, h: f16H },
  bf16: { cu: bf16, h: bf16H },
  q4_0: { cu: q4_0, h: q4_0H },
  q4_1: { cu: q4_1, h: q4_1H },
  q5_0: { cu: q5_0, h: q5_0H },
  q5_1: { cu: q5_1, h: q5_1H },
  q8_0: { cu: q8_0, h: q8_0H },
  q2_k: { cu: q2_k, h: q2_kH },
  q3_k: { cu: q3_k, h: q3_kH },
  q4_k: { cu: q4_k, h: q4_kH },
  q5_k: { cu: q5_k, h: q5_kH },
  q6_k: { cu: q6_k, h: q6_kH },
  iq4_nl: { cu: iq4_nl, h: iq4_nlH },
  iq4_xs: { cu: iq4_xs, h: iq4_xsH },
};

export const KERNEL_HEADERS: Readonly<Record<string, string>> = {
  'qs_port.h': portH,
  'qs_format.h': formatH,
  'qs_split16.h': split16H,
  'qs_i8_block32.h': i8Block32H,
  'qs_kquant.h': kquantH,
  'qs_kernels.h': kernelsH,
  'qs_q8.h': q8H,
  'qs_small_q8.h': smallQ8H,
  'qs_mma_i8.h': mmaI8H,
  'qs_async.h': asyncH,
  'qs_wgmma.h': wgmmaH,
  'qs_wgmma_i8.h': wgmmaI8H,
  'qs_wgmma_bf16.h': wgmmaBf16H,
  'qs_mfma.h': mfmaH,
  'qs_mfma_i8.h': mfmaI8H,
  // CPU stand-ins for the host tests (QS_HOST); listed so the prebuilt manifest's header hash matches
  'qs_host.h': hostH,
  ...Object.fromEntries(Object.entries(SOURCES).map(([stem, { h }]) => [`${stem}.h`, h])),
};

/**
 * The kernel source of a type, or undefined when the type has no GPU kernel (unsupported, or its spec
 * has `gpu: null`). A spec that names a stem this module has no source for is a build error.
 */
export function kernelSourceFor(type: number): KernelSource | undefined {
  const spec = formatSpec(type);
  if (!spec?.gpu) return undefined;
  const { stem } = spec.gpu;
  const src = SOURCES[stem];
  if (src === undefined)
    throw new Error(`${spec.name}: its GPU kernel kernels/${stem}.cu is not among the built-in sources`);
  return { stem, file: `${stem}.cu`, source: src.cu };
}
