/**
 * The cpu backend: always available. It computes y = x * W^T the way the GPU kernels do (dequantize
 * inside the dot product, float32 accumulation; see ./cpu-kernels.ts) on the worker pool, so it is both
 * a fallback and a second, independent implementation checked against the float64 reference.
 * Timing: performance.now() around whole runs; 'cold' is measured the same way as 'hot' (a CPU has no
 * separate device memory to rotate weight copies through), weightCopies is always 1.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { typeName, rowBytes } from '../ggml-types';
import { getPool, poolKeptForApp, poolSize, runChunks } from '../workers/pool';
import { chunkForPost, chunkRowsFor, shareF32 } from '../reference/index';
import { CPU_TYPES, activationSums, needsActivationSums, type CpuRowsPayload } from './cpu-kernels';
import type {
  Backend,
  BackendSession,
  SessionOptions,
  BackendStatus,
  DeviceInfo,
  LoadedWeights,
  RunOptions,
  RunResult,
  Timing,
  TimingOptions,
  WeightsDesc,
} from './types';
import { oneLine, type CopyBandwidthMeasurement } from '../../../src-shared/contract';
import { computeUnitsText, keptForAppText } from '../../../src-shared/devices';

// 16 MiB each way: past the L2 of every CPU and most last-level caches, and small enough that a
// verify's memory does not grow with it (the buffers live only while measuring). Best of a few
// repeats after one copy that touches every page. Each run measures its own, once (CpuSession), and
// keeps the figure with its size, repeats and time in its record; `quantscope devices` measures too.
export const COPY_BYTES = 16 << 20;
export const COPY_REPEATS = 5;
const COPY_METHOD = 'Buffer copy on the host, best of the repeats after one warm-up copy';
let lastCopy: CopyBandwidthMeasurement | null = null;

/** Bytes read + written per second of a host memory copy, in GB/s, with how it was measured. */
export function measureCopyBandwidth(
  bytes = COPY_BYTES,
  repeats = COPY_REPEATS,
): CopyBandwidthMeasurement | null {
  try {
    const src = Buffer.alloc(bytes, 1);
    const dst = Buffer.allocUnsafe(bytes);
    src.copy(dst); // touch every page once
    let best = Infinity;
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      src.copy(dst);
      best = Math.min(best, performance.now() - t0);
    }
    lastCopy = {
      gbs: (2 * bytes) / (Math.max(best, 1e-3) / 1000) / 1e9,
      measuredAt: new Date().toISOString(),
      bytes,
      repeats,
      method: COPY_METHOD,
    };
    return lastCopy;
  } catch {
    return null;
  }
}

async function deviceInfo(): Promise<DeviceInfo> {
  const cpus = os.cpus();
  const kept = poolKeptForApp();
  return {
    backend: 'cpu',
    index: 0,
    name: cpus[0]?.model?.trim() || 'cpu',
    arch: process.arch,
    memoryTotal: os.totalmem(),
    memoryFree: os.freemem(),
    computeUnits: poolSize(),
    // the app's engine: one thread fewer than the CLI's, said beside the count (computeUnitsText)
    ...(kept > 0 ? { threadsKeptForApp: kept } : {}),
    warpSize: 1,
    peakBandwidthGBs: null,
    // the last figure measured in this process, for listings; a session measures its own
    copyBandwidthGBs: lastCopy?.gbs ?? null,
    copyBandwidth: lastCopy,
    peakTflops: null,
    details: {
      threads: `${computeUnitsText('cpu', poolSize())} (${cpus.length} logical CPUs${kept > 0 ? `; ${keptForAppText(kept)}: the CLI runs ${poolSize() + kept}` : ''})`,
      arithmetic: 'fused dequantize + dot, float32 accumulation (WebAssembly SIMD for m >= 2)',
      timing: 'hot and cold are measured alike on the cpu (weightCopies 1): no device memory to rotate',
      node: process.version,
    },
  };
}

class CpuWeights implements LoadedWeights {
  readonly bytes: number;
  disposed = false;
  constructor(
    readonly type: number,
    readonly n: number,
    readonly k: number,
    readonly data: Uint8Array,
    readonly session: CpuSession,
  ) {
    this.bytes = n * rowBytes(type, k);
  }
  dispose(): void {
    this.disposed = true;
  }
}

/** The --path choices the cpu backend runs: its one float32 path. */
export const CPU_PATHS: readonly string[] = ['auto', 'f32'];
export const CPU_PATH_NOTE = 'the cpu backend has only the float32 path (cpu-f32)';

function checkPath(opts?: RunOptions): void {
  const p = opts?.path ?? 'auto';
  if (!CPU_PATHS.includes(p)) throw new Error(`${CPU_PATH_NOTE}; path '${p}' is not available`);
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 1) return sorted[0];
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Timing statistics of samples in microseconds. */
export function timingFrom(samplesUs: number[], protocol: 'hot' | 'cold', path: Timing['path']): Timing {
  const s = [...samplesUs].sort((a, b) => a - b);
  const median = percentile(s, 0.5);
  return {
    protocol,
    path,
    samplesUs: s,
    medianUs: median,
    minUs: s[0],
    maxUs: s[s.length - 1],
    spread: median > 0 ? (percentile(s, 0.9) - percentile(s, 0.1)) / median : 0,
    weightCopies: 1,
  };
}

