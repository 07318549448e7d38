/** Launching a plan: the launches a planner prepared, enqueued in order for one weight copy. */
import type { DevicePtr, GpuFunction, GpuRuntime, KernelArg, LaunchOptions } from './runtime';

export interface Launch {
  fn: GpuFunction;
  grid: [number, number, number];
  block: [number, number, number];
  shared: number;
  /** the argument list for weights at wPtr (the same array each time for the same wPtr) */
  args: (wPtr: DevicePtr) => KernelArg[];
  options?: LaunchOptions;
}

/**
 * A copy of the weights in another device layout that a plan's launches read instead of the loaded
 * GGUF rows (kernels/qs_format.h, split rows): `bytes` long, made once per loaded tensor by `make`,
 * launched with (GGUF rows, copy, n, k). The backend owns it: it makes it on first use, keeps it with
 * the weights and frees it with them.
 */
export interface WeightCopy {
  make: Omit<Launch, 'args' | 'options'>;
  bytes: number;
  /** what the copy is, for allocation errors */
  label: string;
}

/** The launches of one multiplication and the line that describes them to the user. */
export interface Plan {
  launches: Launch[];
  detail: string;
  /** the launches read this copy of the weights, not the loaded rows */
  copy?: WeightCopy;
}

/** May start while the previous kernel runs (the kernel waits for its results itself). */
export const OVERLAP: LaunchOptions = { overlapPrevious: true };

/** Enqueues every launch of the plan for weights at wPtr (the cold protocol rotates copies). */
export function enqueue(rt: GpuRuntime, plan: Plan, wPtr: DevicePtr): void {
  for (const l of plan.launches) rt.launch(l.fn, l.grid, l.block, l.shared, l.args(wPtr), l.options);
}

/** One argument list per weight pointer, built once: the runtime caches what it packs per list. */
export function argsFor(make: (wPtr: DevicePtr) => KernelArg[]): (wPtr: DevicePtr) => KernelArg[] {
  const cache = new Map<DevicePtr, KernelArg[]>();
  return (wPtr) => {
    let a = cache.get(wPtr);
    if (!a) {
      a = make(wPtr);
      cache.set(wPtr, a);
    }
    return a;
  };
}

/** An argument list that does not involve the weights. */
export function fixedArgs(args: KernelArg[]): (wPtr: DevicePtr) => KernelArg[] {
  return () => args;
}

/** A device pointer plus a byte offset (the runtimes hand out bigint or number addresses). */
export function ptrAdd(p: DevicePtr, bytes: number): DevicePtr {
  if (bytes === 0) return p;
  if (typeof p === 'bigint') return (p + BigInt(bytes)) as DevicePtr;
  if (typeof p === 'number') return (p + bytes) as DevicePtr;
  throw new Error('device pointer arithmetic needs a bigint or number address');
}
