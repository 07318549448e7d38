/**
 * The method table: every request-response call of the API, written once. Each row gives the
 * argument tuple, the result and whether the method is the shell's own (a native dialog) rather than
 * the engine's. The preload, the Electron IPC handlers, the engine utility process, the browser
 * server's routes, the renderer's HTTP client and the engine's argument validation all iterate over
 * API_METHODS; the argument schemas in ./schemas.ts are typed against ApiMethods, so a method
 * without a schema does not compile.
 *
 * Adding a method: a row in ApiMethods and API_METHODS, its schema in ./schemas.ts, the method on
 * EngineService (or a shell hook, for a shell-only method), and the UI code that calls it.
 *
 * Zod-free on purpose: the sandboxed preload and the renderer import this file and stay small.
 */
import type {
  AppInfo,
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
  TensorResult,
  TensorPage,
  TensorPageRequest,
} from './types';

/** What a file dialog of pickFile is for: a GPU code object, or raw float32 values. */
export type PickFileKind = 'code-object' | 'float32';

export interface ApiMethods {
  appInfo: { args: []; result: AppInfo };
  /** model files the user may open without a dialog: samples, --models dirs, recent */
  listModelFiles: { args: []; result: ModelFileEntry[] };
  /** Electron: native open dialog; browser: null (the UI uses listModelFiles) */
  pickModelFile: { args: []; result: string | null; shellOnly: true };
  openModel: { args: [path: string]; result: ModelSummary };
  /**
   * What a partly typed path may continue with: folders and .gguf files whose names start with its
   * last part. Browser mode: only below the model folders (anything else is refused with one error,
   * whether or not it exists); Electron: anywhere.
   */
  completePath: { args: [prefix: string]; result: PathCompletion[] };
  /** a page of an open model's tensors (a summary with tensorsPaged has none inline) */
  listTensors: { args: [req: TensorPageRequest]; result: TensorPage };
  devices: { args: []; result: BackendSummary[] };
  startRun: { args: [req: RunRequest]; result: { runId: string } };
  cancelRun: { args: [runId: string]; result: void };
  errorGrid: { args: [req: ErrorGridRequest]; result: ErrorGrid };
  exportReport: { args: [req: ReportRequest]; result: ReportResult };
  /** the saved runs, newest first (an empty listing that says so when runs are not recorded) */
  listRecords: { args: []; result: RecordListing };
  openRecord: { args: [id: string]; result: RunRecordData };
  /**
   * a saved run's report as a file, made from its record as `quantscope records <id> --report`
   * makes it: a verify or check record's correctness report, a bench record's bench report
   */
  exportRecordReport: { args: [req: RecordReportRequest]; result: ReportResult };
  compareRecords: { args: [req: CompareRequest]; result: Comparison };
  /** a comparison as a file: a self-contained HTML report or JSON */
  exportComparison: { args: [req: ComparisonExportRequest]; result: ReportResult };
  /** Electron: a native open dialog for a code object or a float32 file; browser: null (type a path) */
  pickFile: { args: [kind: PickFileKind]; result: string | null; shellOnly: true };
  /** a code object's size and sha256, after the same path checks a run makes */
  codeObjectInfo: { args: [path: string]; result: CodeObjectInfo };
  /** runs the selftest on a backend; rows arrive as selftest-* run events; cancelRun stops it */
  startSelftest: { args: [req: SelftestRequest]; result: { runId: string } };
  /** judges an (input, output) pair made elsewhere, like `quantscope check` */
  checkPair: { args: [req: CheckRequest]; result: TensorResult };
  /** the weight map of a FAIL with identity-probe evidence: probed weights' errors, rows x elements */
  weightGrid: { args: [req: ErrorGridRequest]; result: ErrorGrid };
}

export type ApiMethod = keyof ApiMethods;
export type ApiArgs<M extends ApiMethod> = ApiMethods[M]['args'];
export type ApiResult<M extends ApiMethod> = ApiMethods[M]['result'];
type IsShellOnly<M extends ApiMethod> = ApiMethods[M] extends { shellOnly: true } ? true : false;
/** methods a shell answers itself (native dialogs); the engine never sees them */
export type ShellOnlyMethod = { [M in ApiMethod]: IsShellOnly<M> extends true ? M : never }[ApiMethod];
/** methods the engine answers */
export type EngineMethod = Exclude<ApiMethod, ShellOnlyMethod>;

export interface MethodSpec<M extends ApiMethod> {
  readonly name: M;
  readonly shellOnly: IsShellOnly<M>;
  /** resolves to undefined: the transports carry null, which callers turn back into undefined */
  readonly voidResult: [ApiResult<M>] extends [void] ? true : false;
}

