/**
 * The format facts the GPU backend plans with, from one place: whether a ggml type has a GPU kernel
 * (its source), whether its weights are plain floats (no int8 activations), and the int8 small-batch
 * kernel's launch table. Path planning and the kernel cache ask here and nowhere else, so a format
 * registry has one function to feed.
 */
import { typeInfo, typeName } from '../../ggml-types';
import { KERNEL_HEADERS, kernelSourceFor, type KernelSource } from './kernel-sources';

export interface GpuFormat {
  type: number;
  /** 'Q4_K', 'F16', ... */
  name: string;
  /** plain float storage (F32/F16/BF16): the paths with int8 activations do not apply */
  float: boolean;
  kernel: KernelSource;
}

/** The GPU facts of a ggml type, or null when there is no GPU kernel for it. */
export function gpuFormat(type: number): GpuFormat | null {
  const info = typeInfo(type);
  const kernel = kernelSourceFor(type);
  if (!info || !info.supported || !kernel) return null;
  return { type, name: info.name, float: info.float, kernel };
}

/**
 * The int8 small-batch kernel's launch table for a format: weight rows and warps per block for
 * m = 1..8, read from kernels/qs_small_q8.h (the `#if QS_TYPE == id` / `#define QS_Q8_RT` / `QS_Q8_WT`
 * lines; `#else` is Q6_K), so the launch and the compiled kernel cannot disagree.
 */
export function q8Table(type: number): { rows: number[]; warps: number[] } {
  const hit = Q8_TABLES.get(type);
  if (hit) return hit;
  const text = KERNEL_HEADERS['qs_small_q8.h'];
  const re =
    /#(?:if|elif) QS_TYPE == (\d+)\s*\n#define QS_Q8_RT ([\d, ]+)\n#define QS_Q8_WT ([\d, ]+)\n|#else \/\/ Q6_K\s*\n#define QS_Q8_RT ([\d, ]+)\n#define QS_Q8_WT ([\d, ]+)\n/g;
  const list = (v: string) => v.split(',').map((x) => Number(x.trim()));
  for (const mt of text.matchAll(re)) {
    const id = mt[1] !== undefined ? Number(mt[1]) : 14;
    Q8_TABLES.set(id, { rows: list(mt[2] ?? mt[4]), warps: list(mt[3] ?? mt[5]) });
  }
  const t = Q8_TABLES.get(type);
  if (!t || t.rows.length !== 8 || t.warps.length !== 8)
    throw new Error(`kernels/qs_small_q8.h has no launch table for ${typeName(type)}`);
  return t;
}
const Q8_TABLES = new Map<number, { rows: number[]; warps: number[] }>();
