/**
 * koffi declarations for the CUDA driver API (libcuda.so.1 / nvcuda.dll): declarations and error
 * mapping only. Every call goes through `check`, which turns a non-zero CUresult into a GpuError
 * carrying the API name, the code and the driver's own error name and string.
 * Device memory is never wrapped in a JavaScript view (Electron's V8 memory cage forbids it): data
 * moves through cuMemcpy* into ordinary typed arrays.
 */
import koffi from 'koffi';
import { CONTEXT_LOST_CODES, GpuError, GpuUnavailableError } from './errors';

export type CuHandle = unknown; // opaque koffi pointer (CUcontext, CUmodule, CUfunction, CUevent)
export type CuDevicePtr = number | bigint;

export interface CudaDriver {
  readonly libraryPath: string;
  cuInit(flags: number): number;
  cuDriverGetVersion(out: number[]): number;
  cuDeviceGetCount(out: number[]): number;
  cuDeviceGet(out: number[], ordinal: number): number;
  cuDeviceGetName(buf: Uint8Array, len: number, dev: number): number;
  cuDeviceTotalMem_v2(out: (number | bigint)[], dev: number): number;
  cuDeviceGetAttribute(out: number[], attrib: number, dev: number): number;
  cuDevicePrimaryCtxRetain(out: CuHandle[], dev: number): number;
  cuDevicePrimaryCtxRelease_v2(dev: number): number;
  cuDevicePrimaryCtxReset_v2(dev: number): number;
  cuCtxSetCurrent(ctx: CuHandle): number;
  cuCtxSynchronize(): number;
  cuMemGetInfo_v2(free: (number | bigint)[], total: (number | bigint)[]): number;
  cuMemAlloc_v2(out: CuDevicePtr[], bytes: number): number;
  cuMemFree_v2(ptr: CuDevicePtr): number;
  cuMemcpyHtoD_v2(dst: CuDevicePtr, src: ArrayBufferView, bytes: number): number;
  cuMemcpyDtoH_v2(dst: ArrayBufferView, src: CuDevicePtr, bytes: number): number;
  cuMemcpyDtoD_v2(dst: CuDevicePtr, src: CuDevicePtr, bytes: number): number;
  cuMemsetD8_v2(dst: CuDevicePtr, value: number, count: number): number;
  cuModuleLoadData(out: CuHandle[], image: Uint8Array): number;
  cuModuleUnload(mod: CuHandle): number;
  cuModuleGetFunction(out: CuHandle[], mod: CuHandle, name: string): number;
  cuFuncSetAttribute(fn: CuHandle, attrib: number, value: number): number;
  cuLaunchKernel(
    fn: CuHandle,
    gx: number,
    gy: number,
    gz: number,
    bx: number,
    by: number,
    bz: number,
    shared: number,
    stream: CuHandle | null,
    /** the table of encodeKernelParams (native/params.ts) */
    params: unknown,
    extra: null,
  ): number;
  /** CUDA 11.8+ drivers; absent (undefined) on older ones. config: from encodeLaunchConfig */
  cuLaunchKernelEx?: (config: NativeLaunchConfig, fn: CuHandle, params: unknown, extra: null) => number;
  cuEventCreate(out: CuHandle[], flags: number): number;
  cuEventRecord(ev: CuHandle, stream: CuHandle | null): number;
  cuEventSynchronize(ev: CuHandle): number;
  cuEventElapsedTime(out: number[], start: CuHandle, end: CuHandle): number;
  cuEventDestroy_v2(ev: CuHandle): number;
  cuGetErrorName(code: number, out: (string | null)[]): number;
  cuGetErrorString(code: number, out: (string | null)[]): number;
  /**
   * CUDA 12+ drivers; absent (undefined) on older ones. Writes a 128-byte CUtensorMap at the native
   * address `map` (64-byte aligned; encodeTensorMap2d below): dims, strides (rank - 1 entries, bytes),
   * box and element strides as arrays of `rank` entries.
   */
  cuTensorMapEncodeTiled?: (
    map: bigint,
    dataType: number,
    rank: number,
    globalAddress: CuDevicePtr,
    globalDim: BigUint64Array,
    globalStrides: BigUint64Array,
    boxDim: Uint32Array,
    elementStrides: Uint32Array,
    interleave: number,
    swizzle: number,
    l2Promotion: number,
    oobFill: number,
  ) => number;
}

