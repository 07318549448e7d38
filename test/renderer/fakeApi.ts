/**
 * A deterministic in-memory QuantScopeApi for renderer tests and UI development without the engine:
 * a llama-like model, a cpu backend (GPU backends unavailable), runs that stream events on timers,
 * synthetic error grids (max-reduced like the engine) and text reports.
 */
import { compareRecords } from '../../src-main/engine/records/compare';
import { COMPARISON_HEADLINE } from '../../src-shared/comparison';
import { recordReport } from '../../src-main/engine/report/record-report';
import { recordCounts, type RunRecord } from '../../src-main/engine/records/schema';
import type {
  AppInfo,
  CheckRequest,
  CodeObjectInfo,
  SelftestRequest,
  SelftestRowData,
  CompareRequest,
  Comparison,
  ComparisonExportRequest,
  RecordListing,
  RunRecordData,
  BackendSummary,
  ErrorGrid,
  ErrorGridRequest,
  ModelFileEntry,
  PathCompletion,
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
  /** identical hip devices to offer (default none: hip unavailable) */
  gpus?: number;
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
  /** completions below /models: big.gguf, broken.gguf and the folder sub/ */
  async completePath(prefix: string): Promise<PathCompletion[]> {
    this.calls.push(`completePath:${prefix}`);
    if (!prefix.startsWith('/models'))
      throw new Error(`${prefix} is outside the model folders this server may open`);
    const all: PathCompletion[] = [
      { path: '/models/sub/', name: 'models/sub/', kind: 'folder' },
      { path: '/models/big.gguf', name: 'models/big.gguf', kind: 'file', size: 98765432 },
      { path: '/models/broken.gguf', name: 'models/broken.gguf', kind: 'file', size: 100 },
    ];
    return all.filter((c) => c.path.startsWith(prefix));
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
      this.opts.gpus
        ? {
            backend: 'hip',
            available: true,
            devices: Array.from({ length: this.opts.gpus }, (_, index) => ({
              backend: 'hip' as const,
              index,
              name: 'Fake AMD Instinct MI210',
              arch: 'gfx90a',
              memoryTotal: 64 * 2 ** 30,
              memoryFree: 60 * 2 ** 30,
              computeUnits: 104,
              warpSize: 64,
              peakBandwidthGBs: 1638,
              copyBandwidthGBs: null,
              peakTflops: 181,
              details: {},
            })),
          }
        : { backend: 'hip', available: false, reason: 'libamdhip64.so not found', devices: [] },
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
    const r = this.runs.get(runId) ?? this.selftests.get(runId);
    if (r) r.cancelled = true;
  }
  onRunEvent(cb: (ev: RunEvent) => void) {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }
  async pickFile(): Promise<string | null> {
    return null;
  }
  async codeObjectInfo(path: string): Promise<CodeObjectInfo> {
    this.calls.push(`codeObjectInfo:${path}`);
    if (!path.startsWith('/models/'))
      throw new Error(`code object ${path} is outside the folders this server may open`);
    return { path, fileName: path.split('/').pop()!, size: 4096, sha256: 'ab'.repeat(32) };
  }
  selftests = new Map<string, { cancelled: boolean }>();
  async startSelftest(req: SelftestRequest): Promise<{ runId: string }> {
    this.calls.push(`startSelftest:${req.backend}:${req.quick ? 'quick' : 'full'}`);
    const runId = `selftest${++this.runCounter}`;
    const state = { cancelled: false };
    this.selftests.set(runId, state);
    const formats = req.formats ?? ['Q4_0', 'Q4_K', 'Q8_0'];
    const rows: SelftestRowData[] = formats.flatMap((format) =>
      [1, 16].map((m) => ({
        format,
        n: 67,
        k: 96,
        m,
        weights: 'random',
        requested: 'auto',
        path: 'cpu-f32',
        nmse: 1e-14,
        threshold: 1e-8,
        result: 'pass' as const,
        detail: '',
        ms: 2,
        arithmetic: 'f32',
        arithmeticNmse: 0,
      })),
    );
    const total = rows.length;
    const jobMs = this.opts.jobMs ?? 5;
    setTimeout(
      () => this.emit({ type: 'selftest-started', runId, total, device: 'cpu:0 Fake CPU', request: req }),
      0,
    );
    let i = 0;
    const step = () => {
      if (state.cancelled || i >= total) {
        this.emit({
          type: 'selftest-finished',
          runId,
          status: state.cancelled ? 'cancelled' : 'done',
          passed: i,
          failed: 0,
        });
        return;
      }
      this.emit({ type: 'selftest-row', runId, index: i, total, row: rows[i] });
      i++;
      setTimeout(step, jobMs);
    };
    setTimeout(step, jobMs);
    return { runId };
  }
  checks: TensorResult[] = [];
  async checkPair(req: CheckRequest): Promise<TensorResult> {
    this.calls.push(`checkPair:${req.tensor}:${req.input}:${req.output}`);
    const model = this.models.get(req.modelId);
    if (!model) throw new Error('that model is no longer open: open it again');
    const t = model.tensors.find((x) => x.name === req.tensor);
    if (!t) throw new Error(`no tensor named '${req.tensor}' in ${model.fileName}`);
    const identity = req.input === 'identity';
    const m = req.m ?? t.k;
    const fail = req.output.includes('wrong');
    const result: TensorResult = {
      resultId: `check${this.checks.length + 1}:${t.name}:${m}`,
      runId: `check${this.checks.length + 1}`,
      tensor: t.name,
      type: t.typeName,
      n: t.n,
      k: t.k,
      m,
      backend: 'cpu',
      device: `output ${req.output.split('/').pop()}`,
      path: 'custom',
      pathDetail: identity ? 'identity input' : `input ${req.input.split('/').pop()}`,
      status: fail ? 'fail' : 'pass',
      threshold: 1e-8,
      metrics: {
        nmse: fail ? 0.25 : 1e-15,
        maxAbsErr: fail ? 0.5 : 1e-7,
        maxRelErr: fail ? 1 : 1e-8,
        nanMismatches: 0,
        infMismatches: 0,
        count: m * t.n,
        worst: null,
      },
      timing: null,
      unfused: null,
      weightBytes: t.nbytes,
      gridAvailable: true,
      elapsedMs: 0,
      arithmetic: req.arithmetic ?? 'f32',
      arithmeticNmse: 0,
      diagnosis: fail
        ? {
            class: 'nibble-order',
            sentence: `the low and high nibbles of each ${t.typeName} byte are swapped`,
            evidence: ['12 of 96 probed weights wrong', 'first: row 0, block 0, sub-block 0, position 1'],
          }
        : null,
      ...(fail && identity
        ? {
            weightMap: {
              n: t.n,
              k: t.k,
              blockElems: 32,
              subElems: 32,
              spans: [[0, t.k]] as [number, number][],
            },
          }
        : {}),
    };
    this.checks.push(result);
    return result;
  }
  async weightGrid(req: ErrorGridRequest): Promise<ErrorGrid> {
    const r = this.checks.find((x) => x.resultId === req.resultId);
    if (!r?.weightMap) throw new Error('the probed weights of that result are no longer kept');
    const g = await this.grid({ ...r, m: r.n, n: r.k }, req);
    return g;
  }
  async errorGrid(req: ErrorGridRequest): Promise<ErrorGrid> {
    const r =
      [...this.runs.values()].flatMap((x) => x.results).find((x) => x.resultId === req.resultId) ??
      this.checks.find((x) => x.resultId === req.resultId);
    if (!r) throw new Error(`result ${req.resultId} is no longer kept: run again`);
    return this.grid(r, req);
  }
  private async grid(r: { m: number; n: number }, req: ErrorGridRequest): Promise<ErrorGrid> {
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
  /** a saved run's report, made by the engine's own code from the record */
  async exportRecordReport(req: { id: string; format: 'html' | 'json' | 'md' }) {
    return recordReport((await this.openRecord(req.id)) as RunRecord, req.format);
  }
  async compareRecords(req: CompareRequest): Promise<Comparison> {
    const [b, c] = await Promise.all([this.openRecord(req.baseline), this.openRecord(req.candidate)]);
    return compareRecords(b as RunRecord, c as RunRecord, req.speedTolerance);
  }
  async exportComparison(req: ComparisonExportRequest) {
    const c = await this.compareRecords(req);
    return {
      fileName: `quantscope-compare-${req.baseline}-vs-${req.candidate}.${req.format}`,
      content: req.format === 'json' ? JSON.stringify(c) : `<h1>${COMPARISON_HEADLINE[c.verdict]}</h1>`,
    };
  }
}
