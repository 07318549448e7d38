/**
 * EngineService: the whole engine behind one object, in plain Node. Every face runs work through
 * it: the Electron utility process, `quantscope serve`, and the CLI's verify. Its contract methods
 * validate their arguments with the contract's schemas (see ./api.ts) before anything else.
 */
import { ACTIVATION_KINDS, activationSource, describeActivations } from './run/activations';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type {
  AppInfo,
  BackendKind,
  BackendSummary,
  CompareRequest,
  Comparison,
  ComparisonExportRequest,
  ErrorGrid,
  ErrorGridRequest,
  ModelFileEntry,
  ModelSummary,
  RecordListing,
  ReportRequest,
  ReportResult,
  RunEvent,
  RunRecordData,
  RunRequest,
  TensorPage,
  TensorPageRequest,
  TensorResult,
} from '../../src-shared/contract';
import { GgufFile } from './gguf';
import { selectTensors, summarizeModel } from './model';
import { applyScaleScan, scanModelScales } from './scales';
import { allStatuses, backendFor } from './backends';
import type { DeviceInfo } from './backends/types';
import { executeRun } from './run/runner';
import { OutputStore } from './run/outputs';
import { errorGrid } from './compare';
import { renderReport, reportFileName, type ReportInput } from './report/report';
import { APP_VERSION } from './version';
import { configurePool, defaultPoolSize } from './workers';
import { validateCalls } from './api';
import { isInsideDir } from './paths';
import { LIMITS, oneLine } from '../../src-shared/contract';
import { buildRecord, tensorsHash } from './records/build';
import type { RecordStore } from './records/store';
import type { RecordResult } from './records/schema';
import { compareRecordsIn, exportComparisonIn, listRecordsIn, openRecordIn } from './records/access';

export interface EngineOptions {
  mode: AppInfo['mode'];
  samplesDir: string;
  modelDirs: string[];
  /** browser mode: only files under samplesDir/modelDirs open. Electron: the main process vets paths. */
  restrictToDirs: boolean;
  recentFile?: string;
  /** bytes of full outputs kept for heatmap zoom */
  outputCacheBytes?: number;
  /**
   * worker threads for the reference and the cpu backend. Default: one less than the pool would
   * take, so the UI (and the server answering it) keeps a core while a run saturates the others.
   */
  workerThreads?: number;
  /** where finished runs are saved as records (docs/records.md); null or absent: not recorded */
  records?: RecordStore | null;
}

interface OpenModel {
  file: GgufFile;
  summary: ModelSummary;
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
  abort: AbortController;
  done: Promise<void>;
  /** the saved record's file, or why saving failed */
  recordFile?: string;
  recordError?: string;
}

export interface RunOutcome {
  status: RunRecord['status'];
  results: TensorResult[];
  error?: string;
  /** the device the run used; null when it never reached one */
  device: DeviceInfo | null;
  /** the saved record's file (absent when runs are not recorded), or why it could not be saved */
  recordFile?: string;
  recordError?: string;
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

  constructor(private readonly opts: EngineOptions) {
    this.outputs = new OutputStore(opts.outputCacheBytes);
    void configurePool(opts.workerThreads ?? Math.max(1, defaultPoolSize() - 1));
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
    for (const p of await ggufFilesIn(this.opts.samplesDir)) await add(p, 'sample', this.opts.samplesDir);
    for (const dir of this.opts.modelDirs)
      for (const p of await ggufFilesIn(dir)) await add(p, 'models', dir);
    for (const p of await this.recent()) if (this.allowed(p)) await add(p, 'recent');
    return out;
  }

