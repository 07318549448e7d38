/**
 * A device worker in a process of its own: the engine entry point spawned again with
 * QS_DEVICE_PROCESS=1, answering the same device tasks as a worker thread (./host.ts) over the IPC
 * channel (structured clone, so typed arrays cross whole).
 *
 * Why a process: a kernel that writes to an illegal address leaves CUDA's device unusable for the
 * whole process (every later call fails; a context reset does not recover it). Runs that load user
 * kernels therefore keep the GPU session here: after such a fault the process answers the tensor's
 * error and ends, and the session (./remote.ts) starts a fresh one for the next tensor, while the run,
 * its reference and its results stay in the engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { DeviceThread } from './remote';
import { abortError, processWorkerArgs, type WorkerReply } from '../workers/pool';
import { DEVICE_PROCESS_ENV } from '../workers/worker-loop';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

export class DeviceProcess implements DeviceThread {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  /** why the process is gone ("worker failed: ..."), once it is */
  private gone: string | null = null;
  private readonly exited: Promise<void>;

  constructor() {
    const env: NodeJS.ProcessEnv = { ...process.env, [DEVICE_PROCESS_ENV]: '1' };
    if (process.versions.electron) env.ELECTRON_RUN_AS_NODE = '1'; // the app's binary runs as node
    this.child = spawn(process.execPath, processWorkerArgs(), {
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.exited = new Promise((resolve) => {
      const fail = (why: string) => {
        this.gone ??= `worker failed: ${why}`;
        for (const p of this.pending.values()) {
          p.cleanup();
          p.reject(new Error(this.gone));
        }
        this.pending.clear();
        resolve();
      };
      this.child.on('exit', (code, signal) =>
        fail(code !== null ? `exited with code ${code}` : `ended by ${signal}`),
      );
      this.child.on('error', (e) => fail(e.message));
    });
    this.child.on('message', (r: WorkerReply) => {
      const p = this.pending.get(r.id);
      if (!p) return; // a cancelled call's late answer
      this.pending.delete(r.id);
      p.cleanup();
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(r.error));
    });
  }

  run<R>(name: string, payload: unknown, opts: { signal?: AbortSignal } = {}): Promise<R> {
    if (this.gone) return Promise.reject(new Error(this.gone));
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<R>((resolve, reject) => {
      const id = this.next++;
      let cleanup = () => {};
      if (signal) {
        // the process finishes the task; its answer is dropped
        const onAbort = () => {
          this.pending.delete(id);
          reject(abortError());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, cleanup });
      this.child.send({ id, name, payload }, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        cleanup();
        reject(new Error(`worker failed: ${err.message}`));
      });
    });
  }

  /** Ends the process (closing the channel ends it; a kill after 5 s if it does not). */
  async close(): Promise<void> {
    if (!this.gone && this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
