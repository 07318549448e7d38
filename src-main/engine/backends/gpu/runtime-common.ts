/**
 * What the CUDA and HIP runtimes have in common: the argument checks both apply before a native
 * call (sizes, offsets, launch dimensions, kernel arguments, pointers), kernel-argument packing,
 * C strings, and the peak figures computed from device attributes.
 */
import type { DevicePtr, KernelArg } from './runtime';

const decoder = new TextDecoder();

/** NUL-terminated C string at `offset` (at most `max` bytes). */
export function cString(buf: Uint8Array, offset = 0, max = buf.length - offset): string {
  let end = offset;
  const limit = Math.min(buf.length, offset + max);
  while (end < limit && buf[end] !== 0) end++;
  return decoder.decode(buf.subarray(offset, end));
}

/** A size, offset or count for a native call: a non-negative safe integer, or a one-line error. */
export function checkBytes(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got ${n}`);
  return n;
}

/** An allocation size: a positive safe integer. */
export function checkAllocSize(runtime: string, bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`${runtime} malloc: invalid size ${bytes}`);
  return bytes;
}

/** A device index: a non-negative integer (the runtime itself reports one past the last device). */
export function checkDeviceIndex(runtime: string, index: number): number {
  if (!Number.isInteger(index) || index < 0) throw new Error(`${runtime}: invalid device index ${index}`);
  return index;
}

/** Grid and block dimensions of a launch: integers 1..2^31-1; shared bytes non-negative. */
export function checkLaunch(
  runtime: string,
  name: string,
  grid: [number, number, number],
  block: [number, number, number],
  sharedBytes: number,
): void {
  for (const d of [...grid, ...block]) {
    if (!Number.isInteger(d) || d < 1 || d > 0x7fffffff)
      throw new Error(`${runtime} launch ${name}: bad grid/block dimension ${d}`);
  }
  checkBytes('sharedBytes', sharedBytes);
}

/** A device pointer as the native calls take it (bigint), or a one-line error. */
export function nativePointer(runtime: string, p: DevicePtr): bigint {
  if (typeof p === 'bigint') return p;
  if (typeof p === 'number' && Number.isSafeInteger(p) && p >= 0) return BigInt(p);
  throw new Error(`not a ${runtime} device pointer: ${String(p)}`);
}

function checkInt(v: number, min: number, max: number, i: number): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new Error(`kernel argument ${i}: ${v} is out of range`);
  return v;
}

/** Kernel arguments as the launch calls want them: one typed array holding each value. */
export function packKernelArgs(args: KernelArg[]): ArrayBufferView[] {
  return args.map((a, i) => {
    if ('ptr' in a) return BigUint64Array.of(nativePointer('GPU', a.ptr));
    if ('i32' in a) return Int32Array.of(checkInt(a.i32, -0x80000000, 0x7fffffff, i));
    if ('u32' in a) return Uint32Array.of(checkInt(a.u32, 0, 0xffffffff, i));
    if ('f32' in a) return Float32Array.of(a.f32);
    if ('u64' in a) return BigUint64Array.of(BigInt(a.u64));
    if ('bytes' in a) return a.bytes;
    throw new Error(`kernel argument ${i}: unknown kind ${JSON.stringify(a)}`);
  });
}

export function hostBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function asNumber(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** Theoretical peak DRAM bandwidth: 2 (DDR) x memory clock (kHz) x bus width (bits) / 8, in GB/s. */
export function peakBandwidthGBs(memoryClockKHz: number, busWidthBits: number): number | null {
  if (!(memoryClockKHz > 0) || !(busWidthBits > 0)) return null;
  return (2 * memoryClockKHz * 1e3 * (busWidthBits / 8)) / 1e9;
}

/**
 * Dense FP16 matrix FLOPs per compute unit per clock, by target. NVIDIA by compute capability major
 * (tensor cores: Volta/Turing 1024, Ampere 2048, Hopper and newer 4096). AMD by gfx target (AMD's
 * published peaks divided by CUs x peak engine clock: MI100 184.6 TF / (120 x 1.502 GHz) = 1024,
 * MI250X/MI210 1024, MI300X 1307 TF / (304 x 2.1 GHz) = 2048, MI355X 4096; RDNA2 has no matrix
 * units: packed FP16 256; RDNA3 WMMA 512; RDNA4 1024). Targets not listed have no known peak.
 */
const FP16_FLOPS_PER_CU_CLOCK: ReadonlyArray<[RegExp, number]> = [
  [/^gfx90[8a]$/, 1024],
  [/^gfx94[012]$/, 2048],
  [/^gfx950$/, 4096],
  [/^gfx103[0-6]$/, 256],
  [/^gfx11(0[0-3]|5[01])$/, 512],
  [/^gfx120[01]$/, 1024],
];

function flopsPerUnitClock(arch: string): number | null {
  const sm = /^sm_(\d+)(\d)$/.exec(arch);
  if (sm) {
    const major = Number(sm[1]);
    return major >= 9 ? 4096 : major >= 8 ? 2048 : major >= 7 ? 1024 : null;
  }
  return FP16_FLOPS_PER_CU_CLOCK.find(([re]) => re.test(arch))?.[1] ?? null;
}

/** Peak half-precision matrix rate (TFLOP/s) for the roofline, or null when the target is not known. */
export function peakHalfTflops(arch: string, computeUnits: number, clockKHz: number | null): number | null {
  const perClock = flopsPerUnitClock(arch);
  if (!perClock || !(computeUnits > 0) || !clockKHz || !(clockKHz > 0)) return null;
  return (computeUnits * clockKHz * 1e3 * perClock) / 1e12;
}

/**
 * The facts the GPU runtimes report in DeviceInfo.details (strings, as the contract carries them
 * to the UI and reports). One type for both, so the session reads them by name.
 */
export interface GpuDeviceDetails {
  /** the vendor library in use */
  library: string;
  /** L2 cache size in bytes (the cold timing protocol rotates weight copies past it) */
  l2CacheBytes?: string;
  // CUDA
  driver?: string;
  smClockMHz?: string;
  memClockMHz?: string;
  busWidthBits?: string;
  maxSharedPerBlockOptin?: string;
  // HIP
  gcnArchName?: string;
  pciBusId?: string;
  runtimeVersion?: string;
  driverVersion?: string;
  memoryClockMHz?: string;
  memoryBusWidthBits?: string;
  clockMHz?: string;
  maxSharedMemoryPerBlock?: string;
}

/** The details as DeviceInfo carries them: only the keys that were set. */
export function detailsRecord(d: GpuDeviceDetails): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The device's L2 cache size from its details, or null where the runtime did not report one. */
export function l2CacheBytes(details: Readonly<Record<string, string | undefined>>): number | null {
  const v = Number(details.l2CacheBytes ?? 0);
  return v > 0 ? v : null;
}