/** CUlaunchAttribute (cuda.h): an id and a 64-byte value union (only its first int is used here). */
export interface CuLaunchAttribute {
  id: number;
  pad: number[];
  value: number[];
}
/** CUlaunchConfig (cuda.h) */
export interface CuLaunchConfig {
  gridDimX: number;
  gridDimY: number;
  gridDimZ: number;
  blockDimX: number;
  blockDimY: number;
  blockDimZ: number;
  sharedMemBytes: number;
  hStream: CuHandle | null;
  attrs: CuLaunchAttribute[];
  numAttrs: number;
}
/** A CUlaunchConfig (and its attribute) encoded once in native memory: a launch then costs one plain
 * pointer argument instead of marshalling the struct each time. free() once no launch uses it. */
export interface NativeLaunchConfig {
  readonly __nativeLaunchConfig: unique symbol;
}
let launchTypesDone = false;
/** Registers the koffi types of CUlaunchConfig / CUlaunchAttribute (once per process). */
export function launchTypes(): void {
  if (launchTypesDone) return;
  launchTypesDone = true;
  koffi.struct('QsCUlaunchAttribute', {
    id: 'int',
    pad: koffi.array('uint8_t', 4),
    value: koffi.array('uint8_t', 64),
  });
  koffi.struct('QsCUlaunchConfig', {
    gridDimX: 'unsigned int',
    gridDimY: 'unsigned int',
    gridDimZ: 'unsigned int',
    blockDimX: 'unsigned int',
    blockDimY: 'unsigned int',
    blockDimZ: 'unsigned int',
    sharedMemBytes: 'unsigned int',
    hStream: 'void *',
    attrs: 'QsCUlaunchAttribute *',
    numAttrs: 'unsigned int',
  });
}
export function encodeLaunchConfig(cfg: CuLaunchConfig): { config: NativeLaunchConfig; free: () => void } {
  launchTypes();
  const attrs = koffi.alloc('QsCUlaunchAttribute', Math.max(1, cfg.attrs.length));
  cfg.attrs.forEach((a, i) =>
    koffi.encode(attrs, i * koffi.sizeof('QsCUlaunchAttribute'), 'QsCUlaunchAttribute', a),
  );
  const config = koffi.alloc('QsCUlaunchConfig', 1);
  koffi.encode(config, 'QsCUlaunchConfig', { ...cfg, attrs });
  let freed = false;
  return {
    config: config as unknown as NativeLaunchConfig,
    free: () => {
      if (freed) return;
      freed = true;
      koffi.free(config);
      koffi.free(attrs);
    },
  };
}

/**
 * A 2-D tensor map of bytes (CU_TENSOR_MAP_DATA_TYPE_UINT8, no interleave or swizzle, zeros past the
 * ends) encoded by the driver into native memory aligned as CUtensorMap is (64 bytes), returned as its
 * 128 bytes with the driver's result code.
 */
export function encodeTensorMap2d(
  d: CudaDriver,
  ptr: bigint,
  rows: number,
  rowBytes: number,
  boxRows: number,
  boxBytes: number,
): { code: number; map: Uint8Array } {
  const mem = koffi.alloc('uint8_t', CU_TENSOR_MAP_BYTES + 64);
  try {
    const addr = BigInt(koffi.address(mem) as bigint | number);
    const skew = Number((64n - (addr % 64n)) % 64n);
    const code = d.cuTensorMapEncodeTiled!(
      addr + BigInt(skew),
      CU_TENSOR_MAP_DATA_TYPE_UINT8,
      2,
      ptr,
      BigUint64Array.of(BigInt(rowBytes), BigInt(rows)),
      BigUint64Array.of(BigInt(rowBytes)),
      Uint32Array.of(boxBytes, boxRows),
      Uint32Array.of(1, 1),
      CU_TENSOR_MAP_INTERLEAVE_NONE,
      CU_TENSOR_MAP_SWIZZLE_NONE,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
      CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE,
    );
    const bytes = koffi.decode(mem, skew, koffi.array('uint8_t', CU_TENSOR_MAP_BYTES)) as
      number[] | Uint8Array;
    return { code, map: Uint8Array.from(bytes) };
  } finally {
    koffi.free(mem);
  }
}

