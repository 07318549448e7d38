/**
 * The data that crosses between the engine and its faces (the Electron shell and its renderer, the
 * browser-mode server and its page, the CLI): plain JSON-serialisable values, no classes. The
 * methods that carry them are listed once, in ./methods.ts. Nothing here imports node or electron,
 * so the preload and the renderer bundle it as is.
 */

export type BackendKind = 'cpu' | 'cuda' | 'hip';

/**
 * Kernel path names. Each declares how it rounds its operands (PATH_ARITHMETIC in
 * src-main/engine/arithmetic/schemes.ts); a result is judged against the reference of that arithmetic
 * with one float32-class bar (1e-8) for every path.
 */
/** The declared-arithmetic schemes (src-main/engine/arithmetic/schemes.ts defines each; docs/arithmetic.md). */
export const ARITHMETIC_SCHEMES = ['f32', 'q8_1', 'qs8', 'qs8-mma', 'bf16', 'f16'] as const;
/** Generated activations a run can use (a file of activations is a CLI-only choice). */
export const ACTIVATION_KINDS = ['gaussian', 'outliers', 'outliers100', 'embeddings'] as const;

export type KernelPath =
  | 'cpu-f32' // cpu backend: dequantize inside the dot product, float32 accumulation
  | 'fused-small-f32' // GPU m <= 8: each weight block read once for all m rows, float32 activations
  | 'fused-small-q8' // GPU m <= 8: activations quantized to int8 per 32 (like llama.cpp), dp4a, f32 scaling
  | 'fused-tiled-f32' // GPU m > 8: shared-memory tiles, float32 FMA
  | 'fused-mma-f16' // GPU m > 8: matrix units, 16-bit float activations and weights, f32 accumulation
  | 'fused-mma-i8' // GPU m > 8: matrix units, int8 activations (per 32) and weight integers, f32 scaling
  | 'unfused-f32' // GPU baseline: dequantize to a float32 weight buffer, then a float32 matmul
  | 'custom'; // a user code object from Q*_MATMUL_HSACO / _CUBIN
/**
 * What the user asks for: auto (the fastest path of the device: int8 activations where the device has
 * them), f32 (float32 activations and FMA), int8 (activations quantized to int8 per 32), mma (the 16-bit
 * float matrix-unit path), unfused (the dequantize-then-matmul baseline).
 */
export const PATH_CHOICES = ['auto', 'f32', 'int8', 'mma', 'unfused'] as const;
export type PathChoice = (typeof PATH_CHOICES)[number];
export type TimingChoice = 'none' | 'hot' | 'cold';

export interface AppInfo {
  version: string;
  /** the face the engine serves */
  mode: 'electron' | 'browser' | 'cli';
  platform: string;
}

export interface DeviceSummary {
  backend: BackendKind;
  /** index within the backend (cuda:0, hip:1, ...) */
  index: number;
  name: string;
  /** 'sm_90', 'gfx90a', or the CPU architecture ('x64') */
  arch: string;
  memoryTotal: number;
  memoryFree: number;
  /** SMs / CUs / CPU threads */
  computeUnits: number;
  /**
   * cpu: worker threads left free for the app's UI (the app's engine runs this many fewer than the
   * CLI); absent or 0 where none are (the CLI, GPUs)
   */
  threadsKeptForApp?: number;
  /**
   * GPU, an open session: the kernel build and launch settings it runs with that differ from the
   * defaults, one "NAME=value" each (QS_KERNEL_DEFINES entries, QS_GPU_TUNING or --tune, QS_MMA_I8_TILE,
   * QS_PDL_CHAIN=0, QS_HIP_MFMA_I8=1); absent where every one is the default
   */
  kernelSettings?: string[];
  /** 32 or 64 on GPUs; 1 on the cpu */
  warpSize: number;
  /** theoretical peak from memory clock x bus width (GB/s), null where unknown */
  peakBandwidthGBs: number | null;
  /** measured device-to-device copy bandwidth, bytes read+written (GB/s); null until measured */
  copyBandwidthGBs: number | null;
  /** how and when copyBandwidthGBs was measured (each run measures its own); absent or null until measured */
  copyBandwidth?: CopyBandwidthMeasurement | null;
  /** peak half-precision matrix rate in TFLOP/s where known (roofline), else null */
  peakTflops: number | null;
  /** the compute roofs per kind of arithmetic (devices(): a table for GPUs, measured on the cpu) */
  computeRoofs?: ComputeRoofs | null;
  /** driver / runtime versions and other facts worth showing */
  details: Record<string, string>;
}

