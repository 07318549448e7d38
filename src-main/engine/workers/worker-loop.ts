/**
 * The worker side of the pool: answers { id, name, payload } messages by running the named task from
 * ./tasks.ts (or the table its entry point passes) and replying { id, ok, result } (result buffers are transferred, not copied).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { TASKS, type TaskFn } from './tasks';
import type { WorkerReply } from './pool';
import { oneLine } from '../../../src-shared/contract';

let started = false;

/** True when this thread is a pool worker (workerData { qsWorker: true }). */
export function isPoolWorker(): boolean {
  return !isMainThread && !!parentPort && (workerData as { qsWorker?: unknown } | null)?.qsWorker === true;
}

/**
 * Bundle entry points call this first: when this thread is a pool worker it starts the worker loop
 * and returns true (the caller must then do nothing else); otherwise it returns false. `tasks` is
 * the table the worker answers from (a test's worker entry adds its own to the engine's).
 */
export function runWorkerIfRequested(tasks: Readonly<Record<string, TaskFn>> = TASKS): boolean {
  if (!isPoolWorker()) return false;
  if (started) return true;
  started = true;
  const port = parentPort!;
  port.on('message', async (msg: { id: number; name: string; payload: unknown }) => {
    let reply: WorkerReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const task = Object.prototype.hasOwnProperty.call(tasks, msg.name) ? tasks[msg.name] : undefined;
      if (!task) throw new Error(`unknown worker task '${msg.name}'`);
      const out = await (task as (p: unknown) => ReturnType<TaskFn>)(msg.payload);
      reply = { id: msg.id, ok: true, result: out.result };
      transfer = out.transfer ?? [];
    } catch (e) {
      reply = { id: msg.id, ok: false, error: oneLine(e) };
    }
    port.postMessage(reply, transfer);
  });
  return true;
}
