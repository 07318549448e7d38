/**
 * The generic GPU backend: everything above the vendor runtime (CUDA or HIP) is shared here.
 * - status() never throws: a missing library or no device is `available: false` with the reason.
 * - Kernels: compiled at run time (NVRTC / hiprtc) for the device's exact architecture and cached on
 *   disk by source hash + architecture + compiler version, or a prebuilt code object from
 *   `npm run build:kernels`, or a user's code object named by Q*_MATMUL_CUBIN / Q*_MATMUL_HSACO.
 * - No CPU fallback: a kernel that fails to compile, load or launch is an error for that tensor.
 * - Device memory is checked before every upload and freed after every run, also after errors.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { oneLine } from '../../../../src-shared/contract';
import { rowBytes, typeInfo, typeName } from '../../ggml-types';
import type {
  Backend,
  BackendSession,
  BackendStatus,
  DeviceInfo,
  KernelPath,
  LoadedWeights,
  PathChoice,
  RunOptions,
  RunResult,
  Timing,
  TimingOptions,
  WeightsDesc,
} from '../types';
import { KERNEL_HEADERS, kernelSourceFor } from './kernel-sources';
import { gpuHasPath } from '../../formats/registry';
import {
  GpuError,
  GpuUnavailableError,
  type DevicePtr,
  type GpuFunction,
  type GpuModule,
  type GpuRuntime,
  type KernelArg,
} from './runtime';

/** Compile-time tuning of the small-batch kernel (see kernels/qs_kernels.h). */
export interface GpuTuning {
  /** weight rows per block for m <= smallMSplit */
  smallRows: number;
  /** weight rows per block for m > smallMSplit */
  smallRowsBig: number;
  /** batch size up to which smallRows applies */
  smallMSplit: number;
  /** warps per block (they split k) */
  smallWarps: number;
  /** 8-element groups per lane per chunk */
  smallOctsPerLane: number;
  /** chunks each warp has in flight (register prefetch depth, 1 or 2) */
  smallDepth: number;
}
export const DEFAULT_TUNING: GpuTuning = {
  smallRows: 2,
  smallRowsBig: 4,
  smallMSplit: 2,
  smallWarps: 4,
  smallOctsPerLane: 2,
  smallDepth: 1,
};

/** "R,R2,MSPLIT,NW,OPL[,DEPTH]" (bench --tune, QS_GPU_TUNING) to a tuning; throws a one-line error. */
export function parseTuning(spec: string, what = 'tuning'): GpuTuning {
  const v = spec.split(',').map((p) => Number(p.trim()));
  if ((v.length !== 5 && v.length !== 6) || v.some((x) => !Number.isInteger(x) || x < 1 || x > 16))
    throw new Error(
      `${what}: expected ROWS,ROWS_BIG,MSPLIT,WARPS,OCTS[,DEPTH] (integers 1..16), got '${spec}'`,
    );
  if (v[3] * 32 > 1024) throw new Error(`${what}: at most 32 warps per block`);
  return {
    smallRows: v[0],
    smallRowsBig: v[1],
    smallMSplit: v[2],
    smallWarps: v[3],
    smallOctsPerLane: v[4],
    smallDepth: Math.min(2, v[5] ?? 1),
  };
}

export interface GpuBackendOptions {
  tuning?: Partial<GpuTuning>;
  /** directory of prebuilt code objects (default: build/kernels found upwards, or QS_KERNELS_DIR) */
  prebuiltDir?: string | null;
  /** disk cache directory (default QS_KERNEL_CACHE or ~/.cache/quantscope/kernels); null disables */
  cacheDir?: string | null;
}

/** Padding after the last weight row: the small kernel reads the 16-byte-aligned span of each chunk. */
const WEIGHT_PAD = 256;
/** GPU time one timing sample covers at least (us) */
const SAMPLE_US = 1000;
/** Memory kept free on the device beyond what a run needs (driver, modules, other apps). */
const FREE_MARGIN = 64 * 1024 * 1024;
const MB = (b: number) => `${(b / (1 << 20)).toFixed(1)} MiB`;

class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'AbortError';
  }
}
function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

function defaultCacheDir(): string | null {
  if (process.env.QS_KERNEL_CACHE) return process.env.QS_KERNEL_CACHE;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'quantscope', 'kernels');
}

function defaultPrebuiltDir(): string | null {
  if (process.env.QS_KERNELS_DIR) return process.env.QS_KERNELS_DIR;
  for (const start of [process.cwd(), __dirnameSafe()]) {
    let dir = start;
    for (let i = 0; i < 5 && dir; i++) {
      const p = path.join(dir, 'build', 'kernels');
      if (fs.existsSync(p)) return p;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return null;
}
function __dirnameSafe(): string {
  return typeof __dirname === 'string' ? __dirname : process.cwd();
}

/**
 * Whether build/kernels/manifest.json (scripts/build-kernels.mjs) lists `file` as built from this
 * source and these headers: sha256 of the source, and one sha256 over the headers sorted by name
 * (name, NUL, contents, NUL each).
 */
export function prebuiltIsCurrent(dir: string, file: string, source: string): boolean {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      entries?: { file: string; sourceSha256?: string; headersSha256?: string }[];
    };
    const e = manifest.entries?.find((x) => x.file === file);
    if (!e) return false;
    const srcHash = crypto.createHash('sha256').update(source).digest('hex');
    const h = crypto.createHash('sha256');
    for (const name of Object.keys(KERNEL_HEADERS).sort())
      h.update(name).update('\0').update(KERNEL_HEADERS[name]).update('\0');
    return e.sourceSha256 === srcHash && e.headersSha256 === h.digest('hex');
  } catch {
    return false;
  }
}

