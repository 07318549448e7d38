/**
 * EngineService: the whole engine behind one object, in plain Node. Every face runs work through
 * it: the Electron utility process, `quantscope serve`, and the CLI's verify. Its contract methods
 * validate their arguments with the contract's schemas (see ./api.ts) before anything else.
 */
import { activationSource, describeActivations, isActivationKind } from './run/activations';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type {
  AppInfo,
  BackendKind,
  BackendSummary,
  CheckRequest,
  CodeObjectInfo,
  CompareRequest,
  Comparison,
  ComparisonExportRequest,
  ErrorGrid,
  ErrorGridRequest,
  ModelFileEntry,
  ModelSummary,
  PathCompletion,
  RecordListing,
  RecordReportRequest,
  ReportRequest,
  ReportResult,
  RunEvent,
  RunRecordData,
  RunRequest,
  SelftestRequest,
  SelftestRowData,
  TensorPage,
  TensorPageRequest,
  TensorResult,
  UserKernelRecord,
} from '../../src-shared/contract';
import { LIMITS, NotFoundError, parseApiArgs } from '../../src-shared/contract';
import { typeByName } from './ggml-types';
import { formatSpec } from './formats';
import { parseGeometry } from './backends/gpu/planner';
import type { SessionUserKernel } from './backends/types';
import { selftest, type SelftestRow } from './selftest';
import { judgePair } from './run/check-pair';
import { storeWeightMap, weightMapKey } from './run/weight-map';
import { GgufFile, collapseSplitFiles, type GgufTensorInfo } from './gguf';
import { fileKind } from './gguf/file';
import { TensorIndex, selectTensors, summarizeModel } from './model';
import { applyScaleScan, scanModelScales } from './scales';
import { allStatuses, backendFor } from './backends';
import type { DeviceInfo } from './backends/types';
import { executeRun, type RunPlan } from './run/runner';
import { executeOnDevices } from './devices/run';
import { DeviceProcess } from './devices/process';
import { deviceWorkerBackend } from './devices/remote';
import type { DeviceRunEntry } from '../../src-shared/devices';
import { OutputStore } from './run/outputs';
import { errorGrid } from './compare';
import { renderReport, reportFileName, type ReportInput } from './report/report';
import { APP_VERSION } from './version';
import { appPoolSize, configurePool } from './workers';
import { validateCalls } from './api';
import { isInsideDir, resolveTypedPath } from './paths';
import { completePath, completionRoot, typedPathBase, type CompletionRoot } from './path-complete';
import { oneLine } from '../../src-shared/contract';
import {
  RECORD_RESULTS,
  RecordResults,
  SAVED_HEATMAPS,
  buildRecord,
  buildSelftestRecord,
  reportMaps,
  savedHeatmaps,
  savedWeightGrid,
  tensorsHash,
} from './records/build';
import type { RecordStore } from './records/store';
import type { RecordResult, RunRecord as SavedRecord } from './records/schema';
import {
  compareRecordsIn,
  exportComparisonIn,
  exportRecordReportIn,
  listRecordsIn,
  openRecordIn,
} from './records/access';

export interface EngineOptions {
  mode: AppInfo['mode'];
  /**
   * the bundled sample models, listed as 'sample'; null: none (a server given --models serves only
   * those folders)
   */
  samplesDir: string | null;
  modelDirs: string[];
  /** browser mode: only files under samplesDir/modelDirs open. Electron: the main process vets paths. */
  restrictToDirs: boolean;
  recentFile?: string;
  /**
   * browser mode: the folder uploaded files are kept in (one sub-folder per upload); its files open
   * like those of the model folders and are listed as 'upload'
   */
  uploadDir?: string;
  /** bytes of full outputs kept for heatmap zoom */
  outputCacheBytes?: number;
  /**
   * worker threads for the reference and the cpu backend. Default: one less than the pool would
   * take (the CLI's count), so the UI (and the server answering it) keeps a core while a run
   * saturates the others; the cpu device then says so beside its thread count (appPoolSize).
   */
  workerThreads?: number;
  /** where finished runs are saved as records (docs/records.md); null or absent: not recorded */
  records?: RecordStore | null;
}

/** An open model's handle the engine does not hold (never opened, closed, or another engine's). */
const MODEL_GONE = 'that model is no longer open: open it again';
/** The most results whose maps the HTML report draws. */
const REPORT_MAPS = 40;

interface OpenModel {
  file: GgufFile;
  /** the model's summary without its tensor list, which `index` holds compactly */
  summary: ModelSummary;
  index: TensorIndex;
  lastUsed: number;
}

interface RunRecord {
  runId: string;
  request: RunRequest;
  model: ModelSummary;
  startedAt: string;
  finishedAt?: string;
  status: 'running' | 'done' | 'cancelled' | 'failed';
  error?: string;
  results: TensorResult[];
  device: DeviceInfo | null;
  /** a run over several devices: each device's part (see ./devices/run.ts) */
  devices?: DeviceRunEntry[];
  abort: AbortController;
  done: Promise<void>;
  /** the saved record's file, or why saving failed */
  recordFile?: string;
  recordError?: string;
  /** the user kernels the run loaded, with their hashes */
  userKernels: UserKernelRecord[];
}

/** A selftest in progress (cancelRun stops it like a run). */
interface SelftestJob {
  runId: string;
  abort: AbortController;
  done: Promise<void>;
}

export interface RunOutcome {
  status: RunRecord['status'];
  results: TensorResult[];
  error?: string;
  /** the device the run used; null when it never reached one */
  device: DeviceInfo | null;
  /** a run over several devices: each device's part, in list order */
  devices?: DeviceRunEntry[];
  /** the saved record's file (absent when runs are not recorded), or why it could not be saved */
  recordFile?: string;
  recordError?: string;
}

