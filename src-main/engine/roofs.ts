/**
 * Compute roofs for the roofline: the peak arithmetic rate of a device for each kind of arithmetic a
 * kernel path does (float32 FMA, 16-bit float matrix units, int8 matrix units).
 *
 * GPUs: a table of vendor datasheet figures per product, dense (without the 2:4 sparsity that
 * datasheets often quote), at the boost clock; the source of each row is in `source` and in
 * docs/roofs.md. A device matches a row by its architecture and its name; a GPU not in the table has
 * no compute roof (the roofline then shows the memory roof alone and says so).
 *
 * The cpu: no datasheet, so the roof is measured: a WebAssembly SIMD loop of float32 multiplies and
 * adds (separate, no fused multiply-add: the arithmetic the cpu backend's kernels do) on eight
 * independent 4-lane accumulators, timed on one thread and multiplied by the worker threads the cpu
 * backend runs on. It is what this engine's own kind of code can reach, not the processor's
 * datasheet peak (AVX-512 FMA units would do more), measured once per process (~0.1 s).
 */
import { performance } from 'node:perf_hooks';
import type { ComputeRoofs, DeviceSummary } from '../../src-shared/contract';
import { poolSize } from './workers/pool';

export interface GpuPeakRow {
  /** product name as shown */
  product: string;
  /** the device's architecture ('sm_90', 'gfx942') */
  arch: RegExp;
  /** the device's name as the runtime reports it */
  name: RegExp;
  /** dense float32 vector FMA rate, TFLOP/s */
  f32: number;
  /** dense 16-bit float matrix-unit rates, TFLOP/s (null: no such units) */
  bf16: number | null;
  f16: number | null;
  /** dense int8 matrix-unit rate, TOP/s (null: no such units) */
  int8: number | null;
  /**
   * how many runtime devices share the figures: an MI250X is two devices (graphics compute dies)
   * to HIP, each with half the product's rate
   */
  devicesPerProduct: number;
  source: string;
}

const NV_H100 = 'NVIDIA H100 Tensor Core GPU datasheet (dense: half the with-sparsity figures)';
const NV_H200 = 'NVIDIA H200 Tensor Core GPU datasheet (dense: half the with-sparsity figures)';
const NV_A100 = 'NVIDIA A100 Tensor Core GPU datasheet';
const AMD_MI210 = 'AMD Instinct MI210 accelerator datasheet';
const AMD_MI250X = 'AMD Instinct MI250X accelerator datasheet (per graphics compute die: half)';
const AMD_MI300X = 'AMD Instinct MI300X accelerator datasheet (dense)';
const AMD_6900XT = 'AMD Radeon RX 6900 XT specifications (peak single and half precision)';

/** The products with known peaks; the first row that matches a device is used. */
export const GPU_PEAKS: readonly GpuPeakRow[] = [
  {
    product: 'NVIDIA H100/H200 NVL',
    arch: /^sm_90a?$/,
    name: /H[12]00.*NVL/i,
    f32: 60,
    bf16: 835.5,
    f16: 835.5,
    int8: 1670.5,
    devicesPerProduct: 1,
    source: NV_H200,
  },
  {
    product: 'NVIDIA H200 SXM',
    arch: /^sm_90a?$/,
    name: /H200/i,
    f32: 67,
    bf16: 989.5,
    f16: 989.5,
    int8: 1979,
    devicesPerProduct: 1,
    source: NV_H200,
  },
  {
    product: 'NVIDIA H100 PCIe',
    arch: /^sm_90a?$/,
    name: /H100.*PCIe/i,
    f32: 51,
    bf16: 756,
    f16: 756,
    int8: 1513,
    devicesPerProduct: 1,
    source: NV_H100,
  },
  {
    product: 'NVIDIA H100 SXM',
    arch: /^sm_90a?$/,
    name: /H100/i,
    f32: 67,
    bf16: 989.5,
    f16: 989.5,
    int8: 1979,
    devicesPerProduct: 1,
    source: NV_H100,
  },
  {
    product: 'NVIDIA A100',
    arch: /^sm_80$/,
    name: /A100/i,
    f32: 19.5,
    bf16: 312,
    f16: 312,
    int8: 624,
    devicesPerProduct: 1,
    source: NV_A100,
  },
  {
    product: 'AMD Instinct MI300X',
    arch: /^gfx942$/,
    name: /MI300X|MI325X/i,
    f32: 163.4,
    bf16: 1307.4,
    f16: 1307.4,
    int8: 2614.9,
    devicesPerProduct: 1,
    source: AMD_MI300X,
  },
  {
    product: 'AMD Instinct MI250X',
    arch: /^gfx90a$/,
    name: /MI250X/i,
    f32: 47.9,
    bf16: 383,
    f16: 383,
    int8: 383,
    devicesPerProduct: 2,
    source: AMD_MI250X,
  },
  {
    product: 'AMD Instinct MI210',
    arch: /^gfx90a$/,
    name: /MI210/i,
    f32: 22.6,
    bf16: 181,
    f16: 181,
    int8: 181,
    devicesPerProduct: 1,
    source: AMD_MI210,
  },
  {
    product: 'AMD Radeon RX 6900 XT',
    arch: /^gfx1030$/,
    name: /6900\s*XT/i,
    f32: 23.04,
    // RDNA2 has no matrix units and no bfloat16; its packed half-precision rate is not a matrix unit
    bf16: null,
    f16: null,
    int8: null,
    devicesPerProduct: 1,
    source: AMD_6900XT,
  },
];

