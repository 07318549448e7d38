/**
 * A small pool of worker_threads that runs named tasks (see ./tasks.ts) for the reference and the cpu
 * backend, with cancellation.
 *
 * Hand-written rather than piscina/workerpool: none is installed, and we need three start-up modes
 * (TypeScript sources through tsx, the one-file CLI bundle, the Electron utility bundle) plus
 * ref-while-busy / unref-while-idle so CLI processes exit on their own; that is ~200 lines here.
 *
 * Start-up modes:
 * - sources (vitest, tsx): an eval worker that registers tsx's CommonJS hook and requires
 *   ./worker-main.ts. (Node 20 ignores `--import tsx` in a worker's execArgv for a .ts entry:
 *   ERR_UNKNOWN_FILE_EXTENSION, so the hook is registered from inside the worker.)
 * - bundles: the worker is the bundle file itself with workerData { qsWorker: true }; the bundle's
 *   entry point calls runWorkerIfRequested() first. setWorkerScript(__filename) names the file; when
 *   bundled (__QS_BUNDLED__) and nothing was set, this module's own __filename (= the bundle) is used.
 *
 * Cancellation: an aborted task that has not started is dropped; one that is running finishes its
 * current chunk in the worker (its result is discarded). Either way the promise rejects at once with
 * an AbortError.
 */
import { Worker } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { oneLine } from '../../../src-shared/contract';

let workerScript: string | null = null;

/**
 * Bundle entry points call this with their own __filename (the worker is the bundle itself); a .ts
 * file is started through tsx like worker-main.ts; null goes back to the default. Workers already
 * running keep their script until shutdownPool().
 */
export function setWorkerScript(file: string | null): void {
  workerScript = file;
}

function isBundled(): boolean {
  return typeof __QS_BUNDLED__ !== 'undefined' && !!__QS_BUNDLED__;
}

/** The workerData marker that makes a bundle's entry point run the worker loop instead of main. */
export const WORKER_MARKER = { qsWorker: true } as const;

function spawnWorker(): Worker {
  const script = workerScript ?? (isBundled() ? __filename : null);
  if (script && !script.endsWith('.ts')) return new Worker(script, { workerData: WORKER_MARKER });
  return new Worker(sourcesEntry(script), { eval: true, workerData: WORKER_MARKER });
}

/**
 * From sources: code that loads worker-main.ts (or a TypeScript entry set with setWorkerScript, in
 * tests) through tsx's CommonJS hook, with kernel sources imported as text (`?raw`, which the bundles
 * inline), as a worker that opens a GPU session needs (../devices/host.ts).
 */
function sourcesEntry(script: string | null): string {
  const entry = script ?? path.join(__dirname, 'worker-main.ts');
  const tsx = createRequire(__filename).resolve('tsx/cjs');
  const raw =
    "{ const M = require('node:module'); const load = M._load; M._load = function (r, p, m) { " +
    "return typeof r === 'string' && r.endsWith('?raw') ? require('node:fs').readFileSync(M._resolveFilename(r.slice(0, -4), p), 'utf8') : load.call(this, r, p, m); }; }";
  return `require(${JSON.stringify(tsx)}); ${raw} require(${JSON.stringify(entry)});`;
}

/**
 * The node arguments of a device process (../devices/process.ts): the bundle file itself, or from
 * sources the same entry code as a worker thread. The process runs the worker loop because its
 * environment has QS_DEVICE_PROCESS=1 (./worker-loop.ts).
 */
export function processWorkerArgs(): string[] {
  const script = workerScript ?? (isBundled() ? __filename : null);
  if (script && !script.endsWith('.ts')) return [script];
  return ['-e', sourcesEntry(script)];
}

export function abortError(): Error {
  return new DOMException('the operation was cancelled', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

export interface TaskOptions {
  signal?: AbortSignal;
  /** ArrayBuffers to move to the worker instead of copying */
  transfer?: ArrayBuffer[];
}

interface Job {
  id: number;
  name: string;
  payload: unknown;
  transfer: ArrayBuffer[];
  resolve(v: unknown): void;
  reject(e: unknown): void;
  settled: boolean;
  cleanup(): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  dead: boolean;
}

/** What a worker answers; `error` is a one-line message. */
export type WorkerReply =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export class WorkerPool {
  readonly size: number;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`worker pool size must be a positive integer, got ${size}`);
    this.size = size;
  }

  /** Runs task `name` with `payload` on a worker. */
  run<R>(name: string, payload: unknown, opts: TaskOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(new Error('worker pool is shut down'));
    const { signal } = opts;
    if (signal?.aborted) return Promise.reject(abortError());
    return new Promise<R>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        name,
        payload,
        transfer: opts.transfer ?? [],
        resolve: resolve as (v: unknown) => void,
        reject,
        settled: false,
        cleanup: () => {},
      };
      if (signal) {
        const onAbort = () => this.abortJob(job);
        signal.addEventListener('abort', onAbort, { once: true });
        job.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminates every worker; queued and running tasks reject. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('worker pool is shut down');
    for (const job of this.queue.splice(0)) this.settle(job, err, false);
    const slots = this.slots.splice(0);
    for (const s of slots) {
      s.dead = true;
      if (s.job) this.settle(s.job, err, false);
    }
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private settle(job: Job, value: unknown, ok: boolean): void {
    if (job.settled) return;
    job.settled = true;
    job.cleanup();
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  private abortJob(job: Job): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) this.queue.splice(q, 1);
    // a running job keeps its worker busy until the chunk ends; the reply is then ignored
    this.settle(job, abortError(), false);
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job && !s.dead);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.addSlot();
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      try {
        slot.worker.postMessage({ id: job.id, name: job.name, payload: job.payload }, job.transfer);
      } catch (e) {
        slot.job = null;
        slot.worker.unref();
        this.settle(
          job,
          new Error(`cannot send task ${job.name} to a worker: ${(e as Error).message}`),
          false,
        );
      }
    }
  }

  private addSlot(): Slot {
    const worker = spawnWorker();
    const slot: Slot = { worker, job: null, dead: false };
    worker.unref();
    worker.on('message', (msg: WorkerReply) => {
      const job = slot.job;
      slot.job = null;
      if (!slot.dead) worker.unref();
      if (job && job.id === msg.id) {
        if (msg.ok) this.settle(job, msg.result, true);
        else this.settle(job, new Error(msg.error), false);
      }
      this.pump();
    });
    const fail = (why: string) => {
      if (slot.dead) return;
      slot.dead = true;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) this.settle(slot.job, new Error(`worker failed: ${why}`), false);
      slot.job = null;
      worker.terminate().catch(() => 0);
      if (!this.closed) this.pump();
    };
    worker.on('error', (e) => fail(oneLine(e)));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}

