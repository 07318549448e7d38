/**
 * Path planning: which kernel path a multiplication takes on this device (resolvePath), and for
 * each path the launches it needs (one function per path), with one split-K policy and one grid
 * clamp. Format facts come from ./formats.ts, kernels from the session's KernelCache; scratch
 * buffers are allocated here and listed in `scratch` for the caller to free.
 */
import type { DeviceInfo, KernelPath, PathChoice } from '../types';
import { customKernelLabel, type GpuSessionConfig } from './config';
import type { Int8MmaTile } from '../../formats/spec';
import { gpuFormat } from './formats';
import { rowBytes, typeInfo, typeName } from '../../ggml-types';
import {
  splitRowsBytes,
  type KernelCache,
  type MmaI8Kernel,
  type ModuleEntry,
  type TileKernel,
} from './kernel-cache';
import { OVERLAP, argsFor, fixedArgs, ptrAdd, type Launch, type Plan, type WeightCopy } from './launcher';
import { WEIGHT_PAD, type DeviceMemory } from './memory';
import type { DevicePtr, KernelArg, TensorMap2d } from './runtime';

/** The weights a plan multiplies: facts only, the pointer comes at enqueue time. */
export interface PlanWeights {
  name: string;
  type: number;
  n: number;
  k: number;
}

/** AMD targets with the MFMA instruction qs_mfma_bf16 uses (v_mfma_f32_32x32x8_bf16, "bf16_1k") */
const MFMA_ARCH_RE = /^gfx(90a|94[012]|950)(:|$)/;
/**
 * AMD targets whose modules hold the int8 MFMA kernel qs_mfma_i8 (gfx90a: v_mfma_i32_16x16x16i8;
 * gfx94x: v_mfma_i32_16x16x32_i8)
 */
const MFMA_I8_ARCH_RE = /^gfx(90a|94[012])(:|$)/;

// Matrix-unit path geometry (kernels/qs_kernels.h qs_mma_f16, kernels/qs_mfma.h qs_mfma_bf16: the same tiles).
const MMA_BM = 128;
const MMA_BN = 128;
const MMA_THREADS = 256;
/** both bfloat16 matrix-unit kernels step k by 64 */
const MMA_KSTEP = 64;
/** threads per block of the element-wise kernels (activation conversion, split-K sum, dequantize) */
const EW_THREADS = 256;

/**
 * Blocks of an element-wise kernel over `items` (EW_THREADS items per block), at least one and at
 * most `wavesPerUnit` per compute unit: the kernels loop over what is left.
 */
export function clampGrid(items: number, computeUnits: number, wavesPerUnit = 16): [number, number, number] {
  return [Math.max(1, Math.min(Math.ceil(items / EW_THREADS), computeUnits * wavesPerUnit)), 1, 1];
}

/**
 * Split-K for the matrix-unit kernels: k is cut into `slices` steps; with `tiles` output tiles and
 * room for `residentBlocks` blocks on the device, each tile is split so the device fills, into at most
 * 16 parts and never fewer than 4 slices per part. `nearest` rounds the blocks-per-tile ratio to the
 * nearest whole split (a target that is a rule of thumb); otherwise down (a hard occupancy limit).
 * Returns the split count and the slices each split sums.
 */
export function splitKPolicy(
  tiles: number,
  slices: number,
  residentBlocks: number,
  nearest: boolean,
): { splits: number; per: number } {
  const ratio = residentBlocks / tiles;
  const want = Math.max(
    1,
    Math.min(16, nearest ? Math.round(ratio) : Math.floor(ratio), Math.floor(slices / 4)),
  );
  const per = Math.ceil(slices / want);
  return { splits: Math.ceil(slices / per), per };
}

/**
 * The arguments of the bfloat16 matrix-unit kernels (qs_mma_f16, qs_mfma_bf16, qs_wgmma_bf16[_256][_tma]):
 * the weights by address, or as `weights` makes them (the _tma kernels: their tensor map).
 */
function bf16MatmulArgs(
  xb: DevicePtr,
  out: DevicePtr,
  m: number,
  n: number,
  k: number,
  kpad: number,
  per: number,
  weights: (wPtr: DevicePtr) => KernelArg = (wPtr) => ({ ptr: wPtr }),
) {
  return argsFor((wPtr): KernelArg[] => [
    { ptr: xb },
    weights(wPtr),
    { ptr: out },
    { i32: m },
    { i32: n },
    { i32: k },
    { i32: kpad },
    { i32: per },
  ]);
}