/**
 * One copy-bandwidth measurement, the denominator of "% of copy": each run (a verify with timing, a
 * bench) measures its own and keeps it in its record, so the percentage can be traced to the figure
 * it was taken against.
 */
export interface CopyBandwidthMeasurement {
  /** bytes read + written per second, GB/s */
  gbs: number;
  /** ISO 8601; null for a figure kept by an older record that did not say */
  measuredAt: string | null;
  /** size of one copy, bytes (null: not recorded) */
  bytes: number | null;
  /** timed copies the figure is taken from (null: not recorded) */
  repeats: number | null;
  /** how the figure was taken, in words */
  method: string;
}

/**
 * Peak arithmetic rates of a device, TFLOP/s (int8: TOP/s), dense, one per kind of arithmetic a
 * kernel path does; null where the device has no such units or the figure is not known.
 */
export interface ComputeRoofs {
  /** float32 FMA (vector units) */
  f32: number | null;
  /** bfloat16 and half-precision matrix units */
  bf16: number | null;
  f16: number | null;
  /** int8 matrix units */
  int8: number | null;
  /** where the figures come from: the datasheet, or what was measured */
  source: string;
}

export interface BackendSummary {
  backend: BackendKind;
  available: boolean;
  /** why it is unavailable ("libcuda.so.1 not found", "no device", ...) */
  reason?: string;
  devices: DeviceSummary[];
}

export interface TensorSummary {
  index: number;
  name: string;
  /** ggml type id and name ('Q4_K', 'type#77' for an unknown id) */
  type: number;
  typeName: string;
  /** dims innermost first, as in the file */
  dims: number[];
  /** rows (product of dims[1..]) and columns (dims[0]) of the 2-D view */
  n: number;
  k: number;
  nbytes: number;
  /** absolute byte offset in its file */
  offset: number;
  /** a split model's file that holds the tensor (an index into ModelSummary.files); absent for a model in one file */
  shard?: number;
  supported: boolean;
  /** why not, when not supported ("Q2_K is not supported", "1-D tensor") */
  unsupportedReason?: string;
  /**
   * blocks whose half scales are NaN or infinite; absent or null = not scanned yet (large models are
   * scanned per tensor when it is run; docs/gguf-hardening.md)
   */
  nonFiniteBlocks?: number | null;
  /** block index (blk.N) parsed from the name, or null */
  layer: number | null;
}

export interface MetadataEntry {
  key: string;
  type: string;
  /** display value: long arrays are summarised */
  value: string;
}

/** One file of a split model. */
export interface ModelFile {
  path: string;
  fileName: string;
  size: number;
}

export interface ModelSummary {
  /** opaque handle for later calls */
  modelId: string;
  /** the model's file: its only one, or the first of a split model */
  path: string;
  fileName: string;
  /** bytes of all its files */
  fileSize: number;
  /**
   * a split model's files in order (llama.cpp's gguf-split: `name-00001-of-00003.gguf` ...), opened and
   * checked as one model; absent for a model in one file
   */
  files?: ModelFile[];
  version: number;
  architecture: string | null;
  name: string | null;
  alignment: number;
  metadata: MetadataEntry[];
  /**
   * every tensor, in file order; empty when `tensorsPaged` (more than LIMITS.tensorPage tensors):
   * then listTensors returns them page by page
   */
  tensors: TensorSummary[];
  /** the number of tensors in the model (in all its files) */
  tensorCount: number;
  /** true when `tensors` was left out of this summary and is read with listTensors */
  tensorsPaged?: boolean;
  /** bytes per type name */
  typeBytes: Record<string, number>;
  /** per-file problems that did not stop the file opening (e.g. NaN block scales) */
  warnings: string[];
  openMs: number;
}

/** One page of an open model's tensors (listTensors). */
export interface TensorPageRequest {
  modelId: string;
  offset: number;
  /** at most LIMITS.tensorPage */
  limit: number;
}

