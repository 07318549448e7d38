/**
 * koffi declarations for the HIP runtime (libamdhip64): declarations, library lookup and error
 * mapping only. The GpuRuntime built on them is src-main/engine/backends/gpu/hip-runtime.ts.
 *
 * Hand-written because there is no maintained JavaScript binding of the HIP runtime; koffi is the
 * project's FFI. Every value crosses as a plain number/bigint or a JS typed array (no koffi.view,
 * no JS views of native memory: Electron's V8 memory cage forbids them). Pointers are BigInt in
 * koffi 3, so device pointers, modules, functions and events are all bigint here.
 *
 * ABI notes (checked against ROCm 5.2 headers and the ROCm 6/7 hip_runtime_api.h):
 *  - hipDeviceAttribute_t values used below are identical in ROCm 5, 6 and 7 (the CUDA-compatible
 *    range was frozen in ROCm 5.0; ROCm 6 turned a few entries into hipDeviceAttributeUnusedN
 *    without renumbering). hipDeviceAttributeGcnArchName (10004) is gone in ROCm 6, and it only
 *    ever returned an int, so the gfx target name comes from hipDeviceProp_t.gcnArchName.
 *  - hipDeviceProp_t changed layout: ROCm 5 (R0000) has gcnArchName at byte 396 (sizeof 792);
 *    ROCm 6/7 export hipGetDevicePropertiesR0600 with gcnArchName at byte 1160 (sizeof ~1472).
 *    Callers pass an oversized zeroed buffer and locate the string (see hip-runtime.ts).
 */
import koffi, { type LibraryHandle } from 'koffi';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CONTEXT_LOST_CODES, GpuError } from './errors';

export const hipSuccess = 0;
export const hipErrorNotInitialized = 3;
export const hipErrorInsufficientDriver = 35;
export const hipErrorNoDevice = 100;
export const hipErrorInvalidDevice = 101;

export const hipMemcpyHostToDevice = 1;
export const hipMemcpyDeviceToHost = 2;
export const hipMemcpyDeviceToDevice = 3;

/** hipDeviceAttribute_t values (same in ROCm 5, 6 and 7, see the note at the top). */
export const HipAttr = {
  ClockRate: 5,
  L2CacheSize: 19,
  ComputeCapabilityMajor: 23,
  MaxThreadsPerBlock: 56,
  MemoryBusWidth: 59,
  /** kHz */
  MemoryClockRate: 60,
  ComputeCapabilityMinor: 61,
  MultiprocessorCount: 63,
  PciBusId: 67,
  PciDeviceId: 68,
  PciDomainId: 69,
  MaxSharedMemoryPerBlock: 74,
  WarpSize: 87,
} as const;

/** Byte offset of gcnArchName (char[256]) in each hipDeviceProp_t layout. */
export const GCN_ARCH_NAME_OFFSET = { R0000: 396, R0600: 1160 } as const;
/** Larger than every known hipDeviceProp_t (792 / ~1472 bytes), so a newer layout cannot overrun it. */
export const DEVICE_PROP_BUFFER_BYTES = 16384;

/** Pointers (device memory, modules, functions, events) as koffi 3 hands them out. */
export type NativePtr = bigint;
/** A one-element array koffi writes an `_Out_` value into. */
export type Out<T> = [T];

export interface HipApi {
  /** the file that was loaded */
  readonly libraryPath: string;
  hipInit(flags: number): number;
  hipGetDeviceCount(count: Out<number>): number;
  hipDeviceGetAttribute(value: Out<number>, attr: number, device: number): number;
  hipDeviceGetName(name: Uint8Array, len: number, device: number): number;
  hipDeviceGetPCIBusId(busId: Uint8Array, len: number, device: number): number;
  hipDeviceTotalMem(bytes: Out<number | bigint>, device: number): number;
  /** unversioned: the R0000 layout on ROCm 5, and for dynamically loaded ROCm 6/7 (ROCm/ROCm#2728) */
  hipGetDeviceProperties: ((prop: Uint8Array, device: number) => number) | null;
  /** ROCm 6+: the old layout under a versioned name */
  hipGetDevicePropertiesR0000: ((prop: Uint8Array, device: number) => number) | null;
  /** ROCm 6+ only */
  hipGetDevicePropertiesR0600: ((prop: Uint8Array, device: number) => number) | null;
  hipSetDevice(device: number): number;
  hipGetDevice(device: Out<number>): number;
  hipMemGetInfo(free: Out<number | bigint>, total: Out<number | bigint>): number;
  hipMalloc(ptr: Out<NativePtr | null>, bytes: number): number;
  hipFree(ptr: NativePtr): number;
  /** dst/src are device pointers (bigint) or host typed arrays, per kind */
  hipMemcpy(
    dst: NativePtr | ArrayBufferView,
    src: NativePtr | ArrayBufferView,
    bytes: number,
    kind: number,
  ): number;
  hipMemset(ptr: NativePtr, value: number, bytes: number): number;
  hipModuleLoadData(module: Out<NativePtr | null>, image: Uint8Array): number;
  hipModuleUnload(module: NativePtr): number;
  hipModuleGetFunction(fn: Out<NativePtr | null>, module: NativePtr, name: string): number;
  /**
   * kernelParams: the table of encodeKernelParams (native/params.ts: an array of pointers to the
   * values, as with cuLaunchKernel) or null without arguments. stream null = the null stream.
   */
  hipModuleLaunchKernel(
    fn: NativePtr,
    gridX: number,
    gridY: number,
    gridZ: number,
    blockX: number,
    blockY: number,
    blockZ: number,
    sharedMemBytes: number,
    stream: NativePtr | null,
    kernelParams: unknown,
    extra: null,
  ): number;
  hipEventCreate(event: Out<NativePtr | null>): number;
  hipEventRecord(event: NativePtr, stream: NativePtr | null): number;
  hipEventSynchronize(event: NativePtr): number;
  hipEventElapsedTime(ms: Out<number>, start: NativePtr, stop: NativePtr): number;
  hipEventDestroy(event: NativePtr): number;
  hipDeviceSynchronize(): number;
  hipDeviceReset(): number;
  hipGetErrorString(code: number): string;
  hipGetErrorName(code: number): string;
  hipRuntimeGetVersion(version: Out<number>): number;
  hipDriverGetVersion(version: Out<number>): number;
}

