/**
 * The generic GPU backend: everything above the vendor runtime (CUDA or HIP) is shared here.
 * - status() never throws: a missing library or no device is `available: false` with the reason.
 * - A session reads its configuration once when it opens (./config.ts); its concerns live in their
 *   own modules: kernels (./kernel-cache.ts), path planning (./planner.ts), launching
 *   (./launcher.ts), timing (./timing.ts), device memory (./memory.ts).
 * - No CPU fallback: a kernel that fails to compile, load or launch is an error for that tensor.
 * - Device memory is checked before every upload and freed after every run, also after errors.
 */
import { oneLine, type CopyBandwidthMeasurement } from '../../../../src-shared/contract';
import { rowBytes, typeName } from '../../ggml-types';
import type {
  Backend,
  BackendSession,
  BackendStatus,
  DeviceInfo,
  KernelPath,
  LoadedWeights,
  RunOptions,
  RunResult,
  SessionOptions,
  Timing,
  TimingOptions,
  WeightsDesc,
} from '../types';
import { kernelSettings, readSessionConfig, type GpuBackendOptions, type GpuSessionConfig } from './config';
import { gpuFormat } from './formats';
import { KernelCache } from './kernel-cache';
import { enqueue, type Plan } from './launcher';
import { DeviceMemory, WEIGHT_PAD } from './memory';
import { PathPlanner } from './planner';
import { GpuError, GpuUnavailableError, type DevicePtr, type GpuRuntime, type KernelArg } from './runtime';
import { CancelledError, checkAbort, measureCopyBandwidth, timePlan } from './timing';

export {
  DEFAULT_TUNING,
  customKernelSymbol,
  customKernelVar,
  parseDefines,
  parseTuning,
  type GpuBackendOptions,
  type GpuTuning,
} from './config';
export { parseQ8Geometry, type Q8Geometry } from './kernel-cache';
export { prebuiltIsCurrent } from './kernel-cache';
export { clampGrid, parseGeometry, splitKPolicy } from './planner';

interface GpuWeights extends LoadedWeights {
  ptr: DevicePtr | null;
  name: string;
  session: GpuSession;
  /** the split-row copy some small-batch kernels read (Plan.copy), made on first use */
  copy: { ptr: DevicePtr; bytes: number } | null;
}

/**
 * How an error says the session's context is gone for good in this process (a device process ends on
 * it and is started afresh: ../../devices/process.ts).
 */
export const CONTEXT_LOST_MARK = 'cannot be reset inside this process';

class GpuSession implements BackendSession {
  readonly device: DeviceInfo;
  private readonly weights = new Set<GpuWeights>();
  private closed = false;
  private readonly memory: DeviceMemory;
  private readonly kernels: KernelCache;
  private readonly planner: PathPlanner;

