/**
 * What a GPU session reads from its options and the environment, once, when it opens: the
 * small-batch kernel's tuning, extra kernel defines, the users' code objects and their launch
 * geometry, where compiled kernels are cached and where prebuilt ones are. Nothing in the session
 * reads process.env after this.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SUPPORTED_TYPES, typeName } from '../../ggml-types';
import { INT8_MMA_TILES, type Int8MmaTile } from '../../formats/spec';

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

/**
 * "QS_Q8_NW=4,QS_Q6_P8" -> defines; names QS_*, integer values; a bare name is 1, as a compiler's
 * -DNAME makes it; throws a one-line error.
 */
export function parseDefines(spec: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const mt = /^(QS_[A-Z0-9_]+)(?:=(-?\d+))?$/.exec(part);
    if (!mt)
      throw new Error(
        `QS_KERNEL_DEFINES: expected NAME or NAME=INTEGER with NAME starting QS_, got '${part}'`,
      );
    out[mt[1]] = mt[2] === undefined ? 1 : Number(mt[2]);
  }
  return out;
}

/** An on/off variable: unset, empty or '0' is off, '1' on; anything else is a one-line error. */
export function parseSwitch(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new Error(`${name}: expected 0 or 1, got '${value}'`);
}

/** QS_MMA_I8_TILE: unset or empty = the planner's rule; one of INT8_MMA_TILES; else a one-line error. */
export function parseInt8MmaTile(value: string | undefined): Int8MmaTile | null {
  if (value === undefined || value === '') return null;
  const t = INT8_MMA_TILES.find((x) => x === value);
  if (!t) throw new Error(`QS_MMA_I8_TILE: expected one of ${INT8_MMA_TILES.join(', ')}, got '${value}'`);
  return t;
}

/** The users' override variable for a format: Q4_0_MATMUL_CUBIN, Q6_K_MATMUL_HSACO, ... */
export function customKernelVar(kind: 'cuda' | 'hip', type: number): string {
  return `${typeName(type).toUpperCase()}_MATMUL_${kind === 'cuda' ? 'CUBIN' : 'HSACO'}`;
}
/** The symbol a user code object must export: q4_0_matmul_kernel, q4_k_matmul_kernel, ... */
export function customKernelSymbol(type: number): string {
  return `${typeName(type).toLowerCase()}_matmul_kernel`;
}

export interface GpuBackendOptions {
  tuning?: Partial<GpuTuning>;
  /** directory of prebuilt code objects (default: build/kernels found upwards, or QS_KERNELS_DIR) */
  prebuiltDir?: string | null;
  /** disk cache directory (default QS_KERNEL_CACHE or ~/.cache/quantscope/kernels); null disables */
  cacheDir?: string | null;
}

export interface CustomKernel {
  /** what named it, for messages: the variable (Q4_K_MATMUL_CUBIN) or 'the Q4_K user kernel' of a run */
  variable: string;
  path: string;
  /** its own launch geometry (a run's user kernel); absent: QS_CUSTOM_GRID / _BLOCK / _SHARED */
  grid?: string;
  block?: string;
  shared?: string;
}

/** How a message names a custom kernel: "Q4_K_MATMUL_CUBIN=k.cubin" or "the Q4_K user kernel k.cubin". */
export function customKernelLabel(c: CustomKernel): string {
  return c.variable.includes('_MATMUL_') ? `${c.variable}=${c.path}` : `${c.variable} ${c.path}`;
}

/** A run's user kernel as the session's custom kernel for its format. */
export function userCustomKernel(u: {
  type: number;
  path: string;
  grid?: string;
  block?: string;
  shared?: string;
}): CustomKernel {
  return {
    variable: `the ${typeName(u.type)} user kernel`,
    path: u.path,
    ...(u.grid ? { grid: u.grid } : {}),
    ...(u.block ? { block: u.block } : {}),
    ...(u.shared ? { shared: u.shared } : {}),
  };
}