export class PathPlanner {
  /**
   * Whether this device runs the int8 matrix-unit path: mma.sync m16n8k32 s8 (CUDA sm_80+), or on AMD
   * CDNA (gfx90a, gfx94x) the int8 MFMA kernel when QS_HIP_MFMA_I8=1 (off until it has run on an AMD GPU).
   */
  readonly hasMmaI8: boolean;
  /**
   * The int8 matrix-unit kernel: qs_mfma_i8 on AMD, and on CUDA when QS_KERNEL_DEFINES has
   * QS_MFMA_I8_EMULATE=1 or 2 (the MFMA kernel with the gfx90a or gfx94x instruction emulated, to check it
   * without an AMD GPU); qs_mma_i8 otherwise.
   */
  private readonly mmaI8Kernel: MmaI8Kernel;
  /**
   * Whether this device runs the bfloat16 matrix-unit path: mma.sync m16n8k16 (CUDA sm_80+) or MFMA
   * 32x32x8 bf16 (AMD CDNA: gfx90a, gfx94x, gfx950; qs_mfma_bf16).
   */
  readonly hasMma: boolean;
  /**
   * The bfloat16 matrix-unit kernel: qs_mfma_bf16 on AMD, and on CUDA when QS_KERNEL_DEFINES has
   * QS_MFMA_EMULATE=1 (the MFMA kernel with the instruction emulated, to check it without an AMD GPU);
   * qs_mma_f16 otherwise.
   */
  private readonly mmaKernel: 'qs_mfma_bf16' | 'qs_mma_f16';

  constructor(
    private readonly kind: 'cuda' | 'hip',
    private readonly device: DeviceInfo,
    private readonly config: GpuSessionConfig,
    private readonly kernels: KernelCache,
    private readonly memory: DeviceMemory,
    /** the runtime's tensor-map encoder, where it has one (CUDA 12+ drivers) */
    private readonly tensorMap2d?: (map: TensorMap2d) => Uint8Array,
  ) {
    const mt = /^sm_(\d+?)(\d)$/.exec(device.arch);
    const smMajor = mt ? Number(mt[1]) : 0;
    this.hasMmaI8 = kind === 'cuda' ? smMajor >= 8 : MFMA_I8_ARCH_RE.test(device.arch) && config.hipMfmaI8;
    this.mmaI8Kernel = kind === 'hip' || config.defines.QS_MFMA_I8_EMULATE ? 'qs_mfma_i8' : 'qs_mma_i8';
    this.hasMma = kind === 'hip' ? MFMA_ARCH_RE.test(device.arch) : smMajor >= 8;
    this.mmaKernel = kind === 'hip' || config.defines.QS_MFMA_EMULATE ? 'qs_mfma_bf16' : 'qs_mma_f16';
  }

