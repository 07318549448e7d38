/**
 * One verification run: for every selected tensor and batch size, the backend's product and the
 * float64 reference on the same activations (./activations.ts), judged against the reference of the
 * path's declared arithmetic (./verdict.ts: kernel error, arithmetic error, and for a FAIL a diagnosis
 * from an identity probe through the same path) and (optionally) timed.
 * Used by `quantscope verify`, the app and the browser mode alike. Errors are per job: a tensor
 * that fails to load, run or fit becomes an 'error' result and the run goes on; cancelling stops
 * between steps and frees everything.
 */
import type {
  Backend,
  BackendSession,
  DeviceInfo,
  KernelPath,
  LoadedWeights,
  PathChoice,
  SessionOptions,
  Timing,
} from '../backends/types';
import type { GgufFile, GgufTensorInfo } from '../gguf';
import type { RunEvent, RunRequest, TensorResult, TimingSummary } from '../../../src-shared/contract';
import { typeName } from '../ggml-types';
import { memorySource, referenceMatmul } from '../reference';
import { compareOutputs } from '../compare';
import { activationsFor, type ActivationSource } from './activations';
import { arithmeticFor } from '../arithmetic/schemes';
import { judgeOutput } from './verdict';
import { storeWeightMap } from './weight-map';
import type { OutputStore } from './outputs';
import { oneLine } from '../../../src-shared/contract';
import { createHash } from 'node:crypto';

export interface RunPlan {
  runId: string;
  file: GgufFile;
  tensors: GgufTensorInfo[];
  batchSizes: number[];
  backend: Backend;
  deviceIndex: number;
  seed: number;
  timing: 'none' | 'hot' | 'cold';
  path: PathChoice;
  compareUnfused: boolean;
  threshold: number | null;
  /** judge every result by this declared arithmetic instead of its path's own (a scheme id) */
  arithmetic?: string | null;
  /** where activations come from (default: gaussian from the seed) */
  activations?: ActivationSource;
  /** the request as the user made it, echoed in run-started */
  request: RunRequest;
  /** where full outputs are kept for error-grid zoom; omitted = not kept */
  outputs?: OutputStore;
  signal: AbortSignal;
  onEvent: (ev: RunEvent) => void;
  /** timing repeats (default 20 after 3 warm-ups on GPUs, 3 after 1 on the cpu) */
  repeats?: number;
  /** the run's user code objects (GPU backends), and the arithmetic each declares by format name */
  session?: SessionOptions;
  userArithmetic?: ReadonlyMap<string, string>;
  warmup?: number;
  /**
   * The run's place in a list of devices (`--device all`, `0,2,5`): results carry it and their ids
   * include it, so the same tensor on two devices (or twice on one) stays two results.
   */
  slot?: number;
  /** where the float64 reference comes from (a run over several devices computes each one once) */
  reference?: (
    tensor: GgufTensorInfo,
    m: number,
    compute: () => Promise<Float64Array>,
  ) => Promise<Float64Array>;
}

export interface RunOutcome {
  status: 'done' | 'cancelled' | 'failed';
  error?: string;
  results: TensorResult[];
  device: DeviceInfo | null;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new CancelledError();
}

function isAbort(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (e instanceof Error && (e.name === 'AbortError' || e.name === 'CancelledError'));
}

export { activationsFor };

export function summarizeTiming(
  t: Timing,
  weightBytes: number,
  m: number,
  n: number,
  k: number,
  device: DeviceInfo | null,
): TimingSummary {
  const sec = t.medianUs * 1e-6;
  const gbps = sec > 0 ? weightBytes / sec / 1e9 : 0;
  const tflops = sec > 0 ? (2 * m * n * k) / sec / 1e12 : 0;
  return {
    protocol: t.protocol,
    medianUs: t.medianUs,
    minUs: t.minUs,
    maxUs: t.maxUs,
    spread: t.spread,
    samples: t.samplesUs.length,
    weightCopies: t.weightCopies,
    gbps,
    tflops,
    pctPeak: device?.peakBandwidthGBs ? (100 * gbps) / device.peakBandwidthGBs : null,
    pctCopy: device?.copyBandwidthGBs ? (100 * gbps) / device.copyBandwidthGBs : null,
  };
}