export interface TensorPage {
  modelId: string;
  offset: number;
  /** all tensors of the model */
  total: number;
  tensors: TensorSummary[];
}

export interface ModelFileEntry {
  path: string;
  name: string;
  /** bytes; of all its files for a split model */
  size: number;
  /** a split model listed by its first file: how many files it has */
  files?: number;
  /** 'sample' | 'models' | 'recent' | 'upload' */
  source: string;
}

/** One completion of a typed path: a folder to descend into or a .gguf file to open. */
export interface PathCompletion {
  /** the path to put in the field (folders end with the separator) */
  path: string;
  /** what to show: the path inside its model folder (browser mode) or the full path */
  name: string;
  kind: 'folder' | 'file';
  /** bytes, for files (of all its files, for a split model offered by its first file) */
  size?: number;
  /** a split model offered by its first file: how many of its files are there */
  files?: number;
}

export interface RunRequest {
  modelId: string;
  /** tensor names */
  tensors: string[];
  batchSizes: number[];
  backend: BackendKind;
  deviceIndex: number;
  seed: number;
  timing: TimingChoice;
  path: PathChoice;
  /** also time the unfused baseline (GPU backends) */
  compareUnfused: boolean;
  /** override the NMSE threshold; null uses the path's own */
  threshold: number | null;
  /** timed repeats per job (after warm-ups); omitted = the backend's default (20 on GPUs, 3 on the cpu) */
  repeats?: number;
  /** judge by this declared arithmetic (f32, q8_1, qs8, qs8-mma, bf16, f16); absent: the path's own */
  arithmetic?: string | null;
  /** activations: gaussian (default), outliers, outliers100, embeddings, or a file path */
  activations?: string;
  /**
   * Several devices at once (`--device all`, `0,2,5`; an index may repeat): one worker thread per
   * entry, each bound to its device, in parallel; `deviceIndex` is then ignored. Absent: one device.
   */
  devices?: number[];
  /**
   * users' code objects, at most one per format: on cuda and hip they replace QuantScope's kernel for
   * that format (path 'custom'), exactly as the <TYPE>_MATMUL_CUBIN / _HSACO variables do
   */
  userKernels?: UserKernel[];
}

/** A user's code object for one weight format, with its launch geometry and declared arithmetic. */
export interface UserKernel {
  /** the format it computes: 'Q4_K', 'Q8_0', ... */
  format: string;
  /** the code object: a .cubin (cuda) or .hsaco (hip) exporting <format>_matmul_kernel */
  path: string;
  /** grid, block (comma lists of up to three expressions of m, n, k) and dynamic shared bytes */
  grid?: string;
  block?: string;
  shared?: string;
  /** the arithmetic it declares (a scheme id); absent: f32 */
  arithmetic?: string | null;
}

/** A code object as the engine sees it before a run uses it. */
export interface CodeObjectInfo {
  path: string;
  fileName: string;
  size: number;
  sha256: string;
}

/** What a user kernel of a run was: recorded with the run so the record says which bytes ran. */
export interface UserKernelRecord extends UserKernel {
  sha256: string;
  size: number;
}

export const SELFTEST_BACKENDS = ['cpu', 'cuda', 'hip'] as const;

export interface SelftestRequest {
  backend: BackendKind;
  deviceIndex: number;
  /** fewer shapes and batch sizes */
  quick: boolean;
  /** only these formats ('Q4_K', ...); absent: every format the backend computes */
  formats?: string[];
  seed?: number;
}

/** One selftest case (a format, a shape, a batch size, a weight pattern, a path). */
export interface SelftestRowData {
  format: string;
  n: number;
  k: number;
  m: number;
  weights: string;
  requested: string;
  path: string | null;
  nmse: number | null;
  threshold: number | null;
  result: 'pass' | 'fail' | 'error';
  detail: string;
  ms: number;
  arithmetic?: string;
  arithmeticNmse?: number;
  diagnosis?: Diagnosis | null;
}

/** An output made elsewhere, judged like `quantscope check`. */
export interface CheckRequest {
  modelId: string;
  tensor: string;
  /** a raw float32 [m][k] file of activations, or 'identity' (the k x k identity: m = k) */
  input: string;
  /** the raw float32 [m][n] output to judge */
  output: string;
  /** batch size; omitted with an identity input (then k) */
  m?: number;
  arithmetic?: string | null;
  threshold?: number | null;
}

