/**
 * The format facts the GPU backend plans with, from one place: whether a ggml type has a GPU kernel
 * (its source), whether its weights are plain floats, and which int8 kernels its source has (from the
 * format registry). The int8 small kernel's launch table comes from the compiled module
 * (KernelCache.q8Geometry). Path planning and the kernel cache ask here and nowhere else, so a format
 * registry has one function to feed.
 */
import { typeInfo } from '../../ggml-types';
import { formatSpec, gpuHasPath } from '../../formats/registry';
import { kernelSourceFor, type KernelSource } from './kernel-sources';
import type { GpuSupport } from '../../formats/spec';

export interface GpuFormat {
  type: number;
  /** 'Q4_K', 'F16', ... */
  name: string;
  /** plain float storage (F32/F16/BF16): the paths with int8 activations do not apply */
  float: boolean;
  /** the int8 small-batch (dp4a) kernel, m <= 8 */
  int8Small: boolean;
  /** the int8 matrix-unit kernel, m > 8 */
  int8Mma: boolean;
  /** the largest m `auto` runs on the int8 matrix units (bfloat16 tiles above) */
  int8MmaUpTo: number;
  /** CUDA int8 matrix-unit tile for m up to 16, 32, 64 (the format's choice over the planner's default) */
  int8MmaTiles: NonNullable<GpuSupport['int8MmaTiles']>;
  /** Hopper: `auto` takes the bfloat16 warpgroup kernels above this m */
  wgmmaBf16Above: number;
  kernel: KernelSource;
}

/** `auto` takes Hopper's bfloat16 warpgroup kernels above this m unless a format says otherwise */
export const WGMMA_BF16_ABOVE = 64;

/** The GPU facts of a ggml type, or null when there is no GPU kernel for it. */
export function gpuFormat(type: number): GpuFormat | null {
  const info = typeInfo(type);
  const kernel = kernelSourceFor(type);
  if (!info || !info.supported || !kernel) return null;
  return {
    type,
    name: info.name,
    float: info.float,
    int8Small: gpuHasPath(type, 'int8'),
    int8Mma: gpuHasPath(type, 'int8-mma'),
    int8MmaUpTo: formatSpec(type)?.gpu?.int8MmaUpTo ?? Infinity,
    int8MmaTiles: formatSpec(type)?.gpu?.int8MmaTiles ?? {},
    wgmmaBf16Above: formatSpec(type)?.gpu?.wgmmaBf16Above ?? WGMMA_BF16_ABOVE,
    kernel,
  };
}