/** The users' override variable for a format: Q4_0_MATMUL_CUBIN, Q6_K_MATMUL_HSACO, ... */
export function customKernelVar(kind: 'cuda' | 'hip', type: number): string {
  return `${typeName(type).toUpperCase()}_MATMUL_${kind === 'cuda' ? 'CUBIN' : 'HSACO'}`;
}
/** The symbol a user code object must export: q4_0_matmul_kernel, q4_k_matmul_kernel, ... */
export function customKernelSymbol(type: number): string {
  return `${typeName(type).toLowerCase()}_matmul_kernel`;
}

/** Launch geometry of a custom kernel: "m,1,1"-style triples of integers, m, n, k or x/d (ceil). */
export function parseGeometry(
  spec: string,
  dims: { m: number; n: number; k: number },
  what: string,
): [number, number, number] {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length < 1 || parts.length > 3)
    throw new Error(`${what}: expected up to 3 comma-separated values, got '${spec}'`);
  const out = parts.map((p) => {
    const mt = /^(m|n|k|\d+)(?:\/(\d+))?$/.exec(p);
    if (!mt) throw new Error(`${what}: '${p}' is not an integer, m, n, k or x/d`);
    const base = mt[1] === 'm' ? dims.m : mt[1] === 'n' ? dims.n : mt[1] === 'k' ? dims.k : Number(mt[1]);
    const div = mt[2] ? Number(mt[2]) : 1;
    if (div < 1) throw new Error(`${what}: divisor must be >= 1 in '${p}'`);
    const v = Math.ceil(base / div);
    if (v < 1 || v > 2 ** 31 - 1) throw new Error(`${what}: '${p}' gives ${v}, out of range`);
    return v;
  });
  while (out.length < 3) out.push(1);
  return out as [number, number, number];
}

interface GpuWeights extends LoadedWeights {
  ptr: DevicePtr | null;
  name: string;
  session: GpuSession;
}

interface ModuleEntry {
  mod: GpuModule;
  fns: Map<string, GpuFunction>;
  origin: string;
  /** qs_mma_i8's launch facts (qs_mma_i8_geometry), read once */
  i8?: { shared: number; minBlocks: number; bm: number; bn: number; kt: number; threads: number };
  /** the int8 small kernel's rows and warps per block for m = 1..8 (qs_q8_geometry), read once */
  q8?: Q8Geometry;
}

export interface CompiledInfo {
  origin: string;
}

class GpuSession implements BackendSession {
  readonly device: DeviceInfo;
  private modules = new Map<string, ModuleEntry>();
  private weights = new Set<GpuWeights>();
  private closed = false;
  private readonly tuning: GpuTuning;
  private readonly smMajor: number;
  /** extra -D defines for every kernel module (QS_KERNEL_DEFINES="QS_Q8_NW=4,QS_Q8_R2=2"): tuning sweeps */
  private readonly extraDefines: Record<string, number>;

  constructor(
    readonly kind: 'cuda' | 'hip',
    private rt: GpuRuntime,
    device: DeviceInfo,
    private opts: GpuBackendOptions,
  ) {
    this.device = device;
    const env = process.env.QS_GPU_TUNING ? parseTuning(process.env.QS_GPU_TUNING, 'QS_GPU_TUNING') : {};
    this.tuning = { ...DEFAULT_TUNING, ...env, ...(opts.tuning ?? {}) };
    this.extraDefines = process.env.QS_KERNEL_DEFINES ? parseDefines(process.env.QS_KERNEL_DEFINES) : {};
    const mt = /^sm_(\d+?)(\d)$/.exec(device.arch);
    this.smMajor = mt ? Number(mt[1]) : 0;
  }

  /** Whether this device runs the int8 matrix-unit path (mma.sync m16n8k32 s8 needs sm_80+). */
  get hasMmaI8(): boolean {
    return this.kind === 'cuda' && this.smMajor >= 8 && MMA_I8_AVAILABLE;
  }

  /**
   * Whether this device runs the bfloat16 matrix-unit path: mma.sync m16n8k16 (CUDA sm_80+) or MFMA
   * 32x32x8 bf16 (AMD CDNA: gfx90a, gfx94x, gfx950; qs_mfma_bf16).
   */
  get hasMma(): boolean {
    if (this.kind === 'hip') return MFMA_ARCH_RE.test(this.device.arch);
    return this.smMajor >= 8 && MMA_AVAILABLE;
  }