/** The HIP runtime library could not be loaded from any candidate; `tried` lists them. */
export class HipLibraryNotFoundError extends Error {
  constructor(
    readonly library: string,
    readonly tried: string[],
    readonly lastError: string,
  ) {
    super(`${library} not found (tried ${tried.join(', ')}): ${lastError}`);
    this.name = 'HipLibraryNotFoundError';
  }
}

/** /opt/rocm/lib, /opt/rocm-7.0.2/lib, ... newest version first, plus $ROCM_PATH/$HIP_PATH. */
export function rocmLibDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs: string[] = [];
  for (const v of [env.ROCM_PATH, env.HIP_PATH]) if (v) dirs.push(path.join(v, 'lib'));
  let opt: string[] = [];
  try {
    opt = readdirSync('/opt').filter((d) => /^rocm(-[\d.]+)?$/.test(d));
  } catch {
    // no /opt: nothing to add
  }
  const ver = (d: string) => (d.match(/\d+/g) ?? []).map(Number);
  opt.sort((a, b) => {
    // plain 'rocm' (usually a symlink to the active version) first, then newest version first
    if (a === 'rocm') return -1;
    if (b === 'rocm') return 1;
    const va = ver(a);
    const vb = ver(b);
    for (let i = 0; i < Math.max(va.length, vb.length); i++) {
      const d = (vb[i] ?? 0) - (va[i] ?? 0);
      if (d !== 0) return d;
    }
    return 0;
  });
  for (const d of opt) dirs.push(path.join('/opt', d, 'lib'));
  return [...new Set(dirs)];
}

/**
 * Candidate files for a library: bare names (the dynamic loader's search path, LD_LIBRARY_PATH)
 * then the same names under every ROCm lib dir that has them.
 */
export function libraryCandidates(names: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out = [...names];
  for (const dir of rocmLibDirs(env)) {
    for (const n of names) {
      const p = path.join(dir, n);
      if (existsSync(p)) out.push(p);
    }
  }
  return out;
}

export const HIP_LIBRARY_NAMES =
  process.platform === 'win32'
    ? ['amdhip64_7.dll', 'amdhip64_6.dll', 'amdhip64.dll']
    : ['libamdhip64.so.7', 'libamdhip64.so.6', 'libamdhip64.so.5', 'libamdhip64.so'];

/**
 * Opens the first loadable candidate. `QUANTSCOPE_HIP_LIBRARY` (a path, or several joined with
 * the platform's path delimiter) replaces the default list.
 */
