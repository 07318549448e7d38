/**
 * Timing on the GPU with events: the hot and cold protocols of a planned multiplication, and the
 * device-to-device copy bandwidth the results are compared with.
 */
import type { DeviceInfo, TimingOptions } from '../types';
import type { CopyBandwidthMeasurement } from '../../../../src-shared/contract';
import { enqueue, type Plan } from './launcher';
import { FREE_MARGIN, WEIGHT_PAD, type DeviceMemory } from './memory';
import type { DevicePtr, GpuEvent, GpuFunction, GpuRuntime, KernelArg } from './runtime';
import { l2CacheBytes } from './runtime-common';

/** GPU time one timing sample covers at least (us) */
const SAMPLE_US = 1000;

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}
export function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

export interface TimedWeights {
  name: string;
  ptr: DevicePtr;
  bytes: number;
}

export interface PlanTiming {
  samplesUs: number[];
  weightCopies: number;
  hostUsPerCall: number;
}

/**
 * Times a plan: warm-up, then `repeats` samples of enough launches to cover ~1 ms of GPU time each,
 * every sample queued behind qs_hold (from `hold`, where the module has it). The cold protocol rotates
 * weight copies that together span 3x the L2 cache; the copies go into `scratch`.
 */
export function timePlan(
  rt: GpuRuntime,
  memory: DeviceMemory,
  device: DeviceInfo,
  plan: Plan,
  w: TimedWeights,
  hold: () => GpuFunction | null,
  opts: TimingOptions,
  scratch: DevicePtr[],
  events: [GpuEvent, GpuEvent],
): PlanTiming {
  const warmup = Math.max(1, opts.warmup ?? 10);
  const repeats = Math.max(3, opts.repeats ?? 30);
  // cold protocol: enough copies of the weights that the rotation spans 3x the L2 cache
  const copies: DevicePtr[] = [w.ptr];
  if (opts.protocol === 'cold') {
    const l2 = l2CacheBytes(device.details) ?? 64 * 1024 * 1024;
    const want = Math.max(2, Math.min(16, Math.ceil((3 * l2) / w.bytes) + 1));
    const free = rt.memGetInfo().free - FREE_MARGIN;
    const fit = Math.floor(free / (w.bytes + WEIGHT_PAD));
    if (fit < 1) throw new Error(`${w.name}: no device memory for a second weight copy (cold protocol)`);
    const extra = Math.min(want - 1, fit);
    for (let i = 0; i < extra; i++) {
      const c = memory.alloc(w.bytes + WEIGHT_PAD, `${w.name}: weight copy ${i + 2} (cold protocol)`);
      scratch.push(c);
      rt.copyDeviceToDevice(c, w.ptr, w.bytes + WEIGHT_PAD);
      copies.push(c);
    }
  }
  let rot = 0;
  const next = () => copies[rot++ % copies.length];
  for (let i = 0; i < warmup; i++) enqueue(rt, plan, next());
  rt.synchronize();
  // launches per sample: enough that one sample covers >= ~1 ms of GPU time, from a timed probe
  rt.eventRecord(events[0]);
  const hp = performance.now();
  for (let i = 0; i < copies.length; i++) enqueue(rt, plan, next());
  const probeHostUs = ((performance.now() - hp) * 1000) / copies.length;
  rt.eventRecord(events[1]);
  const probeUs = (rt.eventElapsedMs(events[0], events[1]) * 1000) / copies.length;
  const perSample = Math.max(copies.length, Math.min(1000, Math.ceil(SAMPLE_US / Math.max(probeUs, 0.5))));
  const batch = Math.ceil(perSample / copies.length) * copies.length;
  // Each sample's launches queue behind qs_hold, which keeps the stream busy for about as long as the
  // host needs to enqueue them (the probe's host time, with margin), so the sample times the GPU
  // running them back to back, not the host's launch rate: through koffi one call's launches take the
  // host ~10-15 us, as long as an m=1 multiplication on an H100. Without the hold, the GPU would be
  // idle at the start event and wait for every launch.
  const holdFn = hold();
  const holdUs = Math.min(50_000, 20 + 1.5 * probeHostUs * batch);
  const holdArgs: KernelArg[] = [{ u64: Math.round(rt.kind === 'cuda' ? holdUs * 1000 : holdUs * 100) }];
  const samples: number[] = [];
  let hostMs = 0;
  for (let s = 0; s < repeats; s++) {
    checkAbort(opts.signal);
    if (holdFn) rt.launch(holdFn, [1, 1, 1], [32, 1, 1], 0, holdArgs);
    rt.eventRecord(events[0]);
    const h0 = performance.now();
    for (let i = 0; i < batch; i++) enqueue(rt, plan, next());
    hostMs += performance.now() - h0;
    rt.eventRecord(events[1]);
    samples.push((rt.eventElapsedMs(events[0], events[1]) * 1000) / batch);
  }
  return {
    samplesUs: samples,
    weightCopies: copies.length,
    hostUsPerCall: (hostMs * 1000) / (repeats * batch),
  };
}

/** Device-to-device copy bandwidth (bytes read + written), measured with events, and how. */
export function measureCopyBandwidth(
  rt: GpuRuntime,
  memory: DeviceMemory,
  bytes = 256 * 1024 * 1024,
): CopyBandwidthMeasurement | null {
  const { free } = rt.memGetInfo();
  const size = Math.min(bytes, Math.floor((free - FREE_MARGIN) / 2 / 4096) * 4096);
  if (size < 16 * 1024 * 1024) return null;
  const a = rt.malloc(size);
  let b: DevicePtr | null = null;
  const ev = [rt.eventCreate(), rt.eventCreate()];
  try {
    b = rt.malloc(size);
    rt.memset8(a, 1, size);
    // batches of back-to-back copies (no host gaps for the clocks to drop in), the first ones as
    // warm-up (single copies timed one by one read 2.77-2.91 TB/s from run to run on an H100)
    const perBatch = 8;
    const warmup = 4;
    const timed = 5;
    const times: number[] = [];
    for (let i = 0; i < warmup + timed; i++) {
      rt.eventRecord(ev[0]);
      for (let j = 0; j < perBatch; j++) rt.copyDeviceToDevice(b, a, size);
      rt.eventRecord(ev[1]);
      const ms = rt.eventElapsedMs(ev[0], ev[1]) / perBatch;
      if (i >= warmup) times.push(ms);
    }
    times.sort((x, y) => x - y);
    return {
      gbs: (2 * size) / (times[timed >> 1] * 1e-3) / 1e9, // the median batch
      measuredAt: new Date().toISOString(),
      bytes: size,
      repeats: timed * perBatch,
      method: `device-to-device copies timed with events: median of ${timed} batches of ${perBatch} after ${warmup} warm-up batches`,
    };
  } finally {
    memory.freeQuiet(a);
    memory.freeQuiet(b);
    for (const e of ev) rt.eventDestroy(e);
  }
}
