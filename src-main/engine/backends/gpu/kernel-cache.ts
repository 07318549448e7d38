/**
 * The kernels of one GPU session: a module per format (compiled at run time with NVRTC / hiprtc for
 * the device's exact architecture and cached on disk by source hash + architecture + compiler
 * version, or a prebuilt code object from `npm run build:kernels`), the users' code objects named by
 * Q*_MATMUL_CUBIN / Q*_MATMUL_HSACO, the functions looked up in them, and the launch facts a module
 * reports about itself.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { typeName } from '../../ggml-types';
import { customKernelLabel, customKernelSymbol, type CustomKernel, type GpuSessionConfig } from './config';
import type { Int8MmaTile } from '../../formats/spec';
import { gpuFormat } from './formats';
import { KERNEL_HEADERS } from './kernel-sources';
import type { DeviceMemory } from './memory';
import type { GpuFunction, GpuModule, GpuRuntime } from './runtime';

/**
 * The int8 matrix-unit kernels: mma.sync on CUDA (qs_mma_i8: 128 x 128 tiles; qs_mma_i8_<rows>x<cols>:
 * the shorter tiles), MFMA on AMD CDNA (qs_mfma_i8).
 */
export type MmaI8Kernel =
  'qs_mma_i8' | `qs_mma_i8_${Exclude<Int8MmaTile, '128x128' | 'wgmma'>}` | 'qs_wgmma_i8' | 'qs_mfma_i8';

/** The matrix-unit kernels that report their launch facts through <name>_geometry. */
export type TileKernel =
  | MmaI8Kernel
  | 'qs_wgmma_bf16'
  | 'qs_wgmma_bf16_256'
  | 'qs_wgmma_bf16_tma'
  | 'qs_wgmma_bf16_256_tma'
  | 'qs_wgmma_bf16_64_tma'
  | 'qs_wgmma_bf16_32_tma';

/** a matrix-unit kernel's launch facts (qs_mma_i8_geometry, qs_wgmma_bf16_geometry, ...) */
export interface TileGeometry {
  shared: number;
  minBlocks: number;
  bm: number;
  bn: number;
  kt: number;
  threads: number;
  /** tensor-copy kernels (`_tma`): the width in bytes of the weights' box (BN rows of it per slice) */
  boxBytes?: number;
}

export interface ModuleEntry {
  mod: GpuModule;
  fns: Map<string, GpuFunction>;
  origin: string;
  /** entry points has() found missing from the module */
  absent?: Set<string>;
  /** the matrix-unit kernels' launch facts, read once per kernel */
  tiles?: Partial<Record<TileKernel, TileGeometry>>;
  /** the int8 small kernel's launch table (qs_q8_geometry), read once */
  q8?: Q8Geometry;
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

export class KernelCache {
  private readonly modules = new Map<string, ModuleEntry>();

  constructor(
    private readonly rt: GpuRuntime,
    private readonly kind: 'cuda' | 'hip',
    private readonly arch: string,
    private readonly config: GpuSessionConfig,
    private readonly memory: DeviceMemory,
  ) {}