  /** The path a choice resolves to for these weights and batch size, or a one-line error why none. */
  resolvePath(w: PlanWeights, m: number, choice: PathChoice): KernelPath {
    if (choice === 'unfused') return 'unfused-f32';
    if (choice === 'auto' && this.config.customKernels.has(w.type)) return 'custom';
    if (choice === 'mma') {
      if (!this.hasMma)
        throw new Error(
          `${w.name}: the matrix-unit path needs ${
            this.kind === 'cuda'
              ? 'sm_80 or newer'
              : `an AMD GPU with MFMA (gfx90a, gfx94x, gfx950), not ${this.device.arch}`
          }`,
        );
      return 'fused-mma-f16';
    }
    const format = gpuFormat(w.type)!;
    const { int8Small, int8Mma } = format;
    if (choice === 'int8') {
      if (!int8Small && !int8Mma)
        throw new Error(
          `${w.name}: int8 activations need quantized weights (${format.name} runs --path f32)`,
        );
      if (m <= 8 && int8Small) return 'fused-small-q8';
      if (m > 8 && this.hasMmaI8 && int8Mma) return 'fused-mma-i8';
      throw new Error(
        m <= 8
          ? `${w.name}: ${format.name} has no int8 kernel for m <= 8 (use --path f32)`
          : !int8Mma
            ? `${w.name}: ${format.name} has no int8 matrix-unit kernel (m > 8 runs --path f32 or mma)`
            : `${w.name}: int8 activations at m > 8 need the int8 matrix-unit path (${this.mmaI8Needs()})`,
      );
    }
    if (choice === 'auto' && (int8Small || int8Mma)) {
      // Hopper: above the format's wgmmaBf16Above (6 to 16, measured) the bfloat16 warpgroup kernels beat
      // the int8 tiles (H200, n = 4096, k = 14336: Q4_0 35.7 against 56.4 us at m = 64, 117.8 against
      // 314.5 at m = 512), and for Q6_K the small-batch kernel from m = 7 (QS_MMA_I8_TILE, an int8 tuning
      // knob, keeps the int8 paths)
      const wgmma =
        m > format.wgmmaBf16Above && !this.config.mmaI8Tile && this.hasWgmmaBf16(this.kernels.module(w.type));
      if (m <= 8 && int8Small && !wgmma) return 'fused-small-q8';
      if (wgmma) return 'fused-mma-f16';
      // AMD: the int8 MFMA kernel only on request (--path int8 with QS_HIP_MFMA_I8=1)
      if (m > 8 && this.hasMmaI8 && int8Mma && this.kind === 'cuda' && m <= format.int8MmaUpTo)
        return 'fused-mma-i8';
      // AMD: MFMA only on request (--path mma) until it has passed the selftest on an AMD GPU
      if (this.hasMma && this.kind === 'cuda') return 'fused-mma-f16';
    }
    if (m <= 8) return 'fused-small-f32';
    return 'fused-tiled-f32';
  }

  /** What the int8 matrix-unit path needs that this device or session lacks (for the error). */
  private mmaI8Needs(): string {
    if (this.kind === 'cuda') return 'sm_80 or newer';
    if (!MFMA_I8_ARCH_RE.test(this.device.arch))
      return `the AMD int8 MFMA kernel is built for gfx90a and gfx94x, not ${this.device.arch}`;
    return 'the AMD int8 MFMA kernel is off until it has run on an AMD GPU; QS_HIP_MFMA_I8=1 turns it on';
  }

  /** The launches of one multiplication on path kp, activations at xPtr, outputs at yPtr. */
  plan(
    w: PlanWeights,
    xPtr: DevicePtr,
    yPtr: DevicePtr,
    m: number,
    kp: KernelPath,
    scratch: DevicePtr[],
  ): Plan {
    const io: PlanIo = { w, xPtr, yPtr, m, scratch };
    switch (kp) {
      case 'custom':
        return this.planCustom(io);
      case 'fused-small-f32':
        return this.planSmallF32(io);
      case 'fused-small-q8':
        return this.planSmallQ8(io);
      case 'fused-mma-i8':
        return this.planMmaI8(io);
      case 'fused-tiled-f32':
        return this.planTiledF32(io);
      case 'fused-mma-f16':
        return this.planMmaF16(io);
      case 'unfused-f32':
        return this.planUnfused(io);
      case 'cpu-f32':
        throw new Error(`${w.name}: ${kp} is not a GPU path`);
    }
  }

  // ---------------------------------------------------------------- one function per path

  /** A user's code object: its own geometry (a run's user kernel), else QS_CUSTOM_GRID / _BLOCK / _SHARED. */
  private planCustom({ w, xPtr, yPtr, m }: PlanIo): Plan {
    const { n, k } = w;
    const c = this.kernels.custom(w.type)!;
    const dims = { m, n, k };
    const own = c.kernel;
    const grid = own.grid
      ? parseGeometry(own.grid, dims, `${own.variable} grid`)
      : parseGeometry(this.config.customGrid, dims, 'QS_CUSTOM_GRID');
    const block = own.block
      ? parseGeometry(own.block, dims, `${own.variable} block`)
      : parseGeometry(this.config.customBlock, dims, 'QS_CUSTOM_BLOCK');
    const sharedSpec = own.shared ?? this.config.customShared ?? '0';
    const shared = Number(sharedSpec);
    if (!Number.isInteger(shared) || shared < 0)
      throw new Error(
        `${own.shared !== undefined ? `${own.variable} shared` : 'QS_CUSTOM_SHARED'} must be a byte count, got '${sharedSpec}'`,
      );
    const args = argsFor((wPtr): KernelArg[] => [
      { ptr: xPtr },
      { ptr: wPtr },
      { ptr: yPtr },
      { i32: m },
      { i32: n },
      { i32: k },
    ]);
    return {
      launches: [{ fn: c.fn, grid, block, shared, args }],
      detail: `${c.fn.name} from ${customKernelLabel(own)}, grid ${grid.join('x')}, block ${block.join('x')}, shared ${shared}`,
    };
  }