/** How runInParts runs a request longer than one run may be. */
export interface PartsOptions {
  /** tensors per part: at most, and by default, LIMITS.tensorsPerRun */
  partSize?: number;
  /** each part's results, in run order, once the part has finished (the part is then forgotten) */
  onPart: (results: TensorResult[], part: { status: RunOutcome['status'] }) => void | Promise<void>;
  /** stops the part in progress; no further part starts */
  signal?: AbortSignal;
}

export interface PartsOutcome extends Omit<RunOutcome, 'results'> {
  runId: string;
  /** the report of the whole run, its results left for the caller to supply */
  report: ReportInput;
}

const MAX_OPEN_MODELS = 8;
const MAX_RECENT = 10;
const MAX_RUNS_KEPT = 50;

export class EngineService {
  private readonly models = new Map<string, OpenModel>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly listeners = new Set<(ev: RunEvent) => void>();
  private readonly outputs: OutputStore;
  private active: RunRecord | null = null;
  private activeSelftest: SelftestJob | null = null;
  /**
   * a run or selftest between its start call and its becoming active (the checks before it await
   * file reads): a second start in that window is refused like one during the run
   */
  private starting = false;
  /** the ids of recent finished selftests: cancelling one is a no-op, as for a finished run */
  private finishedSelftests = new Set<string>();

  constructor(private readonly opts: EngineOptions) {
    this.outputs = new OutputStore(opts.outputCacheBytes);
    const app = appPoolSize();
    void (opts.workerThreads === undefined
      ? configurePool(app.size, app.kept)
      : configurePool(opts.workerThreads));
    validateCalls(this);
  }

  async appInfo(): Promise<AppInfo> {
    return { version: APP_VERSION, mode: this.opts.mode, platform: `${process.platform}-${process.arch}` };
  }

  async listModelFiles(): Promise<ModelFileEntry[]> {
    const out: ModelFileEntry[] = [];
    const seen = new Set<string>();
    // Files under a folder are named by their path inside it (sub/model.gguf), recent ones by base name.
    const add = async (p: string, source: string, root?: string) => {
      const abs = path.resolve(p);
      if (seen.has(abs)) return;
      try {
        const st = await fs.stat(abs);
        if (!st.isFile()) return;
        // A link inside a folder that points outside the folders this server may open is not offered.
        if (this.opts.restrictToDirs && !this.allowed(await fs.realpath(abs))) return;
        seen.add(abs);
        const name = root
          ? path.relative(path.resolve(root), abs).split(path.sep).join('/')
          : path.basename(abs);
        out.push({ path: abs, name, size: st.size, source });
      } catch {
        /* gone since it was listed: skip */
      }
    };
    const samples = this.opts.samplesDir;
    if (samples !== null) for (const p of await ggufFilesIn(samples)) await add(p, 'sample', samples);
    for (const dir of this.opts.modelDirs)
      for (const p of await ggufFilesIn(dir)) await add(p, 'models', dir);
    if (this.opts.uploadDir) for (const p of await ggufFilesIn(this.opts.uploadDir)) await add(p, 'upload');
    for (const p of await this.recent()) if (this.allowed(p)) await add(p, 'recent');
    return collapseSplitFiles(out);
  }

  async completePath(prefix: string): Promise<PathCompletion[]> {
    return completePath(prefix, await this.completionRoots());
  }

  async openModel(p: string): Promise<ModelSummary> {
    const abs = await this.typedPath(p);
    if (this.opts.restrictToDirs) {
      const real = await fs.realpath(abs).catch(() => abs);
      if (!this.allowed(real))
        throw new Error(`${path.basename(abs)} is outside the model folders this server may open`);
    }
    const t0 = performance.now();
    let file: GgufFile;
    try {
      // the further files of a split model are held to the same folders as the one named
      file = await GgufFile.open(abs, { checkShard: (p) => this.checkShard(p) });
    } catch (e) {
      throw new Error(`cannot open ${path.basename(abs)}: ${oneLine(e)}`);
    }
    const modelId = randomUUID();
    const summary = summarizeModel(file, modelId, performance.now() - t0, { tensors: false });
    const index = new TensorIndex(file.header.tensors, file.shards.length > 1);
    // small models are scanned for NaN/Inf block scales now; larger ones per tensor when run (./scales.ts)
    try {
      applyScaleScan(summary, index, await scanModelScales(file));
    } catch (e) {
      await file.close().catch(() => undefined);
      throw new Error(`cannot open ${path.basename(abs)}: ${oneLine(e)}`);
    }
    summary.openMs = performance.now() - t0;
    this.models.set(modelId, { file, summary, index, lastUsed: Date.now() });
    await this.evictModels();
    await this.remember(abs);
    // A large tensor list is not sent in one piece: the faces page through listTensors.
    if (index.length > LIMITS.tensorPage) return { ...summary, tensors: [], tensorsPaged: true };
    return { ...summary, tensors: index.page(0, index.length) };
  }

  /** Tensors [offset, offset + limit) of an open model, in file order. */
  async listTensors(req: TensorPageRequest): Promise<TensorPage> {
    const model = this.models.get(req.modelId);
    if (!model) throw new NotFoundError(MODEL_GONE);
    return {
      modelId: req.modelId,
      offset: req.offset,
      total: model.index.length,
      tensors: model.index.page(req.offset, req.limit),
    };
  }

  async devices(): Promise<BackendSummary[]> {
    return allStatuses();
  }

  async startRun(req: RunRequest): Promise<{ runId: string }> {
    return this.start(req, { record: true });
  }