export interface GpuSessionConfig {
  tuning: GpuTuning;
  /** extra -D defines for every kernel module (QS_KERNEL_DEFINES="QS_Q8_NW=4,QS_Q8_R2=2"): tuning sweeps */
  defines: Readonly<Record<string, number>>;
  /** whether tuning and defines are the defaults (only then do prebuilt code objects match) */
  isDefault: boolean;
  /**
   * Launch chains: qs_x_q8, and Hopper's bfloat16 chain (qs_x_bf16w, qs_wgmma_bf16*, qs_splitk_sum),
   * may start while the previous kernel runs (each waits for that kernel's results itself);
   * QS_PDL_CHAIN=0 makes them start after the previous kernel (a timing diagnostic)
   */
  overlapQuantizer: boolean;
  /**
   * AMD CDNA (gfx90a, gfx94x): --path int8 at m > 8 runs the int8 MFMA kernel qs_mfma_i8. Off until
   * that kernel has run on an AMD GPU; QS_HIP_MFMA_I8=1 turns it on ('auto' never takes it on AMD)
   */
  hipMfmaI8: boolean;
  /**
   * CUDA int8 matrix-unit path: the tile shape every m uses (QS_MMA_I8_TILE=64x128, a tuning knob), or
   * null for the planner's rule (PathPlanner.mmaI8KernelFor)
   */
  mmaI8Tile: Int8MmaTile | null;
  /** the users' code objects by ggml type (Q*_MATMUL_CUBIN / _HSACO) */
  customKernels: ReadonlyMap<number, CustomKernel>;
  /** launch geometry of a custom kernel: QS_CUSTOM_GRID, QS_CUSTOM_BLOCK, QS_CUSTOM_SHARED */
  customGrid: string;
  customBlock: string;
  /** raw: a bad value is an error of the custom kernel's run, not of the session */
  customShared: string | undefined;
  cacheDir: string | null;
  prebuiltDir: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The session's configuration. `userKernels` are a run's own code objects (the app passes them per
 * run): each replaces, for its format, whatever the environment names.
 */
export function readSessionConfig(
  kind: 'cuda' | 'hip',
  opts: GpuBackendOptions,
  env: Env = process.env,
  userKernels: readonly Parameters<typeof userCustomKernel>[0][] = [],
): GpuSessionConfig {
  const envTuning = env.QS_GPU_TUNING ? parseTuning(env.QS_GPU_TUNING, 'QS_GPU_TUNING') : {};
  const tuning = { ...DEFAULT_TUNING, ...envTuning, ...(opts.tuning ?? {}) };
  const defines = env.QS_KERNEL_DEFINES ? parseDefines(env.QS_KERNEL_DEFINES) : {};
  const emulate = defines.QS_MFMA_I8_EMULATE;
  if (emulate !== undefined && ![0, 1, 2].includes(emulate))
    throw new Error(
      `QS_KERNEL_DEFINES: QS_MFMA_I8_EMULATE must be 1 (the gfx90a instruction) or 2 (the gfx94x one), got ${emulate}`,
    );
  const customKernels = new Map<number, CustomKernel>();
  for (const t of SUPPORTED_TYPES) {
    const variable = customKernelVar(kind, t.id);
    const p = env[variable];
    if (p) customKernels.set(t.id, { variable, path: p });
  }
  for (const u of userKernels) customKernels.set(u.type, userCustomKernel(u));
  return {
    tuning,
    defines,
    isDefault: JSON.stringify(tuning) === JSON.stringify(DEFAULT_TUNING) && Object.keys(defines).length === 0,
    overlapQuantizer: env.QS_PDL_CHAIN !== '0',
    hipMfmaI8: parseSwitch(env.QS_HIP_MFMA_I8, 'QS_HIP_MFMA_I8'),
    mmaI8Tile: parseInt8MmaTile(env.QS_MMA_I8_TILE),
    customKernels,
    customGrid: env.QS_CUSTOM_GRID ?? 'm',
    customBlock: env.QS_CUSTOM_BLOCK ?? '256',
    customShared: env.QS_CUSTOM_SHARED,
    cacheDir: opts.cacheDir === undefined ? defaultCacheDir(env) : opts.cacheDir,
    prebuiltDir: opts.prebuiltDir === undefined ? defaultPrebuiltDir(env) : opts.prebuiltDir,
  };
}

/**
 * The settings of a session that differ from the defaults, one "NAME=value" each, for its device's
 * kernelSettings: what a record, a report or the CLI's header must say so that timings and verdicts
 * from another build of the kernels are not taken for the default's. Empty for the defaults.
 */
export function kernelSettings(c: GpuSessionConfig): string[] {
  const out = Object.entries(c.defines).map(([k, v]) => `${k}=${v}`);
  if (JSON.stringify(c.tuning) !== JSON.stringify(DEFAULT_TUNING)) {
    const t = c.tuning;
    out.push(
      `QS_GPU_TUNING=${[t.smallRows, t.smallRowsBig, t.smallMSplit, t.smallWarps, t.smallOctsPerLane, t.smallDepth].join(',')}`,
    );
  }
  if (c.mmaI8Tile) out.push(`QS_MMA_I8_TILE=${c.mmaI8Tile}`);
  if (!c.overlapQuantizer) out.push('QS_PDL_CHAIN=0');
  if (c.hipMfmaI8) out.push('QS_HIP_MFMA_I8=1');
  return out;
}

function defaultCacheDir(env: Env): string | null {
  if (env.QS_KERNEL_CACHE) return env.QS_KERNEL_CACHE;
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'quantscope', 'kernels');
}

function defaultPrebuiltDir(env: Env): string | null {
  if (env.QS_KERNELS_DIR) return env.QS_KERNELS_DIR;
  for (const start of [process.cwd(), typeof __dirname === 'string' ? __dirname : process.cwd()]) {
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