/** The runtime rows of the table, in the order the faces list them. */
export const API_METHODS: { readonly [M in ApiMethod]: MethodSpec<M> } = {
  appInfo: { name: 'appInfo', shellOnly: false, voidResult: false },
  listModelFiles: { name: 'listModelFiles', shellOnly: false, voidResult: false },
  pickModelFile: { name: 'pickModelFile', shellOnly: true, voidResult: false },
  openModel: { name: 'openModel', shellOnly: false, voidResult: false },
  completePath: { name: 'completePath', shellOnly: false, voidResult: false },
  listTensors: { name: 'listTensors', shellOnly: false, voidResult: false },
  devices: { name: 'devices', shellOnly: false, voidResult: false },
  startRun: { name: 'startRun', shellOnly: false, voidResult: false },
  cancelRun: { name: 'cancelRun', shellOnly: false, voidResult: true },
  errorGrid: { name: 'errorGrid', shellOnly: false, voidResult: false },
  exportReport: { name: 'exportReport', shellOnly: false, voidResult: false },
  listRecords: { name: 'listRecords', shellOnly: false, voidResult: false },
  openRecord: { name: 'openRecord', shellOnly: false, voidResult: false },
  exportRecordReport: { name: 'exportRecordReport', shellOnly: false, voidResult: false },
  compareRecords: { name: 'compareRecords', shellOnly: false, voidResult: false },
  exportComparison: { name: 'exportComparison', shellOnly: false, voidResult: false },
  pickFile: { name: 'pickFile', shellOnly: true, voidResult: false },
  codeObjectInfo: { name: 'codeObjectInfo', shellOnly: false, voidResult: false },
  startSelftest: { name: 'startSelftest', shellOnly: false, voidResult: false },
  checkPair: { name: 'checkPair', shellOnly: false, voidResult: false },
  weightGrid: { name: 'weightGrid', shellOnly: false, voidResult: false },
};

export const API_METHOD_NAMES: readonly ApiMethod[] = Object.keys(API_METHODS) as ApiMethod[];
export const ENGINE_METHOD_NAMES: readonly EngineMethod[] = API_METHOD_NAMES.filter(
  (m) => !API_METHODS[m].shellOnly,
) as EngineMethod[];

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_METHODS, name);
}

export function isEngineMethod(name: string): name is EngineMethod {
  return isApiMethod(name) && !API_METHODS[name].shellOnly;
}

/** A transport's raw value as the method's result (null stands for undefined where the result is void). */
export function resultOf(method: ApiMethod, value: unknown): unknown {
  return API_METHODS[method].voidResult ? undefined : value;
}

/** One async function per method of M, with the table's arguments and result. */
export type ApiCalls<M extends ApiMethod> = {
  [K in M]: (...args: ApiArgs<K>) => Promise<ApiResult<K>>;
};

export interface RunEventSource {
  /** subscribe to run events; returns the unsubscribe function */
  onRunEvent(cb: (ev: RunEvent) => void): () => void;
}

/** What the renderer calls: window.quantscope in Electron, the HTTP client in a browser. */
export type QuantScopeApi = ApiCalls<ApiMethod> & RunEventSource;

/** What every face runs work through: EngineService, or a fake with the same surface in tests. */
export type EngineApi = ApiCalls<EngineMethod> & RunEventSource & { dispose(): Promise<void> };

// ---- Transport names, derived from the table ----

/** Electron invoke channel of a method ('qs:openModel'). */
export const API_CHANNEL_PREFIX = 'qs:';
export const apiChannel = (m: ApiMethod): string => `${API_CHANNEL_PREFIX}${m}`;
/** main -> renderer */
export const RUN_EVENT_CHANNEL = 'qs:run-event';
export const MENU_COMMAND_CHANNEL = 'qs:menu-command';
/** renderer -> main (send, not invoke): the user dropped this file; allow opening it */
export const ALLOW_DROPPED_CHANNEL = 'qs:allow-dropped';

/** Browser mode: POST /api/<method> with a JSON array of arguments; GET /api/events is the SSE stream. */
export const API_ROUTE_PREFIX = '/api/';
export const apiRoute = (m: ApiMethod): string => `${API_ROUTE_PREFIX}${m}`;
export const EVENTS_ROUTE = '/api/events';
/**
 * Browser mode: PUT /api/upload?name=<file name> with the file's bytes as the body
 * (application/octet-stream); 200 with the opened ModelSummary.
 * The files of a split model (name-00001-of-00003.gguf ...) go one request each, one after another,
 * into one folder on the server: each also carries set=<id> (UPLOAD_SET_ID, made by the client, the
 * same for all of them) and total=<the bytes of all the files>, and the last one open=1. Each but the
 * last answers 200 with { files, bytes } (what the set holds so far); the last, when the set is
 * complete, 200 with the ModelSummary opened from the first file. Any refused file ends the set and
 * removes its files; so does waiting too long for the next one, and DELETE /api/upload?set=<id>, which
 * a client sends when its user cancels the upload (200 with { ended }: whether the set was on its way).
 */
export const UPLOAD_ROUTE = '/api/upload';
/** An upload set's id: 16 random bytes in lowercase hex. */
export const UPLOAD_SET_ID = /^[0-9a-f]{32}$/;