/** CUlaunchAttributeID: let this kernel start before the previous one in the stream has finished; it
 * waits for that one's results with griddepcontrol.wait (programmatic dependent launch, sm_90+). */
export const CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6;

/** CUdevice_attribute values used by QuantScope (cuda.h). */
export const CU_ATTR = {
  MAX_THREADS_PER_BLOCK: 1,
  CLOCK_RATE: 13,
  MULTIPROCESSOR_COUNT: 16,
  WARP_SIZE: 10,
  MEMORY_CLOCK_RATE: 36,
  GLOBAL_MEMORY_BUS_WIDTH: 37,
  L2_CACHE_SIZE: 38,
  PCI_BUS_ID: 33,
  COMPUTE_CAPABILITY_MAJOR: 75,
  COMPUTE_CAPABILITY_MINOR: 76,
  MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: 97,
} as const;
export const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
/** CUtensorMap (cuda.h): 128 bytes, 64-byte aligned where a kernel takes it */
export const CU_TENSOR_MAP_BYTES = 128;
export const CU_TENSOR_MAP_DATA_TYPE_UINT8 = 0;
export const CU_TENSOR_MAP_INTERLEAVE_NONE = 0;
export const CU_TENSOR_MAP_SWIZZLE_NONE = 0;
export const CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3;
export const CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0;
export const CUDA_SUCCESS = 0;
export const CUDA_ERROR_NO_DEVICE = 100;

const CANDIDATES =
  process.platform === 'win32'
    ? ['nvcuda.dll']
    : ['libcuda.so.1', 'libcuda.so', '/usr/lib/wsl/lib/libcuda.so.1'];

let cached: CudaDriver | GpuUnavailableError | undefined;