  async openModel(p: string): Promise<ModelSummary> {
    const abs = path.resolve(p);
    if (this.opts.restrictToDirs) {
      const real = await fs.realpath(abs).catch(() => abs);
      if (!this.allowed(real))
        throw new Error(`${path.basename(abs)} is outside the model folders this server may open`);
    }
    const t0 = performance.now();
    let file: GgufFile;
    try {
      file = await GgufFile.open(abs);
    } catch (e) {
      throw new Error(`cannot open ${path.basename(abs)}: ${oneLine(e)}`);
    }
    const modelId = randomUUID();
    const summary = summarizeModel(file, modelId, performance.now() - t0);
    // small models are scanned for NaN/Inf block scales now; larger ones per tensor when run (./scales.ts)
    try {
      applyScaleScan(summary, await scanModelScales(file));
    } catch (e) {
      await file.close().catch(() => undefined);
      throw new Error(`cannot open ${path.basename(abs)}: ${oneLine(e)}`);
    }
    summary.openMs = performance.now() - t0;
    this.models.set(modelId, { file, summary, lastUsed: Date.now() });
    await this.evictModels();
    await this.remember(abs);
    // A large tensor list is not sent in one piece: the faces page through listTensors.
    if (summary.tensors.length > LIMITS.tensorPage) return { ...summary, tensors: [], tensorsPaged: true };
    return summary;
  }

  /** Tensors [offset, offset + limit) of an open model, in file order. */
  async listTensors(req: TensorPageRequest): Promise<TensorPage> {
    const model = this.models.get(req.modelId);
    if (!model) throw new Error('that model is no longer open: open it again');
    const all = model.summary.tensors;
    const end = Math.min(all.length, req.offset + req.limit);
    return {
      modelId: req.modelId,
      offset: req.offset,
      total: all.length,
      tensors: req.offset < end ? all.slice(req.offset, end) : [],
    };
  }

  async devices(): Promise<BackendSummary[]> {
    return allStatuses();
  }

