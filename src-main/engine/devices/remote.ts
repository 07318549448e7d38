/**
 * A GPU backend whose sessions live in device workers: `open(index)` starts a worker thread of its
 * own for that device (node worker_threads), which creates the vendor runtime and binds the device
 * there (HIP and CUDA keep the current device per thread), and every load, run and time of the
 * session is a message to that thread. Sessions of several devices so run in parallel while the
 * reference, the verdicts and the records stay in the engine's thread.
 *
 * A worker that dies (a crash in the vendor library's thread, an exit) fails the call in flight and
 * every later call of that session with one line naming the device; other devices' workers go on.
 */
import type {
  Backend,
  BackendSession,
  BackendStatus,
  DeviceInfo,
  LoadedWeights,
  RunOptions,
  RunResult,
  SessionOptions,
  Timing,
  TimingOptions,
  WeightsDesc,
} from '../backends/types';
import { WorkerPool } from '../workers/pool';
import type { OpenReply } from './host';

/** What a device worker needs from the pool: one thread, calls in order, a way to stop it. */
export interface DeviceThread {
  run<R>(
    name: string,
    payload: unknown,
    opts?: { signal?: AbortSignal; transfer?: ArrayBuffer[] },
  ): Promise<R>;
  close(): Promise<void>;
}

interface RemoteWeights extends LoadedWeights {
  id: number | null;
  session: RemoteSession;
  /** the worker they were loaded into (a restarted worker starts a new generation) */
  generation: number;
}

/** How many times a session starts a fresh device process after one ended (./process.ts). */
const MAX_RESTARTS = 8;

/** A session whose device is bound on a worker thread of its own. */
export class RemoteSession implements BackendSession {
  private dead: string | null = null;
  private closed = false;
  private generation = 0;
  private restarts = 0;

  private constructor(
    private thread: DeviceThread,
    private id: number,
    readonly device: DeviceInfo,
    /** the worker thread's id (node's threadId) */
    readonly threadId: number,
    private readonly reopen: { kind: 'cuda' | 'hip'; index: number; opts: SessionOptions } | null,
    /** makes a fresh worker after one ended (device processes); null: an ended worker ends the session */
    private readonly respawn: (() => DeviceThread) | null,
  ) {}

  static async open(
    kind: 'cuda' | 'hip',
    index: number,
    thread: DeviceThread,
    opts: SessionOptions = {},
    respawn: (() => DeviceThread) | null = null,
  ): Promise<RemoteSession> {
    try {
      const r = await thread.run<OpenReply>('device-open', { kind, index, opts });
      return new RemoteSession(thread, r.session, r.device, r.thread, { kind, index, opts }, respawn);
    } catch (e) {
      await thread.close().catch(() => undefined);
      throw e;
    }
  }

  /** A fresh worker with the device opened again; weights of the old one are gone (a new generation). */
  private async restart(): Promise<void> {
    this.restarts++;
    await this.thread.close().catch(() => undefined);
    this.thread = this.respawn!();
    const { kind, index, opts } = this.reopen!;
    const r = await this.thread.run<OpenReply>('device-open', { kind, index, opts });
    this.id = r.session;
    this.generation++;
  }

  private async call<R>(
    name: string,
    payload: unknown,
    opts: { signal?: AbortSignal; transfer?: ArrayBuffer[] } = {},
  ): Promise<R> {
    if (this.closed) throw new Error(`${this.device.backend}:${this.device.index} session is closed`);
    if (this.dead) throw new Error(this.dead);
    try {
      return await this.thread.run<R>(name, payload, opts);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg.startsWith('worker failed:') || msg === 'worker pool is shut down') {
        const where = `${this.device.backend}:${this.device.index}`;
        if (this.respawn && this.restarts < MAX_RESTARTS) {
          // the next load starts a fresh process; weights of this one are gone
          this.stopped = `the device process of ${where} ended (${msg}); the next tensor starts a fresh one`;
          throw new Error(this.stopped);
        }
        this.dead = `the worker of ${where} stopped (${msg})`;
        throw new Error(this.dead);
      }
      throw e;
    }
  }

  /** set when a restartable worker ended: the next load restarts it */
  private stopped: string | null = null;

  async load(w: WeightsDesc): Promise<LoadedWeights> {
    const attempt = async () => {
      if (this.stopped) {
        this.stopped = null;
        await this.restart();
      }
      return this.call<{ weights: number; bytes: number }>('device-load', { session: this.id, desc: w });
    };
    let r: { weights: number; bytes: number };
    try {
      r = await attempt();
    } catch (e) {
      // the process ended after its last answer (it had lost its context): once more, in a fresh one
      if (!this.stopped) throw e;
      r = await attempt();
    }
    const rw: RemoteWeights = {
      type: w.type,
      n: w.n,
      k: w.k,
      bytes: r.bytes,
      id: r.weights,
      session: this,
      generation: this.generation,
      dispose: () => {
        if (rw.id === null) return;
        const id = rw.id;
        rw.id = null;
        if (!this.closed && !this.dead && !this.stopped && rw.generation === this.generation)
          void this.thread.run('device-dispose', { session: this.id, weights: id }).catch(() => undefined);
      },
    };
    return rw;
  }

  private weightsId(w: LoadedWeights): number {
    const rw = w as RemoteWeights;
    if (rw.session !== this) throw new Error('weights were loaded by another session');
    if (rw.id === null) throw new Error('weights were disposed');
    if (rw.generation !== this.generation || this.stopped)
      throw new Error(
        `weights were lost with the device process of ${this.device.backend}:${this.device.index}, which ended after a fault`,
      );
    return rw.id;
  }

  async run(w: LoadedWeights, x: Float32Array, m: number, opts: RunOptions = {}): Promise<RunResult> {
    const { signal, ...rest } = opts;
    return this.call<RunResult>(
      'device-run',
      { session: this.id, weights: this.weightsId(w), x, m, opts: rest },
      { signal },
    );
  }

  async time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing> {
    const { signal, ...rest } = opts;
    return this.call<Timing>(
      'device-time',
      { session: this.id, weights: this.weightsId(w), x, m, opts: rest },
      { signal },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.dead && !this.stopped) await this.thread.run('device-close', { session: this.id });
    } finally {
      await this.thread.close();
    }
  }
}

/**
 * The backend `kind` with each session on a device worker. `status()` is the in-process backend's
 * (`local`); `thread` makes the worker (tests hand in their own).
 */
export function deviceWorkerBackend(
  local: Backend,
  thread: () => DeviceThread = () => new WorkerPool(1),
  opts: { restart?: boolean } = {},
): Backend {
  const kind = local.kind;
  if (kind === 'cpu') return local;
  return {
    kind,
    status: (): Promise<BackendStatus> => local.status(),
    open: (index: number, sessionOpts?: SessionOptions) =>
      RemoteSession.open(kind, index, thread(), sessionOpts ?? {}, opts.restart ? thread : null),
  };
}