export async function executeRun(plan: RunPlan): Promise<RunOutcome> {
  const { signal, onEvent, runId } = plan;
  // Jobs grouped by tensor once (tensor order, then batch size): the loop below walks each group,
  // so the run stays linear in the number of tensors.
  const jobsByTensor = plan.tensors.map((tensor) => plan.batchSizes.map((m) => ({ tensor, m })));
  const jobs = jobsByTensor.flat();
  const results: TensorResult[] = [];
  const total = jobs.length;
  onEvent({ type: 'run-started', runId, total, request: plan.request });

  // Progress estimate: work ~ weight bytes x (m + a constant for loading), learnt as we go.
  const work = (j: { tensor: GgufTensorInfo; m: number }) => j.tensor.nbytes * (j.m + 4);
  const totalWork = jobs.reduce((s, j) => s + work(j), 0);
  let doneWork = 0;
  const started = performance.now();

  let session: BackendSession | null = null;
  let device: DeviceInfo | null = null;
  let status: RunOutcome['status'] = 'done';
  let runError: string | undefined;

  const finish = () => {
    const passed = results.filter((r) => r.status === 'pass').length;
    const failed = results.filter((r) => r.status === 'fail').length;
    const errors = results.filter((r) => r.status === 'error').length;
    const notComparable = results.filter((r) => r.status === 'not-comparable').length;
    onEvent({ type: 'run-finished', runId, status, error: runError, passed, failed, errors, notComparable });
  };

  try {
    checkAbort(signal);
    session = await plan.backend.open(plan.deviceIndex, plan.session);
    device = session.device;
    let index = 0;
    for (const tensorJobs of jobsByTensor) {
      if (tensorJobs.length === 0) continue;
      const tensor = tensorJobs[0].tensor;
      checkAbort(signal);
      let data: Uint8Array | null = null;
      let weights: LoadedWeights | null = null;
      let loadError: string | null = null;
      try {
        data = await plan.file.readTensor(tensor);
        checkAbort(signal);
        weights = await session.load({
          type: tensor.type,
          n: tensor.n,
          k: tensor.k,
          data,
          name: tensor.name,
        });
      } catch (e) {
        if (isAbort(e, signal)) throw new CancelledError();
        loadError = `${tensor.name}: ${oneLine(e)}`;
      }
      try {
        for (const job of tensorJobs) {
          checkAbort(signal);
          onEvent({ type: 'job-started', runId, tensor: tensor.name, m: job.m, index, total });
          const t0 = performance.now();
          let result: TensorResult;
          if (loadError !== null || !weights || !data) {
            result = errorResult(plan, tensor, job.m, device, loadError ?? 'weights not loaded', t0);
          } else {
            result = await runJob(plan, session, weights, data, tensor, job.m, device, t0);
          }
          results.push(result);
          onEvent({ type: 'result', runId, result });
          index++;
          doneWork += work(job);
          const elapsed = performance.now() - started;
          const etaMs = doneWork > 0 ? (elapsed * (totalWork - doneWork)) / doneWork : null;
          onEvent({ type: 'progress', runId, done: index, total, etaMs });
        }
      } finally {
        weights?.dispose();
      }
    }
  } catch (e) {
    if (isAbort(e, signal)) status = 'cancelled';
    else {
      status = 'failed';
      runError = oneLine(e);
    }
  } finally {
    if (session) {
      try {
        await session.close();
      } catch (e) {
        if (status === 'done') {
          status = 'failed';
          runError = `closing the ${plan.backend.kind} backend: ${oneLine(e)}`;
        }
      }
    }
  }
  finish();
  return { status, error: runError, results, device };
}

function resultIdOf(plan: RunPlan, tensor: GgufTensorInfo, m: number): string {
  return plan.slot === undefined
    ? `${plan.runId}:${tensor.name}:${m}`
    : `${plan.runId}:${plan.slot}:${tensor.name}:${m}`;
}

/**
 * sha256 (first 16 bytes, hex) of an output buffer exactly as the kernel wrote it: two devices with
 * the same hash for the same job produced bit-identical outputs.
 */
export function outputHash(y: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(y.buffer, y.byteOffset, y.byteLength))
    .digest('hex')
    .slice(0, 32);
}

function baseResult(plan: RunPlan, tensor: GgufTensorInfo, m: number, device: DeviceInfo | null) {
  return {
    resultId: resultIdOf(plan, tensor, m),
    runId: plan.runId,
    tensor: tensor.name,
    type: typeName(tensor.type),
    n: tensor.n,
    k: tensor.k,
    m,
    backend: plan.backend.kind,
    device: device ? `${device.backend}:${device.index} ${device.name}` : plan.backend.kind,
    weightBytes: tensor.nbytes,
    ...(plan.slot === undefined ? {} : { slot: plan.slot, deviceIndex: device?.index ?? plan.deviceIndex }),
  };
}

function errorResult(
  plan: RunPlan,
  tensor: GgufTensorInfo,
  m: number,
  device: DeviceInfo | null,
  error: string,
  t0: number,
): TensorResult {
  return {
    ...baseResult(plan, tensor, m, device),
    path: null,
    status: 'error',
    error,
    threshold: plan.threshold ?? 1e-8,
    metrics: null,
    timing: null,
    unfused: null,
    gridAvailable: false,
    elapsedMs: performance.now() - t0,
  };
}

