/**
 * The named tasks a pool worker can run. Each takes a structured-cloned payload and returns its result
 * plus the buffers to transfer back. Kept free of any import of the pool itself (no cycles).
 */
import { LONG_ROW, refRowsTask } from '../reference/kernel';
import type { RefRowsPayload } from '../reference/index';
import { cpuRows, type CpuRowsPayload } from '../backends/cpu-kernels';

export interface TaskOutput {
  result: unknown;
  transfer?: ArrayBuffer[];
}

export type TaskFn = (payload: never) => TaskOutput | Promise<TaskOutput>;

// Reused between tasks up to 64 MB; a larger one (very long rows) is freed with its task.
const SCRATCH_KEEP = 16 << 20;
let scratch = new Float32Array(0);
function scratchFor(n: number): Float32Array {
  if (n > SCRATCH_KEEP) return new Float32Array(n);
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch;
}

export const TASKS: Record<string, TaskFn> = {
  /** reference rows: float64 [m][rows] */
  'ref-rows': (p: RefRowsPayload): TaskOutput => {
    const out = refRowsTask(p, scratchFor(p.k > LONG_ROW ? LONG_ROW : (p.rows >= 4 ? 4 : 1) * p.k));
    return { result: out, transfer: [out.buffer] };
  },
  /** cpu backend rows: float32 [m][rows] */
  'cpu-rows': (p: CpuRowsPayload): TaskOutput => {
    const out = cpuRows(p);
    return { result: out, transfer: [out.buffer as ArrayBuffer] };
  },
};