/**
 * Where an identity probe looked in the weights: the probed elements of every row (spans of
 * element indices, half-open), and the block structure of the format, for the weight map.
 */
export interface WeightMapInfo {
  /** weight rows (n) and row length (k) */
  n: number;
  k: number;
  /** elements per block and per sub-block (1 for float formats) */
  blockElems: number;
  subElems: number;
  /** probed element spans [start, end) in row order; the map's columns are these elements */
  spans: [number, number][];
  /**
   * weight rows left out of the comparison: those with a non-finite block scale, whose outputs the
   * verdict left out (output column j is weight row j). Their probed weights are in no cell's value
   * and the map draws them grey. Absent when none were (and in records written before it was kept).
   */
  rowsLeftOut?: number;
  /**
   * a record's: the probed weights' errors, summarised as the record keeps the output heatmap
   * (SavedWeightGrid). A live result has none (the app asks weightGrid for the probed weights); a
   * record written before it was kept, or of a result whose map was no longer kept, has none either.
   */
  grid?: SavedWeightGrid;
}

/**
 * The weight map a record keeps: the probed weights, weight rows (m = the tensor's n) by probed
 * elements (n = the probed count), reduced by maximum to at most 16 x 128 cells, in both metrics:
 * abs, the largest |decoded − expected| of the cell's weights, and rel, that error relative to the
 * largest |expected| of its weight row (what the app's map draws). `leftOutRows` counts, per cell
 * row, the weight rows left out of the comparison; their weights are in no cell's value.
 */
export interface SavedWeightGrid {
  abs: SavedHeatmap;
  rel: SavedHeatmap;
}

/** The likely defect behind a FAIL (src-main/engine/diagnosis). */
export type DiagnosisClass =
  | 'layout'
  | 'nibble-order'
  | 'unsigned'
  | 'tail-dropped'
  | 'unwritten'
  | 'non-finite'
  | 'scale-index'
  | 'min-sign'
  | 'offset-missing'
  | 'high-bits'
  | 'precision'
  | 'constant-factor'
  | 'rounding'
  | 'unknown';

export interface Diagnosis {
  class: DiagnosisClass;
  /** one sentence naming the likely defect */
  sentence: string;
  /** the facts it rests on, one short line each */
  evidence: string[];
}

export interface Metrics {
  nmse: number;
  maxAbsErr: number;
  /** max |error| / (max |reference| of that output row) */
  maxRelErr: number;
  nanMismatches: number;
  infMismatches: number;
  count: number;
  worst: { row: number; col: number; ref: number; got: number } | null;
}

export interface TimingSummary {
  protocol: 'hot' | 'cold';
  medianUs: number;
  minUs: number;
  maxUs: number;
  spread: number;
  samples: number;
  weightCopies: number;
  /** weight bytes / median time */
  gbps: number;
  tflops: number;
  pctPeak: number | null;
  pctCopy: number | null;
}

/**
 * A result's verdict. 'not-comparable': some outputs depend on weight blocks whose scales are NaN or
 * infinite (the reference and a correct kernel may disagree there); those outputs are left out, the
 * rest passed, and `notComparable` says why. A failure of the rest is still 'fail'.
 */