/** Loads the driver library once; throws GpuUnavailableError (with the reason) when it is missing. */
export function loadCudaDriver(): CudaDriver {
  if (cached instanceof GpuUnavailableError) throw cached;
  if (cached) return cached;
  let lib: ReturnType<typeof koffi.load> | undefined;
  let libraryPath = '';
  const errors: string[] = [];
  for (const name of CANDIDATES) {
    try {
      lib = koffi.load(name);
      libraryPath = name;
      break;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
    }
  }
  if (!lib) {
    cached = new GpuUnavailableError(
      `CUDA driver library not found (libcuda.so.1): ${errors[0] ?? 'no candidates'}`,
    );
    throw cached;
  }
  try {
    // koffi types are registered once per process; the names are unique to this module.
    const ptr = koffi.pointer('QsCuHandle', koffi.opaque('QsCuOpaque'));
    void ptr;
    koffi.alias('QsCUdeviceptr', 'uint64_t');
    const f = (decl: string) => lib.func(decl);
    launchTypes();
    let cuLaunchKernelEx: unknown;
    try {
      cuLaunchKernelEx = f(
        'int cuLaunchKernelEx(const void *config, QsCuHandle fn, void **params, void **extra)',
      );
    } catch {
      cuLaunchKernelEx = undefined; // a driver older than CUDA 11.8
    }
    let cuTensorMapEncodeTiled: unknown;
    try {
      cuTensorMapEncodeTiled = f(
        'int cuTensorMapEncodeTiled(uint64_t map, int dataType, unsigned int rank, QsCUdeviceptr globalAddress, ' +
          'const uint64_t *globalDim, const uint64_t *globalStrides, const uint32_t *boxDim, ' +
          'const uint32_t *elementStrides, int interleave, int swizzle, int l2Promotion, int oobFill)',
      );
    } catch {
      cuTensorMapEncodeTiled = undefined; // a driver older than CUDA 12
    }
    const d = {
      libraryPath,
      cuInit: f('int cuInit(unsigned int flags)'),
      cuDriverGetVersion: f('int cuDriverGetVersion(_Out_ int *v)'),
      cuDeviceGetCount: f('int cuDeviceGetCount(_Out_ int *count)'),
      cuDeviceGet: f('int cuDeviceGet(_Out_ int *dev, int ordinal)'),
      cuDeviceGetName: f('int cuDeviceGetName(uint8_t *name, int len, int dev)'),
      cuDeviceTotalMem_v2: f('int cuDeviceTotalMem_v2(_Out_ size_t *bytes, int dev)'),
      cuDeviceGetAttribute: f('int cuDeviceGetAttribute(_Out_ int *v, int attrib, int dev)'),
      cuDevicePrimaryCtxRetain: f('int cuDevicePrimaryCtxRetain(_Out_ QsCuHandle *ctx, int dev)'),
      cuDevicePrimaryCtxRelease_v2: f('int cuDevicePrimaryCtxRelease_v2(int dev)'),
      cuDevicePrimaryCtxReset_v2: f('int cuDevicePrimaryCtxReset_v2(int dev)'),
      cuCtxSetCurrent: f('int cuCtxSetCurrent(QsCuHandle ctx)'),
      cuCtxSynchronize: f('int cuCtxSynchronize()'),
      cuMemGetInfo_v2: f('int cuMemGetInfo_v2(_Out_ size_t *free, _Out_ size_t *total)'),
      cuMemAlloc_v2: f('int cuMemAlloc_v2(_Out_ QsCUdeviceptr *ptr, size_t bytes)'),
      cuMemFree_v2: f('int cuMemFree_v2(QsCUdeviceptr ptr)'),
      cuMemcpyHtoD_v2: f('int cuMemcpyHtoD_v2(QsCUdeviceptr dst, const void *src, size_t bytes)'),
      cuMemcpyDtoH_v2: f('int cuMemcpyDtoH_v2(void *dst, QsCUdeviceptr src, size_t bytes)'),
      cuMemcpyDtoD_v2: f('int cuMemcpyDtoD_v2(QsCUdeviceptr dst, QsCUdeviceptr src, size_t bytes)'),
      cuMemsetD8_v2: f('int cuMemsetD8_v2(QsCUdeviceptr dst, uint8_t value, size_t count)'),
      cuModuleLoadData: f('int cuModuleLoadData(_Out_ QsCuHandle *mod, const void *image)'),
      cuModuleUnload: f('int cuModuleUnload(QsCuHandle mod)'),
      cuModuleGetFunction: f(
        'int cuModuleGetFunction(_Out_ QsCuHandle *fn, QsCuHandle mod, const char *name)',
      ),
      cuFuncSetAttribute: f('int cuFuncSetAttribute(QsCuHandle fn, int attrib, int value)'),
      cuLaunchKernel: f(
        'int cuLaunchKernel(QsCuHandle fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, ' +
          'unsigned int by, unsigned int bz, unsigned int shared, QsCuHandle stream, void **params, void **extra)',
      ),
      cuLaunchKernelEx,
      cuEventCreate: f('int cuEventCreate(_Out_ QsCuHandle *ev, unsigned int flags)'),
      cuEventRecord: f('int cuEventRecord(QsCuHandle ev, QsCuHandle stream)'),
      cuEventSynchronize: f('int cuEventSynchronize(QsCuHandle ev)'),
      cuEventElapsedTime: f('int cuEventElapsedTime(_Out_ float *ms, QsCuHandle start, QsCuHandle end)'),
      cuEventDestroy_v2: f('int cuEventDestroy_v2(QsCuHandle ev)'),
      cuGetErrorName: f('int cuGetErrorName(int code, _Out_ const char **s)'),
      cuGetErrorString: f('int cuGetErrorString(int code, _Out_ const char **s)'),
      cuTensorMapEncodeTiled,
    };
    cached = d as unknown as CudaDriver;
    return cached;
  } catch (e) {
    cached = new GpuUnavailableError(
      `CUDA driver library ${libraryPath} is unusable: ${(e as Error).message}`,
    );
    throw cached;
  }
}

/** The driver's name and description of a CUresult, e.g. 'CUDA_ERROR_OUT_OF_MEMORY: out of memory'. */
export function cuErrorText(d: CudaDriver, code: number): string {
  const name: (string | null)[] = [null];
  const text: (string | null)[] = [null];
  try {
    d.cuGetErrorName(code, name);
    d.cuGetErrorString(code, text);
  } catch {
    /* keep the code alone */
  }
  return [name[0], text[0]].filter(Boolean).join(': ') || `CUresult ${code}`;
}

/** Throws a GpuError for a failed driver call. */
export function cuCheck(d: CudaDriver, api: string, code: number): void {
  if (code !== CUDA_SUCCESS)
    throw new GpuError(api, code, cuErrorText(d, code), CONTEXT_LOST_CODES.has(code));
}