  /**
   * The bfloat16 matrix-unit kernel: qs_mfma_bf16 on AMD, and on CUDA when QS_KERNEL_DEFINES has
   * QS_MFMA_EMULATE=1 (the MFMA kernel with the instruction emulated, to check it without an AMD GPU);
   * qs_mma_f16 otherwise.
   */
  private get mmaKernel(): 'qs_mfma_bf16' | 'qs_mma_f16' {
    return this.kind === 'hip' || this.extraDefines.QS_MFMA_EMULATE ? 'qs_mfma_bf16' : 'qs_mma_f16';
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`${this.kind}:${this.device.index} session is closed`);
  }

  // ---------------------------------------------------------------- kernels
  private moduleFor(type: number): ModuleEntry {
    const src = kernelSourceFor(type);
    if (!src) throw new Error(`no GPU kernel for ${typeName(type)}`);
    const defines: Record<string, number> = {
      QS_SMALL_R: this.tuning.smallRows,
      QS_SMALL_R2: this.tuning.smallRowsBig,
      QS_SMALL_MSPLIT: this.tuning.smallMSplit,
      QS_SMALL_NW: this.tuning.smallWarps,
      QS_SMALL_OPL: this.tuning.smallOctsPerLane,
      QS_SMALL_DEPTH: this.tuning.smallDepth,
    };
    Object.assign(defines, this.extraDefines);
    const key = `${src.stem}:${JSON.stringify(defines)}`;
    const hit = this.modules.get(key);
    if (hit) return hit;
    const arch = this.device.arch;
    let image: Uint8Array | null = null;
    let origin = '';
    const isDefault =
      JSON.stringify(this.tuning) === JSON.stringify(DEFAULT_TUNING) &&
      Object.keys(this.extraDefines).length === 0;
    const prebuiltDir = this.opts.prebuiltDir === undefined ? defaultPrebuiltDir() : this.opts.prebuiltDir;
    if (isDefault && prebuiltDir) {
      const ext = this.kind === 'cuda' ? 'cubin' : 'hsaco';
      // 'gfx90a:sramecc+:xnack-' -> 'gfx90a': code objects are named by the bare target
      const p = path.join(prebuiltDir, `${src.stem}.${arch.split(':')[0]}.${ext}`);
      // only an object built from exactly these sources (build/kernels/manifest.json hashes): a stale
      // one could have other kernel signatures
      if (fs.existsSync(p) && prebuiltIsCurrent(prebuiltDir, path.basename(p), src.source)) {
        image = new Uint8Array(fs.readFileSync(p));
        origin = `prebuilt:${p}`;
      }
    }
    if (!image) {
      const compiler = this.rt.compilerVersion();
      const hash = crypto
        .createHash('sha256')
        .update(src.source)
        .update(JSON.stringify(Object.entries(KERNEL_HEADERS).sort()))
        .update(JSON.stringify(defines))
        .update(arch)
        .update(compiler)
        .digest('hex')
        .slice(0, 24);
      const cacheDir = this.opts.cacheDir === undefined ? defaultCacheDir() : this.opts.cacheDir;
      const cachePath = cacheDir ? path.join(cacheDir, `${src.stem}-${arch}-${hash}.bin`) : null;
      if (cachePath && fs.existsSync(cachePath)) {
        try {
          image = new Uint8Array(fs.readFileSync(cachePath));
          origin = `cache:${cachePath}`;
        } catch {
          image = null;
        }
      }
      if (!image) {
        image = this.rt.compile(src.source, src.file, { arch, defines, headers: { ...KERNEL_HEADERS } });
        origin = `${this.kind === 'cuda' ? 'nvrtc' : 'hiprtc'}:${src.file} (${compiler})`;
        if (cachePath) {
          try {
            fs.mkdirSync(path.dirname(cachePath), { recursive: true });
            const tmp = `${cachePath}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, image);
            fs.renameSync(tmp, cachePath);
          } catch {
            /* a read-only cache only costs compile time */
          }
        }
      }
    }
    const mod = this.rt.loadModule(image, origin);
    const entry: ModuleEntry = { mod, fns: new Map(), origin };
    this.modules.set(key, entry);
    return entry;
  }

  /**
   * Scratch for x quantized per 32 (qs_q8.h: int8 [m][k] and (d, sum) float2 [m][k/32]) and the
   * qs_x_q8 launch that fills it; the buffers go into `scratch` for the caller to free.
   */
  private quantizeActivations(
    entry: ModuleEntry,
    gw: GpuWeights,
    xPtr: DevicePtr,
    m: number,
    scratch: DevicePtr[],
  ): { xq: DevicePtr; xd: DevicePtr; quantize: () => void } {
    const k = gw.k;
    const conv = this.fn(entry, 'qs_x_q8');
    const xq = this.alloc(m * k + WEIGHT_PAD, `${gw.name}: int8 activations`);
    scratch.push(xq);
    const xd = this.alloc(m * (k / 32) * 8 + WEIGHT_PAD, `${gw.name}: activation scales`);
    scratch.push(xd);
    const grid: [number, number, number] = [
      Math.max(1, Math.min(Math.ceil((m * k) / 4 / 256), this.device.computeUnits * 16)),
      1,
      1,
    ];
    const args: KernelArg[] = [{ ptr: xPtr }, { ptr: xq }, { ptr: xd }, { i32: m }, { i32: k }];
    // qs_x_q8 may start while the previous kernel runs (it waits for that kernel's results itself), so it
    // is resident and the matmul after it launched by the time the previous matmul ends
    // (QS_PDL_CHAIN=0: it starts after the previous kernel, as before; a timing diagnostic)
    const opts = process.env.QS_PDL_CHAIN === '0' ? undefined : OVERLAP;
    return { xq, xd, quantize: () => this.rt.launch(conv, grid, [256, 1, 1], 0, args, opts) };
  }

  /**
   * Split-K output of the matrix-unit kernels: with splits > 1 they write partial sums to a scratch
   * buffer (freed by the caller through `scratch`) and `sum` launches qs_splitk_sum into y; with one
   * split they write y directly and `sum` is null.
   */
  private splitK(
    entry: ModuleEntry,
    gw: GpuWeights,
    yPtr: DevicePtr,
    m: number,
    splits: number,
    scratch: DevicePtr[],
  ): { out: DevicePtr; sum: (() => void) | null } {
    if (splits <= 1) return { out: yPtr, sum: null };
    const count = m * gw.n;
    const out = this.alloc(splits * count * 4 + WEIGHT_PAD, `${gw.name}: split-K partial sums`);
    scratch.push(out);
    const fn = this.fn(entry, 'qs_splitk_sum');
    const args: KernelArg[] = [{ ptr: out }, { ptr: yPtr }, { u64: count }, { i32: splits }];
    const grid: [number, number, number] = [
      Math.max(1, Math.min(Math.ceil(count / 256), this.device.computeUnits * 16)),
      1,
      1,
    ];
    return { out, sum: () => this.rt.launch(fn, grid, [256, 1, 1], 0, args) };
  }

  /** qs_mma_i8's launch facts, from the module itself (one tiny launch per module) */
  private i8Geometry(entry: ModuleEntry): NonNullable<ModuleEntry['i8']> {
    if (entry.i8) return entry.i8;
    const fn = this.fn(entry, 'qs_mma_i8_geometry');
    const buf = this.alloc(64, 'qs_mma_i8 geometry');
    try {
      this.rt.launch(fn, [1, 1, 1], [1, 1, 1], 0, [{ ptr: buf }]);
      const v = new Int32Array(6);
      this.rt.copyFromDevice(v, buf);
      const [shared, minBlocks, bm, bn, kt, threads] = Array.from(v);
      if (!(bm > 0 && bn > 0 && kt > 0 && threads > 0 && minBlocks > 0 && shared >= 0))
        throw new Error(`qs_mma_i8_geometry returned ${Array.from(v).join(',')}`);
      entry.i8 = { shared, minBlocks, bm, bn, kt, threads };
      return entry.i8;
    } finally {
      this.freeQuiet(buf);
    }
  }

  /** weight rows per block and threads per block of the int8 small kernel, as the module was compiled */
  private q8Geometry(entry: ModuleEntry, type: number, m: number): { rows: number; threads: number } {
    if (!entry.q8) {
      const fn = this.fn(entry, 'qs_q8_geometry');
      const buf = this.alloc(64, 'qs_q8 geometry');
      try {
        this.rt.launch(fn, [1, 1, 1], [1, 1, 1], 0, [{ ptr: buf }]);
        const v = new Int32Array(17);
        this.rt.copyFromDevice(v, buf);
        entry.q8 = parseQ8Geometry(v, type);
      } finally {
        this.freeQuiet(buf);
      }
    }
    return { rows: entry.q8.rows[m - 1], threads: entry.q8.warps[m - 1] * this.device.warpSize };
  }

  /** weight rows per block of the small kernel for batch size m (QS_RROWS in qs_kernels.h) */
  private smallRowsFor(m: number): number {
    return m <= this.tuning.smallMSplit ? this.tuning.smallRows : this.tuning.smallRowsBig;
  }

  /**
   * The timing aid qs_hold from our module for this format, or null where that module cannot be built or
   * loaded (a custom kernel's timing then runs without it, paced by the host where the host is slower).
   */
  private holdFunction(type: number): GpuFunction | null {
    try {
      return this.fn(this.moduleFor(type), 'qs_hold');
    } catch {
      return null;
    }
  }

  private fn(entry: ModuleEntry, name: string): GpuFunction {
    let f = entry.fns.get(name);
    if (!f) {
      f = this.rt.getFunction(entry.mod, name);
      entry.fns.set(name, f);
    }
    return f;
  }

  private customFor(type: number): { fn: GpuFunction; path: string; variable: string } | null {
    const variable = customKernelVar(this.kind, type);
    const p = process.env[variable];
    if (!p) return null;
    const key = `custom:${variable}:${p}`;
    let entry = this.modules.get(key);
    if (!entry) {
      if (!fs.existsSync(p)) throw new Error(`${variable}=${p}: file not found`);
      let image: Uint8Array;
      try {
        image = new Uint8Array(fs.readFileSync(p));
      } catch (e) {
        throw new Error(`${variable}=${p}: cannot read: ${(e as Error).message}`);
      }
      let mod: GpuModule;
      try {
        mod = this.rt.loadModule(image, `custom:${p}`);
      } catch (e) {
        throw new Error(`${variable}=${p}: cannot load the code object: ${(e as Error).message}`);
      }
      entry = { mod, fns: new Map(), origin: `custom:${p}` };
      this.modules.set(key, entry);
    }
    const symbol = customKernelSymbol(type);
    try {
      return { fn: this.fn(entry, symbol), path: p, variable };
    } catch (e) {
      throw new Error(`${variable}=${p}: symbol ${symbol} not found: ${(e as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- memory
  private alloc(bytes: number, what: string): DevicePtr {
    const { free } = this.rt.memGetInfo();
    if (bytes + FREE_MARGIN > free)
      throw new Error(
        `${what}: needs ${MB(bytes)} on ${this.kind}:${this.device.index}, only ${MB(free)} free`,
      );
    return this.rt.malloc(bytes);
  }

  private freeQuiet(p: DevicePtr | null): void {
    if (p === null) return;
    try {
      this.rt.free(p);
    } catch {
      /* freeing after a device error can fail too; nothing more to do */
    }
  }

  async load(w: WeightsDesc): Promise<LoadedWeights> {
    this.ensureOpen();
    const name = w.name ?? 'tensor';
    const info = typeInfo(w.type);
    if (!info || !info.supported)
      throw new Error(`${name}: type ${typeName(w.type)} is not supported on ${this.kind}`);
    if (!kernelSourceFor(w.type)) throw new Error(`${name}: no GPU kernel for ${typeName(w.type)} yet`);
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
    const ptr = this.alloc(bytes + WEIGHT_PAD, `${name} (${typeName(w.type)} [${w.n}][${w.k}])`);
    try {
      this.rt.memset8(ptr, 0, bytes + WEIGHT_PAD);
      this.rt.copyToDevice(ptr, w.data);
    } catch (e) {
      this.freeQuiet(ptr);
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
      dispose: () => {
        if (gw.ptr === null) return;
        this.freeQuiet(gw.ptr);
        gw.ptr = null;
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

  private resolvePath(gw: GpuWeights, m: number, choice: PathChoice): KernelPath {
    if (choice === 'unfused') return 'unfused-f32';
    if (choice === 'auto' && process.env[customKernelVar(this.kind, gw.type)]) return 'custom';
    if (choice === 'mma') {
      if (!this.hasMma)
        throw new Error(
          `${gw.name}: the matrix-unit path needs ${
            this.kind === 'cuda'
              ? 'sm_80 or newer'
              : `an AMD GPU with MFMA (gfx90a, gfx94x, gfx950), not ${this.device.arch}`
          }`,
        );
      return 'fused-mma-f16';
    }
    // the format registry says which int8 kernels a format has: the dp4a small-batch kernel ('int8') and
    // the int8 matrix-unit kernel ('int8-mma')
    const int8 = gpuHasPath(gw.type, 'int8');
    const int8Mma = gpuHasPath(gw.type, 'int8-mma');
    if (choice === 'int8') {
      if (!int8)
        throw new Error(
          `${gw.name}: int8 activations need quantized weights (${typeName(gw.type)} runs --path f32)`,
        );
      if (m <= 8) return 'fused-small-q8';
      if (this.hasMmaI8 && int8Mma) return 'fused-mma-i8';
      throw new Error(
        int8Mma
          ? `${gw.name}: int8 activations at m > 8 need the int8 matrix-unit path (${this.kind === 'cuda' ? 'sm_80 or newer' : 'not built for HIP yet'})`
          : `${gw.name}: ${typeName(gw.type)} has no int8 matrix-unit kernel (m > 8 runs --path f32 or mma)`,
      );
    }
    if (choice === 'auto' && int8) {
      if (m <= 8) return 'fused-small-q8';
      if (this.hasMmaI8 && int8Mma) return 'fused-mma-i8';
      // AMD: MFMA only on request (--path mma) until it has passed the selftest on an AMD GPU
      if (this.hasMma && this.kind === 'cuda') return 'fused-mma-f16';
    }
    if (m <= 8) return 'fused-small-f32';
    return 'fused-tiled-f32';
  }

  /**
   * Prepares the launches of one multiplication; the returned closure enqueues them for weights at
   * `wPtr` (so the cold protocol can rotate copies). Scratch buffers are allocated here and listed
   * in `scratch` for the caller to free.
   */
  private plan(
    gw: GpuWeights,
    xPtr: DevicePtr,
    yPtr: DevicePtr,
    m: number,
    kp: KernelPath,
    scratch: DevicePtr[],
  ): { enqueue: (wPtr: DevicePtr) => void; detail: string } {
    const { n, k } = gw;
    const warp = this.device.warpSize;
    if (kp === 'custom') {
      const c = this.customFor(gw.type)!;
      const dims = { m, n, k };
      const grid = parseGeometry(process.env.QS_CUSTOM_GRID ?? 'm', dims, 'QS_CUSTOM_GRID');
      const block = parseGeometry(process.env.QS_CUSTOM_BLOCK ?? '256', dims, 'QS_CUSTOM_BLOCK');
      const shared = Number(process.env.QS_CUSTOM_SHARED ?? '0');
      if (!Number.isInteger(shared) || shared < 0)
        throw new Error(`QS_CUSTOM_SHARED must be a byte count, got '${process.env.QS_CUSTOM_SHARED}'`);
      const args = argsFor((wPtr): KernelArg[] => [
        { ptr: xPtr },
        { ptr: wPtr },
        { ptr: yPtr },
        { i32: m },
        { i32: n },
        { i32: k },
      ]);
      return {
        enqueue: (wPtr) => this.rt.launch(c.fn, grid, block, shared, args(wPtr)),
        detail: `${c.fn.name} from ${c.variable}=${c.path}, grid ${grid.join('x')}, block ${block.join('x')}, shared ${shared}`,
      };
    }
    if (kp === 'fused-small-f32') {
      const entry = this.moduleFor(gw.type);
      const block: [number, number, number] = [this.tuning.smallWarps * warp, 1, 1];
      // one launch for m <= 8 (larger m, if ever routed here, as launches of 8 rows, weights read per launch)
      const launches: {
        fn: GpuFunction;
        grid: [number, number, number];
        args: (wPtr: DevicePtr) => KernelArg[];
      }[] = [];
      for (let r0 = 0; r0 < m; r0 += 8) {
        const mb = Math.min(8, m - r0);
        const xp = ptrAdd(xPtr, r0 * k * 4);
        const yp = ptrAdd(yPtr, r0 * n * 4);
        launches.push({
          fn: this.fn(entry, `qs_small_m${mb}`),
          grid: [Math.ceil(n / this.smallRowsFor(mb)), 1, 1],
          args: argsFor((wPtr): KernelArg[] => [
            { ptr: xp },
            { ptr: wPtr },
            { ptr: yp },
            { i32: n },
            { i32: k },
          ]),
        });
      }
      return {
        enqueue: (wPtr) => {
          for (const l of launches) this.rt.launch(l.fn, l.grid, block, 0, l.args(wPtr));
        },
        detail:
          `${launches.map((l) => l.fn.name).join(' + ')} grid ${launches[0].grid[0]} block ${block[0]}` +
          `${launches.length > 1 ? ` (${launches.length} launches of <= 8 rows)` : ''} (${entry.origin})`,
      };
    }
    if (kp === 'fused-small-q8') {
      const entry = this.moduleFor(gw.type);
      const fn = this.fn(entry, `qs_q8_m${m}`);
      const { xq, xd, quantize } = this.quantizeActivations(entry, gw, xPtr, m, scratch);
      const { rows, threads } = this.q8Geometry(entry, gw.type, m);
      const grid: [number, number, number] = [Math.ceil(n / rows), 1, 1];
      const args = argsFor((wPtr): KernelArg[] => [
        { ptr: xq },
        { ptr: xd },
        { ptr: wPtr },
        { ptr: yPtr },
        { i32: n },
        { i32: k },
      ]);
      return {
        enqueue: (wPtr) => {
          quantize();
          // starts while qs_x_q8 runs (CUDA sm_90+): its weight loads begin at once
          this.rt.launch(fn, grid, [threads, 1, 1], 0, args(wPtr), OVERLAP);
        },
        detail: `qs_x_q8 + qs_q8_m${m} (int8 activations per 32, dp4a) grid ${grid[0]} block ${threads} (${entry.origin})`,
      };
    }
    if (kp === 'fused-mma-i8') {
      const entry = this.moduleFor(gw.type);
      const fn = this.fn(entry, 'qs_mma_i8');
      const g = this.i8Geometry(entry);
      const { xq, xd, quantize } = this.quantizeActivations(entry, gw, xPtr, m, scratch);
      // split-K so that the tiles fill the device (blocks per SM as the kernel was built for)
      const gx = Math.ceil(n / g.bn);
      const gy = Math.ceil(m / g.bm);
      const slices = Math.ceil(k / g.kt);
      const want = Math.max(
        1,
        Math.min(
          16,
          Math.floor((this.device.computeUnits * g.minBlocks) / (gx * gy)),
          Math.max(1, Math.floor(slices / 4)),
        ),
      );
      const per = Math.ceil(slices / want);
      const splits = Math.ceil(slices / per);
      const { out, sum } = this.splitK(entry, gw, yPtr, m, splits, scratch);
      const grid: [number, number, number] = [gx, gy, splits];
      const args = argsFor((wPtr): KernelArg[] => [
        { ptr: xq },
        { ptr: xd },
        { ptr: wPtr },
        { ptr: out },
        { i32: m },
        { i32: n },
        { i32: k },
        { i32: per },
      ]);
      return {
        enqueue: (wPtr) => {
          quantize();
          this.rt.launch(fn, grid, [g.threads, 1, 1], g.shared, args(wPtr));
          sum?.();
        },
        detail:
          `qs_x_q8 + qs_mma_i8 (mma.sync m16n8k32 s8, int8 activations per 32) grid ${gx}x${gy}x${splits} block ${g.threads} ` +
          `shared ${g.shared}${sum ? ' + qs_splitk_sum' : ''} (${entry.origin})`,
      };
    }
    if (kp === 'fused-tiled-f32') {
      const entry = this.moduleFor(gw.type);
      const fn = this.fn(entry, 'qs_tiled_f32');
      const grid: [number, number, number] = [Math.ceil(n / 64), Math.ceil(m / 64), 1];
      const args = argsFor((wPtr): KernelArg[] => [
        { ptr: xPtr },
        { ptr: wPtr },
        { ptr: yPtr },
        { i32: m },
        { i32: n },
        { i32: k },
      ]);
      return {
        enqueue: (wPtr) => this.rt.launch(fn, grid, [256, 1, 1], 0, args(wPtr)),
        detail: `qs_tiled_f32 grid ${grid[0]}x${grid[1]} block 256 (${entry.origin})`,
      };
    }
    if (kp === 'fused-mma-f16') {
      const entry = this.moduleFor(gw.type);
      const conv = this.fn(entry, 'qs_x_bf16');
      const kernel = this.mmaKernel;
      const fn = this.fn(entry, kernel);
      const kpad = Math.ceil(k / 64) * 64; // both kernels step k by 64
      const xb = this.alloc(m * kpad * 2 + WEIGHT_PAD, `${gw.name}: bfloat16 activations`);
      scratch.push(xb);
      const pairs = (m * kpad) / 2;
      const cgrid: [number, number, number] = [
        Math.max(1, Math.min(Math.ceil(pairs / 256), this.device.computeUnits * 16)),
        1,
        1,
      ];
      // split-K so that about two blocks per SM run (a 4096-row tensor has only 32 column tiles)
      const gx = Math.ceil(n / MMA_BN);
      const gy = Math.ceil(m / MMA_BM);
      const slices = kpad / 64;
      const want = Math.max(
        1,
        Math.min(16, Math.round((2 * this.device.computeUnits) / (gx * gy)), Math.floor(slices / 4)),
      );
      const per = Math.ceil(slices / want);
      const splits = Math.ceil(slices / per);
      const grid: [number, number, number] = [gx, gy, splits];
      const { out, sum } = this.splitK(entry, gw, yPtr, m, splits, scratch);
      const args = argsFor((wPtr): KernelArg[] => [
        { ptr: xb },
        { ptr: wPtr },
        { ptr: out },
        { i32: m },
        { i32: n },
        { i32: k },
        { i32: kpad },
        { i32: per },
      ]);
      const convArgs: KernelArg[] = [{ ptr: xPtr }, { ptr: xb }, { i32: m }, { i32: k }, { i32: kpad }];
      return {
        enqueue: (wPtr) => {
          this.rt.launch(conv, cgrid, [256, 1, 1], 0, convArgs);
          this.rt.launch(fn, grid, [MMA_THREADS, 1, 1], 0, args(wPtr));
          sum?.();
        },
        detail:
          `qs_x_bf16 + ${kernel} (${
            kernel === 'qs_mma_f16'
              ? 'mma.sync m16n8k16'
              : this.kind === 'hip'
                ? 'MFMA 32x32x8'
                : 'MFMA 32x32x8 emulated on CUDA'
          } bf16, f32 accumulate) grid ${gx}x${gy}x${splits} block ${MMA_THREADS}` +
          `${sum ? ' + qs_splitk_sum' : ''} (${entry.origin})`,
      };
    }
    // unfused baseline: dequantize into a float32 [n][k] buffer, then the float32 matmul on it
    const deq = this.fn(this.moduleFor(gw.type), 'qs_dequant');
    const f32 = this.moduleFor(0);
    const wf = this.alloc(n * k * 4 + WEIGHT_PAD, `${gw.name}: unfused float32 weight buffer`);
    scratch.push(wf);
    const total = n * Math.ceil(k / 8);
    const dgrid: [number, number, number] = [
      Math.max(1, Math.min(Math.ceil(total / 256), this.device.computeUnits * 32)),
      1,
      1,
    ];
    const mm =
      m <= 8
        ? {
            fn: this.fn(f32, `qs_small_m${m}`),
            grid: [Math.ceil(n / this.smallRowsFor(m)), 1, 1] as [number, number, number],
            block: [this.tuning.smallWarps * warp, 1, 1] as [number, number, number],
            args: [{ ptr: xPtr }, { ptr: wf }, { ptr: yPtr }, { i32: n }, { i32: k }] as KernelArg[],
          }
        : {
            fn: this.fn(f32, 'qs_tiled_f32'),
            grid: [Math.ceil(n / 64), Math.ceil(m / 64), 1] as [number, number, number],
            block: [256, 1, 1] as [number, number, number],
            args: [
              { ptr: xPtr },
              { ptr: wf },
              { ptr: yPtr },
              { i32: m },
              { i32: n },
              { i32: k },
            ] as KernelArg[],
          };
    const dargs = argsFor((wPtr) => [{ ptr: wPtr }, { ptr: wf }, { i32: n }, { i32: k }]);
    return {
      enqueue: (wPtr) => {
        this.rt.launch(deq, dgrid, [256, 1, 1], 0, dargs(wPtr));
        this.rt.launch(mm.fn, mm.grid, mm.block, 0, mm.args);
      },
      detail: `qs_dequant grid ${dgrid[0]} + f32 ${mm.fn.name} grid ${mm.grid.slice(0, 2).join('x')}`,
    };
  }

  async run(w: LoadedWeights, x: Float32Array, m: number, opts: RunOptions = {}): Promise<RunResult> {
    const gw = this.checkRun(w, x, m);
    checkAbort(opts.signal);
    const kp = this.resolvePath(gw, m, opts.path ?? 'auto');
    const scratch: DevicePtr[] = [];
    try {
      const xPtr = this.alloc(x.byteLength + WEIGHT_PAD, `${gw.name}: activations`);
      scratch.push(xPtr);
      const yBytes = m * gw.n * 4;
      const yPtr = this.alloc(yBytes + WEIGHT_PAD, `${gw.name}: outputs`);
      scratch.push(yPtr);
      this.rt.copyToDevice(xPtr, x);
      this.rt.memset8(yPtr, 0xff, yBytes); // poison: NaN everywhere a kernel does not write
      const p = this.plan(gw, xPtr, yPtr, m, kp, scratch);
      checkAbort(opts.signal);
      p.enqueue(gw.ptr!);
      this.rt.synchronize();
      const y = new Float32Array(m * gw.n);
      this.rt.copyFromDevice(y, yPtr);
      return { y, path: kp, detail: p.detail };
    } catch (e) {
      throw this.wrap(gw, kp, e);
    } finally {
      for (const p of scratch) this.freeQuiet(p);
    }
  }

  private wrap(gw: GpuWeights, kp: KernelPath, e: unknown): Error {
    if (e instanceof CancelledError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.startsWith(gw.name)) return e as Error;
    const err = new Error(`${gw.name} (${typeName(gw.type)}, ${kp}): ${msg}`);
    if (e instanceof GpuError) (err as Error & { cause?: unknown }).cause = e;
    return err;
  }

  async time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing> {
    const gw = this.checkRun(w, x, m);
    checkAbort(opts.signal);
    const kp = this.resolvePath(gw, m, opts.path ?? 'auto');
    const warmup = Math.max(1, opts.warmup ?? 10);
    const repeats = Math.max(3, opts.repeats ?? 30);
    const scratch: DevicePtr[] = [];
    const events = [this.rt.eventCreate(), this.rt.eventCreate()];
    try {
      const xPtr = this.alloc(x.byteLength + WEIGHT_PAD, `${gw.name}: activations`);
      scratch.push(xPtr);
      const yPtr = this.alloc(m * gw.n * 4 + WEIGHT_PAD, `${gw.name}: outputs`);
      scratch.push(yPtr);
      this.rt.copyToDevice(xPtr, x);
      const p = this.plan(gw, xPtr, yPtr, m, kp, scratch);
      // cold protocol: enough copies of the weights that the rotation spans 3x the L2 cache
      const copies: DevicePtr[] = [gw.ptr!];
      if (opts.protocol === 'cold') {
        const l2 = Number(this.device.details.l2CacheBytes ?? 0) || 64 * 1024 * 1024;
        const want = Math.max(2, Math.min(16, Math.ceil((3 * l2) / gw.bytes) + 1));
        const free = this.rt.memGetInfo().free - FREE_MARGIN;
        const fit = Math.floor(free / (gw.bytes + WEIGHT_PAD));
        if (fit < 1) throw new Error(`${gw.name}: no device memory for a second weight copy (cold protocol)`);
        const extra = Math.min(want - 1, fit);
        for (let i = 0; i < extra; i++) {
          const c = this.alloc(gw.bytes + WEIGHT_PAD, `${gw.name}: weight copy ${i + 2} (cold protocol)`);
          scratch.push(c);
          this.rt.copyDeviceToDevice(c, gw.ptr!, gw.bytes + WEIGHT_PAD);
          copies.push(c);
        }
      }
      let rot = 0;
      const next = () => copies[rot++ % copies.length];
      for (let i = 0; i < warmup; i++) p.enqueue(next());
      this.rt.synchronize();
      // launches per sample: enough that one sample covers >= ~1 ms of GPU time, from a timed probe
      this.rt.eventRecord(events[0]);
      const hp = performance.now();
      for (let i = 0; i < copies.length; i++) p.enqueue(next());
      const probeHostUs = ((performance.now() - hp) * 1000) / copies.length;
      this.rt.eventRecord(events[1]);
      const probeUs = (this.rt.eventElapsedMs(events[0], events[1]) * 1000) / copies.length;
      const perSample = Math.max(
        copies.length,
        Math.min(1000, Math.ceil(SAMPLE_US / Math.max(probeUs, 0.5))),
      );
      const batch = Math.ceil(perSample / copies.length) * copies.length;
      // Each sample's launches queue behind qs_hold, which keeps the stream busy for about as long as the
      // host needs to enqueue them (the probe's host time, with margin), so the sample times the GPU
      // running them back to back, not the host's launch rate: through koffi one call's launches take the
      // host ~10-15 us, as long as an m=1 multiplication on an H100. Without the hold, the GPU would be
      // idle at the start event and wait for every launch.
      const hold = this.holdFunction(gw.type);
      const holdUs = Math.min(50_000, 20 + 1.5 * probeHostUs * batch);
      const holdArgs: KernelArg[] = [
        { u64: Math.round(this.kind === 'cuda' ? holdUs * 1000 : holdUs * 100) },
      ];
      const samples: number[] = [];
      let hostMs = 0;
      for (let s = 0; s < repeats; s++) {
        checkAbort(opts.signal);
        if (hold) this.rt.launch(hold, [1, 1, 1], [32, 1, 1], 0, holdArgs);
        this.rt.eventRecord(events[0]);
        const h0 = performance.now();
        for (let i = 0; i < batch; i++) p.enqueue(next());
        hostMs += performance.now() - h0;
        this.rt.eventRecord(events[1]);
        samples.push((this.rt.eventElapsedMs(events[0], events[1]) * 1000) / batch);
      }
      samples.sort((a, b) => a - b);
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
        weightCopies: copies.length,
        hostUsPerCall: (hostMs * 1000) / (repeats * batch),
      };
    } catch (e) {
      throw this.wrap(gw, kp, e);
    } finally {
      try {
        this.rt.synchronize();
      } catch {
        /* the error is already on its way */
      }
      for (const p of scratch) this.freeQuiet(p);
      for (const ev of events) this.rt.eventDestroy(ev);
    }
  }

  /** Device-to-device copy bandwidth (bytes read + written), measured with events. */
  measureCopyBandwidth(bytes = 256 * 1024 * 1024): number | null {
    const { free } = this.rt.memGetInfo();
    const size = Math.min(bytes, Math.floor((free - FREE_MARGIN) / 2 / 4096) * 4096);
    if (size < 16 * 1024 * 1024) return null;
    const a = this.rt.malloc(size);
    let b: DevicePtr | null = null;
    const ev = [this.rt.eventCreate(), this.rt.eventCreate()];
    try {
      b = this.rt.malloc(size);
      this.rt.memset8(a, 1, size);
      // batches of back-to-back copies (no host gaps for the clocks to drop in), the first ones as
      // warm-up (single copies timed one by one read 2.77-2.91 TB/s from run to run on an H100)
      const perBatch = 8;
      const warmup = 4;
      const timed = 5;
      const times: number[] = [];
      for (let i = 0; i < warmup + timed; i++) {
        this.rt.eventRecord(ev[0]);
        for (let j = 0; j < perBatch; j++) this.rt.copyDeviceToDevice(b, a, size);
        this.rt.eventRecord(ev[1]);
        const ms = this.rt.eventElapsedMs(ev[0], ev[1]) / perBatch;
        if (i >= warmup) times.push(ms);
      }
      times.sort((x, y) => x - y);
      return (2 * size) / (times[timed >> 1] * 1e-3) / 1e9; // the median batch
    } finally {
      this.freeQuiet(a);
      this.freeQuiet(b);
      for (const e of ev) this.rt.eventDestroy(e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.weights]) w.dispose();
    this.modules.clear();
    try {
      this.rt.dispose();
    } catch {
      /* nothing more to free */
    }
  }
}

const OVERLAP = { overlapPrevious: true } as const;

/** The int8 small kernel's launch table: weight rows and warps per block for m = 1..8. */
export interface Q8Geometry {
  rows: number[];
  warps: number[];
}

/**
 * qs_q8_geometry's output (kernels/qs_small_q8.h: the type id, then rows and warps per block for
 * m = 1..8, from the format header's table as compiled, tuning defines included) as a table; throws a
 * one-line error when it is not that format's or a value is out of range.
 */
export function parseQ8Geometry(v: Int32Array, type: number): Q8Geometry {
  const rows = Array.from(v.subarray(1, 9));
  const warps = Array.from(v.subarray(9, 17));
  const ok = (x: number) => Number.isInteger(x) && x >= 1 && x <= 32;
  if (
    v.length < 17 ||
    v[0] !== type ||
    rows.length !== 8 ||
    warps.length !== 8 ||
    ![...rows, ...warps].every(ok)
  )
    throw new Error(
      `qs_q8_geometry of the ${typeName(type)} module returned ${Array.from(v.subarray(0, 17)).join(',')}`,
    );
  return { rows, warps };
}
// int8 matrix-unit kernel (kernels/qs_mma_i8.h)
const MMA_I8_AVAILABLE = true;

/** "QS_Q8_NW=4,QS_Q8_R2=2" -> defines; names QS_*, integer values; throws a one-line error. */
export function parseDefines(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const mt = /^(QS_[A-Z0-9_]+)=(-?\d+)$/.exec(part);
    if (!mt)
      throw new Error(`QS_KERNEL_DEFINES: expected NAME=INTEGER with NAME starting QS_, got '${part}'`);
    out[mt[1]] = Number(mt[2]);
  }
  return out;
}

/** AMD targets with the MFMA instruction qs_mfma_bf16 uses (v_mfma_f32_32x32x8_bf16, "bf16_1k") */
const MFMA_ARCH_RE = /^gfx(90a|94[012]|950)(:|$)/;

// Matrix-unit path geometry (kernels/qs_kernels.h qs_mma_f16, kernels/qs_mfma.h qs_mfma_bf16: the same tiles).
const MMA_AVAILABLE = true;
const MMA_BM = 128;
const MMA_BN = 128;
const MMA_THREADS = 256;

/** A device pointer plus a byte offset (the runtimes hand out bigint or number addresses). */
function ptrAdd(p: DevicePtr, bytes: number): DevicePtr {
  if (bytes === 0) return p;
  if (typeof p === 'bigint') return (p + BigInt(bytes)) as DevicePtr;
  if (typeof p === 'number') return (p + bytes) as DevicePtr;
  throw new Error('device pointer arithmetic needs a bigint or number address');
}

/** One argument list per weight pointer, built once: the runtime caches what it packs per list. */
function argsFor(make: (wPtr: DevicePtr) => KernelArg[]): (wPtr: DevicePtr) => KernelArg[] {
  const cache = new Map<DevicePtr, KernelArg[]>();
  return (wPtr) => {
    let a = cache.get(wPtr);
    if (!a) {
      a = make(wPtr);
      cache.set(wPtr, a);
    }
    return a;
  };
}

function reasonOf(e: unknown): string {
  return oneLine(e);
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
          const info = rt.deviceInfo(i);
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
        return { backend: kind, available: false, reason: reasonOf(e), devices: [] };
      } finally {
        try {
          rt?.dispose();
        } catch {
          /* ignore */
        }
      }
    },
    async open(deviceIndex: number): Promise<BackendSession> {
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
        const s = new GpuSession(kind, rt, info, options);
        try {
          info.copyBandwidthGBs = s.measureCopyBandwidth();
        } catch {
          info.copyBandwidthGBs = null;
        }
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