export function openFirst(library: string, candidates: string[]): { lib: LibraryHandle; path: string } {
  let last = 'no candidates';
  for (const c of candidates) {
    try {
      return { lib: koffi.load(c), path: c };
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  throw new HipLibraryNotFoundError(library, candidates, last);
}

function optionalFunc(lib: LibraryHandle, proto: string) {
  try {
    return lib.func(proto);
  } catch {
    return null; // symbol not exported by this ROCm version
  }
}

const cache = new Map<string, HipApi>();

/** Loads (once per candidate list) and declares libamdhip64. Throws HipLibraryNotFoundError. */
export function loadHip(candidates?: string[]): HipApi {
  const override = process.env.QUANTSCOPE_HIP_LIBRARY;
  const list =
    candidates ??
    (override ? override.split(path.delimiter).filter(Boolean) : libraryCandidates(HIP_LIBRARY_NAMES));
  const key = list.join('\0');
  const hit = cache.get(key);
  if (hit) return hit;
  const { lib, path: libraryPath } = openFirst('libamdhip64.so', list);
  const f = (proto: string) => lib.func(proto);
  const api: HipApi = {
    libraryPath,
    hipInit: f('int hipInit(unsigned int flags)'),
    hipGetDeviceCount: f('int hipGetDeviceCount(_Out_ int *count)'),
    hipDeviceGetAttribute: f('int hipDeviceGetAttribute(_Out_ int *pi, int attr, int deviceId)'),
    hipDeviceGetName: f('int hipDeviceGetName(_Out_ uint8_t *name, int len, int deviceId)'),
    hipDeviceGetPCIBusId: f('int hipDeviceGetPCIBusId(_Out_ uint8_t *pciBusId, int len, int device)'),
    hipDeviceTotalMem: f('int hipDeviceTotalMem(_Out_ size_t *bytes, int device)'),
    hipGetDeviceProperties: optionalFunc(
      lib,
      'int hipGetDeviceProperties(_Out_ uint8_t *prop, int deviceId)',
    ),
    hipGetDevicePropertiesR0000: optionalFunc(
      lib,
      'int hipGetDevicePropertiesR0000(_Out_ uint8_t *prop, int deviceId)',
    ),
    hipGetDevicePropertiesR0600: optionalFunc(
      lib,
      'int hipGetDevicePropertiesR0600(_Out_ uint8_t *prop, int deviceId)',
    ),
    hipSetDevice: f('int hipSetDevice(int deviceId)'),
    hipGetDevice: f('int hipGetDevice(_Out_ int *deviceId)'),
    hipMemGetInfo: f('int hipMemGetInfo(_Out_ size_t *free, _Out_ size_t *total)'),
    hipMalloc: f('int hipMalloc(_Out_ void **ptr, size_t size)'),
    hipFree: f('int hipFree(void *ptr)'),
    hipMemcpy: f('int hipMemcpy(void *dst, const void *src, size_t sizeBytes, int kind)'),
    hipMemset: f('int hipMemset(void *dst, int value, size_t sizeBytes)'),
    hipModuleLoadData: f('int hipModuleLoadData(_Out_ void **module, const void *image)'),
    hipModuleUnload: f('int hipModuleUnload(void *module)'),
    hipModuleGetFunction: f(
      'int hipModuleGetFunction(_Out_ void **function, void *module, const char *kname)',
    ),
    hipModuleLaunchKernel: f(
      'int hipModuleLaunchKernel(void *f, unsigned int gridDimX, unsigned int gridDimY, unsigned int gridDimZ, ' +
        'unsigned int blockDimX, unsigned int blockDimY, unsigned int blockDimZ, unsigned int sharedMemBytes, ' +
        'void *stream, void **kernelParams, void **extra)',
    ),
    hipEventCreate: f('int hipEventCreate(_Out_ void **event)'),
    hipEventRecord: f('int hipEventRecord(void *event, void *stream)'),
    hipEventSynchronize: f('int hipEventSynchronize(void *event)'),
    hipEventElapsedTime: f('int hipEventElapsedTime(_Out_ float *ms, void *start, void *stop)'),
    hipEventDestroy: f('int hipEventDestroy(void *event)'),
    hipDeviceSynchronize: f('int hipDeviceSynchronize()'),
    hipDeviceReset: f('int hipDeviceReset()'),
    hipGetErrorString: f('const char *hipGetErrorString(int hipError)'),
    hipGetErrorName: f('const char *hipGetErrorName(int hipError)'),
    hipRuntimeGetVersion: f('int hipRuntimeGetVersion(_Out_ int *runtimeVersion)'),
    hipDriverGetVersion: f('int hipDriverGetVersion(_Out_ int *driverVersion)'),
  };
  cache.set(key, api);
  return api;
}

/** 'hipErrorNoDevice' for 100; falls back to the code when the library has no name for it. */
export function hipErrorName(api: HipApi, code: number): string {
  try {
    return api.hipGetErrorName(code) || `hipError ${code}`;
  } catch {
    return `hipError ${code}`;
  }
}

/** The library's description of a code, with its name: 'hipErrorNoDevice: no ROCm-capable device...' */
export function hipErrorText(api: HipApi, code: number): string {
  const name = hipErrorName(api, code);
  let text = '';
  try {
    text = api.hipGetErrorString(code) ?? '';
  } catch {
    // keep the name only
  }
  return text && text !== name ? `${name}: ${text}` : name;
}

/** Throws GpuError(apiName, code, hipGetErrorString) when a call did not return hipSuccess. */
export function hipCheck(api: HipApi, apiName: string, code: number): void {
  if (code !== hipSuccess)
    throw new GpuError(apiName, code, hipErrorText(api, code), CONTEXT_LOST_CODES.has(code));
}
