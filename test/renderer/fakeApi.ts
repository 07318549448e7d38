/**
 * A deterministic in-memory QuantScopeApi for renderer tests and UI development without the engine:
 * a llama-like model, a cpu backend (GPU backends unavailable), runs that stream events on timers,
 * synthetic error grids (max-reduced like the engine) and text reports.
 */
import { compareRecords } from '../../src-main/engine/records/compare';
import { recordCounts, type RunRecord } from '../../src-main/engine/records/schema';
import type {
  AppInfo,
  CompareRequest,
  Comparison,
  ComparisonExportRequest,
  RecordListing,
  RunRecordData,
  BackendSummary,
  ErrorGrid,
  ErrorGridRequest,
  ModelFileEntry,
  ModelSummary,
  TensorPage,
  TensorPageRequest,
  QuantScopeApi,
  RunEvent,
  RunRequest,
  TensorResult,
  TensorSummary,
} from '../../src-shared/contract';

const TYPES: [string, number, number, number][] = [
  // name, id, block elems, block bytes
  ['Q4_0', 2, 32, 18],
  ['Q4_K', 12, 256, 144],
  ['Q5_K', 13, 256, 176],
  ['Q6_K', 14, 256, 210],
  ['Q8_0', 8, 32, 34],
  ['F32', 0, 1, 4],
];

export function fakeModel(layers = 2, opts: { modelId?: string; fileName?: string } = {}): ModelSummary {
  const tensors: TensorSummary[] = [];
  const add = (name: string, typeIdx: number, k: number, n: number, dims = [k, n]) => {
    const [typeName, type, be, bb] = TYPES[typeIdx];
    const nbytes = dims.length === 1 ? k * 4 : (n * k * bb) / be;
    const m = /^blk\.(\d+)\./.exec(name);
    tensors.push({
      index: tensors.length,
      name,
      type,
      typeName,
      dims,
      n,
      k,
      nbytes,
      offset: 4096 + tensors.length * 65536,
      supported: dims.length > 1,
      ...(dims.length > 1 ? {} : { unsupportedReason: '1-D tensor' }),
      layer: m ? Number(m[1]) : null,
    });
  };
  add('token_embd.weight', 4, 256, 512);
  for (let l = 0; l < layers; l++) {
    add(`blk.${l}.attn_norm.weight`, 5, 256, 1, [256]);
    add(`blk.${l}.attn_q.weight`, 1, 256, 256);
    add(`blk.${l}.attn_k.weight`, 0, 256, 256);
    add(`blk.${l}.attn_v.weight`, 3, 256, 256);
    add(`blk.${l}.attn_output.weight`, 2, 256, 256);
    add(`blk.${l}.ffn_gate.weight`, 1, 256, 512);
    add(`blk.${l}.ffn_up.weight`, 4, 256, 512);
    add(`blk.${l}.ffn_down.weight`, 3, 512, 256);
  }
  add('output_norm.weight', 5, 256, 1, [256]);
  add('output.weight', 3, 256, 512);
  const typeBytes: Record<string, number> = {};
  for (const t of tensors) typeBytes[t.typeName] = (typeBytes[t.typeName] ?? 0) + t.nbytes;
  return {
    modelId: opts.modelId ?? 'm1',
    path: `/models/${opts.fileName ?? 'tiny.gguf'}`,
    fileName: opts.fileName ?? 'tiny.gguf',
    fileSize: 4096 + tensors.reduce((a, t) => a + t.nbytes, 0),
    version: 3,
    architecture: 'llama',
    name: 'tiny llama',
    alignment: 32,
    metadata: [
      { key: 'general.architecture', type: 'string', value: 'llama' },
      { key: 'general.name', type: 'string', value: 'tiny llama' },
      { key: 'llama.block_count', type: 'uint32', value: String(layers) },
      { key: 'llama.embedding_length', type: 'uint32', value: '256' },
      { key: 'tokenizer.ggml.tokens', type: 'array[string]', value: '[512 strings]' },
    ],
    tensors,
    tensorCount: tensors.length,
    typeBytes,
    warnings: [],
    openMs: 3.2,
  };
}

export interface FakeApiOptions {
  /** summaries with more tensors than this come paged, as the engine sends large ones */
  tensorPage?: number;
  /** ms between jobs of a run */
  jobMs?: number;
  layers?: number;
  /** tensors whose results are errors / failures */
  errorTensors?: string[];
  failTensors?: string[];
  /** saved runs listRecords, openRecord and compareRecords answer from */
  records?: RunRecordData[];
}

export class FakeApi implements QuantScopeApi {
  listeners = new Set<(ev: RunEvent) => void>();
  runs = new Map<string, { cancelled: boolean; results: TensorResult[] }>();
  calls: string[] = [];
  private runCounter = 0;
  private models = new Map<string, ModelSummary>();
  constructor(public opts: FakeApiOptions = {}) {}

