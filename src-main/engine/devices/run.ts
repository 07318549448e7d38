/**
 * One run over several devices (`--device all`, `0,2,5`, `0,0`): the runner's plan once per device,
 * all at once, each device's session on a worker thread of its own (./remote.ts). A device that
 * cannot be opened, or whose worker stops, ends its own part with an error; the others go on. The
 * float64 reference of each job is computed once and shared by the devices. Results carry the device
 * (`slot`, `deviceIndex`, `device`) and the hash of their output, for the side-by-side view
 * (src-shared/devices.ts).
 */
import type { RunEvent, TensorResult } from '../../../src-shared/contract';
import type { DeviceRunEntry } from '../../../src-shared/devices';
import type { GgufTensorInfo } from '../gguf';
import type { Backend, DeviceInfo } from '../backends/types';
import { executeRun, type RunPlan } from '../run/runner';
import { oneLine } from '../../../src-shared/contract';
import { deviceWorkerBackend, type DeviceThread } from './remote';

export interface DevicesRunPlan extends Omit<RunPlan, 'deviceIndex' | 'slot' | 'reference' | 'onEvent'> {
  /** device indices, one worker each (an index may repeat) */
  devices: number[];
  onEvent: (ev: RunEvent) => void;
  /** makes a device worker (tests); default a worker thread */
  thread?: () => DeviceThread;
}

export interface DevicesRunOutcome {
  status: 'done' | 'cancelled' | 'failed';
  error?: string;
  results: TensorResult[];
  devices: DeviceRunEntry[];
  /** each slot's device as it was opened (null where it never was) */
  deviceInfos: (DeviceInfo | null)[];
}

/** The entry of the device list for a slot, from what its run learnt. */
export function deviceEntry(
  slot: number,
  backend: string,
  index: number,
  info: DeviceInfo | null,
  status: DeviceRunEntry['status'],
  error?: string,
): DeviceRunEntry {
  return {
    slot,
    backend,
    index,
    name: info?.name ?? null,
    arch: info?.arch ?? null,
    pciBusId: info?.details.pciBusId ?? null,
    uuid: info?.details.uuid ?? null,
    status,
    ...(error ? { error } : {}),
  };
}

/**
 * Each job's reference, computed by the first device that needs it and kept until every device still
 * running has taken it.
 */
class SharedReference {
  private readonly entries = new Map<string, { value: Promise<Float64Array>; takenBy: Set<number> }>();
  private readonly live: Set<number>;

  constructor(slots: number) {
    this.live = new Set(Array.from({ length: slots }, (_, i) => i));
  }

  take(slot: number, tensor: GgufTensorInfo, m: number, compute: () => Promise<Float64Array>) {
    const key = `${tensor.name}\u0000${m}`;
    let e = this.entries.get(key);
    if (!e) {
      e = { value: compute(), takenBy: new Set() };
      // a failed computation is retried by the next device rather than handed on
      e.value.catch(() => this.entries.delete(key));
      this.entries.set(key, e);
    }
    e.takenBy.add(slot);
    this.sweep();
    return e.value;
  }

  /** A device whose part ended takes nothing more. */
  finished(slot: number): void {
    this.live.delete(slot);
    this.sweep();
  }

  private sweep(): void {
    for (const [key, e] of this.entries)
      if ([...this.live].every((s) => e.takenBy.has(s))) this.entries.delete(key);
  }
}

export async function executeOnDevices(plan: DevicesRunPlan): Promise<DevicesRunOutcome> {
  const { devices, onEvent, runId } = plan;
  const backend: Backend = deviceWorkerBackend(plan.backend, plan.thread);
  const perDevice = plan.tensors.length * new Set(plan.batchSizes).size;
  const total = perDevice * devices.length;
  const results: TensorResult[] = [];
  const reference = new SharedReference(devices.length);
  const eta = new Array<number | null>(devices.length).fill(null);
  let done = 0;
  onEvent({ type: 'run-started', runId, total, request: plan.request });

  const outcomes = await Promise.all(
    devices.map(async (index, slot) => {
      try {
        return await executeRun({
          ...plan,
          backend,
          deviceIndex: index,
          slot,
          reference: (tensor, m, compute) => reference.take(slot, tensor, m, compute),
          onEvent: (ev) => {
            if (ev.type === 'result') {
              results.push(ev.result);
              onEvent(ev);
            } else if (ev.type === 'job-started') {
              onEvent({ ...ev, index: done, total });
            } else if (ev.type === 'progress') {
              done++;
              eta[slot] = ev.etaMs;
              const known = eta.filter((x): x is number => x !== null);
              onEvent({
                type: 'progress',
                runId,
                done,
                total,
                etaMs: known.length ? Math.max(...known) : null,
              });
            }
            // each device's run-started and run-finished become the one run's
          },
        });
      } finally {
        reference.finished(slot);
      }
    }),
  );

  const entries = outcomes.map((o, slot) =>
    deviceEntry(slot, plan.backend.kind, devices[slot], o.device, o.status, o.error),
  );
  const failed = entries.filter((e) => e.status === 'failed');
  const status: DevicesRunOutcome['status'] = plan.signal.aborted
    ? 'cancelled'
    : failed.length > 0
      ? 'failed'
      : 'done';
  const error = failed.length
    ? failed.map((e) => `${e.backend}:${e.index} (slot ${e.slot}): ${e.error ?? 'failed'}`).join('; ')
    : undefined;
  const count = (s: TensorResult['status']) => results.filter((r) => r.status === s).length;
  onEvent({
    type: 'run-finished',
    runId,
    status,
    error,
    passed: count('pass'),
    failed: count('fail'),
    errors: count('error'),
  });
  return { status, error, results, devices: entries, deviceInfos: outcomes.map((o) => o.device) };
}

/**
 * Runs `work` once per device of the list, all at once, each with a backend whose sessions live on a
 * worker thread of their own (GPU backends). A device whose work throws is that device's error; the
 * others go on. Returns each slot's outcome in list order.
 */
export async function forEachDevice<T>(
  local: Backend,
  devices: readonly number[],
  work: (backend: Backend, index: number, slot: number) => Promise<T>,
  thread?: () => DeviceThread,
): Promise<
  (
    | { slot: number; index: number; ok: true; value: T }
    | { slot: number; index: number; ok: false; error: string }
  )[]
> {
  const backend = deviceWorkerBackend(local, thread);
  return Promise.all(
    devices.map(async (index, slot) => {
      try {
        return { slot, index, ok: true as const, value: await work(backend, index, slot) };
      } catch (e) {
        return { slot, index, ok: false as const, error: oneLine(e) };
      }
    }),
  );
}