export const RESULT_STATUSES = ['pass', 'fail', 'error', 'not-comparable'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export interface TensorResult {
  resultId: string;
  runId: string;
  tensor: string;
  type: string;
  n: number;
  k: number;
  m: number;
  backend: BackendKind;
  device: string;
  path: KernelPath | null;
  pathDetail?: string;
  status: ResultStatus;
  /** one line, when status is 'error' */
  error?: string;
  /** blocks of the tensor whose scales are NaN or infinite (absent: none, or not read) */
  nonFiniteBlocks?: number;
  /** one line, when some outputs were left out because of non-finite scales */
  notComparable?: string;
  threshold: number;
  metrics: Metrics | null;
  timing: TimingSummary | null;
  /** the unfused baseline, when asked for and run */
  unfused: { timing: TimingSummary | null; metrics: Metrics | null; error?: string } | null;
  weightBytes: number;
  /** whether full outputs are kept for getErrorGrid zoom */
  gridAvailable: boolean;
  elapsedMs: number;
  /** the declared arithmetic the verdict's reference mirrors (metrics = kernel error against it) */
  arithmetic?: string;
  /** NMSE of that declared reference against the exact float32-input one: what the rounding costs */
  arithmeticNmse?: number | null;
  /** for a FAIL: the likely defect */
  diagnosis?: Diagnosis | null;
  /** for a FAIL with identity-probe evidence: the probed weights, for weightGrid */
  weightMap?: WeightMapInfo | null;
  /** sha256 of the output buffer as the kernel wrote it (32 hex digits): equal hashes, equal bits */
  outputHash?: string;
  /** in a run over several devices: the position in the device list, and the device's index */
  slot?: number;
  deviceIndex?: number;
}

export type RunEvent =
  | { type: 'run-started'; runId: string; total: number; request: RunRequest }
  | { type: 'job-started'; runId: string; tensor: string; m: number; index: number; total: number }
  | { type: 'result'; runId: string; result: TensorResult }
  | { type: 'progress'; runId: string; done: number; total: number; etaMs: number | null }
  | {
      type: 'run-finished';
      runId: string;
      status: 'done' | 'cancelled' | 'failed';
      error?: string;
      passed: number;
      failed: number;
      errors: number;
      /** results whose outputs were partly not comparable (non-finite scales); absent = 0 */
      notComparable?: number;
    }
  | { type: 'selftest-started'; runId: string; total: number; device: string; request: SelftestRequest }
  | { type: 'selftest-row'; runId: string; index: number; total: number; row: SelftestRowData }
  | {
      type: 'selftest-finished';
      runId: string;
      status: 'done' | 'cancelled' | 'failed';
      error?: string;
      passed: number;
      failed: number;
    };

export interface ErrorGridRequest {
  resultId: string;
  /** region in output coordinates, half-open; omitted = whole output */
  rowStart?: number;
  rowEnd?: number;
  colStart?: number;
  colEnd?: number;
  /** grid size wanted (cells); the engine reduces by maximum to fit */
  maxRows: number;
  maxCols: number;
  metric: 'abs' | 'rel';
}

export interface ErrorGrid {
  resultId: string;
  metric: 'abs' | 'rel';
  m: number;
  n: number;
  rowStart: number;
  rowEnd: number;
  colStart: number;
  colEnd: number;
  rows: number;
  cols: number;
  /** output rows / columns per cell (>= 1) */
  cellRows: number;
  cellCols: number;
  /** row-major [rows][cols]: max error in the cell */
  values: number[];
  /** per cell: the worst element, for hover: [row, col, ref, got] flattened, 4 numbers per cell */
  worst: number[];
  min: number;
  max: number;
  /**
   * per grid column: how many of its output features were left out of the comparison (those of weight
   * rows with a non-finite block scale, as in a not-comparable result's metrics); their errors are in
   * no cell's value, and a cell whose features were all left out is 0. Absent when none were.
   */
  leftOutCols?: number[];
  /**
   * per grid row of a weight map (its rows are weight rows): how many of its rows were left out of
   * the comparison (those with a non-finite block scale, whose outputs the verdict left out); their
   * weights are in no cell's value, and a cell whose rows were all left out is 0. Absent when none were.
   */
  leftOutRows?: number[];
}

export interface ReportRequest {
  runId: string;
  format: 'html' | 'json' | 'md';
}

/** A saved run's report: a verify or check record's correctness report, a bench record's bench report. */
export interface RecordReportRequest {
  /** the record's id */
  id: string;
  format: 'html' | 'json' | 'md';
}

export interface ReportResult {
  fileName: string;
  content: string;
  /** where it was saved, when the shell saved it (Electron save dialog) */
  savedPath?: string;
}

// ---- What only the Electron shell adds (the preload puts these on window.quantscope too) ----

/**
 * Commands from the application menu, as strings:
 * 'open' (File > Open…: call pickModelFile), 'open-sample', `open:<path>` (File > Open Recent; the
 * path is already allowed by the main process), 'export-report', 'run', 'cancel', 'toggle-theme'.
 */
export type MenuCommand =
  'open' | 'open-sample' | 'export-report' | 'run' | 'cancel' | 'toggle-theme' | `open:${string}`;

export const MENU_COMMANDS = [
  'open',
  'open-sample',
  'export-report',
  'run',
  'cancel',
  'toggle-theme',
] as const;

export function isMenuCommand(s: unknown): s is MenuCommand {
  return (
    typeof s === 'string' &&
    ((MENU_COMMANDS as readonly string[]).includes(s) ||
      (s.startsWith('open:') && s.length > 5 && s.length < 4200))
  );
}

export interface ShellExtensions {
  /** subscribe to menu commands; returns the unsubscribe function */
  onMenuCommand?: (cb: (cmd: string) => void) => () => void;
  /**
   * The filesystem path of a dropped File (Electron's webUtils.getPathForFile). Also tells the main
   * process the user chose it, so a following openModel(path) is allowed.
   */
  pathForFile?: (file: File) => string;
  /**
   * Browser mode: streams local .gguf files to the server, which keeps them in a temporary folder for
   * as long as it runs and opens them like any model: one file, or all the files of one split model
   * (sent one after another, in the order given, into one folder; the model opens from its first
   * file). See UploadOptions for progress and cancelling.
   */
  uploadModel?: (files: readonly File[], opts?: UploadOptions) => Promise<ModelSummary>;
}

/** How a caller follows and stops an upload (ShellExtensions.uploadModel). */
export interface UploadOptions {
  /**
   * The bytes of all the files sent so far, and their total, as the request bodies go out: often
   * (many times a second on a fast link), so a caller throttles what it shows.
   */
  onProgress?: (sent: number, total: number) => void;
  /**
   * Its abort stops the upload: the request in flight is aborted (the server removes the partial
   * file), no further file is sent, a split model's set is ended on the server, and the promise
   * rejects with an AbortError.
   */
  signal?: AbortSignal;
}

/** Errors cross the boundary as this shape; the message is one line a user can act on. */
export interface ApiError {
  message: string;
}

// ---- Run records: the saved runs (History), and comparisons of two of them ----

/**
 * What a record id may be (the record schema checks the same pattern): letters, digits, '.', '_' and
 * '-'. Records are named by id across the boundary, never by path; the engine reads only the records
 * folder it was given.
 */
export const RECORD_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export type RecordKindName = 'verify' | 'check' | 'bench' | 'selftest';

export interface RecordCounts {
  total: number;
  pass: number;
  fail: number;
  error: number;
  notComparable: number;
}

/** One line of the History list. */
export interface RecordSummaryEntry {
  id: string;
  kind: RecordKindName;
  /** ISO 8601 */
  createdAt: string;
  /** the model's file name */
  model: string | null;
  /** 'cuda:0 NVIDIA H200', or null when the run never reached a device */
  device: string | null;
  backend: string | null;
  /** the run's status: done, cancelled, failed */
  status: string;
  counts: RecordCounts;
}

export interface RecordListing {
  /** false when this engine does not record runs; `note` then says so and `records` is empty */
  recording: boolean;
  note?: string;
  /** newest first */
  records: RecordSummaryEntry[];
  /** files in the records folder that are not readable records, with the reason */
  skipped: { file: string; reason: string }[];
}

/** One tensor at one batch size of a record; records made by the engine carry every TensorResult field. */
export interface RecordResultData {
  tensor: string;
  type: string;
  n: number;
  k: number;
  m: number;
  status: 'pass' | 'fail' | 'error' | 'not-comparable';
  path: string | null;
  threshold?: number | null;
  error?: string;
  /** a 'not-comparable' result: why some outputs were left out (blocks, weight rows, outputs) */
  notComparable?: string;
  /** blocks of the tensor whose scales are NaN or infinite */
  nonFiniteBlocks?: number;
  metrics: ({ nmse: number } & Partial<Omit<Metrics, 'nmse'>>) | null;
  timing:
    | ({ protocol: string; medianUs: number; spread: number } & Partial<
        Omit<TimingSummary, 'protocol' | 'medianUs' | 'spread'>
      >)
    | null;
  arithmetic?: string;
  arithmeticError?: number | null;
  diagnosis?: { class: string; sentence: string } | null;
  /** the error heatmap as the run's engine summarised it (absent where the outputs were gone) */
  heatmap?: { abs: SavedHeatmap; rel: SavedHeatmap };
  /** a FAIL with identity-probe evidence: where the probe looked and, where kept, its saved grid */
  weightMap?: WeightMapInfo | null;
  [field: string]: unknown;
}

/**
 * An error grid kept in a record: the whole output (or, in a weight map, all probed weights) reduced
 * by maximum to at most 16 x 128 cells (values to 4 significant digits), so an old run still shows
 * where its errors were.
 */
export interface SavedHeatmap {
  m: number;
  n: number;
  rows: number;
  cols: number;
  cellRows: number;
  cellCols: number;
  /** row-major [rows][cols]: the largest error in the cell */
  values: number[];
  min: number;
  max: number;
  /**
   * per column: how many of its output features were left out of the comparison (a not-comparable
   * result's outputs of weight rows with non-finite block scales), as ErrorGrid's; their errors are in
   * no value, and a column whose features were all left out is drawn grey. Absent when none were
   * (and in records written before it was kept).
   */
  leftOutCols?: number[];
  /**
   * a weight map's (the HTML report draws it; a record keeps it in weightMap.grid): per row, how many
   * of its weight rows were left out of the comparison, as ErrorGrid's; a row whose weight rows were
   * all left out is drawn grey. Absent when none were.
   */
  leftOutRows?: number[];
}

/** A saved run, validated against the record schema (docs/records.md). */
export interface RunRecordData {
  schema: string;
  version: number;
  id: string;
  kind: RecordKindName;
  createdAt: string;
  /** when the run started (verify records) */
  startedAt?: string;
  app: { version: string; commit: string };
  host: { os: string; hostname: string; node: string };
  device: {
    backend: string;
    index: number;
    name: string;
    arch: string;
    peakBandwidthGBs?: number | null;
    copyBandwidthGBs?: number | null;
    copyBandwidth?: CopyBandwidthMeasurement | null;
    driverVersion?: string | null;
    runtimeVersion?: string | null;
    /** SMs / CUs / the cpu backend's worker threads (records made by QuantScope keep every DeviceSummary field) */
    computeUnits?: number;
    /** cpu, a run from the app: the worker threads it left free for its UI (it runs that many fewer than the CLI) */
    threadsKeptForApp?: number;
    /** GPU: the kernel settings that differed from the defaults (DeviceSummary.kernelSettings) */
    kernelSettings?: string[];
  } | null;
  model: {
    fileName: string;
    path?: string;
    fileSize: number;
    tensorsHash: string | null;
    architecture?: string | null;
    name?: string | null;
    /** a split model's number of files */
    files?: number;
  } | null;
  request: {
    tensors?: string[];
    batchSizes?: number[];
    path?: string;
    seed?: number;
    timing?: string;
    threshold?: number | null;
    [field: string]: unknown;
  };
  status: string;
  error?: string;
  results: RecordResultData[];
  /** a run over several devices: every device's part (src-shared/devices.ts DeviceRunEntry) */
  devices?: {
    slot: number;
    backend: string;
    index: number;
    name: string | null;
    arch: string | null;
    pciBusId?: string | null;
    uuid?: string | null;
    status: 'done' | 'cancelled' | 'failed';
    error?: string;
    thread?: number | null;
  }[];
  /** kind 'bench': the timings */
  bench?: BenchRecordData;
  /** kind 'selftest': every case */
  selftest?: SelftestRecordData;
}

/** One format, shape, batch size, protocol and path of a bench record. */
export interface BenchRecordRow {
  format: string;
  n: number;
  k: number;
  m: number;
  protocol: string;
  /** the kernel path that ran */
  path: string;
  medianUs: number;
  /** interquartile range of the samples, µs */
  iqrUs: number | null;
  /** (p90 - p10) / median */
  spread: number;
  samples: number;
  minUs?: number | null;
  maxUs?: number | null;
  gbps: number;
  tflops: number;
  pctPeak: number | null;
  pctCopy: number | null;
  /** the peer's time for the same shape (µs), when a peer is known */
  peerUs: number | null;
  hostUs?: number | null;
  /** the correctness check on the benchmark shape itself */
  check: { status: 'pass' | 'fail' | 'error'; nmse: number | null; detail?: string };
  [field: string]: unknown;
}

export interface BenchRecordData {
  shape?: { n: number; k: number } | null;
  repeats?: number | null;
  protocols?: string[];
  paths?: string[];
  /**
   * whose times the peer column holds, and where they came from (a --peer file, or the built-in
   * table); the peer's build and when it ran, where its file says (src-shared/bench-chart.ts words it)
   */
  peer?: {
    label: string;
    source: string;
    device: string | null;
    commit?: string | null;
    measuredAt?: string | null;
  } | null;
  rows: BenchRecordRow[];
  [field: string]: unknown;
}

/** One case of a selftest record. */
export interface SelftestRecordRow {
  format: string;
  n: number;
  k: number;
  m: number;
  /** the weight case: random, zero-scales, ... */
  weights: string;
  requested: string;
  path: string | null;
  status: 'pass' | 'fail' | 'error';
  nmse: number | null;
  threshold: number | null;
  arithmetic?: string | null;
  arithmeticError?: number | null;
  diagnosis?: { class: string; sentence: string } | null;
  detail: string;
  ms: number;
  [field: string]: unknown;
}

export interface SelftestRecordData {
  backend?: string;
  quick?: boolean;
  seed?: number;
  rows: SelftestRecordRow[];
  [field: string]: unknown;
}

/** How one tensor at one batch size changed from the baseline record to the candidate. */
export type RowVerdict =
  'new-failure' | 'fixed' | 'still-failing' | 'slower' | 'faster' | 'same' | 'missing' | 'new';

export interface CompareSide {
  status: string;
  /** kernel error: NMSE against the reference of the declared arithmetic */
  nmse: number | null;
  /** the threshold the verdict was judged by (null: the record does not say) */
  threshold: number | null;
  /** arithmetic error: NMSE of the declared arithmetic against exact arithmetic */
  arithmeticError: number | null;
  /** the diagnosis of a failing side (class and sentence); null when it passed or none was made */
  diagnosis: { class: string; sentence: string } | null;
  /** median time, µs */
  us: number | null;
  /** the timing's relative spread */
  spread: number | null;
}

export interface CompareRow {
  tensor: string;
  type: string;
  m: number;
  verdict: RowVerdict;
  baseline: CompareSide | null;
  candidate: CompareSide | null;
  /** candidate time / baseline time */
  speedRatio: number | null;
  /** the relative change a speed difference had to exceed to count */
  noise: number | null;
  /** candidate NMSE / baseline NMSE (both finite and positive) */
  nmseRatio: number | null;
  /** how the diagnosis changed ("boundary -> scale"), information only: it never sets the verdict */
  diagnosisChange: string | null;
}

export interface ComparisonSideLabel {
  id: string;
  createdAt: string;
  device: string | null;
  model: string | null;
}

export interface Comparison {
  /** the kind of both records: rows are tensors (verify, check) or cases (bench, selftest) */
  kind: RecordKindName;
  baseline: ComparisonSideLabel;
  candidate: ComparisonSideLabel;
  tolerance: number;
  /** worst first: regressions, then fixes and improvements, then the rest */
  rows: CompareRow[];
  counts: Record<RowVerdict, number>;
  /** the headline: regressed or not; none ('not-same-work') when `differences` is not empty */
  verdict: ComparisonVerdict;
  /**
   * true when any row regressed: a new failure, a slowdown beyond tolerance and spread, a result that
   * disappeared (the verdict only where the two records are of the same work)
   */
  regressed: boolean;
  /**
   * what makes the two records different work, one phrase each (weights, tensor selection, no tensor
   * or case in common, threshold, seed, activations, arithmetic); empty for the same work
   */
  differences: string[];
  /** `differences` in one line; null for the same work */
  different: string | null;
}

/** A comparison's headline: no verdict for records that are not of the same work. */
export type ComparisonVerdict = 'regressed' | 'no-regression' | 'not-same-work';

export interface CompareRequest {
  /** record ids */
  baseline: string;
  candidate: string;
  /** relative speed change that counts at least (default 0.05); the runs' own spread counts too */
  speedTolerance?: number;
}

export interface ComparisonExportRequest extends CompareRequest {
  format: 'html' | 'json';
}
