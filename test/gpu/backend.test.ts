// The generic GPU backend's rules, checked on any machine through a scripted fake runtime: errors name
// the tensor, nothing falls back to the CPU, device memory is freed after errors, status never throws.
import { describe, it, expect } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createGpuBackend,
  customKernelSymbol,
  customKernelVar,
  parseGeometry,
  prebuiltIsCurrent,
} from '../../src-main/engine/backends/gpu/backend';
import { KERNEL_HEADERS, kernelSourceFor } from '../../src-main/engine/backends/gpu/kernel-sources';
import {
  GpuError,
  GpuUnavailableError,
  type DevicePtr,
  type KernelArg,
  type TensorMap2d,
  type GpuRuntime,
} from '../../src-main/engine/backends/gpu/runtime';
import { readSessionConfig } from '../../src-main/engine/backends/gpu/config';
import { PathPlanner } from '../../src-main/engine/backends/gpu/planner';
import type { KernelCache } from '../../src-main/engine/backends/gpu/kernel-cache';
import type { DeviceMemory } from '../../src-main/engine/backends/gpu/memory';
import { cudaBackend } from '../../src-main/engine/backends/cuda';
import type { DeviceInfo } from '../../src-main/engine/backends/types';
import { GgmlType, rowBytes } from '../../src-main/engine/ggml-types';

interface FakeOpts {
  free?: number;
  compileError?: string;
  launchError?: boolean;
  /** the next launches of the matmul fail as a kernel that wrote out of bounds does: the context is lost */
  lostLaunches?: number;
  /** entry points the module lacks (as a build without sm_90a lacks qs_wgmma_i8) */
  missing?: string[];
  /** the runtime makes tensor maps (a CUDA 12+ driver): each is 128 bytes, the first one counting the calls */
  tensorMaps?: boolean;
  /** the batch sizes (1..8) whose small kernel reads split rows, as qs_q8_geometry reports them */
  splitM?: number[];
}

class FakeRuntime implements GpuRuntime {
  readonly kind = 'cuda' as const;
  live = new Map<bigint, number>();
  launches: string[] = [];
  /** the target of every compile, and QS_WGMMA_I8 where it was defined */
  archs: string[] = [];
  next = 0x1000n;
  /** every tensor map asked for, and the argument lists of every launch */
  maps: TensorMap2d[] = [];
  args: KernelArg[][] = [];
  readonly tensorMap2d?: (t: TensorMap2d) => Uint8Array;
  constructor(private o: FakeOpts = {}) {
    if (o.tensorMaps)
      this.tensorMap2d = (t) => {
        this.maps.push(t);
        const b = new Uint8Array(128).fill(0xab);
        b[0] = this.maps.length;
        return b;
      };
  }
  deviceCount() {
    return 1;
  }
  deviceInfo(index: number): DeviceInfo {
    return {
      backend: 'cuda',
      index,
      name: 'Fake GPU',
      arch: 'sm_90',
      memoryTotal: 1 << 30,
      memoryFree: 0,
      computeUnits: 4,
      warpSize: 32,
      peakBandwidthGBs: 100,
      copyBandwidthGBs: null,
      peakTflops: null,
      details: { l2CacheBytes: String(1 << 20) },
    };
  }
  useDevice() {}
  memGetInfo() {
    const used = [...this.live.values()].reduce((a, b) => a + b, 0);
    return { free: (this.o.free ?? 1 << 30) - used, total: 1 << 30 };
  }
  /** the size of every allocation, in order */
  sizes: number[] = [];
  malloc(bytes: number): DevicePtr {
    this.sizes.push(bytes);
    const p = this.next;
    this.next += BigInt(bytes + 4096);
    this.live.set(p, bytes);
    return p as DevicePtr;
  }
  free(ptr: DevicePtr) {
    this.live.delete(ptr as bigint);
  }
  copyToDevice() {}
  copyFromDevice(dst: ArrayBufferView) {
    // what qs_mma_i8[_<rows>x<cols>]_geometry writes: shared bytes, blocks per SM, BM, BN, k-slice, threads
    const i8 = /^qs_mma_i8(?:_(\d+)x(\d+))?_geometry$/.exec(this.launches.at(-1) ?? '');
    if (i8 && dst instanceof Int32Array)
      dst.set([65536, 2, Number(i8[1] ?? 128), Number(i8[2] ?? 128), 128, 256]);
    // qs_mfma_i8_geometry (the AMD int8 kernel, emulated on CUDA): one block per CU
    if (this.launches.at(-1) === 'qs_mfma_i8_geometry' && dst instanceof Int32Array)
      dst.set([37888, 1, 128, 128, 128, 256]);
    if (this.launches.at(-1) === 'qs_wgmma_i8_geometry' && dst instanceof Int32Array)
      dst.set([157696, 1, 128, 128, 128, 256]);
    if (this.launches.at(-1) === 'qs_wgmma_bf16_geometry' && dst instanceof Int32Array)
      dst.set([176128, 1, 128, 128, 128, 256]);
    if (this.launches.at(-1) === 'qs_wgmma_bf16_256_geometry' && dst instanceof Int32Array)
      dst.set([187456, 1, 256, 128, 128, 256]);
    // the tensor-copy kernels add the box width (Q4_0: 72 bytes per slice + up to 14 of misalignment)
    if (this.launches.at(-1) === 'qs_wgmma_bf16_tma_geometry' && dst instanceof Int32Array)
      dst.set([180544, 1, 128, 256, 128, 256, 96]);
    if (this.launches.at(-1) === 'qs_wgmma_bf16_256_tma_geometry' && dst instanceof Int32Array)
      dst.set([187456, 1, 256, 128, 128, 256, 96]);
    const short = /^qs_wgmma_bf16_(64|32)_tma_geometry$/.exec(this.launches.at(-1) ?? '');
    if (short && dst instanceof Int32Array) dst.set([196800, 1, Number(short[1]), 256, 128, 256, 96]);
    // what qs_q8_geometry writes for a Q4_0 module: the type id, rows, warps and split flags per block for
    // m = 1..8, the split rows' alignment
    if (this.launches.at(-1) === 'qs_q8_geometry' && dst instanceof Int32Array)
      dst.set([
        GgmlType.Q4_0,
        ...[2, 8, 8, 8, 8, 8, 8, 8],
        ...[8, 2, 2, 2, 2, 2, 2, 2],
        ...[1, 2, 3, 4, 5, 6, 7, 8].map((m) => (this.o.splitM?.includes(m) ? 1 : 0)),
        16,
      ]);
  }
  copyDeviceToDevice() {}
  memset8() {}
  compile(_src: string, _file: string, opts: { arch: string; defines?: Record<string, number> }): Uint8Array {
    this.archs.push(opts.arch + (opts.defines?.QS_WGMMA_I8 ? ' QS_WGMMA_I8' : ''));
    if (this.o.compileError) throw new GpuError('nvrtcCompileProgram(q4_0.cu)', 6, this.o.compileError);
    return new Uint8Array([1, 2, 3]);
  }
  compilerVersion() {
    return 'fake 1.0';
  }
  loadModule(_image: Uint8Array, source: string) {
    return { source };
  }
  getFunction(_m: unknown, name: string) {
    if (this.o.missing?.includes(name))
      throw new GpuError('cuModuleGetFunction', 500, 'CUDA_ERROR_NOT_FOUND');
    return { name };
  }
  resets = 0;
  resetAfterFault() {
    this.resets++;
    this.live.clear(); // the reset frees everything the context held
  }
  launch(fn: { name: string }, _g?: unknown, _b?: unknown, _s?: unknown, args: KernelArg[] = []) {
    if (this.o.lostLaunches && !fn.name.includes('geometry') && !fn.name.includes('quantize')) {
      this.o.lostLaunches--;
      throw new GpuError(`cuLaunchKernel(${fn.name})`, 700, 'CUDA_ERROR_ILLEGAL_ADDRESS', true);
    }
    if (this.o.launchError)
      throw new GpuError(`cuLaunchKernel(${fn.name})`, 700, 'CUDA_ERROR_ILLEGAL_ADDRESS');
    this.launches.push(fn.name);
    this.args.push(args);
  }
  eventCreate() {
    return {};
  }
  eventRecord() {}
  eventElapsedMs() {
    return 0.01;
  }
  eventDestroy() {}
  synchronize() {}
  dispose() {}
}

