/**
 * The interface every compute backend implements: cpu (here, always), cuda and hip (koffi).
 * The runner, the CLI, the selftest and the app only ever talk to this.
 */

export type BackendKind = 'cpu' | 'cuda' | 'hip';

export interface DeviceInfo {
  backend: BackendKind;
  /** index within the backend (cuda:0, hip:1, ...) */
  index: number;
  name: string;
  /** 'sm_90', 'gfx90a', or 'x86_64' for the cpu */
  arch: string;
  memoryTotal: number;
  memoryFree: number;
  /** SMs / CUs / CPU threads */
  computeUnits: number;
  /** 32 or 64 on GPUs; 1 on the cpu */
  warpSize: number;
  /** theoretical peak from memory clock x bus width (GB/s), null where unknown */
  peakBandwidthGBs: number | null;
  /** measured device-to-device copy bandwidth, bytes read+written (GB/s); null until measured */
  copyBandwidthGBs: number | null;
  /** peak half-precision matrix rate in TFLOP/s where known (roofline), else null */
  peakTflops: number | null;
  /** driver / runtime versions and other facts worth showing */
  details: Record<string, string>;
}

export interface BackendStatus {
  backend: BackendKind;
  available: boolean;
  /** why it is unavailable ("libcuda.so.1 not found", "no device", ...) */
  reason?: string;
  devices: DeviceInfo[];
}

/**
 * Kernel path names. The threshold a result is judged by follows from the path's arithmetic
 * (see thresholdFor in compare.ts): float32 accumulation 1e-8, half-precision 5e-4.
 */
export type KernelPath =
  | 'cpu-f32' // cpu backend: dequantize inside the dot product, float32 accumulation
  | 'fused-small-f32' // GPU m <= 8: each weight block read once for all m rows
  | 'fused-tiled-f32' // GPU m > 8: shared-memory tiles, float32 FMA
  | 'fused-mma-f16' // GPU m > 8: matrix units, half-precision activations and weights, f32 accumulation
  | 'unfused-f32' // GPU baseline: dequantize to a float32 weight buffer, then a float32 matmul
  | 'custom'; // a user code object from Q*_MATMUL_HSACO / _CUBIN

export type PathChoice = 'auto' | 'f32' | 'mma' | 'unfused';

export interface WeightsDesc {
  /** ggml type id */
  type: number;
  /** rows of W (output features) */
  n: number;
  /** columns of W (input features, the reduction dim) */
  k: number;
  /** the tensor's raw bytes as stored in the GGUF file, row-major [n][k] */
  data: Uint8Array;
  /** tensor name, for error messages */
  name?: string;
}

export interface LoadedWeights {
  readonly type: number;
  readonly n: number;
  readonly k: number;
  readonly bytes: number;
  /** frees device memory; idempotent */
  dispose(): void;
}

export interface RunOptions {
  path?: PathChoice;
  signal?: AbortSignal;
}

export interface RunResult {
  /** y = x * W^T, row-major [m][n] */
  y: Float32Array;
  path: KernelPath;
  /** human detail: kernel name, launch geometry, code object source */
  detail?: string;
}

export type TimingProtocol = 'hot' | 'cold';

export interface TimingOptions extends RunOptions {
  protocol: TimingProtocol;
  warmup?: number;
  repeats?: number;
}

export interface Timing {
  protocol: TimingProtocol;
  path: KernelPath;
  /** per-launch times in microseconds, sorted ascending */
  samplesUs: number[];
  medianUs: number;
  minUs: number;
  maxUs: number;
  /** (p90 - p10) / median */
  spread: number;
  /** weight copies rotated (1 for hot) */
  weightCopies: number;
}

export interface BackendSession {
  readonly device: DeviceInfo;
  load(w: WeightsDesc): Promise<LoadedWeights>;
  /** x is row-major [m][k] float32 */
  run(w: LoadedWeights, x: Float32Array, m: number, opts?: RunOptions): Promise<RunResult>;
  time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing>;
  /** frees everything; idempotent */
  close(): Promise<void>;
}

export interface Backend {
  readonly kind: BackendKind;
  /** never throws: an unavailable backend says why */
  status(): Promise<BackendStatus>;
  open(deviceIndex: number): Promise<BackendSession>;
}