  /** QuantScope's module for a format, built with the session's tuning and defines. */
  module(type: number): ModuleEntry {
    const src = gpuFormat(type)?.kernel;
    if (!src) throw new Error(`no GPU kernel for ${typeName(type)}`);
    const { tuning } = this.config;
    const defines: Record<string, number> = {
      QS_SMALL_R: tuning.smallRows,
      QS_SMALL_R2: tuning.smallRowsBig,
      QS_SMALL_MSPLIT: tuning.smallMSplit,
      QS_SMALL_NW: tuning.smallWarps,
      QS_SMALL_OPL: tuning.smallOctsPerLane,
      QS_SMALL_DEPTH: tuning.smallDepth,
    };
    Object.assign(defines, this.config.defines);
    // Hopper's warpgroup kernel runs only on request (QS_MMA_I8_TILE=wgmma), so only then is it compiled:
    // it makes every module's compile about 50% longer (nvcc: 11.0 against 7.4 s for Q4_K)
    const wgmma = this.kind === 'cuda' && this.config.mmaI8Tile === 'wgmma';
    if (wgmma) defines.QS_WGMMA_I8 = 1;
    const key = `${src.stem}:${JSON.stringify(defines)}`;
    const hit = this.modules.get(key);
    if (hit) return hit;
    // Hopper's architecture-specific instructions (wgmma, in qs_wgmma_i8) need the sm_90a target; its
    // code runs on sm_90 devices only, which is the device it is built for (the other kernels are the
    // same code as for sm_90)
    const arch = this.kind === 'cuda' && this.arch === 'sm_90' ? 'sm_90a' : this.arch;
    let image: Uint8Array | null = null;
    let origin = '';
    const prebuiltDir = this.config.prebuiltDir;
    if (this.config.isDefault && !wgmma && prebuiltDir) {
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
      const cacheDir = this.config.cacheDir;
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

  /** Whether the module has this entry point (some are built only for some targets: qs_wgmma_i8). */
  has(entry: ModuleEntry, name: string): boolean {
    if (entry.absent?.has(name)) return false;
    try {
      this.fn(entry, name);
      return true;
    } catch {
      // asked on every run of the paths that check (the driver's lookup is not free): remembered
      (entry.absent ??= new Set()).add(name);
      return false;
    }
  }

  fn(entry: ModuleEntry, name: string): GpuFunction {
    let f = entry.fns.get(name);
    if (!f) {
      f = this.rt.getFunction(entry.mod, name);
      entry.fns.set(name, f);
    }
    return f;
  }

  /** The user's kernel for a format (a Q*_MATMUL_* variable or a run's user kernel), or null. */
  custom(type: number): { fn: GpuFunction; path: string; variable: string; kernel: CustomKernel } | null {
    const c = this.config.customKernels.get(type);
    if (!c) return null;
    const { variable, path: p } = c;
    const label = customKernelLabel(c);
    const key = `custom:${variable}:${p}`;
    let entry = this.modules.get(key);
    if (!entry) {
      if (!fs.existsSync(p)) throw new Error(`${label}: file not found`);
      let image: Uint8Array;
      try {
        image = new Uint8Array(fs.readFileSync(p));
      } catch (e) {
        throw new Error(`${label}: cannot read: ${(e as Error).message}`);
      }
      let mod: GpuModule;
      try {
        mod = this.rt.loadModule(image, `custom:${p}`);
      } catch (e) {
        throw new Error(`${label}: cannot load the code object: ${(e as Error).message}`);
      }
      entry = { mod, fns: new Map(), origin: `custom:${p}` };
      this.modules.set(key, entry);
    }
    const symbol = customKernelSymbol(type);
    try {
      return { fn: this.fn(entry, symbol), path: p, variable, kernel: c };
    } catch (e) {
      throw new Error(`${label}: symbol ${symbol} not found: ${(e as Error).message}`);
    }
  }

  /**
   * The timing aid qs_hold from our module for this format, or null where that module cannot be built or
   * loaded (a custom kernel's timing then runs without it, paced by the host where the host is slower).
   */
  hold(type: number): GpuFunction | null {
    try {
      return this.fn(this.module(type), 'qs_hold');
    } catch {
      return null;
    }
  }

  /**
   * A matrix-unit kernel's launch facts, from the module itself (its <kernel>_geometry: one tiny
   * launch per module and kernel)
   */
  tileGeometry(entry: ModuleEntry, kernel: TileKernel): TileGeometry {
    const known = entry.tiles?.[kernel];
    if (known) return known;
    const fn = this.fn(entry, `${kernel}_geometry`);
    const buf = this.memory.alloc(64, `${kernel} geometry`);
    try {
      this.rt.launch(fn, [1, 1, 1], [1, 1, 1], 0, [{ ptr: buf }]);
      const tma = kernel.endsWith('_tma');
      const v = new Int32Array(tma ? 7 : 6);
      this.rt.copyFromDevice(v, buf);
      const [shared, minBlocks, bm, bn, kt, threads, boxBytes] = Array.from(v);
      if (
        !(bm > 0 && bn > 0 && kt > 0 && threads > 0 && minBlocks > 0 && shared >= 0) ||
        (tma && !(boxBytes >= 16 && boxBytes <= 256 && boxBytes % 16 === 0))
      )
        throw new Error(`${kernel}_geometry returned ${Array.from(v).join(',')}`);
      const g: TileGeometry = { shared, minBlocks, bm, bn, kt, threads, ...(tma ? { boxBytes } : {}) };
      entry.tiles = { ...entry.tiles, [kernel]: g };
      return g;
    } finally {
      this.memory.freeQuiet(buf);
    }
  }

  /**
   * The int8 small kernel's launch table as the module was compiled (qs_q8_geometry: the format
   * header's table with any tuning defines applied), so the launch and the kernel cannot disagree.
   */
  q8Geometry(entry: ModuleEntry, type: number): Q8Geometry {
    if (entry.q8) return entry.q8;
    const fn = this.fn(entry, 'qs_q8_geometry');
    const buf = this.memory.alloc(128, 'qs_q8 geometry');
    try {
      this.rt.launch(fn, [1, 1, 1], [1, 1, 1], 0, [{ ptr: buf }]);
      const v = new Int32Array(Q8_GEOMETRY_LEN);
      this.rt.copyFromDevice(v, buf);
      entry.q8 = parseQ8Geometry(v, type);
      return entry.q8;
    } finally {
      this.memory.freeQuiet(buf);
    }
  }

  clear(): void {
    this.modules.clear();
  }
}

/** Values qs_q8_geometry writes (QS_Q8_GEOMETRY_LEN in kernels/qs_small_q8.h). */
export const Q8_GEOMETRY_LEN = 26;

/**
 * The int8 small kernel's launch table for m = 1..8: weight rows and warps per block, whether the
 * kernel reads the split-row copy of the weights (kernels/qs_format.h), and that copy's row alignment.
 */
export interface Q8Geometry {
  rows: number[];
  warps: number[];
  split: boolean[];
  splitAlign: number;
}

/**
 * qs_q8_geometry's output (kernels/qs_small_q8.h: the type id, then rows, warps and split flags per block
 * for m = 1..8, then the split rows' alignment) as a table; throws a one-line error when it is not that
 * format's or a value is out of range.
 */
export function parseQ8Geometry(v: Int32Array, type: number): Q8Geometry {
  const rows = Array.from(v.subarray(1, 9));
  const warps = Array.from(v.subarray(9, 17));
  const split = Array.from(v.subarray(17, 25));
  const splitAlign = v[25];
  const ok = (x: number) => Number.isInteger(x) && x >= 1 && x <= 32;
  if (
    v.length < Q8_GEOMETRY_LEN ||
    v[0] !== type ||
    ![...rows, ...warps].every(ok) ||
    !split.every((x) => x === 0 || x === 1) ||
    !(splitAlign >= 1 && splitAlign <= 256 && (splitAlign & (splitAlign - 1)) === 0)
  )
    throw new Error(
      `qs_q8_geometry of the ${typeName(type)} module returned ${Array.from(v.subarray(0, Q8_GEOMETRY_LEN)).join(',')}`,
    );
  return { rows, warps, split: split.map((x) => x === 1), splitAlign };
}

/** Bytes of the split-row copy of n rows of `rowBytes` (each row padded to the alignment). */
export function splitRowsBytes(n: number, rowBytes: number, align: number): number {
  return n * Math.ceil(rowBytes / align) * align;
}