  async startRun(req: RunRequest): Promise<{ runId: string }> {
    if (this.active) throw new Error('a run is already in progress: cancel it or wait for it to finish');
    const model = this.models.get(req.modelId);
    if (!model) throw new Error('that model is no longer open: open it again');
    model.lastUsed = Date.now();
    const tensors = req.tensors.map((name) => {
      const t = model.file.find(name);
      if (!t) throw new Error(`no tensor named '${name}' in ${model.summary.fileName}`);
      if (!t.supported)
        throw new Error(`${name}: ${t.unsupportedReason ?? `${t.typeName} is not supported`}`);
      return t;
    });
    // generated activations are made here (the model's own embeddings need the file); a file of
    // activations opens only where a model could (the browser mode's folders)
    const spec = req.activations ?? 'gaussian';
    if (
      !(ACTIVATION_KINDS as readonly string[]).includes(spec) &&
      this.opts.restrictToDirs &&
      !this.allowed(spec)
    )
      throw new Error(`activations file ${spec} is outside the served folders`);
    const activations = await activationSource(spec, req.seed >>> 0, model.file);
    const backend = backendFor(req.backend);
    const runId = randomUUID().slice(0, 8);
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
    };
    this.runs.set(runId, record);
    this.active = record;
    this.trimRuns();
    record.done = executeRun({
      runId,
      file: model.file,
      tensors,
      batchSizes: [...new Set(req.batchSizes)],
      backend,
      deviceIndex: req.deviceIndex,
      seed: req.seed >>> 0,
      timing: req.timing,
      path: req.path,
      compareUnfused: req.compareUnfused,
      threshold: req.threshold,
      arithmetic: req.arithmetic ?? null,
      activations,
      repeats: req.repeats,
      request: req,
      outputs: this.outputs,
      signal: abort.signal,
      onEvent: (ev) => {
        if (ev.type === 'result') {
          record.results.push(ev.result);
          // a run's scan of the tensor's scales is kept for the model's later summaries
          const nf = ev.result.nonFiniteBlocks ?? 0;
          const t = model.file.find(ev.result.tensor);
          const ts = t ? model.summary.tensors[t.index] : undefined;
          if (ts?.name === ev.result.tensor && ev.result.status !== 'error') ts.nonFiniteBlocks = nf;
        }
        if (ev.type === 'run-finished') {
          record.status = ev.status;
          record.error = ev.error;
          record.finishedAt = new Date().toISOString();
        }
        this.emit(ev);
      },
    })
      .then((outcome) => {
        record.device = outcome.device;
      })
      .catch((e) => {
        record.status = 'failed';
        record.error = oneLine(e);
      })
      .then(() => this.saveRecord(record, model.file))
      .finally(() => {
        if (this.active === record) this.active = null;
      });
    return { runId };
  }

  async cancelRun(runId: string): Promise<void> {
    const r = this.runs.get(runId);
    if (!r) throw new Error(`no run ${runId}`);
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
    });
    return { resultId: req.resultId, ...grid };
  }

  async exportReport(req: ReportRequest): Promise<ReportResult> {
    const r = this.runs.get(req.runId);
    if (!r) throw new Error(`no run ${req.runId}`);
    const input = this.reportInput(r);
    return { fileName: reportFileName(input, req.format), content: renderReport(input, req.format) };
  }

  // The saved runs (History): read from this engine's records folder, by id only.

  async listRecords(): Promise<RecordListing> {
    return listRecordsIn(this.opts.records);
  }

  async openRecord(id: string): Promise<RunRecordData> {
    return openRecordIn(this.opts.records, id);
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
    if (!r) throw new Error(`no run ${runId}`);
    await r.done;
    return {
      status: r.status,
      results: r.results,
      error: r.error,
      device: r.device,
      recordFile: r.recordFile,
      recordError: r.recordError,
    };
  }

  /** One backend's status, without probing the others (the CLI checks it before a run). */
  async backendStatus(kind: BackendKind): Promise<BackendSummary> {
    return backendFor(kind).status();
  }

  /** The tensors of an open model that globs select (see selectTensors in ./model.ts). */
  selectTensors(modelId: string, spec?: string): ReturnType<typeof selectTensors> {
    const model = this.models.get(modelId);
    if (!model) throw new Error('that model is no longer open: open it again');
    return selectTensors(model.summary.tensors, spec);
  }

  async dispose(): Promise<void> {
    if (this.active) {
      this.active.abort.abort();
      await this.active.done;
    }
    for (const m of this.models.values()) await m.file.close().catch(() => undefined);
    this.models.clear();
    this.listeners.clear();
  }

  private reportInput(r: RunRecord): ReportInput {
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
      },
      status: r.status,
      error: r.error,
      results: r.results,
    };
  }

  /** Saves a finished run as a record; a failure to save is kept with the run, never thrown. */
  private async saveRecord(r: RunRecord, file: GgufFile): Promise<void> {
    const store = this.opts.records;
    if (!store) return;
    try {
      const names = [...new Set(r.results.map((x) => x.tensor))];
      const rec = buildRecord({
        kind: 'verify',
        createdAt: new Date(r.finishedAt ?? Date.now()),
        device: r.device,
        model: {
          fileName: r.model.fileName,
          path: r.model.path,
          fileSize: r.model.fileSize,
          tensorsHash: names.length > 0 ? await tensorsHash(file, names) : null,
        },
        request: {
          tensors: r.request.tensors,
          batchSizes: r.request.batchSizes,
          path: r.request.path,
          seed: r.request.seed,
          timing: r.request.timing,
          threshold: r.request.threshold,
          backend: r.request.backend,
        },
        status: r.status,
        error: r.error,
        // TensorResult is a RecordResult with more fields (kept: the schema passes them through)
        results: r.results as unknown as RecordResult[],
      });
      r.recordFile = store.save(rec);
    } catch (e) {
      r.recordError = oneLine(e);
    }
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

  private allowed(p: string): boolean {
    return [this.opts.samplesDir, ...this.opts.modelDirs].some((d) => isInsideDir(d, p));
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
