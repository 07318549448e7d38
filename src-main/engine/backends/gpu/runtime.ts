/**
 * What the GPU backend needs from a vendor runtime. native/cuda.ts (+ nvrtc) and native/hip.ts
 * (+ hiprtc) are thin koffi declarations; the classes implementing this interface live next to
 * this file (cuda-runtime.ts, hip-runtime.ts) and turn every failed call into a GpuError.
 * One GpuRuntime instance serves one device, and is only ever used from one thread.
 */
import type { DeviceInfo } from '../types';

/** Opaque device pointer as the runtime hands it out. */
export type DevicePtr = { readonly __devicePtr: unique symbol } | bigint | number;

export type KernelArg =
  | { ptr: DevicePtr }
  | { i32: number }
  | { u32: number }
  | { f32: number }
  | { u64: bigint | number }
  /** a parameter passed by value as these bytes (a CUDA tensor map: 128) */
  | { bytes: Uint8Array };

/**
 * A 2-D tensor map over device memory for the copy engine's tensor copies (CUDA sm_90): `rows` rows of
 * `rowBytes` bytes (a multiple of 16) at `ptr` (16-byte aligned), read in boxes of `boxRows` rows by
 * `boxBytes` bytes (a multiple of 16, at most 256); what a box reaches past the ends reads as zeros.
 */
export interface TensorMap2d {
  ptr: DevicePtr;
  rows: number;
  rowBytes: number;
  boxRows: number;
  boxBytes: number;
}

export interface GpuModule {
  readonly source: string; // 'nvrtc', 'hiprtc', 'prebuilt:<path>', 'custom:<path>'
}
export interface GpuFunction {
  readonly name: string;
}
export interface GpuEvent {
  readonly __event?: true;
}

// The error types are the native layer's (it maps every failed call to one); the engine uses them.
export { GpuError, GpuUnavailableError } from '../../../../native/errors';

export interface CompileOptions {
  /** 'sm_90', 'gfx90a' ... (the device's exact architecture) */
  arch: string;
  defines?: Record<string, string | number>;
  /** header name -> contents, for #include "common.h" */
  headers?: Record<string, string>;
}

export interface GpuRuntime {
  readonly kind: 'cuda' | 'hip';
  deviceCount(): number;
  /** device facts; copyBandwidthGBs stays null here (measured by the backend) */
  deviceInfo(index: number): DeviceInfo;
  /** bind this runtime to one device (context / hipSetDevice) */
  useDevice(index: number): void;
  memGetInfo(): { free: number; total: number };
  malloc(bytes: number): DevicePtr;
  free(ptr: DevicePtr): void;
  copyToDevice(dst: DevicePtr, src: ArrayBufferView, dstOffsetBytes?: number): void;
  copyFromDevice(dst: ArrayBufferView, src: DevicePtr, srcOffsetBytes?: number): void;
  copyDeviceToDevice(dst: DevicePtr, src: DevicePtr, bytes: number): void;
  memset8(ptr: DevicePtr, value: number, bytes: number): void;
  /** run-time compile to PTX / a code object for opts.arch */
  compile(source: string, fileName: string, opts: CompileOptions): Uint8Array;
  compilerVersion(): string;
  loadModule(image: Uint8Array, source: string): GpuModule;
  getFunction(mod: GpuModule, name: string): GpuFunction;
  launch(
    fn: GpuFunction,
    grid: [number, number, number],
    block: [number, number, number],
    sharedBytes: number,
    args: KernelArg[],
    options?: LaunchOptions,
  ): void;
  /**
   * The 128 bytes of a tensor map (CUDA with a driver that has cuTensorMapEncodeTiled; absent on HIP
   * and older drivers). Computed on the host; the kernel takes them as a by-value parameter.
   */
  tensorMap2d?(map: TensorMap2d): Uint8Array;
  eventCreate(): GpuEvent;
  eventRecord(ev: GpuEvent): void;
  eventElapsedMs(start: GpuEvent, end: GpuEvent): number;
  eventDestroy(ev: GpuEvent): void;
  synchronize(): void;
  /**
   * After a GpuError with contextLost: forgets every allocation, module, function and event of this
   * runtime (the reset frees them on the device) and resets the device's context, so the next call
   * starts on a fresh one. Handles from before the reset must not be used again.
   */
  resetAfterFault(): void;
  /** frees modules/context; idempotent */
  dispose(): void;
}

export interface LaunchOptions {
  /**
   * The kernel may start while the previous kernel in the stream still runs (CUDA programmatic
   * dependent launch, sm_90+): it must wait for that kernel's results itself (QS_GRID_WAIT in
   * qs_port.h) before reading them. A runtime without the feature launches normally, which is
   * equally correct.
   */
  overlapPrevious?: boolean;
}
