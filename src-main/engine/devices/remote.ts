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
}

/** A session whose device is bound on a worker thread of its own. */
export class RemoteSession implements BackendSession {
  private dead: string | null = null;
  private closed = false;

  private constructor(
    private readonly thread: DeviceThread,
    private readonly id: number,
    readonly device: DeviceInfo,
    /** the worker thread's id (node's threadId) */
    readonly threadId: number,
  ) {}

  static async open(kind: 'cuda' | 'hip', index: number, thread: DeviceThread): Promise<RemoteSession> {
    try {
      const r = await thread.run<OpenReply>('device-open', { kind, index });
      return new RemoteSession(thread, r.session, r.device, r.thread);
    } catch (e) {
      await thread.close().catch(() => undefined);
      throw e;
    }
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
        this.dead = `the worker of ${this.device.backend}:${this.device.index} stopped (${msg})`;
        throw new Error(this.dead);
      }
      throw e;
    }
  }

  async load(w: WeightsDesc): Promise<LoadedWeights> {
    const r = await this.call<{ weights: number; bytes: number }>('device-load', {
      session: this.id,
      desc: w,
    });
    const rw: RemoteWeights = {
      type: w.type,
      n: w.n,
      k: w.k,
      bytes: r.bytes,
      id: r.weights,
      session: this,
      dispose: () => {
        if (rw.id === null) return;
        const id = rw.id;
        rw.id = null;
        if (!this.closed && !this.dead)
          void this.thread.run('device-dispose', { session: this.id, weights: id }).catch(() => undefined);
      },
    };
    return rw;
  }

  private weightsId(w: LoadedWeights): number {
    const rw = w as RemoteWeights;
    if (rw.session !== this) throw new Error('weights were loaded by another session');
    if (rw.id === null) throw new Error('weights were disposed');
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
      if (!this.dead) await this.thread.run('device-close', { session: this.id });
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
): Backend {
  const kind = local.kind;
  if (kind === 'cpu') return local;
  return {
    kind,
    status: (): Promise<BackendStatus> => local.status(),
    open: (index: number) => RemoteSession.open(kind, index, thread()),
  };
}