let pool: WorkerPool | null = null;
let configuredSize: number | null = null;
/** worker threads the configured size leaves free for the app's UI (configurePool) */
let configuredKept = 0;

export function defaultPoolSize(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(n, 8));
}

/**
 * The pool of the app's engine (the desktop app and the browser mode): one thread fewer than the
 * default (the CLI's), so the UI, and the server answering it, keep a core while a run saturates the
 * others; `kept` says how many it left free (0 where there is only one to run on).
 */
export function appPoolSize(defaultSize = defaultPoolSize()): { size: number; kept: number } {
  const size = Math.max(1, defaultSize - 1);
  return { size, kept: defaultSize - size };
}

/**
 * Sets the pool size used when the pool is (re)created; shuts a running pool of another size down.
 * `keptForApp`: the threads that size leaves free for the app's UI, said wherever the cpu backend's
 * thread count is shown (poolKeptForApp).
 */
export async function configurePool(size: number, keptForApp = 0): Promise<void> {
  if (!Number.isInteger(size) || size < 1 || size > 256) {
    throw new Error(`worker pool size must be an integer in 1..256, got ${size}`);
  }
  if (!Number.isInteger(keptForApp) || keptForApp < 0) {
    throw new Error(`threads kept for the app must be a whole number, got ${keptForApp}`);
  }
  configuredSize = size;
  configuredKept = keptForApp;
  if (pool && pool.size !== size) await shutdownPool();
}

/** The shared pool, created on first use. */
export function getPool(): WorkerPool {
  if (!pool) pool = new WorkerPool(configuredSize ?? defaultPoolSize());
  return pool;
}

/** The size the shared pool has or will have. */
export function poolSize(): number {
  return pool ? pool.size : (configuredSize ?? defaultPoolSize());
}

/** The worker threads the pool leaves free for the app's UI (0 for the CLI's pool). */
export function poolKeptForApp(): number {
  return poolSize() === configuredSize ? configuredKept : 0;
}

/** Terminates the shared pool (the CLI calls this before exit); the next use starts a new one. */
export async function shutdownPool(): Promise<void> {
  const p = pool;
  pool = null;
  if (p) await p.close();
}

export interface ChunkTask {
  name: string;
  payload: unknown;
  transfer?: ArrayBuffer[];
}

/**
 * Runs `count` chunks with at most `concurrency` in flight. `make(i)` builds chunk i only when a
 * worker is about to be free, so memory stays bounded by the chunks in flight; `done(i, result)` is
 * called as each finishes (in completion order). The first failure or an abort stops the rest and
 * rejects (an AbortError for an abort).
 */
export async function runChunks<T>(opts: {
  count: number;
  concurrency?: number;
  signal?: AbortSignal;
  make(i: number): ChunkTask | Promise<ChunkTask>;
  done(i: number, result: T): void;
}): Promise<void> {
  const { count, signal } = opts;
  if (signal?.aborted) throw abortError();
  if (count <= 0) return;
  const p = getPool();
  const concurrency = Math.max(1, Math.min(opts.concurrency ?? p.size, p.size, count));
  const inner = new AbortController();
  const onAbort = () => inner.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let next = 0;
  let firstError: unknown = null;
  const lane = async () => {
    while (next < count && firstError === null) {
      const i = next++;
      try {
        const t = await opts.make(i);
        if (inner.signal.aborted) throw abortError();
        const r = await p.run<T>(t.name, t.payload, { signal: inner.signal, transfer: t.transfer });
        if (firstError === null) opts.done(i, r);
      } catch (e) {
        if (firstError === null) firstError = signal?.aborted ? abortError() : e;
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (firstError !== null) throw firstError;
  if (signal?.aborted) throw abortError();
}