  /**
   * Every tensor of `req.tensors`, however many, in successive runs of at most `partSize` (the
   * contract's per-run cap, LIMITS.tensorsPerRun): for the command line, in this process. Each part
   * is validated like a startRun request, runs under the same run id (cancelRun stops the part in
   * progress, and no further part starts), hands its results to `onPart` and is then forgotten, so
   * at most one part's results are held. One record is saved for the whole, keeping at most
   * RECORD_RESULTS results (./records/build.ts). The report of the whole is `report` with the
   * results the caller kept from onPart.
   */
  async runInParts(req: RunRequest, opts: PartsOptions): Promise<PartsOutcome> {
    const partSize = Math.max(1, Math.min(opts.partSize ?? LIMITS.tensorsPerRun, LIMITS.tensorsPerRun));
    const model = this.models.get(req.modelId);
    if (!model) throw new NotFoundError(MODEL_GONE);
    const count = req.tensors.length;
    if (count === 0) throw new Error('no tensors to run');
    // every part is checked before the first starts: a bad name late in the list is not a late surprise
    const parts: RunRequest[] = [];
    for (let i = 0; i < count; i += partSize)
      parts.push(parseApiArgs('startRun', [{ ...req, tensors: req.tensors.slice(i, i + partSize) }])[0]);
    for (const part of parts)
      for (const name of part.tensors) {
        const t = model.file.find(name);
        if (!t) throw new Error(`no tensor named '${name}' in ${model.summary.fileName}`);
        if (!t.supported)
          throw new Error(`${name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
      }
    const runId = randomUUID().slice(0, 8);
    const kept = new RecordResults<RecordResult>();
    const ran: string[] = [];
    const maps: NonNullable<ReportInput['maps']> = {};
    let heatmaps = 0;
    let first: RunRecord | null = null;
    let last: RunRecord | null = null;
    let devices: DeviceRunEntry[] | undefined;
    let active: string | null = null;
    let partsRun = 0;
    const onAbort = () => {
      if (active) void this.cancelRun(active).catch(() => undefined);
    };
    opts.signal?.addEventListener('abort', onAbort);
    try {
      for (const part of parts) {
        if (first && opts.signal?.aborted) break;
        await this.start(part, { record: false, runId });
        active = runId;
        if (opts.signal?.aborted) onAbort();
        const r = this.runs.get(runId)!;
        await r.done;
        active = null;
        first ??= r;
        last = r;
        partsRun++;
        devices = devices && r.devices ? mergeDevices(devices, r.devices) : (devices ?? r.devices);
        if (this.opts.records) {
          // the heatmaps a record keeps (failures first) while this part's outputs are still here
          const withHeat = this.heatmapIds(r.results, SAVED_HEATMAPS - heatmaps);
          heatmaps += withHeat.size;
          for (const x of r.results) kept.add(this.recordRow(x, withHeat));
        }
        for (const [id, m] of Object.entries(
          this.reportMaps(r.results, REPORT_MAPS - Object.keys(maps).length),
        ))
          maps[id] = m;
        for (const x of r.results) ran.push(x.tensor);
        this.runs.delete(runId);
        await opts.onPart(r.results, r);
        r.results = []; // the caller has them; first and last keep only the part's facts
        if (r.status !== 'done') break;
      }
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
      if (active) this.runs.delete(active);
    }
    if (!first || !last) throw new Error('no part of the run started');
    // parts left unrun after a cancel between two parts leave the whole cancelled
    const status = last.status === 'done' && partsRun < parts.length ? 'cancelled' : last.status;
    const whole: RunRecord = {
      ...first,
      request: { ...parts[0], tensors: req.tensors },
      status,
      error: last.error,
      finishedAt: last.finishedAt,
      results: [],
      ...(devices ? { devices } : {}),
    };
    if (this.opts.records) await this.saveRecord(whole, model.file, { kept, names: ran });
    return {
      runId,
      status: whole.status,
      ...(whole.error ? { error: whole.error } : {}),
      device: whole.device,
      ...(devices ? { devices } : {}),
      recordFile: whole.recordFile,
      recordError: whole.recordError,
      report: this.reportInput(whole, { maps }),
    };
  }

  private async start(
    req: RunRequest,
    opts: { record: boolean; runId?: string },
  ): Promise<{ runId: string }> {
    return this.reserved(() => this.startChecked(req, opts));
  }

  /** Runs a start while holding the device slot: a second start meanwhile is refused (ensureIdle). */
  private async reserved<T>(start: () => Promise<T>): Promise<T> {
    this.ensureIdle();
    this.starting = true;
    try {
      return await start();
    } finally {
      this.starting = false;
    }
  }

  private async startChecked(
    req: RunRequest,
    opts: { record: boolean; runId?: string },
  ): Promise<{ runId: string }> {
    const model = this.models.get(req.modelId);
    if (!model) throw new NotFoundError(MODEL_GONE);
    model.lastUsed = Date.now();
    const named = new Set<string>();
    for (const name of req.tensors) {
      if (named.has(name)) throw new Error(`tensor '${name}' is named twice in the run`);
      named.add(name);
    }
    const tensors = req.tensors.map((name) => {
      const t = model.file.find(name);
      if (!t) throw new Error(`no tensor named '${name}' in ${model.summary.fileName}`);
      if (!t.supported)
        throw new Error(`${name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
      return t;
    });
    // the devices named must exist: a bad index is bad input, not a failed run (an unavailable
    // backend is left to the run, which fails and is recorded as such). A device may be named more
    // than once: each entry is its own worker (--device 0,0)
    const onDevices = req.devices ?? [req.deviceIndex];
    const status = await backendFor(req.backend).status();
    if (status.available)
      for (const d of onDevices)
        if (d >= status.devices.length)
          throw new Error(
            `${req.backend}:${d} does not exist (${status.devices.length} ${req.backend} device${status.devices.length === 1 ? '' : 's'})`,
          );
    // generated activations are made here (the model's own embeddings need the file); a file of
    // activations opens only where a model could (the browser mode's folders)
    // (links resolved, a regular file, inside the served folders in browser mode: userFile)
    const asked = req.activations ?? 'gaussian';
    const spec = isActivationKind(asked) ? asked : await this.userFile(asked, 'activations file');
    const activations = await activationSource(spec, req.seed >>> 0, model.file);
    const userKernels = await this.userKernels(req);
    // user kernels run in a device process: a kernel that faults can cost that process, not the engine
    // (QS_ISOLATE=0 keeps them in the engine's process, QS_ISOLATE=1 isolates every GPU run)
    const isolateEnv = process.env.QS_ISOLATE;
    const isolate =
      req.backend !== 'cpu' &&
      isolateEnv !== '0' &&
      (isolateEnv === '1' || userKernels.session.length > 0 || customKernelsInEnv());
    const backend = isolate
      ? deviceWorkerBackend(backendFor(req.backend), () => new DeviceProcess(), { restart: true })
      : backendFor(req.backend);
    const runId = opts.runId ?? randomUUID().slice(0, 8);
    const abort = new AbortController();
    const record: RunRecord = {
      runId,
      request: req,
      model: model.summary,
      startedAt: new Date().toISOString(),
      status: 'running',
      results: [],
      device: null,
      abort,
      done: Promise.resolve(),
      userKernels: userKernels.records,
    };
    this.runs.set(runId, record);
    this.active = record;
    this.trimRuns();
    const plan: Omit<RunPlan, 'deviceIndex'> = {
      runId,
      file: model.file,
      tensors,
      batchSizes: [...new Set(req.batchSizes)],
      backend,
      seed: req.seed >>> 0,
      timing: req.timing,
      path: req.path,
      compareUnfused: req.compareUnfused,
      threshold: req.threshold,
      arithmetic: req.arithmetic ?? null,
      activations,
      repeats: req.repeats,
      session: { userKernels: userKernels.session },
      userArithmetic: userKernels.arithmetic,
      request: req,
      outputs: this.outputs,
      signal: abort.signal,
      onEvent: (ev) => {
        if (ev.type === 'result') {
          record.results.push(ev.result);
          // a run's scan of the tensor's scales is kept for the model's later summaries
          const t = model.file.find(ev.result.tensor);
          if (t?.supported && ev.result.status !== 'error')
            model.index.setNonFinite(t.index, ev.result.nonFiniteBlocks ?? 0);
        }
        if (ev.type === 'run-finished') {
          record.status = ev.status;
          record.error = ev.error;
          record.finishedAt = new Date().toISOString();
        }
        this.emit(ev);
      },
    };
    const devices = req.devices;
    const run = devices
      ? executeOnDevices({
          ...plan,
          backend: backendFor(req.backend),
          devices,
          ...(isolate ? { thread: () => new DeviceProcess() } : {}),
        }).then((outcome) => {
          record.devices = outcome.devices;
          // the first device that opened stands for the run where one device is expected
          record.device = outcome.deviceInfos.find((d) => d !== null) ?? null;
        })
      : executeRun({ ...plan, deviceIndex: req.deviceIndex }).then((outcome) => {
          record.device = outcome.device;
        });
    record.done = run
      .catch((e) => {
        record.status = 'failed';
        record.error = oneLine(e);
      })
      .then(() => (opts.record ? this.saveRecord(record, model.file) : undefined))
      .finally(() => {
        if (this.active === record) this.active = null;
      });
    return { runId };
  }

  async cancelRun(runId: string): Promise<void> {
    const st = this.activeSelftest;
    if (st && st.runId === runId) {
      st.abort.abort();
      await st.done;
      return;
    }
    if (this.finishedSelftests.has(runId)) return;
    const r = this.runs.get(runId);
    if (!r) throw new NotFoundError(`no run ${runId}`);
    r.abort.abort();
    await r.done;
  }

  onRunEvent(cb: (ev: RunEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  async errorGrid(req: ErrorGridRequest): Promise<ErrorGrid> {
    const o = this.outputs.get(req.resultId);
    if (!o)
      throw new Error(
        'the outputs of that result are no longer kept: run the tensor again to see its heatmap',
      );
    const grid = errorGrid(o.ref, o.got, o.m, o.n, {
      rowStart: req.rowStart,
      rowEnd: req.rowEnd,
      colStart: req.colStart,
      colEnd: req.colEnd,
      maxRows: req.maxRows,
      maxCols: req.maxCols,
      metric: req.metric,
      skipCols: o.skipCols,
    });
    return { resultId: req.resultId, ...grid };
  }

  async exportReport(req: ReportRequest): Promise<ReportResult> {
    const r = this.runs.get(req.runId);
    if (!r) throw new NotFoundError(`no run ${req.runId}`);
    const input = this.reportInput(r);
    return { fileName: reportFileName(input, req.format), content: renderReport(input, req.format) };
  }

  // Users' kernels, the selftest, and outputs made elsewhere.

  async codeObjectInfo(p: string): Promise<CodeObjectInfo> {
    const real = await this.userFile(p, 'code object');
    const { size, sha256 } = await hashFile(real, LIMITS.codeObjectBytes, 'code object');
    return { path: real, fileName: path.basename(real), size, sha256 };
  }

  async startSelftest(req: SelftestRequest): Promise<{ runId: string }> {
    return this.reserved(() => this.startSelftestChecked(req));
  }

  private async startSelftestChecked(req: SelftestRequest): Promise<{ runId: string }> {
    const types = req.formats?.map((f) => {
      const t = typeByName(f);
      if (!t || !t.supported) throw new Error(`selftest: '${f}' is not a supported format`);
      if (req.backend !== 'cpu' && !formatSpec(t.id)?.gpu)
        throw new Error(`selftest: ${t.name} has no ${req.backend} kernel`);
      return t.id;
    });
    const backend = backendFor(req.backend);
    const st = await backend.status();
    if (!st.available) throw new Error(`${req.backend} is unavailable: ${st.reason ?? 'unknown reason'}`);
    const runId = `selftest-${randomUUID().slice(0, 8)}`;
    const abort = new AbortController();
    const job: SelftestJob = { runId, abort, done: Promise.resolve() };
    this.activeSelftest = job;
    let passed = 0;
    let failed = 0;
    const run = async () => {
      let status: 'done' | 'cancelled' | 'failed' = 'done';
      let error: string | undefined;
      const rows: SelftestRow[] = [];
      let device: DeviceInfo | null = null;
      try {
        const res = await selftest(backend, {
          deviceIndex: req.deviceIndex,
          quick: req.quick,
          seed: req.seed ?? 1234,
          types,
          signal: abort.signal,
          onStart: (total, label, info) => {
            // kept now: a cancelled selftest's record still names its device
            device = info;
            this.emit({ type: 'selftest-started', runId, total, device: label, request: req });
          },
          onRow: (row, index, total) => {
            rows.push(row);
            if (row.result === 'pass') passed++;
            else failed++;
            this.emit({ type: 'selftest-row', runId, index, total, row: row as SelftestRowData });
          },
        });
        device = res.device;
      } catch (e) {
        if (abort.signal.aborted) status = 'cancelled';
        else {
          status = 'failed';
          error = oneLine(e);
        }
      }
      // the case a cancel cuts short leaves no row; the selftest as a whole was cancelled
      if (abort.signal.aborted) status = 'cancelled';
      this.saveOther(() =>
        buildSelftestRecord({
          backend: req.backend,
          deviceIndex: req.deviceIndex ?? 0,
          quick: !!req.quick,
          seed: req.seed ?? 1234,
          ...(req.formats ? { formats: req.formats } : {}),
          device,
          rows,
          status,
          error,
        }),
      );
      this.emit({ type: 'selftest-finished', runId, status, error, passed, failed });
    };
    job.done = run().finally(() => {
      if (this.activeSelftest === job) this.activeSelftest = null;
      this.finishedSelftests.add(job.runId);
      if (this.finishedSelftests.size > 64)
        this.finishedSelftests.delete(this.finishedSelftests.values().next().value as string);
    });
    return { runId };
  }

  async checkPair(req: CheckRequest): Promise<TensorResult> {
    const model = this.models.get(req.modelId);
    if (!model) throw new NotFoundError(MODEL_GONE);
    model.lastUsed = Date.now();
    const input = req.input === 'identity' ? 'identity' : await this.userFile(req.input, 'input');
    const output = await this.userFile(req.output, 'output');
    const runId = `check-${randomUUID().slice(0, 8)}`;
    const { result, verdict, got } = await judgePair(model.file, {
      tensor: req.tensor,
      input,
      output,
      m: req.m,
      arithmetic: req.arithmetic ?? null,
      threshold: req.threshold ?? null,
      runId,
    });
    const gridAvailable = this.outputs.put(result.resultId, {
      ref: verdict.declared,
      got,
      m: result.m,
      n: result.n,
      skipCols: verdict.skipCols,
    });
    const weightMap = storeWeightMap(this.outputs, result.resultId, verdict.probe);
    const hash = this.opts.records ? await tensorsHash(model.file, [result.tensor]) : null;
    this.saveOther(() =>
      buildRecord({
        kind: 'check',
        device: null,
        model: {
          fileName: model.summary.fileName,
          path: model.summary.path,
          fileSize: model.summary.fileSize,
          tensorsHash: hash,
        },
        request: {
          tensors: [result.tensor],
          batchSizes: [result.m],
          path: 'custom',
          arithmetic: result.arithmetic ?? 'f32',
          activations: input === 'identity' ? 'identity' : `file ${path.basename(input)}`,
          input: input === 'identity' ? 'identity (the k × k identity)' : input,
          output,
          threshold: req.threshold ?? null,
        },
        status: 'done',
        results: [
          {
            ...result,
            arithmeticError: result.arithmeticNmse ?? null,
            heatmap: savedHeatmaps(verdict.declared, got, result.m, result.n, verdict.skipCols),
            ...(weightMap ? { weightMap: { ...weightMap, grid: this.weightGridOf(result.resultId) } } : {}),
          } as unknown as RecordResult,
        ],
      }),
    );
    return { ...result, gridAvailable, ...(weightMap ? { weightMap } : {}) };
  }

  async weightGrid(req: ErrorGridRequest): Promise<ErrorGrid> {
    const o = this.outputs.get(weightMapKey(req.resultId));
    if (!o)
      throw new Error(
        'the probed weights of that result are no longer kept: run the tensor again to see its weight map',
      );
    const grid = errorGrid(o.ref, o.got, o.m, o.n, {
      rowStart: req.rowStart,
      rowEnd: req.rowEnd,
      colStart: req.colStart,
      colEnd: req.colEnd,
      maxRows: req.maxRows,
      maxCols: req.maxCols,
      metric: req.metric,
      skipRows: o.skipRows,
    });
    return { resultId: req.resultId, ...grid };
  }

  // The saved runs (History): read from this engine's records folder, by id only.

  async listRecords(): Promise<RecordListing> {
    return listRecordsIn(this.opts.records);
  }

  async openRecord(id: string): Promise<RunRecordData> {
    return openRecordIn(this.opts.records, id);
  }

  async exportRecordReport(req: RecordReportRequest): Promise<ReportResult> {
    return exportRecordReportIn(this.opts.records, req);
  }

  async compareRecords(req: CompareRequest): Promise<Comparison> {
    return compareRecordsIn(this.opts.records, req);
  }

  async exportComparison(req: ComparisonExportRequest): Promise<ReportResult> {
    return exportComparisonIn(this.opts.records, req);
  }

  /** The finished run, for callers in the same process (the CLI, tests). */
  async waitForRun(runId: string): Promise<RunOutcome> {
    const r = this.runs.get(runId);
    if (!r) throw new NotFoundError(`no run ${runId}`);
    await r.done;
    return {
      status: r.status,
      results: r.results,
      error: r.error,
      device: r.device,
      ...(r.devices ? { devices: r.devices } : {}),
      recordFile: r.recordFile,
      recordError: r.recordError,
    };
  }

  /** One backend's status, without probing the others (the CLI checks it before a run). */
  async backendStatus(kind: BackendKind): Promise<BackendSummary> {
    return backendFor(kind).status();
  }

  /** The tensors of an open model that globs select (see selectTensors in ./model.ts). */
  selectTensors(
    modelId: string,
    spec?: string,
  ): { supported: GgufTensorInfo[]; unsupported: GgufTensorInfo[] } {
    const model = this.models.get(modelId);
    if (!model) throw new NotFoundError(MODEL_GONE);
    return selectTensors(model.index.tensors, spec);
  }

  async dispose(): Promise<void> {
    if (this.active) {
      this.active.abort.abort();
      await this.active.done;
    }
    if (this.activeSelftest) {
      this.activeSelftest.abort.abort();
      await this.activeSelftest.done;
    }
    for (const m of this.models.values()) await m.file.close().catch(() => undefined);
    this.models.clear();
    this.listeners.clear();
  }

  /** A run's report input; `over.maps` replaces the maps drawn from the outputs still kept. */
  private reportInput(r: RunRecord, over?: { maps: NonNullable<ReportInput['maps']> }): ReportInput {
    return {
      runId: r.runId,
      createdAt: r.finishedAt ?? new Date().toISOString(),
      startedAt: r.startedAt,
      appVersion: APP_VERSION,
      host: `${os.hostname()} (${process.platform}-${process.arch}, node ${process.version})`,
      model: {
        fileName: r.model.fileName,
        path: r.model.path,
        fileSize: r.model.fileSize,
        ...(r.model.files ? { files: r.model.files.length } : {}),
        architecture: r.model.architecture,
        name: r.model.name,
      },
      device: r.device,
      backend: r.request.backend,
      request: {
        batchSizes: r.request.batchSizes,
        seed: r.request.seed,
        timing: r.request.timing,
        path: r.request.path,
        threshold: r.request.threshold,
        tensors: r.request.tensors.length,
        arithmetic: r.request.arithmetic ?? null,
        activations: describeActivations(r.request.activations ?? 'gaussian', r.request.seed),
        ...(r.userKernels.length ? { userKernels: r.userKernels } : {}),
      },
      status: r.status,
      error: r.error,
      results: r.results,
      maps: over?.maps ?? this.reportMaps(r.results),
      ...(r.devices ? { devices: r.devices } : {}),
    };
  }

  /**
   * Saves a finished run as a record; a failure to save is kept with the run, never thrown. A run
   * in parts passes the results its record keeps and the tensors that ran, gathered part by part.
   */
  private async saveRecord(
    r: RunRecord,
    file: GgufFile,
    parts?: { kept: RecordResults<RecordResult>; names: readonly string[] },
  ): Promise<void> {
    const store = this.opts.records;
    if (!store) return;
    try {
      let kept = parts?.kept;
      if (!kept) {
        kept = new RecordResults<RecordResult>();
        const withHeat = this.heatmapIds(r.results, SAVED_HEATMAPS);
        for (const x of r.results) kept.add(this.recordRow(x, withHeat));
      }
      const names = [...new Set(parts ? parts.names : r.results.map((x) => x.tensor))];
      const omitted = kept.omitted();
      // a list of tensor names as long as the results a record keeps; beyond it, their number
      const tensors = r.request.tensors;
      const rec = buildRecord({
        kind: 'verify',
        createdAt: new Date(r.finishedAt ?? Date.now()),
        device: r.device,
        model: {
          fileName: r.model.fileName,
          path: r.model.path,
          fileSize: r.model.fileSize,
          tensorsHash: names.length > 0 ? await tensorsHash(file, names) : null,
          // what the run's report says of the model, so a report made from the record says it too
          architecture: r.model.architecture,
          name: r.model.name,
          ...(r.model.files ? { files: r.model.files.length } : {}),
        },
        request: {
          ...(tensors.length <= RECORD_RESULTS ? { tensors } : { tensorCount: tensors.length }),
          batchSizes: r.request.batchSizes,
          path: r.request.path,
          seed: r.request.seed,
          timing: r.request.timing,
          threshold: r.request.threshold,
          backend: r.request.backend,
          ...(r.request.arithmetic ? { arithmetic: r.request.arithmetic } : {}),
          activations: r.request.activations ?? 'gaussian',
          ...(r.request.repeats ? { repeats: r.request.repeats } : {}),
          ...(r.userKernels.length ? { userKernels: r.userKernels } : {}),
        },
        status: r.status,
        error: r.error,
        results: kept.rows(),
        ...(r.devices ? { devices: r.devices } : {}),
        extra: { startedAt: r.startedAt, ...(omitted ? { omittedResults: omitted } : {}) },
      });
      r.recordFile = store.save(rec);
    } catch (e) {
      r.recordError = oneLine(e);
    }
  }

  /** The results whose heatmaps a record keeps: failures first, then in order, while outputs are kept. */
  private heatmapIds(results: readonly TensorResult[], limit: number): Set<string> {
    const out = new Set<string>();
    if (limit <= 0) return out;
    for (const failed of [true, false])
      for (const x of results) {
        if (out.size >= limit) return out;
        if ((x.status === 'fail') === failed && this.outputs.get(x.resultId)) out.add(x.resultId);
      }
    return out;
  }

  /**
   * A result as its record keeps it: TensorResult is a RecordResult with more fields (kept: the
   * schema passes them through); the record names the arithmetic error arithmeticError.
   */
  private recordRow(x: TensorResult, withHeat: ReadonlySet<string>): RecordResult {
    const kept = withHeat.has(x.resultId);
    const grid = kept && x.weightMap ? this.weightGridOf(x.resultId) : undefined;
    return {
      ...x,
      arithmeticError: x.arithmeticNmse ?? null,
      ...(kept ? { heatmap: this.heatmapOf(x.resultId) } : {}),
      ...(grid && x.weightMap ? { weightMap: { ...x.weightMap, grid } } : {}),
    } as unknown as RecordResult;
  }

  /**
   * The maps the HTML report draws inline: every failure's (with its weight map where the probe
   * left one), then the others in order, up to REPORT_MAPS, while their outputs are still kept.
   */
  private reportMaps(results: readonly TensorResult[], limit = REPORT_MAPS) {
    const maps: NonNullable<ReportInput['maps']> = {};
    if (limit <= 0) return maps;
    const order = [...results].sort((a, b) => Number(b.status === 'fail') - Number(a.status === 'fail'));
    let n = 0;
    for (const r of order) {
      if (n >= limit) break;
      const o = this.outputs.get(r.resultId);
      if (!o) continue;
      const w = this.outputs.get(weightMapKey(r.resultId));
      maps[r.resultId] = reportMaps(o, w ?? null);
      n++;
    }
    return maps;
  }

  /** A result's heatmap for its record, from the outputs kept for it (undefined when gone). */
  private heatmapOf(resultId: string) {
    const o = this.outputs.get(resultId);
    return o ? savedHeatmaps(o.ref, o.got, o.m, o.n, o.skipCols) : undefined;
  }

  /** A FAIL's weight map for its record, from the probed weights kept for it (undefined when gone). */
  private weightGridOf(resultId: string) {
    const w = this.outputs.get(weightMapKey(resultId));
    return w ? savedWeightGrid(w) : undefined;
  }

  /** Saves a selftest's or a check's record; like a run's, a failure to save is never thrown. */
  private saveOther(make: () => SavedRecord): void {
    const store = this.opts.records;
    if (!store) return;
    try {
      store.save(make());
    } catch {
      // the result is on screen; History simply lacks it
    }
  }

  /** One thing at a time on the devices: a run or a selftest. */
  private ensureIdle(): void {
    if (this.active || this.starting)
      throw new Error('a run is already in progress: cancel it or wait for it to finish');
    if (this.activeSelftest) throw new Error('a selftest is in progress: cancel it or wait for it to finish');
  }

  /**
   * A file the user named for a run (a code object, activations or outputs): it must exist and be a
   * regular file, and in browser mode lie (links resolved) under the folders this server may open.
   * Returns its resolved path, so a link swapped afterwards cannot redirect the read.
   */
  private async userFile(p: string, what: string): Promise<string> {
    // a relative path is taken where the model path field takes it (typedPath)
    const abs = await this.typedPath(p);
    let real: string;
    try {
      real = await fs.realpath(abs);
    } catch {
      // in browser mode a missing file outside the folders gets the same answer as one that exists
      // there (its nearest existing folder, links resolved, decides), so nothing outside is probed
      if (this.opts.restrictToDirs && !this.allowed(await realAncestor(abs)))
        throw new Error(`${what} ${p} is outside the folders this server may open`);
      throw new Error(`${what} ${p}: no such file`);
    }
    if (this.opts.restrictToDirs && !this.allowed(real))
      throw new Error(`${what} ${p} is outside the folders this server may open`);
    const st = await fs.stat(real);
    if (!st.isFile()) throw new Error(`${what} ${p} is ${fileKind(st)}, not a regular file`);
    return real;
  }

  /** A run's user kernels checked, hashed and made ready for the session; none on the cpu. */
  private async userKernels(req: RunRequest): Promise<{
    records: UserKernelRecord[];
    session: SessionUserKernel[];
    arithmetic: Map<string, string>;
  }> {
    const records: UserKernelRecord[] = [];
    const session: SessionUserKernel[] = [];
    const arithmetic = new Map<string, string>();
    const list = req.userKernels ?? [];
    if (list.length > 0 && req.backend === 'cpu')
      throw new Error('user kernels are GPU code objects: choose the cuda or hip backend to run them');
    for (const u of list) {
      const t = typeByName(u.format);
      if (!t || !t.supported || !formatSpec(t.id)?.gpu)
        throw new Error(`user kernel ${u.format}: not a format with GPU kernels`);
      const what = `${t.name} user kernel`;
      // geometry errors are the user's to fix before the run, not one per tensor
      const probe = { m: 1, n: 1, k: 1 };
      if (u.grid) parseGeometry(u.grid, probe, `${what} grid`);
      if (u.block) parseGeometry(u.block, probe, `${what} block`);
      const real = await this.userFile(u.path, what);
      const { size, sha256 } = await hashFile(real, LIMITS.codeObjectBytes, what);
      records.push({ ...u, format: t.name, path: real, size, sha256 });
      session.push({ type: t.id, path: real, grid: u.grid, block: u.block, shared: u.shared });
      if (u.arithmetic) arithmetic.set(t.name, u.arithmetic);
    }
    return { records, session, arithmetic };
  }

  /** Browser mode: the served folders that exist, each once; elsewhere null (completion anywhere). */
  private async completionRoots(): Promise<CompletionRoot[] | null> {
    if (!this.opts.restrictToDirs) return null;
    const roots: CompletionRoot[] = [];
    for (const d of this.servedDirs()) {
      const r = await completionRoot(d);
      if (r && !roots.some((x) => x.real === r.real)) roots.push(r);
    }
    return roots;
  }

  /**
   * The absolute path of a path as typed (a model, an activations file, a code object, a check's
   * input or output), resolved where completePath resolves it (browser mode: the first served
   * folder; the desktop app: the home folder, `~` too), so what completes is what opens. The command
   * line has no completion: its paths are the shell's, taken in the working directory.
   */
  private async typedPath(p: string): Promise<string> {
    const roots = await this.completionRoots();
    if (!roots && this.opts.mode === 'cli') return path.resolve(p);
    const base = typedPathBase(roots);
    // no served folder exists: nothing opens, and openModel's refusal says so
    if (base === null) return path.resolve(p);
    return resolveTypedPath(p, base, roots ? undefined : os.homedir());
  }

  private emit(ev: RunEvent): void {
    for (const cb of this.listeners) {
      try {
        cb(ev);
      } catch {
        /* a broken listener must not stop the run */
      }
    }
  }

  /** A further file of a split model: where only some folders may be opened, it must lie in one. */
  private async checkShard(p: string): Promise<void> {
    // each upload has a folder of its own: a split model's other files are there only when they
    // were uploaded with it (one upload set)
    if (this.opts.uploadDir && isInsideDir(this.opts.uploadDir, p) && !(await fs.lstat(p).catch(() => null)))
      throw new Error(
        `it is one file of a split model, and its other files were not uploaded with it: upload all of its files together`,
      );
    if (!this.opts.restrictToDirs) return;
    const real = await fs.realpath(p).catch(() => null);
    if (real !== null && !this.allowed(real))
      throw new Error(
        `${path.basename(p)}, a file of this split model, is outside the model folders this server may open`,
      );
  }

  private allowed(p: string): boolean {
    const dirs = [...this.servedDirs()];
    if (this.opts.uploadDir) dirs.push(this.opts.uploadDir);
    return dirs.some((d) => isInsideDir(d, p));
  }

  /** The model folders, then the samples folder where there is one. */
  private servedDirs(): string[] {
    return this.opts.samplesDir === null
      ? this.opts.modelDirs
      : [...this.opts.modelDirs, this.opts.samplesDir];
  }

  private async evictModels(): Promise<void> {
    if (this.models.size <= MAX_OPEN_MODELS) return;
    const inUse = this.active?.request.modelId;
    const byAge = [...this.models.entries()]
      .filter(([id]) => id !== inUse)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    while (this.models.size > MAX_OPEN_MODELS && byAge.length) {
      const [id, m] = byAge.shift()!;
      this.models.delete(id);
      await m.file.close().catch(() => undefined);
    }
  }

  private trimRuns(): void {
    while (this.runs.size > MAX_RUNS_KEPT) {
      const oldest = this.runs.keys().next().value as string;
      if (this.runs.get(oldest) === this.active) break;
      this.runs.delete(oldest);
    }
  }

  private async recent(): Promise<string[]> {
    if (!this.opts.recentFile) return [];
    try {
      const list = JSON.parse(await fs.readFile(this.opts.recentFile, 'utf8'));
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  }

  private async remember(p: string): Promise<void> {
    if (!this.opts.recentFile) return;
    const list = [p, ...(await this.recent()).filter((x) => x !== p)].slice(0, MAX_RECENT);
    try {
      await fs.mkdir(path.dirname(this.opts.recentFile), { recursive: true });
      await fs.writeFile(this.opts.recentFile, JSON.stringify(list, null, 2));
    } catch {
      /* the recent list is a convenience; failing to save it must not fail the open */
    }
  }
}

/** sha256 and size of a file, streamed; refuses one larger than maxBytes. */
export async function hashFile(
  file: string,
  maxBytes: number,
  what: string,
): Promise<{ size: number; sha256: string }> {
  const st = await fs.stat(file);
  if (st.size > maxBytes)
    throw new Error(`${what} ${path.basename(file)}: ${st.size} bytes is more than the ${maxBytes} allowed`);
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    size += (chunk as Buffer).length;
    h.update(chunk as Buffer);
  }
  return { size, sha256: h.digest('hex') };
}

/** .gguf files in a folder and its subfolders (two levels), sorted by name. */
export async function ggufFilesIn(dir: string, depth = 2): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    const gguf = e.name.toLowerCase().endsWith('.gguf');
    if (e.isFile() && gguf) out.push(p);
    // A link to a file counts as the file (links to folders are not followed: no cycles).
    else if (
      e.isSymbolicLink() &&
      gguf &&
      (await fs.stat(p).then(
        (st) => st.isFile(),
        () => false,
      ))
    )
      out.push(p);
    else if (e.isDirectory() && depth > 0 && !e.name.startsWith('.'))
      for (const q of await ggufFilesIn(p, depth - 1)) out.push(q);
  }
  return out;
}

/** Whether the environment names a user kernel for some format (`<FMT>_MATMUL_CUBIN` / `_HSACO`). */
function customKernelsInEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return Object.keys(env).some((k) => /^[A-Z0-9_]+_MATMUL_(CUBIN|HSACO)$/.test(k) && !!env[k]);
}

/**
 * The devices of a run in parts: each part opens the same list; a device whose part failed or was
 * cancelled keeps that status and its error.
 */
function mergeDevices(all: DeviceRunEntry[], part: readonly DeviceRunEntry[]): DeviceRunEntry[] {
  return all.map((d) => {
    const p = part.find((x) => x.slot === d.slot);
    return d.status === 'done' && p && p.status !== 'done' ? { ...d, status: p.status, error: p.error } : d;
  });
}

/** The real path of p's nearest existing ancestor (p itself when it exists), joined with the rest. */
async function realAncestor(p: string): Promise<string> {
  let dir = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await fs.realpath(dir), ...rest);
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return p;
      rest.unshift(path.basename(dir));
      dir = up;
    }
  }
}