function checkCount(what: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${what}=${v} must be an integer in ${min}..${max}`);
  return n;
}

class CpuSession implements BackendSession {
  private loaded = new Set<CpuWeights>();
  private closed = false;
  private copyMeasured = false;
  constructor(readonly device: DeviceInfo) {}

  async load(w: WeightsDesc): Promise<LoadedWeights> {
    if (this.closed) throw new Error('cpu session is closed');
    const label = w.name ? `${w.name} (${typeName(w.type)})` : typeName(w.type);
    if (!CPU_TYPES.has(w.type))
      throw new Error(`${label}: type ${typeName(w.type)} is not supported by the cpu backend`);
    if (!Number.isSafeInteger(w.n) || w.n < 1)
      throw new Error(`${label}: row count n=${w.n} must be a positive integer`);
    if (!Number.isSafeInteger(w.k) || w.k < 1)
      throw new Error(`${label}: row length k=${w.k} must be a positive integer`);
    const rb = rowBytes(w.type, w.k);
    if (!(w.data instanceof Uint8Array) || w.data.length < w.n * rb) {
      throw new Error(
        `${label}: ${w.n}x${w.k} needs ${w.n * rb} bytes but ${w.data?.length ?? 0} were given`,
      );
    }
    const lw = new CpuWeights(w.type, w.n, w.k, w.data, this);
    this.loaded.add(lw);
    return lw;
  }

  async run(w: LoadedWeights, x: Float32Array, m: number, opts?: RunOptions): Promise<RunResult> {
    if (this.closed) throw new Error('cpu session is closed');
    if (!(w instanceof CpuWeights) || w.session !== this)
      throw new Error('these weights were not loaded by this cpu session');
    if (w.disposed) throw new Error('these weights were disposed');
    checkPath(opts);
    const { type, n, k, data } = w;
    if (!Number.isSafeInteger(m) || m < 1) throw new Error(`batch size m=${m} must be a positive integer`);
    if (!(x instanceof Float32Array) || x.length !== m * k) {
      throw new Error(`activations x have ${x?.length ?? 0} values, expected m*k = ${m}*${k} = ${m * k}`);
    }
    const rb = rowBytes(type, k);
    const workers = getPool().size;
    const chunkRows = chunkRowsFor(n, k, rb, m, workers);
    const count = Math.ceil(n / chunkRows);
    const xs = shareF32(x);
    const sums = needsActivationSums(type) ? shareF32(activationSums(x, m, k)) : null;
    const y = new Float32Array(m * n);
    await runChunks<Float32Array>({
      count,
      concurrency: workers,
      signal: opts?.signal,
      make: (i) => {
        const r0 = i * chunkRows;
        const rows = Math.min(chunkRows, n - r0);
        const post = chunkForPost(data.subarray(r0 * rb, (r0 + rows) * rb), rows * rb);
        const payload: CpuRowsPayload = { type, k, rows, m, x: xs, xsums: sums, data: post.data };
        return { name: 'cpu-rows', payload, transfer: post.transfer };
      },
      done: (i, part) => {
        const r0 = i * chunkRows;
        const rows = part.length / m;
        for (let r = 0; r < m; r++) y.set(part.subarray(r * rows, (r + 1) * rows), r * n + r0);
      },
    });
    return {
      y,
      path: 'cpu-f32',
      detail: `cpu: ${computeUnitsText('cpu', workers, poolKeptForApp())}, ${count} row block${count === 1 ? '' : 's'} of ${chunkRows} rows`,
    };
  }

  async time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing> {
    if (opts.protocol !== 'hot' && opts.protocol !== 'cold') {
      throw new Error(`timing protocol must be 'hot' or 'cold', got '${String(opts.protocol)}'`);
    }
    const warmup = checkCount('warmup', opts.warmup, 1, 0, 1000);
    const repeats = checkCount('repeats', opts.repeats, 5, 1, 10000);
    // measured before the samples, so the copy never overlaps them; reports read it from the device
    await this.copyBandwidth();
    for (let i = 0; i < warmup; i++) await this.run(w, x, m, opts);
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await this.run(w, x, m, opts);
      samples.push((performance.now() - t0) * 1000);
    }
    return timingFrom(samples, opts.protocol, 'cpu-f32');
  }

  /** The copy bandwidth of this backend session (one run): measured at its first call, then the same figure. */
  async copyBandwidth(): Promise<CopyBandwidthMeasurement | null> {
    if (!this.copyMeasured) {
      this.copyMeasured = true;
      const c = measureCopyBandwidth();
      this.device.copyBandwidth = c;
      this.device.copyBandwidthGBs = c?.gbs ?? null;
    }
    return this.device.copyBandwidth ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.loaded) w.dispose();
    this.loaded.clear();
  }
}

export const cpuBackend: Backend = {
  kind: 'cpu',
  async status(): Promise<BackendStatus> {
    try {
      return { backend: 'cpu', available: true, devices: [await deviceInfo()] };
    } catch (e) {
      return { backend: 'cpu', available: false, reason: oneLine(e), devices: [] };
    }
  },
  async open(deviceIndex: number, opts: SessionOptions = {}): Promise<BackendSession> {
    if (opts.userKernels?.length)
      throw new Error('user kernels are GPU code objects: they run on cuda or hip, not on the cpu');
    if (deviceIndex !== 0)
      throw new Error(`cpu:${deviceIndex} does not exist (the cpu backend has one device, cpu:0)`);
    // a session (one run) measures its own copy bandwidth; the last one measured is not carried over
    return new CpuSession({ ...(await deviceInfo()), copyBandwidthGBs: null, copyBandwidth: null });
  },
};