  constructor(
    readonly kind: 'cuda' | 'hip',
    private readonly rt: GpuRuntime,
    device: DeviceInfo,
    config: GpuSessionConfig,
  ) {
    this.device = device;
    this.memory = new DeviceMemory(rt, `${kind}:${device.index}`);
    this.kernels = new KernelCache(rt, kind, device.arch, config, this.memory);
    this.planner = new PathPlanner(kind, device, config, this.kernels, this.memory, rt.tensorMap2d?.bind(rt));
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`${this.kind}:${this.device.index} session is closed`);
    if (this.lost) throw new Error(this.lost);
  }

  /** Set when a fault lost the context and resetting it failed: every later call fails with it. */
  private lost: string | null = null;
  /** whether the last context loss was followed by a successful reset */
  private resetWorked = false;

  async load(w: WeightsDesc): Promise<LoadedWeights> {
    this.ensureOpen();
    const name = w.name ?? 'tensor';
    if (!gpuFormat(w.type))
      throw new Error(`${name}: type ${typeName(w.type)} is not supported on ${this.kind}`);
    if (
      !Number.isInteger(w.n) ||
      !Number.isInteger(w.k) ||
      w.n < 1 ||
      w.k < 1 ||
      w.n > 2 ** 31 - 1 ||
      w.k > 2 ** 31 - 1
    )
      throw new Error(`${name}: bad shape n=${w.n} k=${w.k}`);
    const rb = rowBytes(w.type, w.k);
    const bytes = rb * w.n;
    if (w.data.byteLength !== bytes)
      throw new Error(
        `${name}: ${w.data.byteLength} bytes of data, ${typeName(w.type)} [${w.n}][${w.k}] needs ${bytes}`,
      );
    const ptr = this.memory.alloc(bytes + WEIGHT_PAD, `${name} (${typeName(w.type)} [${w.n}][${w.k}])`);
    try {
      this.rt.memset8(ptr, 0, bytes + WEIGHT_PAD);
      this.rt.copyToDevice(ptr, w.data);
    } catch (e) {
      if (!this.resetIfLost(e)) this.memory.freeQuiet(ptr);
      throw e;
    }
    const gw: GpuWeights = {
      type: w.type,
      n: w.n,
      k: w.k,
      bytes,
      ptr,
      name,
      session: this,
      copy: null,
      dispose: () => {
        if (gw.ptr === null) return;
        this.memory.freeQuiet(gw.ptr);
        gw.ptr = null;
        if (gw.copy) this.memory.freeQuiet(gw.copy.ptr);
        gw.copy = null;
        this.weights.delete(gw);
      },
    };
    this.weights.add(gw);
    return gw;
  }

  private checkRun(w: LoadedWeights, x: Float32Array, m: number): GpuWeights {
    this.ensureOpen();
    const gw = w as GpuWeights;
    if (gw.session !== this) throw new Error('weights were loaded by another session');
    if (gw.ptr === null) throw new Error(`${gw.name}: weights were disposed`);
    if (!Number.isInteger(m) || m < 1 || m > 65535 * 64) throw new Error(`${gw.name}: bad batch size m=${m}`);
    if (x.length !== m * gw.k) throw new Error(`${gw.name}: x has ${x.length} values, m*k = ${m * gw.k}`);
    return gw;
  }

  /**
   * The weight buffer a plan's launches read: the loaded rows, or the copy the plan names (Plan.copy),
   * made now from the loaded rows if this tensor has none yet. It stays with the weights, so later plans
   * of other batch sizes reuse it, and is freed with them.
   */
  private weightsFor(gw: GpuWeights, plan: Plan): { ptr: DevicePtr; bytes: number } {
    const c = plan.copy;
    if (!c) return { ptr: gw.ptr!, bytes: gw.bytes };
    // a module has one split layout, so a tensor has at most one copy
    if (gw.copy) return gw.copy;
    const ptr = this.memory.alloc(c.bytes + WEIGHT_PAD, c.label);
    try {
      this.rt.memset8(ptr, 0, c.bytes + WEIGHT_PAD);
      const args: KernelArg[] = [{ ptr: gw.ptr! }, { ptr }, { i32: gw.n }, { i32: gw.k }];
      this.rt.launch(c.make.fn, c.make.grid, c.make.block, c.make.shared, args);
    } catch (e) {
      this.memory.freeQuiet(ptr);
      throw e;
    }
    gw.copy = { ptr, bytes: c.bytes };
    return gw.copy;
  }

  /** Activations uploaded and outputs allocated for one multiplication; both go into `scratch`. */
  private io(
    gw: GpuWeights,
    x: Float32Array,
    m: number,
    scratch: DevicePtr[],
  ): { xPtr: DevicePtr; yPtr: DevicePtr } {
    const xPtr = this.memory.alloc(x.byteLength + WEIGHT_PAD, `${gw.name}: activations`);
    scratch.push(xPtr);
    const yPtr = this.memory.alloc(m * gw.n * 4 + WEIGHT_PAD, `${gw.name}: outputs`);
    scratch.push(yPtr);
    this.rt.copyToDevice(xPtr, x);
    return { xPtr, yPtr };
  }

  async run(w: LoadedWeights, x: Float32Array, m: number, opts: RunOptions = {}): Promise<RunResult> {
    const gw = this.checkRun(w, x, m);
    checkAbort(opts.signal);
    const kp = this.planner.resolvePath(gw, m, opts.path ?? 'auto');
    const scratch: DevicePtr[] = [];
    try {
      const { xPtr, yPtr } = this.io(gw, x, m, scratch);
      const yBytes = m * gw.n * 4;
      this.rt.memset8(yPtr, 0xff, yBytes); // poison: NaN everywhere a kernel does not write
      const plan = this.planner.plan(gw, xPtr, yPtr, m, kp, scratch);
      checkAbort(opts.signal);
      enqueue(this.rt, plan, this.weightsFor(gw, plan).ptr);
      this.rt.synchronize();
      const y = new Float32Array(m * gw.n);
      this.rt.copyFromDevice(y, yPtr);
      return { y, path: kp, detail: plan.detail };
    } catch (e) {
      if (this.resetIfLost(e)) scratch.length = 0; // freed by the reset
      throw this.wrap(gw, kp, e);
    } finally {
      for (const p of scratch) this.memory.freeQuiet(p);
    }
  }

  /** Context resets after faults, so handles made before one are never used after it. */
  private resets = 0;

  /**
   * After a fault that leaves the context unusable (GpuError.contextLost), resets it so the next tensor
   * runs on a fresh one: every weight buffer, module and scratch allocation went with the old context,
   * so they are forgotten, not freed. Returns whether it reset.
   */
  private resetIfLost(e: unknown): boolean {
    if (!(e instanceof GpuError && e.contextLost)) return false;
    for (const w of this.weights) {
      w.ptr = null;
      w.copy = null;
    }
    this.weights.clear();
    this.kernels.clear();
    this.resets++;
    try {
      this.rt.resetAfterFault();
      this.resetWorked = true;
    } catch (r) {
      // CUDA keeps a process's device unusable after such a fault: only a new process recovers it
      this.resetWorked = false;
      this.lost = `${this.kind}:${this.device.index}: the context was lost by a fault (${e.message}) and ${CONTEXT_LOST_MARK} (${r instanceof Error ? r.message : String(r)})`;
    }
    return true;
  }

  private wrap(gw: GpuWeights, kp: KernelPath, e: unknown): Error {
    if (e instanceof CancelledError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    const reset =
      e instanceof GpuError && e.contextLost
        ? this.resetWorked
          ? `; the ${this.kind}:${this.device.index} context was reset and the run goes on`
          : `; the ${this.kind}:${this.device.index} context ${CONTEXT_LOST_MARK}`
        : '';
    if (msg.startsWith(gw.name)) return reset ? new Error(msg + reset, { cause: e }) : (e as Error);
    const err = new Error(`${gw.name} (${typeName(gw.type)}, ${kp}): ${msg}${reset}`);
    if (e instanceof GpuError) (err as Error & { cause?: unknown }).cause = e;
    return err;
  }

  async time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing> {
    const gw = this.checkRun(w, x, m);
    checkAbort(opts.signal);
    const kp = this.planner.resolvePath(gw, m, opts.path ?? 'auto');
    const scratch: DevicePtr[] = [];
    const events: [ReturnType<GpuRuntime['eventCreate']>, ReturnType<GpuRuntime['eventCreate']>] = [
      this.rt.eventCreate(),
      this.rt.eventCreate(),
    ];
    let eventsLost = false;
    try {
      const { xPtr, yPtr } = this.io(gw, x, m, scratch);
      const plan = this.planner.plan(gw, xPtr, yPtr, m, kp, scratch);
      const t = timePlan(
        this.rt,
        this.memory,
        this.device,
        plan,
        { name: gw.name, ...this.weightsFor(gw, plan) },
        () => this.kernels.hold(gw.type),
        opts,
        scratch,
        events,
      );
      const samples = [...t.samplesUs].sort((a, b) => a - b);
      const q = (f: number) => samples[Math.min(samples.length - 1, Math.floor(f * (samples.length - 1)))];
      const median = q(0.5);
      return {
        protocol: opts.protocol,
        path: kp,
        samplesUs: samples,
        medianUs: median,
        minUs: samples[0],
        maxUs: samples[samples.length - 1],
        spread: median > 0 ? (q(0.9) - q(0.1)) / median : 0,
        weightCopies: t.weightCopies,
        hostUsPerCall: t.hostUsPerCall,
      };
    } catch (e) {
      if (this.resetIfLost(e)) {
        scratch.length = 0; // freed by the reset, with the events
        eventsLost = true;
      }
      throw this.wrap(gw, kp, e);
    } finally {
      try {
        this.rt.synchronize();
      } catch {
        /* the error is already on its way */
      }
      for (const p of scratch) this.memory.freeQuiet(p);
      if (!eventsLost) for (const ev of events) this.rt.eventDestroy(ev);
    }
  }

  /** Device-to-device copy bandwidth (bytes read + written), measured with events. */
  measureCopyBandwidth(bytes?: number): CopyBandwidthMeasurement | null {
    return measureCopyBandwidth(this.rt, this.memory, bytes);
  }

  /** Measured when the session opened (one run), kept with the device. */
  async copyBandwidth(): Promise<CopyBandwidthMeasurement | null> {
    return this.device.copyBandwidth ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.weights]) w.dispose();
    this.kernels.clear();
    try {
      this.rt.dispose();
    } catch {
      /* nothing more to free */
    }
  }
}

