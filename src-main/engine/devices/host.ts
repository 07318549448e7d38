/**
 * The worker side of a device worker (./remote.ts): the GPU session of one device, opened, used and
 * closed on this worker's own thread. The vendor runtime is created here, so its current device
 * (hipSetDevice, the CUDA context) is bound on this thread and no other. Kept to the GPU backends:
 * the cpu backend runs in the engine's own process.
 */
import { threadId } from 'node:worker_threads';
import { cudaBackend } from '../backends/cuda';
import { hipBackend } from '../backends/hip';
import type {
  Backend,
  BackendSession,
  DeviceInfo,
  LoadedWeights,
  RunOptions,
  SessionOptions,
  TimingOptions,
  WeightsDesc,
} from '../backends/types';
import { TASKS, type TaskFn, type TaskOutput } from '../workers/tasks';
import { EndProcessError, isDeviceProcess } from '../workers/worker-loop';
import { CONTEXT_LOST_MARK } from '../backends/gpu/backend';

interface HostSession {
  session: BackendSession;
  weights: Map<number, LoadedWeights>;
  nextWeights: number;
}

const sessions = new Map<number, HostSession>();
let nextSession = 1;

function backendOf(kind: unknown): Backend {
  if (kind === 'hip') return hipBackend;
  if (kind === 'cuda') return cudaBackend;
  throw new Error(`device workers serve the GPU backends (cuda, hip), not '${String(kind)}'`);
}

function sessionOf(id: number): HostSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`device worker: no open session ${id}`);
  return s;
}

function weightsOf(s: HostSession, id: number): LoadedWeights {
  const w = s.weights.get(id);
  if (!w) throw new Error(`device worker: no loaded weights ${id}`);
  return w;
}

export interface OpenReply {
  session: number;
  device: DeviceInfo;
  /** the worker thread the device is bound on */
  thread: number;
}

type RemoteRunOptions = Omit<RunOptions, 'signal'>;

/**
 * In a device process, a fault that lost the context for good ends the process after this answer
 * (the session in the engine starts a fresh one for the next tensor); the error says so.
 */
function endIfLost(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  if (isDeviceProcess() && msg.includes(CONTEXT_LOST_MARK))
    throw new EndProcessError(
      msg.replace(
        /context cannot be reset inside this process/,
        'device process ends and the run goes on in a fresh one',
      ),
    );
  throw e;
}
type RemoteTimingOptions = Omit<TimingOptions, 'signal'>;

/** The tasks a device worker answers. */
export const DEVICE_TASKS = {
  'device-open': async (p: { kind: string; index: number; opts?: SessionOptions }): Promise<TaskOutput> => {
    const session = await backendOf(p.kind).open(p.index, p.opts ?? {});
    const id = nextSession++;
    sessions.set(id, { session, weights: new Map(), nextWeights: 1 });
    const reply: OpenReply = { session: id, device: session.device, thread: threadId };
    return { result: reply };
  },
  'device-load': async (p: { session: number; desc: WeightsDesc }): Promise<TaskOutput> => {
    const s = sessionOf(p.session);
    const w = await s.session.load(p.desc).catch(endIfLost);
    const id = s.nextWeights++;
    s.weights.set(id, w);
    return { result: { weights: id, bytes: w.bytes } };
  },
  'device-dispose': (p: { session: number; weights: number }): TaskOutput => {
    const s = sessions.get(p.session);
    s?.weights.get(p.weights)?.dispose();
    s?.weights.delete(p.weights);
    return { result: null };
  },
  'device-run': async (p: {
    session: number;
    weights: number;
    x: Float32Array;
    m: number;
    opts: RemoteRunOptions;
  }): Promise<TaskOutput> => {
    const s = sessionOf(p.session);
    const r = await s.session.run(weightsOf(s, p.weights), p.x, p.m, p.opts).catch(endIfLost);
    return { result: r, transfer: [r.y.buffer as ArrayBuffer] };
  },
  'device-time': async (p: {
    session: number;
    weights: number;
    x: Float32Array;
    m: number;
    opts: RemoteTimingOptions;
  }): Promise<TaskOutput> => {
    const s = sessionOf(p.session);
    return { result: await s.session.time(weightsOf(s, p.weights), p.x, p.m, p.opts).catch(endIfLost) };
  },
  'device-close': async (p: { session: number }): Promise<TaskOutput> => {
    const s = sessions.get(p.session);
    sessions.delete(p.session);
    if (s) await s.session.close();
    return { result: null };
  },
};

/**
 * What the engine's workers answer: the pool's tasks (reference and cpu rows) and a device worker's.
 * The entry points that become workers (the CLI bundle, the app's engine host, ../workers/worker-main.ts)
 * hand this table to runWorkerIfRequested; the pool itself stays free of the GPU backends.
 */
export const ENGINE_WORKER_TASKS: Readonly<Record<string, TaskFn>> = {
  ...TASKS,
  ...(DEVICE_TASKS as Record<string, TaskFn>),
};