  /** Float32 activations, m <= 8: each weight block read once for all m rows. */
  private planSmallF32({ w, xPtr, yPtr, m }: PlanIo): Plan {
    const { n, k } = w;
    const entry = this.kernels.module(w.type);
    const block: [number, number, number] = [this.config.tuning.smallWarps * this.device.warpSize, 1, 1];
    // one launch for m <= 8 (larger m, if ever routed here, as launches of 8 rows, weights read per launch)
    const launches: Launch[] = [];
    for (let r0 = 0; r0 < m; r0 += 8) {
      const mb = Math.min(8, m - r0);
      const xp = ptrAdd(xPtr, r0 * k * 4);
      const yp = ptrAdd(yPtr, r0 * n * 4);
      launches.push({
        fn: this.kernels.fn(entry, `qs_small_m${mb}`),
        grid: [Math.ceil(n / this.smallRowsFor(mb)), 1, 1],
        block,
        shared: 0,
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
      launches,
      detail:
        `${launches.map((l) => l.fn.name).join(' + ')} grid ${launches[0].grid[0]} block ${block[0]}` +
        `${launches.length > 1 ? ` (${launches.length} launches of <= 8 rows)` : ''} (${entry.origin})`,
    };
  }

  /** Int8 activations (quantized per 32, like llama.cpp), m <= 8, dp4a. */
  private planSmallQ8(io: PlanIo): Plan {
    const { w, yPtr, m } = io;
    const { n, k } = w;
    const entry = this.kernels.module(w.type);
    const fn = this.kernels.fn(entry, `qs_q8_m${m}`);
    const q = this.quantizeActivations(entry, io);
    const { rows, threads, split, splitAlign } = this.q8Geometry(entry, w.type, m);
    const grid: [number, number, number] = [Math.ceil(n / rows), 1, 1];
    // the kernel of this m reads split rows: the plan names the copy and how it is made
    const copy: WeightCopy | undefined = split
      ? {
          make: {
            fn: this.kernels.fn(entry, 'qs_q8_split'),
            grid: clampGrid(n * (k / typeInfo(w.type)!.blockElems), this.device.computeUnits),
            block: [EW_THREADS, 1, 1],
            shared: 0,
          },
          bytes: splitRowsBytes(n, rowBytes(w.type, k), splitAlign),
          label: `${w.name}: split-row copy of the weights (int8 small kernel)`,
        }
      : undefined;
    const args = argsFor((wPtr): KernelArg[] => [
      { ptr: q.xq },
      { ptr: q.xd },
      { ptr: wPtr },
      { ptr: yPtr },
      { i32: n },
      { i32: k },
    ]);
    return {
      // the matmul starts while qs_x_q8 runs (CUDA sm_90+): its weight loads begin at once
      launches: [q.launch, { fn, grid, block: [threads, 1, 1], shared: 0, args, options: OVERLAP }],
      detail: `qs_x_q8 + qs_q8_m${m} (int8 activations per 32, dp4a${split ? '; split rows' : ''}) grid ${grid[0]} block ${threads} (${entry.origin})`,
      copy,
    };
  }

  /** Int8 activations on the int8 matrix units, m > 8 (CUDA sm_80+; AMD gfx90a, gfx94x on request). */
  private planMmaI8(io: PlanIo): Plan {
    const { w, m } = io;
    const { n, k } = w;
    const entry = this.kernels.module(w.type);
    const kernel = this.mmaI8KernelFor(w.type, m, entry);
    const fn = this.kernels.fn(entry, kernel);
    const g = this.kernels.tileGeometry(entry, kernel);
    const q = this.quantizeActivations(entry, io);
    const gx = Math.ceil(n / g.bn);
    const gy = Math.ceil(m / g.bm);
    // blocks per SM as the kernel was built for: a hard limit, so the split count rounds down
    const { splits, per } = splitKPolicy(
      gx * gy,
      Math.ceil(k / g.kt),
      this.device.computeUnits * g.minBlocks,
      false,
    );
    const sk = this.splitKOutput(entry, io, splits);
    const grid: [number, number, number] = [gx, gy, splits];
    const args = argsFor((wPtr): KernelArg[] => [
      { ptr: q.xq },
      { ptr: q.xd },
      { ptr: wPtr },
      { ptr: sk.out },
      { i32: m },
      { i32: n },
      { i32: k },
      { i32: per },
    ]);
    // the MFMA forms: 16x16x16 on gfx90a, 16x16x32 on gfx94x (QS_MFMA_I8_EMULATE=1 / 2 on CUDA)
    const mfmaK =
      this.kind === 'hip'
        ? /^gfx90a/.test(this.device.arch)
          ? 16
          : 32
        : this.config.defines.QS_MFMA_I8_EMULATE === 2
          ? 32
          : 16;
    const unit =
      kernel === 'qs_mfma_i8'
        ? `MFMA 16x16x${mfmaK} i8${this.kind === 'cuda' ? ' emulated on CUDA' : ''}`
        : kernel === 'qs_wgmma_i8'
          ? `wgmma m64n128k32 s8, ${g.bm}x${g.bn} tiles`
          : `mma.sync m16n8k32 s8, ${g.bm}x${g.bn} tiles`;
    return {
      launches: [q.launch, { fn, grid, block: [g.threads, 1, 1], shared: g.shared, args }, ...sk.sum],
      detail:
        `qs_x_q8 + ${kernel} (${unit}, int8 activations per 32) grid ${gx}x${gy}x${splits} block ${g.threads} ` +
        `shared ${g.shared}${sk.sum.length ? ' + qs_splitk_sum' : ''} (${entry.origin})`,
    };
  }

  /**
   * The int8 matrix-unit kernel for m rows. CUDA: by the shortest of 16, 32 and 64 rows that holds m,
   * the format's tile (int8MmaTiles) or the default 16x256 / 32x256 / 64x128; above 64 the 128 x 128
   * tile; QS_MMA_I8_TILE forces one ('wgmma': Hopper's warpgroup kernel qs_wgmma_i8, where the module has
   * it; slower than the 128 x 128 tile today, docs/design.md). A 128-row tile at m = 16 has half its
   * warps decode weights for rows that do not exist, and each decoded fragment feeds one matrix
   * operation of four; the short tiles put the warps along n. (H200, n = 4096, k = 14336, hot, Q4_0:
   * 27.5 us at m = 16 on 16x256 against 45.6 on 128x128; 55.4 against 64.8 at m = 64 on 64x128.)
   */
  private mmaI8KernelFor(type: number, m: number, entry: ModuleEntry): MmaI8Kernel {
    if (this.mmaI8Kernel !== 'qs_mma_i8') return this.mmaI8Kernel;
    const own = gpuFormat(type)?.int8MmaTiles ?? {};
    const forced = this.config.mmaI8Tile;
    if (forced === 'wgmma' && !this.kernels.has(entry, 'qs_wgmma_i8'))
      throw new Error(
        `QS_MMA_I8_TILE=wgmma: this ${typeName(type)} module has no qs_wgmma_i8 (it needs sm_90a and a format with one scale per 32 elements)`,
      );
    const tile: Int8MmaTile =
      forced ??
      (m <= 16
        ? (own[16] ?? '16x256')
        : m <= 32
          ? (own[32] ?? '32x256')
          : m <= 64
            ? (own[64] ?? '64x128')
            : '128x128');
    return tile === 'wgmma' ? 'qs_wgmma_i8' : tile === '128x128' ? 'qs_mma_i8' : `qs_mma_i8_${tile}`;
  }

  /** Float32 activations, m > 8: shared-memory tiles, float32 FMA. */
  private planTiledF32({ w, xPtr, yPtr, m }: PlanIo): Plan {
    const { n, k } = w;
    const entry = this.kernels.module(w.type);
    const fn = this.kernels.fn(entry, 'qs_tiled_f32');
    const grid = tiledGrid(m, n);
    const args = argsFor((wPtr): KernelArg[] => [
      { ptr: xPtr },
      { ptr: wPtr },
      { ptr: yPtr },
      { i32: m },
      { i32: n },
      { i32: k },
    ]);
    return {
      launches: [{ fn, grid, block: [256, 1, 1], shared: 0, args }],
      detail: `qs_tiled_f32 grid ${grid[0]}x${grid[1]} block 256 (${entry.origin})`,
    };
  }

  /** Bfloat16 activations and weights on the matrix units, float32 accumulation. */
  private planMmaF16(io: PlanIo): Plan {
    const { w, xPtr, m, scratch } = io;
    const { n, k } = w;
    const entry = this.kernels.module(w.type);
    if (this.hasWgmmaBf16(entry)) return this.planWgmmaBf16(io, entry);
    const conv = this.kernels.fn(entry, 'qs_x_bf16');
    const kernel = this.mmaKernel;
    const fn = this.kernels.fn(entry, kernel);
    const kpad = Math.ceil(k / MMA_KSTEP) * MMA_KSTEP;
    const xb = this.memory.alloc(m * kpad * 2 + WEIGHT_PAD, `${w.name}: bfloat16 activations`);
    scratch.push(xb);
    const cgrid = clampGrid((m * kpad) / 2, this.device.computeUnits);
    // about two blocks per SM (a 4096-row tensor has only 32 column tiles), to the nearest split
    const gx = Math.ceil(n / MMA_BN);
    const gy = Math.ceil(m / MMA_BM);
    const { splits, per } = splitKPolicy(gx * gy, kpad / MMA_KSTEP, 2 * this.device.computeUnits, true);
    const grid: [number, number, number] = [gx, gy, splits];
    const sk = this.splitKOutput(entry, io, splits);
    const args = bf16MatmulArgs(xb, sk.out, m, n, k, kpad, per);
    const convArgs: KernelArg[] = [{ ptr: xPtr }, { ptr: xb }, { i32: m }, { i32: k }, { i32: kpad }];
    const unit =
      kernel === 'qs_mma_f16'
        ? 'mma.sync m16n8k16'
        : this.kind === 'hip'
          ? 'MFMA 32x32x8'
          : 'MFMA 32x32x8 emulated on CUDA';
    return {
      launches: [
        { fn: conv, grid: cgrid, block: [EW_THREADS, 1, 1], shared: 0, args: fixedArgs(convArgs) },
        { fn, grid, block: [MMA_THREADS, 1, 1], shared: 0, args },
        ...sk.sum,
      ],
      detail:
        `qs_x_bf16 + ${kernel} (${unit} bf16, f32 accumulate) grid ${gx}x${gy}x${splits} block ${MMA_THREADS}` +
        `${sk.sum.length ? ' + qs_splitk_sum' : ''} (${entry.origin})`,
    };
  }

  /**
   * Whether the bfloat16 path runs on Hopper's warpgroup kernel: CUDA with the mma.sync kernel as the
   * alternative (not the MFMA emulation) and a module that has qs_wgmma_bf16 (built for sm_90a, and not
   * left out with QS_KERNEL_DEFINES=QS_WGMMA_BF16=0).
   */
  private hasWgmmaBf16(entry: ModuleEntry): boolean {
    return (
      this.kind === 'cuda' && this.mmaKernel === 'qs_mma_f16' && this.kernels.has(entry, 'qs_wgmma_bf16')
    );
  }

  /**
   * The bfloat16 path on Hopper's warpgroup matrix units: the activations to bfloat16 in the kernel's k
   * order (qs_x_bf16w), then qs_wgmma_bf16 (its tile and k-slice from qs_wgmma_bf16_geometry; split-K
   * while the tiles alone would leave SMs idle). The same declared arithmetic as qs_mma_f16.
   */
  private planWgmmaBf16(io: PlanIo, entry: ModuleEntry): Plan {
    const { w, xPtr, m, scratch } = io;
    const { n, k } = w;
    // above 128 rows the 256-row tile: each weight decoded once per 256 activation rows (H200, n = 4096,
    // k = 14336, Q4_0: 170.6 against 237.6 us at m = 512 on the 128-row tile)
    const base = m > 128 ? 'qs_wgmma_bf16_256' : 'qs_wgmma_bf16';
    // the weights by one tensor copy per slice where the driver makes tensor maps and the rows are a
    // multiple of 16 bytes (its stride rule); else by one bulk copy per weight row. The tensor-copy
    // kernels have 64- and 32-row tiles besides: the matrix unit's work per weight tile follows the
    // tile's height, so the shortest that holds m
    const rb = rowBytes(w.type, k);
    const tmaKernel = (
      m > 128
        ? 'qs_wgmma_bf16_256_tma'
        : m > 64
          ? 'qs_wgmma_bf16_tma'
          : m > 32
            ? 'qs_wgmma_bf16_64_tma'
            : 'qs_wgmma_bf16_32_tma'
    ) satisfies TileKernel;
    const tma = !!this.tensorMap2d && rb % 16 === 0 && this.kernels.has(entry, tmaKernel);
    const kernel: TileKernel = tma ? tmaKernel : base;
    const g = this.kernels.tileGeometry(entry, kernel);
    const kpad = Math.ceil(k / g.kt) * g.kt;
    // the activations in the kernel's slice order, whole tiles of g.bm rows
    const mpad = Math.ceil(m / g.bm) * g.bm;
    const xb = this.memory.alloc(mpad * kpad * 2 + WEIGHT_PAD, `${w.name}: bfloat16 activations`);
    scratch.push(xb);
    const gx = Math.ceil(n / g.bn);
    const gy = Math.ceil(m / g.bm);
    const { splits, per } = splitKPolicy(gx * gy, kpad / g.kt, this.device.computeUnits * g.minBlocks, false);
    // a launch chain (programmatic dependent launch, as the quantizer hand-over): each kernel may start
    // while the one before it runs, and waits for its results itself
    const chain = this.config.overlapQuantizer ? OVERLAP : undefined;
    const sk = this.splitKOutput(entry, io, splits, !!chain);
    const encode = this.tensorMap2d;
    const args = tma
      ? bf16MatmulArgs(xb, sk.out, m, n, k, kpad, per, (wPtr) => ({
          bytes: encode!({ ptr: wPtr, rows: n, rowBytes: rb, boxRows: g.bn, boxBytes: g.boxBytes! }),
        }))
      : bf16MatmulArgs(xb, sk.out, m, n, k, kpad, per);
    const convArgs: KernelArg[] = [
      { ptr: xPtr },
      { ptr: xb },
      { i32: m },
      { i32: k },
      { i32: kpad },
      { i32: g.bm },
    ];
    return {
      launches: [
        {
          fn: this.kernels.fn(entry, 'qs_x_bf16w'),
          grid: clampGrid((mpad * kpad) / 32, this.device.computeUnits),
          block: [EW_THREADS, 1, 1],
          shared: 0,
          args: fixedArgs(convArgs),
          options: chain,
        },
        {
          fn: this.kernels.fn(entry, kernel),
          grid: [gx, gy, splits],
          block: [g.threads, 1, 1],
          shared: g.shared,
          args,
          options: chain,
        },
        ...sk.sum,
      ],
      detail:
        `qs_x_bf16w + ${kernel} (wgmma m64n${g.bm}k16 bf16, f32 accumulate, ${g.bm}x${g.bn} tiles, ` +
        `${tma ? 'weights by tensor copies' : 'weights by row copies'}) grid ${gx}x${gy}x${splits} ` +
        `block ${g.threads} shared ${g.shared}${sk.sum.length ? ' + qs_splitk_sum' : ''} (${entry.origin})`,
    };
  }

  /** The unfused baseline: dequantize into a float32 [n][k] buffer, then the float32 matmul on it. */
  private planUnfused({ w, xPtr, yPtr, m, scratch }: PlanIo): Plan {
    const { n, k } = w;
    const deq = this.kernels.fn(this.kernels.module(w.type), 'qs_dequant');
    const f32 = this.kernels.module(0);
    const wf = this.memory.alloc(n * k * 4 + WEIGHT_PAD, `${w.name}: unfused float32 weight buffer`);
    scratch.push(wf);
    const dgrid = clampGrid(n * Math.ceil(k / 8), this.device.computeUnits, 32);
    const mm: Launch =
      m <= 8
        ? {
            fn: this.kernels.fn(f32, `qs_small_m${m}`),
            grid: [Math.ceil(n / this.smallRowsFor(m)), 1, 1],
            block: [this.config.tuning.smallWarps * this.device.warpSize, 1, 1],
            shared: 0,
            args: fixedArgs([{ ptr: xPtr }, { ptr: wf }, { ptr: yPtr }, { i32: n }, { i32: k }]),
          }
        : {
            fn: this.kernels.fn(f32, 'qs_tiled_f32'),
            grid: tiledGrid(m, n),
            block: [256, 1, 1],
            shared: 0,
            args: fixedArgs([{ ptr: xPtr }, { ptr: wf }, { ptr: yPtr }, { i32: m }, { i32: n }, { i32: k }]),
          };
    const dargs = argsFor((wPtr): KernelArg[] => [{ ptr: wPtr }, { ptr: wf }, { i32: n }, { i32: k }]);
    return {
      launches: [{ fn: deq, grid: dgrid, block: [EW_THREADS, 1, 1], shared: 0, args: dargs }, mm],
      detail: `qs_dequant grid ${dgrid[0]} + f32 ${mm.fn.name} grid ${mm.grid.slice(0, 2).join('x')}`,
    };
  }

  // ---------------------------------------------------------------- shared pieces

  /**
   * Scratch for x quantized per 32 (qs_q8.h: int8 [m][k] and (d, sum) float2 [m][k/32]) and the
   * qs_x_q8 launch that fills it.
   */
  private quantizeActivations(
    entry: ModuleEntry,
    { w, xPtr, m, scratch }: PlanIo,
  ): { xq: DevicePtr; xd: DevicePtr; launch: Launch } {
    const k = w.k;
    const conv = this.kernels.fn(entry, 'qs_x_q8');
    const xq = this.memory.alloc(m * k + WEIGHT_PAD, `${w.name}: int8 activations`);
    scratch.push(xq);
    const xd = this.memory.alloc(m * (k / 32) * 8 + WEIGHT_PAD, `${w.name}: activation scales`);
    scratch.push(xd);
    const args: KernelArg[] = [{ ptr: xPtr }, { ptr: xq }, { ptr: xd }, { i32: m }, { i32: k }];
    return {
      xq,
      xd,
      // qs_x_q8 may start while the previous kernel runs, so it is resident and the matmul after it
      // launched by the time the previous matmul ends
      launch: {
        fn: conv,
        grid: clampGrid((m * k) / 4, this.device.computeUnits),
        block: [EW_THREADS, 1, 1],
        shared: 0,
        args: fixedArgs(args),
        options: this.config.overlapQuantizer ? OVERLAP : undefined,
      },
    };
  }

  /**
   * Split-K output of the matrix-unit kernels: with splits > 1 they write partial sums to a scratch
   * buffer and qs_splitk_sum adds them into y; with one split they write y directly. `overlap`: the sum
   * may start while the matmul runs (qs_splitk_sum waits for the partial sums).
   */
  private splitKOutput(
    entry: ModuleEntry,
    { w, yPtr, m, scratch }: PlanIo,
    splits: number,
    overlap = false,
  ): { out: DevicePtr; sum: Launch[] } {
    if (splits <= 1) return { out: yPtr, sum: [] };
    const count = m * w.n;
    const out = this.memory.alloc(splits * count * 4 + WEIGHT_PAD, `${w.name}: split-K partial sums`);
    scratch.push(out);
    const fn = this.kernels.fn(entry, 'qs_splitk_sum');
    const args: KernelArg[] = [{ ptr: out }, { ptr: yPtr }, { u64: count }, { i32: splits }];
    return {
      out,
      sum: [
        {
          fn,
          grid: clampGrid(count, this.device.computeUnits),
          block: [EW_THREADS, 1, 1],
          shared: 0,
          args: fixedArgs(args),
          options: overlap ? OVERLAP : undefined,
        },
      ],
    };
  }

  /** weight rows per block and threads per block of the int8 small kernel, as the module was compiled */
  private q8Geometry(
    entry: ModuleEntry,
    type: number,
    m: number,
  ): { rows: number; threads: number; split: boolean; splitAlign: number } {
    const t = this.kernels.q8Geometry(entry, type);
    return {
      rows: t.rows[m - 1],
      threads: t.warps[m - 1] * this.device.warpSize,
      split: t.split[m - 1],
      splitAlign: t.splitAlign,
    };
  }

  /** weight rows per block of the small kernel for batch size m (QS_RROWS in qs_kernels.h) */
  private smallRowsFor(m: number): number {
    const t = this.config.tuning;
    return m <= t.smallMSplit ? t.smallRows : t.smallRowsBig;
  }
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

interface PlanIo {
  w: PlanWeights;
  xPtr: DevicePtr;
  yPtr: DevicePtr;
  m: number;
  scratch: DevicePtr[];
}

/** 64 x 64 output tiles of qs_tiled_f32 */
function tiledGrid(m: number, n: number): [number, number, number] {
  return [Math.ceil(n / 64), Math.ceil(m / 64), 1];
}