/** A device the runtime counts but cannot describe: listed with the reason, so its index keeps its place. */
function unusableDevice(kind: 'cuda' | 'hip', index: number, error: string): DeviceInfo {
  return {
    backend: kind,
    index,
    name: `unusable device (${error})`,
    arch: 'unknown',
    memoryTotal: 0,
    memoryFree: 0,
    computeUnits: 0,
    warpSize: 0,
    peakBandwidthGBs: null,
    copyBandwidthGBs: null,
    peakTflops: null,
    details: { error },
  };
}

export function createGpuBackend(
  kind: 'cuda' | 'hip',
  makeRuntime: () => GpuRuntime,
  options: GpuBackendOptions = {},
): Backend {
  return {
    kind,
    async status(): Promise<BackendStatus> {
      let rt: GpuRuntime | undefined;
      try {
        rt = makeRuntime();
        const count = rt.deviceCount();
        if (count < 1) return { backend: kind, available: false, reason: 'no device', devices: [] };
        const devices: DeviceInfo[] = [];
        for (let i = 0; i < count; i++) {
          let info: DeviceInfo;
          try {
            info = rt.deviceInfo(i);
          } catch (e) {
            // one device that cannot be queried is listed as such; the others stay usable
            devices.push(unusableDevice(kind, i, oneLine(e)));
            continue;
          }
          try {
            rt.useDevice(i);
            info.memoryFree = rt.memGetInfo().free;
          } catch {
            /* free memory stays as reported */
          }
          devices.push(info);
        }
        return { backend: kind, available: true, devices };
      } catch (e) {
        return { backend: kind, available: false, reason: oneLine(e), devices: [] };
      } finally {
        try {
          rt?.dispose();
        } catch {
          /* ignore */
        }
      }
    },
    async open(deviceIndex: number, sessionOpts: SessionOptions = {}): Promise<BackendSession> {
      let rt: GpuRuntime;
      try {
        rt = makeRuntime();
      } catch (e) {
        if (e instanceof GpuUnavailableError) throw new Error(`${kind} unavailable: ${e.message}`);
        throw e;
      }
      try {
        const count = rt.deviceCount();
        if (!Number.isInteger(deviceIndex) || deviceIndex < 0 || deviceIndex >= count)
          throw new Error(`${kind}: no device ${deviceIndex} (this machine has ${count})`);
        rt.useDevice(deviceIndex);
        const info = rt.deviceInfo(deviceIndex);
        info.memoryFree = rt.memGetInfo().free;
        const config = readSessionConfig(kind, options, process.env, sessionOpts.userKernels);
        const settings = kernelSettings(config);
        if (settings.length) info.kernelSettings = settings;
        const s = new GpuSession(kind, rt, info, config);
        try {
          info.copyBandwidth = s.measureCopyBandwidth();
        } catch {
          info.copyBandwidth = null;
        }
        info.copyBandwidthGBs = info.copyBandwidth?.gbs ?? null;
        return s;
      } catch (e) {
        rt.dispose();
        throw e;
      }
    },
  };
}

/** Measured copy bandwidth and compile origin are exposed for the bench command. */
export type { GpuSession };
