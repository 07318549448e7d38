/**
 * The interface every compute backend implements: cpu (here, always), cuda and hip (koffi).
 * The runner, the CLI, the selftest and the app only ever talk to this.
 */

import type {
  BackendKind,
  CopyBandwidthMeasurement,
  BackendSummary,
  DeviceSummary,
  KernelPath,
  PathChoice,
} from '../../../src-shared/contract';

// Devices, statuses and path names cross to the UI unchanged, so the contract's types are the
// engine's: one definition (src-shared/contract/types.ts), documented there.
export type { BackendKind, KernelPath, PathChoice };
export type DeviceInfo = DeviceSummary;
export type BackendStatus = BackendSummary;

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
  /**
   * host time spent enqueueing one multiplication's launches (us; GPU backends). The samples are timed
   * behind a GPU hold and do not include it; above medianUs, the host could not keep this GPU busy in a
   * real run.
   */
  hostUsPerCall?: number;
}

export interface BackendSession {
  readonly device: DeviceInfo;
  load(w: WeightsDesc): Promise<LoadedWeights>;
  /** x is row-major [m][k] float32 */
  run(w: LoadedWeights, x: Float32Array, m: number, opts?: RunOptions): Promise<RunResult>;
  time(w: LoadedWeights, x: Float32Array, m: number, opts: TimingOptions): Promise<Timing>;
  /**
   * The copy bandwidth the "% of copy" figures of this backend session (one run) are taken against,
   * measured once and kept in `device.copyBandwidth`; null where it could not be measured.
   */
  copyBandwidth?(): Promise<CopyBandwidthMeasurement | null>;
  /** frees everything; idempotent */
  close(): Promise<void>;
}

/** A user's code object for one format, as a session takes it (the run's, not the environment's). */
export interface SessionUserKernel {
  /** ggml type id */
  type: number;
  path: string;
  grid?: string;
  block?: string;
  shared?: string;
}

export interface SessionOptions {
  /** code objects that replace QuantScope's kernel for their formats (GPU backends; the cpu refuses them) */
  userKernels?: readonly SessionUserKernel[];
}

export interface Backend {
  readonly kind: BackendKind;
  /** never throws: an unavailable backend says why */
  status(): Promise<BackendStatus>;
  open(deviceIndex: number, opts?: SessionOptions): Promise<BackendSession>;
}