  async appInfo(): Promise<AppInfo> {
    return { version: '0.1.0-fake', mode: 'browser', platform: 'linux' };
  }
  async listModelFiles(): Promise<ModelFileEntry[]> {
    return [
      { path: '/samples/tiny.gguf', name: 'tiny.gguf', size: 123456, source: 'sample' },
      { path: '/models/big.gguf', name: 'big.gguf', size: 98765432, source: 'models' },
      { path: '/models/broken.gguf', name: 'broken.gguf', size: 100, source: 'models' },
    ];
  }
  async pickModelFile(): Promise<string | null> {
    return null;
  }
  async openModel(path: string): Promise<ModelSummary> {
    this.calls.push(`openModel:${path}`);
    if (path.includes('broken')) throw new Error('broken.gguf: bad magic 0x00000000 (expected "GGUF")');
    const fileName = path.split('/').pop()!;
    const model = fakeModel(path.includes('big') ? 120 : (this.opts.layers ?? 2), {
      modelId: `m${this.models.size + 1}`,
      fileName,
    });
    this.models.set(model.modelId, model);
    const page = this.opts.tensorPage;
    if (page !== undefined && model.tensors.length > page)
      return { ...model, tensors: [], tensorsPaged: true };
    return model;
  }
  async listTensors(req: TensorPageRequest): Promise<TensorPage> {
    this.calls.push(`listTensors:${req.offset}+${req.limit}`);
    const model = this.models.get(req.modelId);
    if (!model) throw new Error('that model is no longer open: open it again');
    const tensors = model.tensors.slice(
      req.offset,
      req.offset + Math.min(req.limit, this.opts.tensorPage ?? req.limit),
    );
    return { modelId: req.modelId, offset: req.offset, total: model.tensors.length, tensors };
  }
  async devices(): Promise<BackendSummary[]> {
    return [
      {
        backend: 'cpu',
        available: true,
        devices: [
          {
            backend: 'cpu',
            index: 0,
            name: 'Fake CPU',
            arch: 'x86_64',
            memoryTotal: 16 * 2 ** 30,
            memoryFree: 8 * 2 ** 30,
            computeUnits: 2,
            warpSize: 1,
            peakBandwidthGBs: 40,
            copyBandwidthGBs: 25,
            peakTflops: null,
            details: {},
          },
        ],
      },
      { backend: 'cuda', available: false, reason: 'libcuda.so.1 not found', devices: [] },
      { backend: 'hip', available: false, reason: 'libamdhip64.so not found', devices: [] },
    ];
  }
  emit(ev: RunEvent) {
    for (const l of this.listeners) l(ev);
  }
  async startRun(req: RunRequest) {
    const model = this.models.get(req.modelId);
    if (!model) throw new Error(`unknown model ${req.modelId}: open it again`);
    const runId = `run${++this.runCounter}`;
    const state = { cancelled: false, results: [] as TensorResult[] };
    this.runs.set(runId, state);
    const jobs = req.tensors.flatMap((t) => req.batchSizes.map((m) => ({ t, m })));
    const total = jobs.length;
    const jobMs = this.opts.jobMs ?? 5;
    setTimeout(() => this.emit({ type: 'run-started', runId, total, request: req }), 0);
    let i = 0;
    let passed = 0;
    let failed = 0;
    let errors = 0;
    const step = () => {
      if (state.cancelled || i >= total) {
        this.emit({
          type: 'run-finished',
          runId,
          status: state.cancelled ? 'cancelled' : 'done',
          passed,
          failed,
          errors,
        });
        return;
      }
      const { t, m } = jobs[i];
      this.emit({ type: 'job-started', runId, tensor: t, m, index: i, total });
      const ts = model.tensors.find((x) => x.name === t)!;
      const status = this.opts.errorTensors?.includes(t)
        ? 'error'
        : this.opts.failTensors?.includes(t)
          ? 'fail'
          : 'pass';
      const us = 5 + (ts.nbytes / 1e4) * (1 + m / 64);
      const gbps = ts.nbytes / (us * 1e3);
      const result: TensorResult = {
        resultId: `${runId}:${i}`,
        runId,
        tensor: t,
        type: ts.typeName,
        n: ts.n,
        k: ts.k,
        m,
        backend: req.backend,
        device: 'Fake CPU',
        path: 'cpu-f32',
        pathDetail: 'dequantize in the dot product, f32 accumulate',
        status,
        ...(status === 'error' ? { error: `${t}: out of memory allocating outputs` } : {}),
        threshold: 1e-8,
        metrics:
          status === 'error'
            ? null
            : {
                nmse: status === 'fail' ? 3e-5 : 1e-12 * (1 + (i % 7)),
                maxAbsErr: 1e-6 * (1 + (i % 3)),
                maxRelErr: 1e-7 * (1 + (i % 5)),
                nanMismatches: 0,
                infMismatches: 0,
                count: m * ts.n,
                worst: { row: 0, col: i % ts.n, ref: 1.5, got: 1.5000001 },
              },
        timing:
          req.timing === 'none' || status === 'error'
            ? null
            : {
                protocol: req.timing,
                medianUs: us,
                minUs: us * 0.95,
                maxUs: us * 1.2,
                spread: 0.05,
                samples: 20,
                weightCopies: req.timing === 'cold' ? 4 : 1,
                gbps,
                tflops: (2 * m * ts.n * ts.k) / (us * 1e6),
                pctPeak: (gbps / 40) * 100,
                pctCopy: (gbps / 25) * 100,
              },
        unfused: null,
        weightBytes: ts.nbytes,
        gridAvailable: true,
        elapsedMs: jobMs,
      };
      if (status === 'pass') passed++;
      else if (status === 'fail') failed++;
      else errors++;
      state.results.push(result);
      i++;
      this.emit({ type: 'result', runId, result });
      this.emit({ type: 'progress', runId, done: i, total, etaMs: (total - i) * jobMs });
      setTimeout(step, jobMs);
    };
    setTimeout(step, jobMs);
    return { runId };
  }
  async cancelRun(runId: string) {
    this.calls.push(`cancelRun:${runId}`);
    const r = this.runs.get(runId);
    if (r) r.cancelled = true;
  }
  onRunEvent(cb: (ev: RunEvent) => void) {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  async errorGrid(req: ErrorGridRequest): Promise<ErrorGrid> {
    const r = [...this.runs.values()].flatMap((x) => x.results).find((x) => x.resultId === req.resultId);
    if (!r) throw new Error(`result ${req.resultId} is no longer kept: run again`);
    const rowStart = req.rowStart ?? 0;
    const rowEnd = req.rowEnd ?? r.m;
    const colStart = req.colStart ?? 0;
    const colEnd = req.colEnd ?? r.n;
    const cellRows = Math.ceil((rowEnd - rowStart) / req.maxRows);
    const cellCols = Math.ceil((colEnd - colStart) / req.maxCols);
    const rows = Math.ceil((rowEnd - rowStart) / cellRows);
    const cols = Math.ceil((colEnd - colStart) / cellCols);
    const values: number[] = new Array(rows * cols);
    const worst: number[] = new Array(rows * cols * 4);
    let min = Infinity;
    let max = 0;
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const row = rowStart + i * cellRows;
        const col = colStart + j * cellCols;
        const v =
          ((Math.sin(row * 0.37 + col * 0.11) + 1.1) * 1e-7 * (1 + (col % 64 === 0 ? 100 : 0))) /
          (req.metric === 'rel' ? 2 : 1);
        values[i * cols + j] = v;
        worst.splice((i * cols + j) * 4, 4, row, col, 0.5 + col * 1e-3, 0.5 + col * 1e-3 + v);
        if (v < min) min = v;
        if (v > max) max = v;
      }
    return {
      resultId: req.resultId,
      metric: req.metric,
      m: r.m,
      n: r.n,
      rowStart,
      rowEnd,
      colStart,
      colEnd,
      rows,
      cols,
      cellRows,
      cellCols,
      values,
      worst,
      min,
      max,
    };
  }
  async exportReport(req: { runId: string; format: 'html' | 'json' | 'md' }) {
    if (!this.runs.has(req.runId)) throw new Error(`unknown run ${req.runId}`);
    return { fileName: `quantscope-${req.runId}.${req.format}`, content: `report ${req.runId}` };
  }
  /** saved runs: opts.records, newest first as the engine lists them */
  async listRecords(): Promise<RecordListing> {
    const recs = [...(this.opts.records ?? [])].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return {
      recording: true,
      records: recs.map((r) => ({
        id: r.id,
        kind: r.kind,
        createdAt: r.createdAt,
        model: r.model?.fileName ?? null,
        device: r.device ? `${r.device.backend}:${r.device.index} ${r.device.name}` : null,
        backend: r.device?.backend ?? null,
        status: r.status,
        counts: recordCounts(r as RunRecord),
      })),
      skipped: [],
    };
  }
  async openRecord(id: string): Promise<RunRecordData> {
    const r = this.opts.records?.find((x) => x.id === id);
    if (!r) throw new Error(`no record '${id}' in the records folder`);
    return r;
  }
  async compareRecords(req: CompareRequest): Promise<Comparison> {
    const [b, c] = await Promise.all([this.openRecord(req.baseline), this.openRecord(req.candidate)]);
    return compareRecords(b as RunRecord, c as RunRecord, req.speedTolerance);
  }
  async exportComparison(req: ComparisonExportRequest) {
    const c = await this.compareRecords(req);
    return {
      fileName: `quantscope-compare-${req.baseline}-vs-${req.candidate}.${req.format}`,
      content:
        req.format === 'json' ? JSON.stringify(c) : `<h1>${c.regressed ? 'REGRESSED' : 'no regression'}</h1>`,
    };
  }
}
