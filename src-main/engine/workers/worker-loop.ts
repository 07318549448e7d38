/**
 * The worker side of the pool: answers { id, name, payload } messages by running the named task from
 * ./tasks.ts (or the table its entry point passes) and replying { id, ok, result } (result buffers are transferred, not copied).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { TASKS, type TaskFn } from './tasks';
import type { WorkerReply } from './pool';
import { oneLine } from '../../../src-shared/contract';

let started = false;

/** The environment variable that makes a spawned engine entry point a device process. */
export const DEVICE_PROCESS_ENV = 'QS_DEVICE_PROCESS';

/** True when this thread is a pool worker (workerData { qsWorker: true }). */
export function isPoolWorker(): boolean {
  return !isMainThread && !!parentPort && (workerData as { qsWorker?: unknown } | null)?.qsWorker === true;
}

/** True when this process is a device process (../devices/process.ts): IPC to its parent, the marker set. */
export function isDeviceProcess(): boolean {
  return isMainThread && process.env[DEVICE_PROCESS_ENV] === '1' && typeof process.send === 'function';
}

/**
 * An error after which a device process must end: its GPU context is lost and cannot be reset inside
 * the process. The reply goes out first; the parent starts a fresh process for the next tensor.
 */
export class EndProcessError extends Error {}

/**
 * Bundle entry points call this first: when this thread is a pool worker (or this process a device
 * process) it starts the worker loop and returns true (the caller must then do nothing else);
 * otherwise it returns false. `tasks` is the table the worker answers from (a test's worker entry adds
 * its own to the engine's).
 */
export function runWorkerIfRequested(tasks: Readonly<Record<string, TaskFn>> = TASKS): boolean {
  const inProcess = isDeviceProcess();
  if (!isPoolWorker() && !inProcess) return false;
  if (started) return true;
  started = true;
  const answer = async (msg: { id: number; name: string; payload: unknown }) => {
    let reply: WorkerReply;
    let transfer: ArrayBuffer[] = [];
    let end = false;
    try {
      const task = Object.prototype.hasOwnProperty.call(tasks, msg.name) ? tasks[msg.name] : undefined;
      if (!task) throw new Error(`unknown worker task '${msg.name}'`);
      const out = await (task as (p: unknown) => ReturnType<TaskFn>)(msg.payload);
      reply = { id: msg.id, ok: true, result: out.result };
      transfer = out.transfer ?? [];
    } catch (e) {
      reply = { id: msg.id, ok: false, error: oneLine(e) };
      end = e instanceof EndProcessError;
    }
    return { reply, transfer, end };
  };
  if (inProcess) {
    // a device process: messages over the IPC channel (structured clone), ends with its parent
    process.on('disconnect', () => process.exit(0));
    process.on('message', async (msg: { id: number; name: string; payload: unknown }) => {
      const { reply, end } = await answer(msg);
      process.send!(reply, undefined, undefined, () => {
        if (end) process.exit(3);
      });
    });
    return true;
  }
  const port = parentPort!;
  port.on('message', async (msg: { id: number; name: string; payload: unknown }) => {
    const { reply, transfer } = await answer(msg);
    port.postMessage(reply, transfer);
  });
  return true;
}
