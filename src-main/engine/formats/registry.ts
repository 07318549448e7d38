/**
 * The format registry: one FormatSpec per ggml type QuantScope computes, in display order. Every
 * other module asks this list which types are supported and how (ggml-types' `supported` flags, the
 * codecs and scale scan of ./index.ts, the cpu backend's kernels, the GPU kernel sources, the
 * selftest, make-model's type lists). Adding a format: write its spec file (codec, scale offsets, cpu
 * kernel, GPU support) and list it here.
 */
import type { FormatSpec, GpuPath } from './spec';
import { Q4_0_SPEC } from './q4_0';
import { Q4_1_SPEC } from './q4_1';
import { Q5_0_SPEC } from './q5_0';
import { Q5_1_SPEC } from './q5_1';
import { Q8_0_SPEC } from './q8_0';
import { Q2_K_SPEC } from './q2_k';
import { Q3_K_SPEC } from './q3_k';
import { Q4_K_SPEC } from './q4_k';
import { Q5_K_SPEC } from './q5_k';
import { Q6_K_SPEC } from './q6_k';
import { IQ4_NL_SPEC } from './iq4_nl';
import { IQ4_XS_SPEC } from './iq4_xs';
import { BF16_SPEC, F16_SPEC, F32_SPEC } from './plain';

export type {
  CpuDecoder,
  CpuRowsKernel,
  CpuSimdShape,
  CpuSupport,
  FormatSpec,
  GpuPath,
  GpuSupport,
} from './spec';

/** Every supported format: quantized ones first (those with GPU kernels, then the rest), then the plain float types. */
export const FORMATS: readonly FormatSpec[] = [
  Q4_0_SPEC,
  Q8_0_SPEC,
  Q4_K_SPEC,
  Q5_K_SPEC,
  Q6_K_SPEC,
  Q4_1_SPEC,
  Q5_0_SPEC,
  Q5_1_SPEC,
  Q2_K_SPEC,
  Q3_K_SPEC,
  IQ4_NL_SPEC,
  IQ4_XS_SPEC,
  F32_SPEC,
  F16_SPEC,
  BF16_SPEC,
];

const BY_ID = new Map<number, FormatSpec>();
for (const f of FORMATS) {
  const c = f.codec;
  if (BY_ID.has(f.id)) throw new Error(`format registry: type ${f.id} is registered twice`);
  if (
    c.typeId !== f.id ||
    c.name !== f.name ||
    c.blockElems !== f.blockElems ||
    c.blockBytes !== f.blockBytes
  )
    throw new Error(`format registry: ${f.name}'s codec does not match its spec`);
  for (const o of f.scaleOffsets)
    if (!Number.isInteger(o) || o < 0 || o + 2 > f.blockBytes)
      throw new Error(
        `format registry: ${f.name}'s scale offset ${o} is outside its ${f.blockBytes}-byte block`,
      );
  const sh = f.cpu.simd;
  if (sh && (sh.E !== f.blockElems || sh.B !== f.blockBytes || sh.E % sh.S !== 0))
    throw new Error(`format registry: ${f.name}'s SIMD shape does not match its block`);
  if (sh?.mins && (sh.S !== 32 || !f.cpu.xsums))
    throw new Error(
      `format registry: ${f.name}'s SIMD mins need 32-element sub-blocks and the activation sums`,
    );
  BY_ID.set(f.id, f);
}

/** The spec of a supported type, or undefined. */
export function formatSpec(typeId: number): FormatSpec | undefined {
  return BY_ID.get(typeId);
}

/** The spec of a supported type by ggml name (any case: 'q4_k', 'Q4_K'), or undefined. */
export function formatByName(name: string): FormatSpec | undefined {
  const n = name.toUpperCase();
  return FORMATS.find((f) => f.name === n);
}

/** Whether the GPU backends have a kernel for this type on `path` (false for unsupported types). */
export function gpuHasPath(typeId: number, path: GpuPath): boolean {
  return BY_ID.get(typeId)?.gpu?.paths.includes(path) ?? false;
}