/** The table's row for a device, or null. */
export function gpuPeakRow(device: Pick<DeviceSummary, 'arch' | 'name'>): GpuPeakRow | null {
  const arch = device.arch.split(':')[0];
  return GPU_PEAKS.find((r) => r.arch.test(arch) && r.name.test(device.name)) ?? null;
}

/** A GPU's roofs from the table (per runtime device), or null when it is not in the table. */
export function gpuComputeRoofs(device: Pick<DeviceSummary, 'arch' | 'name'>): ComputeRoofs | null {
  const row = gpuPeakRow(device);
  if (!row) return null;
  const per = (v: number | null) => (v === null ? null : v / row.devicesPerProduct);
  return {
    f32: per(row.f32),
    bf16: per(row.bf16),
    f16: per(row.f16),
    int8: per(row.int8),
    source: `${row.product}: ${row.source}`,
  };
}

// ---- the cpu: a measured float32 multiply-add rate ----

/**
 * run(n): for n rounds, acc[i] = acc[i] * a + b on eight f32x4 accumulators (64 float32 operations
 * per round); returns lane 0 of their sum so the work is used. Hand-assembled like ./backends/cpu-simd.ts.
 */
function fmaModuleBytes(): Uint8Array {
  const V128 = 0x7b;
  const ACCS = 8;
  const N = 0;
  const acc = (i: number) => 1 + i;
  const A = 1 + ACCS;
  const B = 2 + ACCS;
  const f32c = (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
  const splat = [0xfd, 0x13];
  const add = [0xfd, 0xe4, 0x01];
  const mul = [0xfd, 0xe6, 0x01];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const code: number[] = [...f32c(0.999), ...splat, ...set(A), ...f32c(0.001), ...splat, ...set(B)];
  for (let i = 0; i < ACCS; i++) code.push(...f32c(i / ACCS), ...splat, ...set(acc(i)));
  code.push(0x03, 0x40); // loop
  for (let i = 0; i < ACCS; i++)
    code.push(...get(acc(i)), ...get(A), ...mul, ...get(B), ...add, ...set(acc(i)));
  // n -= 1; br_if n != 0
  code.push(...get(N), 0x41, 0x01, 0x6b, 0x22, N, 0x0d, 0x00, 0x0b);
  code.push(...get(acc(0)));
  for (let i = 1; i < ACCS; i++) code.push(...get(acc(i)), ...add);
  code.push(0xfd, 0x1f, 0x00); // f32x4.extract_lane 0
  code.push(0x0b);
  const body = [0x01, ACCS + 2, V128, ...code];
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7d]), // type: (i32) -> f32
    ...section(3, [0x01, 0x00]), // one function of type 0
    ...section(7, [0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x00]), // export "run"
    ...section(10, [0x01, ...uleb(body.length), ...body]),
  ]);
}

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** float32 operations per round of run(n) */
export const FMA_FLOPS_PER_ROUND = 64;
const MIN_SAMPLE_MS = 15;
const SAMPLES = 3;

export interface CpuFmaRate {
  /** float32 operations per second on one thread, GFLOP/s */
  perThreadGflops: number;
  threads: number;
  /** perThreadGflops x threads, TFLOP/s */
  tflops: number;
}

let cpuRate: CpuFmaRate | null | undefined;

/**
 * The measured rate (best of SAMPLES timings of at least MIN_SAMPLE_MS each), cached for the
 * process; null where WebAssembly SIMD is unavailable.
 */
export function measureCpuFmaRate(threads: number = poolSize()): CpuFmaRate | null {
  if (cpuRate !== undefined)
    return cpuRate && { ...cpuRate, threads, tflops: (cpuRate.perThreadGflops * threads) / 1000 };
  try {
    const mod = new WebAssembly.Module(fmaModuleBytes() as BufferSource);
    const run = new WebAssembly.Instance(mod).exports.run as (n: number) => number;
    let rounds = 1 << 14;
    run(rounds); // compile tiers up
    for (;;) {
      const t0 = performance.now();
      run(rounds);
      if (performance.now() - t0 >= MIN_SAMPLE_MS || rounds >= 1 << 30) break;
      rounds *= 2;
    }
    let best = Infinity;
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      run(rounds);
      best = Math.min(best, performance.now() - t0);
    }
    const perThreadGflops = (rounds * FMA_FLOPS_PER_ROUND) / (best / 1000) / 1e9;
    cpuRate = { perThreadGflops, threads, tflops: (perThreadGflops * threads) / 1000 };
  } catch {
    cpuRate = null;
  }
  return cpuRate;
}

/** The cpu's roofs: the measured float32 rate; it has no matrix units. */
export function cpuComputeRoofs(threads: number = poolSize()): ComputeRoofs | null {
  const r = measureCpuFmaRate(threads);
  if (!r) return null;
  return {
    f32: r.tflops,
    bf16: null,
    f16: null,
    int8: null,
    source: `measured: float32 multiply-add loop (WebAssembly SIMD), ${r.perThreadGflops.toFixed(1)} GFLOP/s per thread x ${threads} worker thread${threads === 1 ? '' : 's'}`,
  };
}

/** The roofs of any device the engine lists. */
export function computeRoofsFor(device: DeviceSummary): ComputeRoofs | null {
  return device.backend === 'cpu' ? cpuComputeRoofs(device.computeUnits) : gpuComputeRoofs(device);
}