const K = 64;
const N = 3;
const w = {
  type: GgmlType.Q4_0,
  n: N,
  k: K,
  data: new Uint8Array(rowBytes(GgmlType.Q4_0, K) * N),
  name: 'blk.0.ffn_down',
};

function backendWith(rt: FakeRuntime) {
  return createGpuBackend('cuda', () => rt, { cacheDir: null, prebuiltDir: null });
}

describe('generic GPU backend', () => {
  it('KERNEL_HEADERS holds every header of kernels/ (build-kernels hashes them all for the manifest)', () => {
    const dir = path.join(path.dirname(new URL(import.meta.url).pathname), '../../kernels');
    const onDisk = fs.readdirSync(dir).filter((f) => /\.(h|hpp|cuh|inc)$/.test(f)); // HEADER_EXT of build-kernels
    expect(Object.keys(KERNEL_HEADERS).sort()).toEqual(onDisk.sort());
    for (const f of onDisk) expect(KERNEL_HEADERS[f]).toBe(fs.readFileSync(path.join(dir, f), 'utf8'));
  });

  it('status() reports a missing library as unavailable with the reason, never throws', async () => {
    const b = createGpuBackend('cuda', () => {
      throw new GpuUnavailableError('CUDA driver library not found (libcuda.so.1)');
    });
    const st = await b.status();
    expect(st.available).toBe(false);
    expect(st.reason).toContain('libcuda.so.1');
    await expect(b.open(0)).rejects.toThrow(/cuda unavailable: CUDA driver library not found/);
  });

  it('the real cuda backend status never throws', async () => {
    const st = await cudaBackend.status();
    expect(st.backend).toBe('cuda');
    if (!st.available) {
      console.log(`cuda unavailable here: ${st.reason}`);
      expect(st.reason).toBeTruthy();
    } else expect(st.devices.length).toBeGreaterThan(0);
  });

  it('picks the kernel path by batch size and launches the matching kernels', async () => {
    const rt = new FakeRuntime();
    const s = await backendWith(rt).open(0);
    const lw = await s.load(w);
    // quantized weights: int8 activations at m <= 8 (like llama.cpp), the exact float32 kernel on request
    // the int8 small kernel's launch geometry comes from the module (qs_q8_geometry), read once
    expect((await s.run(lw, new Float32Array(K), 1)).path).toBe('fused-small-q8');
    expect(rt.launches.slice(-3)).toEqual(['qs_q8_geometry', 'qs_x_q8', 'qs_q8_m1']);
    expect((await s.run(lw, new Float32Array(5 * K), 5, { path: 'int8' })).path).toBe('fused-small-q8');
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_q8_m5']);
    expect((await s.run(lw, new Float32Array(K), 1, { path: 'f32' })).path).toBe('fused-small-f32');
    expect(rt.launches.at(-1)).toBe('qs_small_m1');
    // m > 8: the int8 matrix-unit path; its launch facts come from the module (qs_mma_i8_geometry)
    // the tile height is the smallest of 16, 32, 64 that holds m, else 128
    const r19 = await s.run(lw, new Float32Array(19 * K), 19, { path: 'int8' });
    expect(r19.path).toBe('fused-mma-i8');
    expect(r19.detail).toMatch(/qs_mma_i8_32x256 \(mma\.sync m16n8k32 s8, 32x256 tiles/);
    expect(rt.launches.slice(-3)).toEqual(['qs_mma_i8_32x256_geometry', 'qs_x_q8', 'qs_mma_i8_32x256']);
    const i8 = await s.run(lw, new Float32Array(100 * K), 100, { path: 'int8' });
    expect(i8.path).toBe('fused-mma-i8');
    expect(i8.detail).toMatch(/128x128 tiles.* grid 1x1x1 block 256 shared 65536 \(/); // k=64: one slice, no split-K
    expect(rt.launches.slice(-3)).toEqual(['qs_mma_i8_geometry', 'qs_x_q8', 'qs_mma_i8']);
    await s.run(lw, new Float32Array(120 * K), 120, { path: 'int8' });
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8']); // geometry read once per kernel
    // auto above the format's wgmmaBf16Above on an sm_90 device: the bfloat16 warpgroup kernels (their own
    // arithmetic, declared by the path), the 128-row tile up to m = 128 and the 256-row one above
    const r120 = await s.run(lw, new Float32Array(120 * K), 120);
    expect(r120.path).toBe('fused-mma-f16');
    expect(r120.detail).toMatch(
      /qs_x_bf16w \+ qs_wgmma_bf16 \(wgmma m64n128k16 bf16, f32 accumulate, 128x128 tiles, weights by row copies\)/,
    );
    expect(rt.launches.slice(-3)).toEqual(['qs_wgmma_bf16_geometry', 'qs_x_bf16w', 'qs_wgmma_bf16']);
    const r300 = await s.run(lw, new Float32Array(300 * K), 300);
    expect(r300.path).toBe('fused-mma-f16');
    expect(r300.detail).toMatch(
      /qs_wgmma_bf16_256 \(wgmma m64n256k16 bf16, f32 accumulate, 256x128 tiles, weights by row copies\) grid 1x2x1 /,
    );
    expect(rt.launches.slice(-3)).toEqual(['qs_wgmma_bf16_256_geometry', 'qs_x_bf16w', 'qs_wgmma_bf16_256']);
    // auto on Hopper: int8 up to the format's wgmmaBf16Above (Q4_0: 16), the bfloat16 warpgroup kernel above
    expect((await s.run(lw, new Float32Array(16 * K), 16)).path).toBe('fused-mma-i8');
    expect(rt.launches.slice(-3)).toEqual(['qs_mma_i8_16x256_geometry', 'qs_x_q8', 'qs_mma_i8_16x256']);
    expect((await s.run(lw, new Float32Array(17 * K), 17)).path).toBe('fused-mma-f16');
    expect(rt.launches.slice(-2)).toEqual(['qs_x_bf16w', 'qs_wgmma_bf16']);
    expect((await s.run(lw, new Float32Array(64 * K), 64, { path: 'int8' })).path).toBe('fused-mma-i8');
    expect(rt.launches.slice(-3)).toEqual(['qs_mma_i8_64x128_geometry', 'qs_x_q8', 'qs_mma_i8_64x128']);
    // a format's own tile choice (Q8_0: 64x256 up to m = 64) and threshold (on Hopper the bfloat16
    // warpgroup kernels from m = 9 for Q8_0, from m = 7 for Q6_K, in place of its small-batch kernel too;
    // Q6_K elsewhere: int8 up to m = 64, bfloat16 tiles above)
    const q8 = await s.load({
      ...w,
      type: GgmlType.Q8_0,
      data: new Uint8Array(rowBytes(GgmlType.Q8_0, K) * N),
    });
    await s.run(q8, new Float32Array(40 * K), 40, { path: 'int8' });
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8_64x256']);
    await s.run(q8, new Float32Array(24 * K), 24, { path: 'int8' });
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8_32x256']);
    expect((await s.run(q8, new Float32Array(9 * K), 9)).path).toBe('fused-mma-f16');
    q8.dispose();
    const q6k = await s.load({
      ...w,
      type: GgmlType.Q6_K,
      k: 256,
      data: new Uint8Array(rowBytes(GgmlType.Q6_K, 256) * N),
    });
    expect((await s.run(q6k, new Float32Array(64 * 256), 64, { path: 'int8' })).path).toBe('fused-mma-i8');
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8_64x256']);
    expect((await s.run(q6k, new Float32Array(9 * 256), 9)).path).toBe('fused-mma-f16');
    for (const m of [7, 8]) {
      expect((await s.run(q6k, new Float32Array(m * 256), m)).path).toBe('fused-mma-f16');
      expect(rt.launches.at(-1)).toMatch(/^qs_wgmma_bf16/);
    }
    // up to m = 6, and with --path int8, Q6_K's small-batch kernel (the session's planner asked directly:
    // the fake module's qs_q8_geometry describes Q4_0)
    const planner = (s as unknown as { planner: PathPlanner }).planner;
    const q6 = { name: 'q6', type: GgmlType.Q6_K, n: N, k: 256 };
    expect(planner.resolvePath(q6, 5, 'auto')).toBe('fused-small-q8');
    expect(planner.resolvePath(q6, 6, 'auto')).toBe('fused-small-q8');
    expect(planner.resolvePath(q6, 7, 'int8')).toBe('fused-small-q8');
    expect(planner.resolvePath(q6, 7, 'auto')).toBe('fused-mma-f16');
    q6k.dispose();
    expect((await s.run(lw, new Float32Array(16 * K), 16, { path: 'mma' })).path).toBe('fused-mma-f16');
    // an sm_90 device: --path mma is the bfloat16 warpgroup kernel at every m
    expect(rt.launches.slice(-2)).toEqual(['qs_x_bf16w', 'qs_wgmma_bf16']);
    expect((await s.run(lw, new Float32Array(16 * K), 16, { path: 'f32' })).path).toBe('fused-tiled-f32');
    expect((await s.run(lw, new Float32Array(3 * K), 3, { path: 'unfused' })).path).toBe('unfused-f32');
    expect(rt.launches.slice(-2)).toEqual(['qs_dequant', 'qs_small_m3']);
    lw.dispose();
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('a small kernel that reads split rows gets a copy made once per tensor, reused, timed in place of the rows and freed with them', async () => {
    const rt = new FakeRuntime({ splitM: [1, 2] });
    const s = await backendWith(rt).open(0);
    // 3 rows of 7 Q4_0 blocks (126 bytes): split rows of 128
    const k = 7 * 32;
    const lw = await s.load({ ...w, k, data: new Uint8Array(rowBytes(GgmlType.Q4_0, k) * N) });
    const before = new Set(rt.live.keys());
    const r1 = await s.run(lw, new Float32Array(k), 1);
    expect(r1.detail).toMatch(/dp4a; split rows\)/);
    expect(rt.launches.slice(-4)).toEqual(['qs_q8_geometry', 'qs_q8_split', 'qs_x_q8', 'qs_q8_m1']);
    // qs_q8_split(GGUF rows, copy, n, k); the kernel reads the copy: 3 rows of 128 bytes plus the padding
    const [src, dst, n, kk] = rt.args.at(-3)!;
    expect(src).toEqual({ ptr: [...before][0] });
    expect([n, kk]).toEqual([{ i32: N }, { i32: k }]);
    const copy = (dst as { ptr: bigint }).ptr;
    expect(rt.live.get(copy)).toBe(3 * 128 + 256);
    expect(rt.args.at(-1)![2]).toEqual({ ptr: copy });
    // another batch size that reads split rows reuses the copy; one that does not reads the rows
    await s.run(lw, new Float32Array(2 * k), 2);
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_q8_m2']);
    expect(rt.args.at(-1)![2]).toEqual({ ptr: copy });
    await s.run(lw, new Float32Array(3 * k), 3);
    expect(rt.args.at(-1)![2]).toEqual({ ptr: [...before][0] });
    // the cold protocol rotates copies of what the kernel reads: the split copy's size
    const live = rt.live.size;
    const allocs = rt.sizes.length;
    await s.time(lw, new Float32Array(k), 1, { protocol: 'cold', warmup: 1, repeats: 3 });
    expect(rt.launches.filter((l) => l === 'qs_q8_split')).toHaveLength(1);
    const cold = rt.sizes.slice(allocs).filter((b) => b === 3 * 128 + 256);
    expect(cold.length, 'cold copies of the split copy').toBeGreaterThan(0);
    expect(rt.sizes.slice(allocs)).not.toContain(rowBytes(GgmlType.Q4_0, k) * N + 256);
    expect(rt.live.size).toBe(live); // the cold copies are freed after timing
    lw.dispose();
    expect(rt.live.has(copy)).toBe(false);
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('no room for the split-row copy: a one-line error naming it, nothing leaked, the session goes on', async () => {
    const k = 7 * 32;
    const rows = rowBytes(GgmlType.Q4_0, k) * N;
    const opts: FakeOpts = { splitM: [1] };
    const rt = new FakeRuntime(opts);
    const s = await backendWith(rt).open(0);
    const lw = await s.load({ ...w, k, data: new Uint8Array(rows) });
    const live = rt.live.size;
    // room (beyond the 64 MiB the backend keeps free) for what the m = 1 run allocates before the copy (x,
    // y, the geometry's buffer, the quantized x and its scales), and 300 bytes: not the copy's 640
    const used = [...rt.live.values()].reduce((a, b) => a + b, 0);
    const before = k * 4 + 256 + (N * 4 + 256) + 128 + (k + 256) + ((k / 32) * 8 + 256);
    opts.free = 64 * 1024 * 1024 + used + before + 300;
    await expect(s.run(lw, new Float32Array(k), 1)).rejects.toThrow(
      /^blk\.0\.ffn_down: split-row copy of the weights \(int8 small kernel\): needs .* only .* free/,
    );
    expect(rt.live.size).toBe(live);
    expect(rt.launches).not.toContain('qs_q8_split');
    // the session goes on: with that much free, m = 2 (GGUF rows) fails only for its own larger scratch,
    // and once memory is free again m = 1 makes the copy and runs
    await expect(s.run(lw, new Float32Array(2 * k), 2)).rejects.toThrow(/^blk\.0\.ffn_down: (?!split)/);
    expect(rt.live.size).toBe(live);
    opts.free = undefined;
    expect((await s.run(lw, new Float32Array(k), 1)).path).toBe('fused-small-q8');
    expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_q8_m1']);
    expect(rt.launches).toContain('qs_q8_split');
    lw.dispose();
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('a session names the kernel settings that differ from the defaults on its device, and none for the defaults', async () => {
    const before = { d: process.env.QS_KERNEL_DEFINES, t: process.env.QS_MMA_I8_TILE };
    try {
      delete process.env.QS_KERNEL_DEFINES;
      delete process.env.QS_MMA_I8_TILE;
      const plain = await backendWith(new FakeRuntime()).open(0);
      expect(plain.device.kernelSettings).toBeUndefined();
      await plain.close();
      process.env.QS_KERNEL_DEFINES = 'QS_LDW=16,QS_Q6_P8';
      process.env.QS_MMA_I8_TILE = '64x128';
      const s = await backendWith(new FakeRuntime()).open(0);
      expect(s.device.kernelSettings).toEqual(['QS_LDW=16', 'QS_Q6_P8=1', 'QS_MMA_I8_TILE=64x128']);
      await s.close();
    } finally {
      if (before.d === undefined) delete process.env.QS_KERNEL_DEFINES;
      else process.env.QS_KERNEL_DEFINES = before.d;
      if (before.t === undefined) delete process.env.QS_MMA_I8_TILE;
      else process.env.QS_MMA_I8_TILE = before.t;
    }
  });

  it('QS_MFMA_EMULATE=1 runs the AMD MFMA kernel (emulated) for the bfloat16 matrix-unit path on CUDA', async () => {
    const before = process.env.QS_KERNEL_DEFINES;
    process.env.QS_KERNEL_DEFINES = 'QS_MFMA_EMULATE=1';
    try {
      const rt = new FakeRuntime();
      const s = await backendWith(rt).open(0);
      const lw = await s.load(w);
      const r = await s.run(lw, new Float32Array(16 * K), 16, { path: 'mma' });
      expect(r.path).toBe('fused-mma-f16');
      expect(r.detail).toMatch(/^qs_x_bf16 \+ qs_mfma_bf16 \(MFMA 32x32x8 emulated on CUDA bf16/);
      expect(rt.launches.slice(-2)).toEqual(['qs_x_bf16', 'qs_mfma_bf16']);
      lw.dispose();
      await s.close();
    } finally {
      if (before === undefined) delete process.env.QS_KERNEL_DEFINES;
      else process.env.QS_KERNEL_DEFINES = before;
    }
  });

  it('QS_MFMA_I8_EMULATE=1 or 2 runs the AMD int8 MFMA kernel (emulated) for the int8 matrix-unit path on CUDA', async () => {
    const before = process.env.QS_KERNEL_DEFINES;
    try {
      for (const form of [1, 2]) {
        process.env.QS_KERNEL_DEFINES = `QS_MFMA_I8_EMULATE=${form}`;
        const rt = new FakeRuntime();
        const s = await backendWith(rt).open(0);
        const lw = await s.load(w);
        // 'auto' and --path int8 at m > 8 alike; its own launch facts (qs_mfma_i8_geometry), read once
        const r = await s.run(lw, new Float32Array(16 * K), 16);
        expect(r.path).toBe('fused-mma-i8');
        expect(r.detail).toMatch(
          new RegExp(
            `^qs_x_q8 \\+ qs_mfma_i8 \\(MFMA 16x16x${form === 1 ? 16 : 32} i8 emulated on CUDA, int8 activations per 32\\) grid 1x1x1 block 256 shared 37888 `,
          ),
        );
        expect(rt.launches.slice(-3)).toEqual(['qs_mfma_i8_geometry', 'qs_x_q8', 'qs_mfma_i8']);
        expect((await s.run(lw, new Float32Array(64 * K), 64, { path: 'int8' })).path).toBe('fused-mma-i8');
        expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mfma_i8']);
        lw.dispose();
        await s.close();
      }
      // any other value is refused when the session opens
      process.env.QS_KERNEL_DEFINES = 'QS_MFMA_I8_EMULATE=3';
      await expect(backendWith(new FakeRuntime()).open(0)).rejects.toThrow(
        /^QS_KERNEL_DEFINES: QS_MFMA_I8_EMULATE must be 1 \(the gfx90a instruction\) or 2 \(the gfx94x one\), got 3$/,
      );
    } finally {
      if (before === undefined) delete process.env.QS_KERNEL_DEFINES;
      else process.env.QS_KERNEL_DEFINES = before;
    }
  });

  it('AMD: --path int8 at m > 8 takes the int8 MFMA kernel only with QS_HIP_MFMA_I8=1 on gfx90a / gfx94x; auto never', () => {
    const t = { name: 't', type: GgmlType.Q4_K, n: 256, k: 256 };
    const planner = (arch: string, env: Record<string, string>) =>
      new PathPlanner(
        'hip',
        { ...new FakeRuntime().deviceInfo(0), backend: 'hip', arch, warpSize: 64 },
        readSessionConfig('hip', { cacheDir: null, prebuiltDir: null }, env),
        null as unknown as KernelCache,
        null as unknown as DeviceMemory,
      );
    for (const arch of ['gfx90a:sramecc+:xnack-', 'gfx942']) {
      const off = planner(arch, {});
      expect(off.hasMmaI8).toBe(false);
      expect(() => off.resolvePath(t, 16, 'int8')).toThrow(
        /^t: int8 activations at m > 8 need the int8 matrix-unit path \(the AMD int8 MFMA kernel is off until it has run on an AMD GPU; QS_HIP_MFMA_I8=1 turns it on\)$/,
      );
      const on = planner(arch, { QS_HIP_MFMA_I8: '1' });
      expect(on.hasMmaI8).toBe(true);
      expect(on.resolvePath(t, 16, 'int8')).toBe('fused-mma-i8');
      expect(on.resolvePath(t, 16, 'auto')).toBe('fused-tiled-f32');
      expect(on.resolvePath(t, 8, 'int8')).toBe('fused-small-q8');
    }
    for (const arch of ['gfx950', 'gfx1030', 'gfx1100']) {
      const p = planner(arch, { QS_HIP_MFMA_I8: '1' });
      expect(p.hasMmaI8).toBe(false);
      expect(() => p.resolvePath(t, 64, 'int8')).toThrow(
        new RegExp(`\\(the AMD int8 MFMA kernel is built for gfx90a and gfx94x, not ${arch}\\)$`),
      );
    }
    expect(() => planner('gfx90a', { QS_HIP_MFMA_I8: 'yes' })).toThrow(
      /^QS_HIP_MFMA_I8: expected 0 or 1, got 'yes'$/,
    );
    expect(planner('gfx90a', { QS_HIP_MFMA_I8: '0' }).hasMmaI8).toBe(false);
  });

  it('QS_MMA_I8_TILE forces the int8 matrix-unit tile shape (wgmma: the sm_90a warpgroup kernel); a bad value is refused when the session opens', async () => {
    const before = process.env.QS_MMA_I8_TILE;
    // one Q4_0 run at m on a fresh fake runtime with the tile forced
    const forced = async (tile: string, m: number, opts: FakeOpts = {}) => {
      process.env.QS_MMA_I8_TILE = tile;
      const rt = new FakeRuntime(opts);
      const s = await backendWith(rt).open(0);
      const lw = await s.load(w);
      try {
        return { rt, res: await s.run(lw, new Float32Array(m * K), m) };
      } finally {
        lw.dispose();
        await s.close();
      }
    };
    try {
      const { rt, res } = await forced('128x128', 16);
      expect(res.detail).toMatch(/qs_mma_i8 \(mma\.sync m16n8k32 s8, 128x128 tiles/);
      expect(rt.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8']);
      expect(rt.archs).toEqual(['sm_90a']); // sm_90 devices get sm_90a code, the warpgroup kernel left out
      const { rt: rt2 } = await forced('32x128', 512);
      expect(rt2.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_mma_i8_32x128']);
      // Hopper's warpgroup kernel: only on request, from the sm_90a build; a module without it is the
      // tensor's error, naming why
      const { rt: rt3, res: res3 } = await forced('wgmma', 100);
      expect(res3.detail).toMatch(/qs_wgmma_i8 \(wgmma m64n128k32 s8, 128x128 tiles/);
      expect(rt3.launches.slice(-2)).toEqual(['qs_x_q8', 'qs_wgmma_i8']);
      expect(rt3.archs).toEqual(['sm_90a QS_WGMMA_I8']); // compiled in only when asked for
      await expect(forced('wgmma', 100, { missing: ['qs_wgmma_i8'] })).rejects.toThrow(
        /QS_MMA_I8_TILE=wgmma: this Q4_0 module has no qs_wgmma_i8 \(it needs sm_90a/,
      );
      process.env.QS_MMA_I8_TILE = '48x128';
      await expect(backendWith(new FakeRuntime()).open(0)).rejects.toThrow(
        /^QS_MMA_I8_TILE: expected one of 128x128, 64x256, 64x128, 32x256, 32x128, 16x256, wgmma, got '48x128'$/,
      );
    } finally {
      if (before === undefined) delete process.env.QS_MMA_I8_TILE;
      else process.env.QS_MMA_I8_TILE = before;
    }
  });

  it('Hopper bfloat16 kernels: a tensor copy per slice where rows are a multiple of 16 bytes, else row copies', async () => {
    const rt = new FakeRuntime({ tensorMaps: true });
    const s = await backendWith(rt).open(0);
    // Q4_0 with k = 256: 8 blocks of 18 bytes, 144-byte rows -> the _tma kernel with the weights' tensor map
    const k = 256;
    const n = 300;
    const lw = await s.load({ ...w, n, k, data: new Uint8Array(rowBytes(GgmlType.Q4_0, k) * n) });
    const r = await s.run(lw, new Float32Array(100 * k), 100);
    expect(r.path).toBe('fused-mma-f16');
    expect(r.detail).toMatch(
      /qs_wgmma_bf16_tma \(wgmma m64n128k16 bf16, f32 accumulate, 128x256 tiles, weights by tensor copies\) grid 2x1x/,
    );
    expect(rt.launches.slice(-3)).toEqual(['qs_wgmma_bf16_tma_geometry', 'qs_x_bf16w', 'qs_wgmma_bf16_tma']);
    // the map: every weight row, the box the module reported (BN rows by its width), at the weights' address
    expect(rt.maps).toHaveLength(1);
    expect(rt.maps[0]).toMatchObject({ rows: n, rowBytes: 144, boxRows: 256, boxBytes: 96 });
    const args = rt.args.at(-1)!;
    expect(args[1]).toEqual({ bytes: expect.any(Uint8Array) });
    expect(Array.from((args[1] as { bytes: Uint8Array }).bytes.subarray(0, 3))).toEqual([1, 0xab, 0xab]);
    // each plan encodes the map of the weights it launches on once (its argument list is cached)
    await s.run(lw, new Float32Array(100 * k), 100);
    expect(rt.maps).toHaveLength(2);
    expect(rt.maps[1]).toEqual(rt.maps[0]);
    // at most 64 and 32 rows the short tensor-copy tiles
    await s.run(lw, new Float32Array(40 * k), 40, { path: 'mma' });
    expect(rt.launches.slice(-3)).toEqual([
      'qs_wgmma_bf16_64_tma_geometry',
      'qs_x_bf16w',
      'qs_wgmma_bf16_64_tma',
    ]);
    const r20 = await s.run(lw, new Float32Array(20 * k), 20, { path: 'mma' });
    expect(r20.detail).toMatch(
      /qs_wgmma_bf16_32_tma \(wgmma m64n32k16 bf16, f32 accumulate, 32x256 tiles, weights by tensor copies\)/,
    );
    expect(rt.launches.slice(-3)).toEqual([
      'qs_wgmma_bf16_32_tma_geometry',
      'qs_x_bf16w',
      'qs_wgmma_bf16_32_tma',
    ]);
    // above 128 rows the 256-row tensor-copy kernel, with its own map
    await s.run(lw, new Float32Array(200 * k), 200);
    expect(rt.launches.slice(-2)).toEqual(['qs_x_bf16w', 'qs_wgmma_bf16_256_tma']);
    expect(rt.maps.at(-1)).toMatchObject({ rows: n, rowBytes: 144, boxRows: 128, boxBytes: 96 });
    // Q6_K with k = 256: 210-byte rows, not a multiple of 16 -> the row-copy kernel, no map
    const q6k = await s.load({
      ...w,
      type: GgmlType.Q6_K,
      n,
      k,
      data: new Uint8Array(rowBytes(GgmlType.Q6_K, k) * n),
    });
    const maps = rt.maps.length;
    const r6 = await s.run(q6k, new Float32Array(100 * k), 100);
    expect(r6.detail).toMatch(/qs_wgmma_bf16 \(.*weights by row copies\)/);
    expect(rt.launches.at(-1)).toBe('qs_wgmma_bf16');
    expect(rt.maps).toHaveLength(maps);
    q6k.dispose();
    lw.dispose();
    await s.close();
    // a module without the tensor-copy kernels (QS_KERNEL_DEFINES=QS_WB_TMA=0), or a driver without tensor
    // maps: row copies
    for (const rt2 of [
      new FakeRuntime({ tensorMaps: true, missing: ['qs_wgmma_bf16_tma'] }),
      new FakeRuntime(),
    ]) {
      const s2 = await backendWith(rt2).open(0);
      const lw2 = await s2.load({ ...w, n, k, data: new Uint8Array(rowBytes(GgmlType.Q4_0, k) * n) });
      await s2.run(lw2, new Float32Array(100 * k), 100);
      expect(rt2.launches.at(-1)).toBe('qs_wgmma_bf16');
      expect(rt2.maps).toHaveLength(0);
      lw2.dispose();
      await s2.close();
    }
  });

  it('the matrix-unit paths split k when the tile grid is too small for the device', async () => {
    // the bfloat16 path without Hopper's warpgroup kernel: mma.sync, about 2 blocks per SM (4 x 2 for 1 tile)
    {
      const rt = new FakeRuntime({ missing: ['qs_wgmma_bf16'] });
      const s = await backendWith(rt).open(0);
      const k = 32 * 64;
      const lw = await s.load({ ...w, k, data: new Uint8Array(rowBytes(GgmlType.Q4_0, k) * N) });
      const res = await s.run(lw, new Float32Array(64 * k), 64, { path: 'mma' });
      expect(res.path).toBe('fused-mma-f16');
      expect(res.detail).toMatch(/grid 1x1x8 .*qs_splitk_sum/);
      expect(rt.launches.slice(-3)).toEqual(['qs_x_bf16', 'qs_mma_f16', 'qs_splitk_sum']);
      await s.close();
    }
    const rt = new FakeRuntime();
    const s = await backendWith(rt).open(0);
    const k = 32 * 64;
    const lw = await s.load({ ...w, k, data: new Uint8Array(rowBytes(GgmlType.Q4_0, k) * N) });
    // with it (an sm_90 device): one block per SM, 16 slices of 128 -> 4 splits
    const res = await s.run(lw, new Float32Array(64 * k), 64, { path: 'mma' });
    expect(res.path).toBe('fused-mma-f16');
    expect(res.detail).toMatch(
      /qs_x_bf16w \+ qs_wgmma_bf16 \(wgmma m64n128k16 bf16, f32 accumulate, 128x128 tiles, weights by row copies\) grid 1x1x4 block 256 shared 176128 \+ qs_splitk_sum/,
    );
    expect(rt.launches.slice(-3)).toEqual(['qs_x_bf16w', 'qs_wgmma_bf16', 'qs_splitk_sum']);
    // int8: 16 slices of 128; 4 SMs x 2 blocks for 1 tile, at most slices/4 = 4 splits
    const r8 = await s.run(lw, new Float32Array(64 * k), 64, { path: 'int8' });
    expect(r8.path).toBe('fused-mma-i8');
    expect(r8.detail).toMatch(/grid 1x1x4 .*qs_splitk_sum/);
    expect(rt.launches.slice(-3)).toEqual(['qs_x_q8', 'qs_mma_i8_64x128', 'qs_splitk_sum']);
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('a tensor that cannot fit is an error naming the tensor and the sizes', async () => {
    const rt = new FakeRuntime({ free: 1024 });
    const s = await backendWith(rt).open(0);
    await expect(s.load(w)).rejects.toThrow(/blk\.0\.ffn_down .*needs .*MiB.*only .*MiB free/);
    await s.close();
  });

  it("a compile failure is that tensor's error (no CPU fallback) and frees the scratch buffers", async () => {
    const rt = new FakeRuntime({ compileError: 'error: expected a ";"' });
    const s = await backendWith(rt).open(0);
    const lw = await s.load(w);
    const before = rt.live.size;
    await expect(s.run(lw, new Float32Array(K), 1)).rejects.toThrow(
      /blk\.0\.ffn_down.*nvrtcCompileProgram.*expected a/,
    );
    expect(rt.live.size).toBe(before);
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('a launch failure is an error and everything is freed, also in timing', async () => {
    const rt = new FakeRuntime({ launchError: true });
    const s = await backendWith(rt).open(0);
    const lw = await s.load(w);
    await expect(s.run(lw, new Float32Array(K), 1)).rejects.toThrow(/ILLEGAL_ADDRESS/);
    await expect(s.time(lw, new Float32Array(K), 1, { protocol: 'cold' })).rejects.toThrow(/ILLEGAL_ADDRESS/);
    expect(rt.live.size).toBe(1); // only the weights
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('a fault that loses the context: that tensor fails naming the reset, the next tensor runs on a fresh context', async () => {
    const rt = new FakeRuntime({ lostLaunches: 1 });
    const s = await backendWith(rt).open(0);
    const first = await s.load(w);
    const other = await s.load({ ...w, name: 'blk.1.ffn_down' });
    await expect(s.run(first, new Float32Array(K), 1)).rejects.toThrow(
      /^blk\.0\.ffn_down .*ILLEGAL_ADDRESS.*; the cuda:0 context was reset and the run goes on$/,
    );
    expect(rt.resets).toBe(1);
    // every buffer went with the context: the loaded weights are gone, nothing is freed twice
    expect(rt.live.size).toBe(0);
    await expect(s.run(other, new Float32Array(K), 1)).rejects.toThrow(/weights were disposed/);
    const again = await s.load(w);
    const r = await s.run(again, new Float32Array(K), 1);
    expect(r.y).toHaveLength(N);
    expect(rt.live.size).toBe(1);
    // the same in timing: the events died with the context and are not destroyed again
    rt['o'].lostLaunches = 1;
    await expect(s.time(again, new Float32Array(K), 1, { protocol: 'hot' })).rejects.toThrow(
      /context was reset/,
    );
    expect(rt.resets).toBe(2);
    await s.close();
    expect(rt.live.size).toBe(0);
  });

  it('timing samples queue behind qs_hold (GPU time, not the host launch rate) and report the host time', async () => {
    const seq: string[] = [];
    const holdArgs: unknown[] = [];
    class Recording extends FakeRuntime {
      override launch(fn: { name: string }, ...rest: unknown[]) {
        super.launch(fn);
        seq.push(fn.name);
        if (fn.name === 'qs_hold') holdArgs.push(rest[3]);
      }
      override eventRecord() {
        seq.push('event');
      }
    }
    const s = await backendWith(new Recording()).open(0);
    const lw = await s.load(w);
    const t = await s.time(lw, new Float32Array(K), 1, { protocol: 'hot', warmup: 1, repeats: 3 });
    expect(t.samplesUs).toHaveLength(3);
    expect(t.hostUsPerCall).toBeGreaterThan(0);
    // after the probe: every sample is qs_hold, start event, the launches, end event
    const samples = seq.slice(seq.indexOf('qs_hold'));
    expect(samples.filter((x) => x === 'qs_hold')).toHaveLength(3);
    for (let i = 0; i < samples.length; i++)
      if (samples[i] === 'qs_hold') expect(samples[i + 1]).toBe('event');
    expect(samples.slice(2, 4)).toEqual(['qs_x_q8', 'qs_q8_m1']);
    // one argument: the hold in ns of the GPU's clock (CUDA), at least 20 us
    expect(holdArgs[0]).toEqual([{ u64: expect.any(Number) }]);
    expect((holdArgs[0] as { u64: number }[])[0].u64).toBeGreaterThanOrEqual(20_000);
    await s.close();
  });

  it('copy bandwidth: batches of back-to-back copies, the first ones as warm-up', async () => {
    // each start/end event pair brackets one batch of copies; the first batches run slower (clocks
    // still rising), so a measurement that kept them would read low
    let copies = 0;
    const perInterval: number[] = [];
    let batch = 0;
    class Copying extends FakeRuntime {
      override copyDeviceToDevice() {
        copies++;
      }
      override eventRecord() {
        perInterval.push(copies); // copies since the previous event
        copies = 0;
      }
      override eventElapsedMs() {
        const msPerCopy = batch++ < 5 ? 0.5 : 0.2; // 5 of 9 slow: a median over all would read 0.5
        return perInterval.at(-1)! * msPerCopy;
      }
    }
    const s = await backendWith(new Copying()).open(0);
    const size = 256 * 1024 * 1024;
    expect(s.device.copyBandwidthGBs).toBeCloseTo((2 * size) / 0.2e-3 / 1e9, 3);
    // the end events close batches of 8 copies; nothing is copied between a batch and the next start
    const ends = perInterval.filter((_, i) => i % 2 === 1);
    expect(ends.length).toBeGreaterThanOrEqual(5);
    expect(ends.every((c) => c === 8)).toBe(true);
    expect(perInterval.filter((_, i) => i % 2 === 0).every((c) => c === 0)).toBe(true);
    await s.close();
  });

  it('bad input gets one-line errors', async () => {
    const s = await backendWith(new FakeRuntime()).open(0);
    await expect(s.load({ ...w, data: new Uint8Array(5) })).rejects.toThrow(
      /blk\.0\.ffn_down: 5 bytes of data/,
    );
    await expect(s.load({ ...w, type: GgmlType.Q8_K })).rejects.toThrow(/Q8_K is not supported/);
    // every registered quantized format has a kernel source (Q3_K: kernels/q3_k.cu); bad sizes are still errors
    await expect(s.load({ ...w, type: GgmlType.Q3_K })).rejects.toThrow(/Q3_K: k=64 is not a multiple/);
    const q3 = {
      ...w,
      type: GgmlType.Q3_K,
      k: 256,
      data: new Uint8Array(w.n * rowBytes(GgmlType.Q3_K, 256)),
    };
    await expect(s.load(q3)).resolves.toBeTruthy();
    // Q2_K has no int8 matrix-unit kernel (registry paths): int8 at m > 8 is refused, auto takes bfloat16
    const q2 = await s.load({
      ...w,
      type: GgmlType.Q2_K,
      k: 256,
      data: new Uint8Array(w.n * rowBytes(GgmlType.Q2_K, 256)),
    });
    await expect(s.run(q2, new Float32Array(16 * 256), 16, { path: 'int8' })).rejects.toThrow(
      /Q2_K has no int8 matrix-unit kernel/,
    );
    expect((await s.run(q2, new Float32Array(16 * 256), 16)).path).toBe('fused-mma-f16');
    const lw = await s.load(w);
    await expect(s.run(lw, new Float32Array(K + 1), 1)).rejects.toThrow(/x has 65 values/);
    await expect(backendWith(new FakeRuntime()).open(3)).rejects.toThrow(/no device 3/);
    await s.close();
  });

  it('custom code objects: variable names, symbols, missing file, geometry', async () => {
    expect(customKernelVar('cuda', GgmlType.Q4_K)).toBe('Q4_K_MATMUL_CUBIN');
    expect(customKernelVar('hip', GgmlType.Q6_K)).toBe('Q6_K_MATMUL_HSACO');
    expect(customKernelSymbol(GgmlType.Q4_0)).toBe('q4_0_matmul_kernel');
    expect(parseGeometry('m', { m: 5, n: 7, k: 32 }, 'g')).toEqual([5, 1, 1]);
    expect(parseGeometry('n/8,m', { m: 5, n: 17, k: 32 }, 'g')).toEqual([3, 5, 1]);
    expect(() => parseGeometry('x', { m: 1, n: 1, k: 1 }, 'QS_CUSTOM_GRID')).toThrow(/QS_CUSTOM_GRID: 'x'/);
    // a session reads the variables when it opens
    process.env.Q4_0_MATMUL_CUBIN = '/nonexistent/k.cubin';
    let s;
    try {
      s = await backendWith(new FakeRuntime()).open(0);
    } finally {
      delete process.env.Q4_0_MATMUL_CUBIN;
    }
    const lw = await s.load(w);
    await expect(s.run(lw, new Float32Array(K), 1)).rejects.toThrow(
      /Q4_0_MATMUL_CUBIN=\/nonexistent\/k\.cubin: file not found/,
    );
    // a session opened without the variable runs QuantScope's kernel
    const plain = await backendWith(new FakeRuntime()).open(0);
    const lw2 = await plain.load(w);
    expect((await plain.run(lw2, new Float32Array(K), 1)).path).toBe('fused-small-q8');
    await plain.close();
    await s.close();
  });

  it('prebuilt code objects (an sm_90 device takes the sm_90a build) are used only when build/kernels/manifest.json matches the sources', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-prebuilt-'));
    try {
      const src = kernelSourceFor(GgmlType.Q4_0)!.source;
      const sha = (b: string) => crypto.createHash('sha256').update(b).digest('hex');
      const h = crypto.createHash('sha256'); // scripts/build-kernels.mjs headersHash
      for (const name of Object.keys(KERNEL_HEADERS).sort())
        h.update(name).update('\0').update(KERNEL_HEADERS[name]).update('\0');
      const entry = { file: 'q4_0.sm_90a.cubin', sourceSha256: sha(src), headersSha256: h.digest('hex') };
      fs.writeFileSync(path.join(dir, 'q4_0.sm_90a.cubin'), 'CUBIN');
      expect(prebuiltIsCurrent(dir, 'q4_0.sm_90a.cubin', src)).toBe(false); // no manifest
      fs.writeFileSync(
        path.join(dir, 'manifest.json'),
        JSON.stringify({ entries: [{ ...entry, sourceSha256: 'old' }] }),
      );
      expect(prebuiltIsCurrent(dir, 'q4_0.sm_90a.cubin', src)).toBe(false); // stale
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ entries: [entry] }));
      expect(prebuiltIsCurrent(dir, 'q4_0.sm_90a.cubin', src)).toBe(true);
      const s = await createGpuBackend('cuda', () => new FakeRuntime(), {
        cacheDir: null,
        prebuiltDir: dir,
      }).open(0);
      const lw = await s.load(w);
      expect((await s.run(lw, new Float32Array(K), 1)).detail).toContain(
        `prebuilt:${path.join(dir, 'q4_0.sm_90a.cubin')}`,
      );
      await s.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