async function runJob(
  plan: RunPlan,
  session: BackendSession,
  weights: LoadedWeights,
  data: Uint8Array,
  tensor: GgufTensorInfo,
  m: number,
  device: DeviceInfo | null,
  t0: number,
): Promise<TensorResult> {
  const { signal } = plan;
  let x: Float32Array;
  try {
    x = plan.activations
      ? await plan.activations(tensor.name, m, tensor.k)
      : activationsFor(plan.seed, tensor.name, m, tensor.k);
  } catch (e) {
    return errorResult(plan, tensor, m, device, `activations: ${oneLine(e)}`, t0);
  }
  let ref: Float64Array;
  try {
    const compute = () =>
      referenceMatmul(memorySource(tensor.type, tensor.n, tensor.k, data), x, m, { signal });
    ref = plan.reference ? await plan.reference(tensor, m, compute) : await compute();
  } catch (e) {
    if (isAbort(e, signal)) throw new CancelledError();
    return errorResult(plan, tensor, m, device, `reference: ${oneLine(e)}`, t0);
  }
  checkAbort(signal);

  let path: KernelPath | null = null;
  let pathDetail: string | undefined;
  let got: Float32Array | null = null;
  try {
    const r = await session.run(weights, x, m, { path: plan.path, signal });
    path = r.path;
    pathDetail = r.detail;
    got = r.y;
  } catch (e) {
    if (isAbort(e, signal)) throw new CancelledError();
    return errorResult(plan, tensor, m, device, `${plan.backend.kind}: ${oneLine(e)}`, t0);
  }
  let verdict;
  let scheme;
  try {
    // a run's user kernel declares its arithmetic itself (the environment's kernels by variable)
    const declared =
      plan.arithmetic ?? (path === 'custom' ? plan.userArithmetic?.get(typeName(tensor.type)) : null);
    scheme = arithmeticFor(path, typeName(tensor.type), declared);
    verdict = await judgeOutput({
      type: tensor.type,
      n: tensor.n,
      k: tensor.k,
      data,
      x,
      m,
      got,
      scheme,
      threshold: plan.threshold,
      exact: ref,
      runProbe: async (px, rows) => (await session.run(weights, px, rows, { path: plan.path, signal })).y,
      signal,
    });
  } catch (e) {
    if (isAbort(e, signal)) throw new CancelledError();
    return errorResult(plan, tensor, m, device, `judging: ${oneLine(e)}`, t0);
  }
  const { metrics, threshold, status } = verdict;
  const arithmetic = {
    arithmetic: scheme.id,
    arithmeticNmse: verdict.arithmeticNmse,
    diagnosis: verdict.diagnosis,
  };

  let timing: TimingSummary | null = null;
  let timingError: string | undefined;
  const gpu = plan.backend.kind !== 'cpu';
  const timingOpts = {
    warmup: plan.warmup ?? (gpu ? 3 : 1),
    repeats: plan.repeats ?? (gpu ? 20 : 3),
    signal,
  };
  if (plan.timing !== 'none') {
    try {
      const t = await session.time(weights, x, m, { ...timingOpts, protocol: plan.timing, path: plan.path });
      timing = summarizeTiming(t, tensor.nbytes, m, tensor.n, tensor.k, device);
    } catch (e) {
      if (isAbort(e, signal)) throw new CancelledError();
      timingError = `timing: ${oneLine(e)}`;
    }
  }

  let unfused: TensorResult['unfused'] = null;
  if (plan.compareUnfused && gpu) {
    try {
      const r = await session.run(weights, x, m, { path: 'unfused', signal });
      const um = compareOutputs(ref, r.y, m, tensor.n);
      let ut: TimingSummary | null = null;
      if (plan.timing !== 'none') {
        const t = await session.time(weights, x, m, {
          ...timingOpts,
          protocol: plan.timing,
          path: 'unfused',
        });
        ut = summarizeTiming(t, tensor.nbytes, m, tensor.n, tensor.k, device);
      }
      unfused = { timing: ut, metrics: um };
    } catch (e) {
      if (isAbort(e, signal)) throw new CancelledError();
      unfused = { timing: null, metrics: null, error: oneLine(e) };
    }
  }

  const resultId = resultIdOf(plan, tensor, m);
  const gridAvailable = plan.outputs
    ? plan.outputs.put(resultId, { ref: verdict.declared, got, m, n: tensor.n, skipCols: verdict.skipCols })
    : false;
  const weightMap = storeWeightMap(plan.outputs, resultId, verdict.probe);
  return {
    ...baseResult(plan, tensor, m, device),
    path,
    pathDetail: [pathDetail, timingError].filter(Boolean).join('; ') || undefined,
    status,
    ...(verdict.nonFiniteBlocks > 0 ? { nonFiniteBlocks: verdict.nonFiniteBlocks } : {}),
    ...(verdict.notComparable ? { notComparable: verdict.notComparable } : {}),
    threshold,
    metrics,
    timing,
    unfused,
    gridAvailable,
    elapsedMs: performance.now() - t0,
    outputHash: outputHash(got),
    ...arithmetic,
    ...(weightMap ? { weightMap } : {}),
  };
}
