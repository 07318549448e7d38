/**
 * The app state (zustand). All engine calls go through the QuantScopeApi handed to createAppStore,
 * so tests can drive the store with a fake API. Run events are coalesced per animation frame.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  AppInfo,
  BackendKind,
  BackendSummary,
  ModelFileEntry,
  ModelSummary,
  PathChoice,
  QuantScopeApi,
  ReportResult,
  RunEvent,
  RunRequest,
  ShellExtensions,
  TimingChoice,
  UserKernel,
} from '../../src-shared/contract';
import { oneLine } from '../../src-shared/contract/errors';
import { LIMITS } from '../../src-shared/contract/limits';
import { createBatcher, type Scheduler } from './lib/batcher';
import { applyRunEvents, IDLE_RUN, interruptRun, isActive, type RunState } from './lib/runState';
import {
  EMPTY_FILTER,
  withAllTensors,
  withResultScans,
  type SortState,
  type TensorFilter,
  type TensorSortKey,
} from './lib/tensors';
import type { ResultSortKey } from './lib/results';
import { UPLOAD_CANCELLED, UploadMeter, planUpload, uploadingText } from './lib/upload';
import type { TensorResult } from '../../src-shared/contract';

export type View = 'model' | 'results' | 'charts' | 'history' | 'kernels';
export type Theme = 'light' | 'dark';

export const BATCH_CHOICES = [1, 2, 3, 4, 5, 8, 16, 64, 512] as const;
/** the engine's limit, so the form refuses what the engine would */
export const MAX_BATCH = LIMITS.maxBatch;

export interface RunConfig {
  backend: BackendKind;
  deviceIndex: number;
  /** every device of the backend at once, side by side (one worker each); the backend needs two or more */
  allDevices: boolean;
  batchSizes: number[];
  seed: number;
  timing: TimingChoice;
  path: PathChoice;
  compareUnfused: boolean;
  /** text of the threshold override; '' = the path's own */
  threshold: string;
  /** timed repeats per job; 0 = the backend's default */
  repeats: number;
  /** generated activations: gaussian, outliers, outliers100, embeddings */
  activations: string;
  /** the declared arithmetic every result is judged by; '' = each path's own */
  arithmetic: string;
  /** users' code objects by format (sent with GPU runs only) */
  userKernels: UserKernel[];
}

export const MAX_REPEATS = 1000;

export const DEFAULT_CONFIG: RunConfig = {
  backend: 'cpu',
  deviceIndex: 0,
  allDevices: false,
  batchSizes: [1],
  // the command line's default too: the same work gives the same activations, and so the same
  // numbers and a comparable record, from either face
  seed: 1,
  timing: 'hot',
  path: 'auto',
  compareUnfused: false,
  threshold: '',
  repeats: 0,
  activations: 'gaussian',
  arithmetic: '',
  userKernels: [],
};

/**
 * The engine connection: 'ok', 'lost' (the engine does not answer: stopped or crashed) or
 * 'unauthorized' (it answers but refuses this page's token: a restarted `quantscope serve`).
 */
export type ConnectionStatus = 'ok' | 'lost' | 'unauthorized';

/** What the results on screen belong to (they outlive a model switch and a failed start). */
export interface ResultsOwner {
  runId: string | null;
  modelName: string;
  modelPath: string;
  backend: BackendKind;
  device: string;
}

export interface AppState {
  /** the engine API (read-only; components that fetch on demand use it) */
  api: QuantScopeApi;
  appInfo: AppInfo | null;
  initError: string | null;
  files: ModelFileEntry[];
  /** true until the first file listing answered (the picker says so instead of "no files") */
  filesLoading: boolean;
  filesError: string | null;
  model: ModelSummary | null;
  opening: string | null;
  openError: string | null;
  /**
   * browser mode: the upload's progress line ("Uploading 3 files of m-00001-of-00003.gguf: 4.00 MiB
   * of 12.3 MiB (32%), …"); redrawn a few times a second at most
   */
  uploading: string | null;
  /** browser mode: the bytes of the upload sent so far and their total (the progress bar), with `uploading` */
  uploadBytes: { sent: number; total: number } | null;
  backends: BackendSummary[];
  devicesError: string | null;
  filter: TensorFilter;
  tensorSort: SortState<TensorSortKey>;
  selected: ReadonlySet<string>;
  anchor: string | null;
  config: RunConfig;
  /**
   * Batch sizes added by hand (no fixed chip): each keeps its chip for the session, selected or
   * not, until it is removed (removeBatchSize).
   */
  customBatchSizes: number[];
  configError: string | null;
  run: RunState;
  results: TensorResult[];
  resultsFor: ResultsOwner | null;
  staleRuns: ReadonlySet<string>;
  resultSort: SortState<ResultSortKey>;
  selectedResultId: string | null;
  view: View;
  pickerOpen: boolean;
  helpOpen: boolean;
  theme: Theme;
  notice: { kind: 'info' | 'error'; text: string } | null;
  exporting: boolean;
  lastReport: ReportResult | null;
  /** the run's first result time and the time the latest batch landed (responsiveness checks) */
  lastEventAt: number;
  connection: ConnectionStatus;
  /** the last connection error, one line */
  connectionError: string | null;
}

export interface AppActions {
  init(): Promise<void>;
  refreshFiles(): Promise<void>;
  refreshDevices(): Promise<void>;
  pickAndOpen(): Promise<void>;
  openModel(path: string): Promise<void>;
  /**
   * Opens a model by any means (a path, an upload): `label` names it while it opens and in errors,
   * `open` asks the engine for it. A failure for which `quiet` answers true (the user stopped it)
   * leaves no openError.
   */
  openWith(label: string, open: () => Promise<ModelSummary>, quiet?: () => boolean): Promise<void>;
  /**
   * Browser mode: uploads local files and opens them (the Upload… input, files dropped on the
   * window): one model file, or all the files of one split model. Any other choice is refused in
   * openError before a byte is sent, as is an app that cannot upload.
   */
  uploadFiles(files: readonly File[]): Promise<void>;
  /**
   * Stops the upload in progress: the file in flight is aborted, no further file is sent, and the
   * notice says "Upload cancelled"; the model that was open stays open.
   */
  cancelUpload(): void;
  setFilter(f: Partial<TensorFilter>): void;
  setTensorSort(key: TensorSortKey): void;
  setSelected(sel: ReadonlySet<string>, anchor?: string | null): void;
  setConfig(c: Partial<RunConfig>): void;
  /** Select these batch sizes; those without a fixed chip get a custom one. */
  addBatchSizes(sizes: number[]): void;
  /** Remove a custom batch size's chip (and the size from the selection). */
  removeBatchSize(m: number): void;
  startRun(): Promise<void>;
  cancelRun(): Promise<void>;
  setResultSort(key: ResultSortKey): void;
  selectResult(id: string | null): void;
  setView(v: View): void;
  setPickerOpen(open: boolean): void;
  setHelpOpen(open: boolean): void;
  setTheme(t: Theme): void;
  toggleTheme(): void;
  setNotice(n: AppState['notice']): void;
  exportReport(format: 'html' | 'json' | 'md'): Promise<ReportResult | null>;
  /** ask the engine whether it is there; updates `connection` (the heartbeat calls it) */
  checkConnection(): Promise<ConnectionStatus>;
  dispose(): void;
}

export type AppStore = StoreApi<AppState & AppActions>;

/** One line a user can act on, whatever crossed the boundary (Error, {message}, IPC wrapping). */
export function errorText(e: unknown): string {
  let msg: string;
  if (e instanceof Error) msg = e.message;
  else if (e && typeof e === 'object' && 'message' in e && typeof e.message === 'string') msg = e.message;
  else msg = String(e);
  return oneLine(msg.replace(/^Error invoking remote method '[^']*': /, '').replace(/^(Error: )+/, ''));
}

/** Parse a custom batch size list ("1, 7 32") into valid sizes or an error line. */
export function parseBatchSizes(text: string): { sizes: number[] } | { error: string } {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const sizes: number[] = [];
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 1 || v > MAX_BATCH)
      return { error: `batch size "${p}" must be a whole number 1–${MAX_BATCH}` };
    sizes.push(v);
  }
  return { sizes };
}

/** The batch sizes among `sizes` that have no fixed chip (BATCH_CHOICES), sorted, once each. */
export function customSizes(sizes: readonly number[]): number[] {
  const fixed = BATCH_CHOICES as readonly number[];
  return [...new Set(sizes.filter((m) => !fixed.includes(m)))].sort((a, b) => a - b);
}

/**
 * The batch size chips: the fixed choices, then the custom sizes (those added by hand, selected or
 * not, and any selected size without a chip).
 */
export function batchChips(custom: readonly number[], selected: readonly number[]): number[] {
  return [...BATCH_CHOICES, ...customSizes([...custom, ...selected])];
}

/** Build and check the run request; returns an error line a user can act on. */
export function buildRunRequest(s: AppState): RunRequest | { error: string } {
  if (!s.model) return { error: 'Open a model first (Ctrl+O).' };
  const tensors = s.model.tensors.filter((t) => t.supported && s.selected.has(t.name)).map((t) => t.name);
  if (!tensors.length) return { error: 'Select at least one supported tensor in the table.' };
  const c = s.config;
  if (!c.batchSizes.length) return { error: 'Choose at least one batch size.' };
  const be = s.backends.find((b) => b.backend === c.backend);
  if (be && !be.available)
    return { error: `The ${c.backend} backend is unavailable: ${be.reason ?? 'no reason given'}.` };
  if (!Number.isInteger(c.seed) || c.seed < 0) return { error: 'Seed must be a whole number ≥ 0.' };
  let threshold: number | null = null;
  if (c.threshold.trim() !== '') {
    threshold = Number(c.threshold);
    if (!Number.isFinite(threshold) || threshold <= 0)
      return { error: `Threshold "${c.threshold}" must be a positive number such as 1e-6.` };
  }
  if (!Number.isInteger(c.repeats) || c.repeats < 0 || c.repeats > MAX_REPEATS)
    return { error: `Repeats must be a whole number 1–${MAX_REPEATS} (or empty for the default).` };
  // user kernels are GPU code objects: a cpu run does not carry them
  const userKernels = c.backend === 'cpu' ? [] : c.userKernels.filter((u) => u.path.trim() !== '');
  return {
    modelId: s.model.modelId,
    tensors,
    batchSizes: [...c.batchSizes].sort((a, b) => a - b),
    backend: c.backend,
    deviceIndex: c.deviceIndex,
    ...(c.allDevices && be && be.devices.length > 1 ? { devices: be.devices.map((d) => d.index) } : {}),
    seed: c.seed,
    // The cpu has one timing protocol (no weight copies to rotate): "cold" would only be a label there.
    timing: c.backend === 'cpu' && c.timing === 'cold' ? 'hot' : c.timing,
    path: c.path,
    compareUnfused: c.compareUnfused,
    threshold,
    ...(c.repeats > 0 && c.timing !== 'none' ? { repeats: c.repeats } : {}),
    activations: c.activations || 'gaussian',
    ...(c.arithmetic ? { arithmetic: c.arithmetic } : {}),
    ...(userKernels.length ? { userKernels: userKernels.map((u) => ({ ...u, path: u.path.trim() })) } : {}),
  };
}

/**
 * Which connection failure an API error means, if any: the HTTP client's "cannot reach" (network
 * error, the server is gone) or the server's 401 (a token from an earlier server); else null.
 */
export function connectionFailure(e: unknown): Exclude<ConnectionStatus, 'ok'> | null {
  const msg = errorText(e);
  if (/missing or wrong token|HTTP 401\b/i.test(msg)) return 'unauthorized';
  if (/cannot reach the QuantScope (server|engine)|engine connection lost/i.test(msg)) return 'lost';
  return null;
}

/** How often the store asks the engine whether it is there: during a run (or while lost), and idle. */
export const HEARTBEAT_ACTIVE_MS = 1000;
export const HEARTBEAT_IDLE_MS = 5000;
/** An engine that has not answered a heartbeat in this long counts as lost. */
export const HEARTBEAT_TIMEOUT_MS = 4000;

const THEME_KEY = 'quantscope.theme';
const CONFIG_KEY = 'quantscope.runConfig';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function initialTheme(): Theme {
  const saved = storage()?.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  if (typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches) return 'dark';
  return 'light';
}

function savedConfig(): RunConfig {
  try {
    const raw = storage()?.getItem(CONFIG_KEY);
    if (!raw) return DEFAULT_CONFIG;
    const c = { ...DEFAULT_CONFIG, ...(JSON.parse(raw) as Partial<RunConfig>) };
    if (
      !Array.isArray(c.batchSizes) ||
      !c.batchSizes.every((b) => Number.isInteger(b) && b >= 1 && b <= MAX_BATCH)
    )
      c.batchSizes = DEFAULT_CONFIG.batchSizes;
    if (!Array.isArray(c.userKernels)) c.userKernels = [];
    if (typeof c.activations !== 'string') c.activations = DEFAULT_CONFIG.activations;
    if (typeof c.arithmetic !== 'string') c.arithmetic = DEFAULT_CONFIG.arithmetic;
    return c;
  } catch {
    return DEFAULT_CONFIG;
  }
}

export interface StoreOptions {
  schedule?: Scheduler;
  /** heartbeat tick in ms (0 = none; tests call checkConnection themselves); default HEARTBEAT_ACTIVE_MS */
  heartbeatMs?: number;
  /** the clock the upload progress is timed by (default Date.now) */
  now?: () => number;
}

export function createAppStore(api: QuantScopeApi & ShellExtensions, opts: StoreOptions = {}): AppStore {
  let unsubscribe: (() => void) | null = null;
  let cancelWhenKnown = false;
  let heartbeat: ReturnType<typeof setInterval> | null = null;
  let lastCheck = 0;
  let checking = false;
  /** aborts the upload in progress (cancelUpload) */
  let uploadAbort: AbortController | null = null;
  const now = opts.now ?? Date.now;

  const store = createStore<AppState & AppActions>()((set, get) => {
    const batcher = createBatcher<RunEvent>((events) => {
      const s = get();
      const next = applyRunEvents({ run: s.run, results: s.results, staleRuns: s.staleRuns }, events);
      if (next.run !== s.run || next.results !== s.results) {
        // The first event of the started run: the engine accepted it, its results replace the old ones.
        // Nothing is selected for the user: with no choice, the results view shows its table's first row.
        const accepted = s.run.runId === null && next.run.runId !== null;
        const model =
          s.model && next.run.request?.modelId === s.model.modelId
            ? withResultScans(s.model, accepted ? next.results : next.results.slice(s.results.length))
            : s.model;
        set({
          run: next.run,
          results: next.results,
          lastEventAt: Date.now(),
          ...(model !== s.model ? { model } : {}),
          ...(accepted ? { resultsFor: ownerOf(next.run), selectedResultId: null } : {}),
        });
      }
      const run = get().run;
      if (cancelWhenKnown && run.runId) {
        cancelWhenKnown = false;
        api.cancelRun(run.runId).catch(() => undefined);
      }
    }, opts.schedule);

    /** The model and device a run's results belong to, named for the results header. */
    function ownerOf(run: RunState): ResultsOwner | null {
      const req = run.request;
      const s = get();
      if (!req) return null;
      const model = s.model?.modelId === req.modelId ? s.model : null;
      const dev = s.backends
        .find((b) => b.backend === req.backend)
        ?.devices.find((d) => d.index === req.deviceIndex);
      return {
        runId: run.runId,
        modelName: model?.fileName ?? s.resultsFor?.modelName ?? 'model',
        modelPath: model?.path ?? '',
        backend: req.backend,
        device: dev ? `${req.backend}:${dev.index} ${dev.name}` : `${req.backend}:${req.deviceIndex}`,
      };
    }

    /** The engine answered (again): after an outage, say so and reload what may have changed. */
    function connectionOk(): void {
      const was = get().connection;
      if (was === 'ok') return;
      set({
        connection: 'ok',
        connectionError: null,
        notice: { kind: 'info', text: 'Engine connection restored.' },
      });
      void get().refreshFiles();
      void get().refreshDevices();
      void revalidateModel();
    }

    /**
     * After an outage the engine may be a new one that never opened our model: its handle then
     * answers "no longer open". The same file is opened again by path, keeping the selection of the
     * tensors it still has, the filter and the view; a file that cannot be opened again is said so,
     * and the model view closes instead of offering a Run that cannot start.
     */
    async function revalidateModel(): Promise<void> {
      const m = get().model;
      if (!m) return;
      try {
        await api.listTensors({ modelId: m.modelId, offset: 0, limit: 1 });
        return; // still open
      } catch (e) {
        if (connectionFailure(e)) return;
      }
      try {
        const fresh = await withAllTensors(api, await api.openModel(m.path));
        if (get().model?.modelId !== m.modelId) return; // another model was opened meanwhile
        const names = new Set(fresh.tensors.map((t) => t.name));
        const selected = new Set([...get().selected].filter((n) => names.has(n)));
        set({ model: fresh, selected });
      } catch (e) {
        if (get().model?.modelId !== m.modelId || connectionFailure(e)) return;
        set({
          model: null,
          selected: new Set(),
          anchor: null,
          notice: {
            kind: 'error',
            text: `The engine was restarted and ${m.fileName} could not be opened again: ${errorText(e)}`,
          },
        });
      }
    }

    /** The engine went away or refuses us: mark an active run interrupted, enable Run again. */
    function connectionFailed(kind: Exclude<ConnectionStatus, 'ok'>, e: unknown): void {
      const s = get();
      const reason =
        kind === 'lost'
          ? 'engine connection lost: the run was interrupted'
          : 'the engine refused this page (it was restarted with a new token)';
      cancelWhenKnown = false;
      const run = interruptRun(s.run, reason);
      set({
        connection: kind,
        connectionError: errorText(e),
        run,
        ...(run !== s.run
          ? {
              notice: {
                kind: 'error',
                text:
                  kind === 'lost'
                    ? 'Engine connection lost: the run was interrupted.'
                    : 'The engine refused this page (it was restarted with a new token): the run was interrupted.',
              },
            }
          : {}),
      });
      if (kind === 'lost') startHeartbeat();
    }

    /** Classify a failed call: a connection failure updates `connection`; returns whether it was one. */
    function noteFailure(e: unknown): boolean {
      const kind = connectionFailure(e);
      if (kind) connectionFailed(kind, e);
      return kind !== null;
    }

    function startHeartbeat(): void {
      const tick = opts.heartbeatMs ?? HEARTBEAT_ACTIVE_MS;
      if (heartbeat || tick <= 0 || typeof setInterval !== 'function') return;
      heartbeat = setInterval(() => {
        const s = get();
        const busy = isActive(s.run.status) || s.connection === 'lost';
        if (!busy && Date.now() - lastCheck < HEARTBEAT_IDLE_MS) return;
        if (s.connection === 'unauthorized') return; // only a new token helps; the page says so
        void get().checkConnection();
      }, tick);
    }

    const config = savedConfig();
    return {
      api,
      appInfo: null,
      initError: null,
      files: [],
      filesLoading: true,
      filesError: null,
      model: null,
      opening: null,
      openError: null,
      uploading: null,
      uploadBytes: null,
      backends: [],
      devicesError: null,
      filter: EMPTY_FILTER,
      tensorSort: { key: 'index', dir: 'asc' },
      selected: new Set(),
      anchor: null,
      config,
      customBatchSizes: customSizes(config.batchSizes),
      configError: null,
      run: IDLE_RUN,
      results: [],
      resultsFor: null,
      staleRuns: new Set(),
      resultSort: { key: 'status', dir: 'asc' },
      selectedResultId: null,
      view: 'model',
      pickerOpen: false,
      helpOpen: false,
      theme: initialTheme(),
      notice: null,
      exporting: false,
      lastReport: null,
      lastEventAt: 0,
      connection: 'ok',
      connectionError: null,

      async init() {
        if (!unsubscribe) unsubscribe = api.onRunEvent((ev) => batcher.push(ev));
        // The file list does not wait for the device probe (which can take seconds on a first start):
        // the devices are asked for once the files have answered, so the engine lists them first.
        const files = get().refreshFiles();
        const devices = files.then(() => get().refreshDevices());
        const [info] = await Promise.allSettled([api.appInfo(), files, devices]);
        lastCheck = Date.now();
        if (info.status === 'fulfilled') set({ appInfo: info.value });
        else {
          set({ initError: `Could not reach the engine: ${errorText(info.reason)}` });
          noteFailure(info.reason);
        }
        startHeartbeat();
      },

      async refreshFiles() {
        try {
          set({ files: await api.listModelFiles(), filesError: null, filesLoading: false });
        } catch (e) {
          set({ filesError: `Could not list model files: ${errorText(e)}`, filesLoading: false });
          noteFailure(e);
        }
      },

      async refreshDevices() {
        try {
          const backends = await api.devices();
          const c = get().config;
          const cur = backends.find((b) => b.backend === c.backend);
          let config = c;
          if (!cur || !cur.available || !cur.devices.some((d) => d.index === c.deviceIndex)) {
            const pick =
              backends.find((b) => b.available && b.backend !== 'cpu') ?? backends.find((b) => b.available);
            if (pick) config = { ...c, backend: pick.backend, deviceIndex: pick.devices[0]?.index ?? 0 };
          }
          set({ backends, devicesError: null, config });
        } catch (e) {
          set({ devicesError: `Could not list devices: ${errorText(e)}` });
          noteFailure(e);
        }
      },

      async pickAndOpen() {
        try {
          const path = await api.pickModelFile();
          if (path) await get().openModel(path);
          // No native dialog (browser): the in-app picker; a cancelled dialog (Electron): nothing.
          else if (get().appInfo?.mode !== 'electron') set({ pickerOpen: true });
        } catch (e) {
          set({ openError: errorText(e), pickerOpen: true });
        }
      },

      async openModel(path) {
        return get().openWith(path, () => api.openModel(path));
      },

      async openWith(path, open, quiet) {
        set({ opening: path, openError: null });
        try {
          const model = await withAllTensors(api, await open());
          set({
            model,
            opening: null,
            pickerOpen: false,
            selected: new Set(),
            anchor: null,
            filter: EMPTY_FILTER,
            view: 'model',
          });
          get().refreshFiles();
        } catch (e) {
          if (quiet?.()) {
            set({ opening: null });
            return;
          }
          const name = path.split(/[\\/]/).pop() ?? path;
          const msg = errorText(e);
          // The engine's message usually names the file already; do not say it twice.
          const text = msg.includes(name) ? msg : `Could not open ${name}: ${msg}`;
          set({ opening: null, openError: text });
          // A file that is gone or changed should not stay offered as it was.
          if (!noteFailure(e)) void get().refreshFiles();
        }
      },

      async uploadFiles(files) {
        const upload = api.uploadModel;
        if (!upload) {
          set({ openError: 'this app cannot upload files: open a path instead' });
          return;
        }
        if (get().uploading !== null) {
          set({ openError: 'an upload is in progress: wait for it to finish before starting another' });
          return;
        }
        const plan = planUpload(files);
        if ('error' in plan) {
          set({ openError: plan.error });
          return;
        }
        const abort = new AbortController();
        uploadAbort = abort;
        // The uploader reports progress many times a second: the meter lets a few of them through.
        const meter = new UploadMeter(plan.bytes, now());
        const onProgress = (sent: number): void => {
          const stats = meter.update(sent, now());
          if (stats && uploadAbort === abort)
            set({ uploading: uploadingText(plan, stats), uploadBytes: { sent, total: plan.bytes } });
        };
        set({ uploading: uploadingText(plan), uploadBytes: { sent: 0, total: plan.bytes } });
        let stopped = false;
        try {
          await get().openWith(
            plan.name,
            async () => {
              try {
                return await upload(plan.files, { onProgress, signal: abort.signal });
              } catch (e) {
                if (abort.signal.aborted) stopped = true;
                throw e;
              }
            },
            () => stopped,
          );
        } finally {
          if (uploadAbort === abort) uploadAbort = null;
          set({ uploading: null, uploadBytes: null });
        }
        if (stopped) set({ notice: { kind: 'info', text: UPLOAD_CANCELLED } });
      },

      cancelUpload() {
        uploadAbort?.abort();
      },

      setFilter(f) {
        set({ filter: { ...get().filter, ...f } });
      },
      setTensorSort(key) {
        const s = get().tensorSort;
        set({ tensorSort: { key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' } });
      },
      setSelected(selected, anchor) {
        set(anchor === undefined ? { selected } : { selected, anchor });
      },
      setConfig(c) {
        const config = { ...get().config, ...c };
        set({ config, configError: null });
        try {
          storage()?.setItem(CONFIG_KEY, JSON.stringify(config));
        } catch {
          /* storage full or blocked: the setting still applies until the page closes */
        }
      },
      addBatchSizes(sizes) {
        const s = get();
        set({ customBatchSizes: customSizes([...s.customBatchSizes, ...sizes]) });
        s.setConfig({ batchSizes: [...new Set([...s.config.batchSizes, ...sizes])].sort((a, b) => a - b) });
      },
      removeBatchSize(m) {
        const s = get();
        set({ customBatchSizes: s.customBatchSizes.filter((b) => b !== m) });
        if (s.config.batchSizes.includes(m))
          s.setConfig({ batchSizes: s.config.batchSizes.filter((b) => b !== m) });
      },

      async startRun() {
        const s = get();
        if (isActive(s.run.status)) return;
        const req = buildRunRequest(s);
        if ('error' in req) {
          // Also as a notice: the setup card with its error line is on the Model tab only.
          set({
            configError: req.error,
            ...(s.view !== 'model' ? { notice: { kind: 'error', text: req.error } } : {}),
          });
          return;
        }
        const prevRun = s.run;
        const stale = new Set(s.staleRuns);
        if (s.run.runId) stale.add(s.run.runId);
        cancelWhenKnown = false;
        // The results on screen stay until the engine accepts the run (its first event or its reply).
        set({
          run: {
            ...IDLE_RUN,
            status: 'starting',
            request: req,
            total: req.tensors.length * req.batchSizes.length,
            startedAt: Date.now(),
          },
          staleRuns: stale,
          configError: null,
          view: 'results',
        });
        startHeartbeat();
        try {
          const { runId } = await api.startRun(req);
          batcher.flush();
          const run = get().run;
          if (run.runId === null && (run.status === 'starting' || run.status === 'cancelling')) {
            const accepted = { ...run, runId };
            set({ run: accepted, results: [], selectedResultId: null, resultsFor: ownerOf(accepted) });
            if (run.status === 'cancelling') {
              cancelWhenKnown = false;
              await api.cancelRun(runId);
            }
          }
          lastCheck = Date.now();
          connectionOk();
        } catch (e) {
          const cur = get().run;
          if (cur.runId !== null) {
            // Accepted (events arrived) and then the connection failed: the run itself is affected.
            if (!noteFailure(e)) set({ notice: { kind: 'error', text: errorText(e) } });
            return;
          }
          // Not accepted: the previous run and its results stay as they were.
          const msg = `The run did not start: ${errorText(e)}`;
          set({ run: prevRun, configError: msg, notice: { kind: 'error', text: msg } });
          noteFailure(e);
        }
      },

      async cancelRun() {
        const run = get().run;
        if (!isActive(run.status)) return;
        set({ run: { ...run, status: 'cancelling' } });
        if (!run.runId) {
          cancelWhenKnown = true;
          return;
        }
        try {
          await api.cancelRun(run.runId);
        } catch (e) {
          if (noteFailure(e)) return; // the run is marked interrupted
          // The engine answered but refused: the run goes on as before, and Cancel works again.
          const cur = get().run;
          if (cur.runId === run.runId && cur.status === 'cancelling')
            set({ run: { ...cur, status: run.status } });
          set({ notice: { kind: 'error', text: `Cancel failed: ${errorText(e)}` } });
        }
      },

      setResultSort(key) {
        const s = get().resultSort;
        const numeric =
          key !== 'tensor' && key !== 'type' && key !== 'path' && key !== 'order' && key !== 'm';
        const first = numeric ? 'desc' : 'asc';
        set({
          resultSort: { key, dir: s.key === key ? (s.dir === 'asc' ? 'desc' : 'asc') : first },
        });
      },
      selectResult(id) {
        set({ selectedResultId: id });
      },
      setView(view) {
        set({ view });
      },
      setPickerOpen(pickerOpen) {
        set(pickerOpen ? { pickerOpen, openError: null } : { pickerOpen });
        if (pickerOpen) get().refreshFiles();
      },
      setHelpOpen(helpOpen) {
        set({ helpOpen });
      },
      setTheme(theme) {
        set({ theme });
        try {
          storage()?.setItem(THEME_KEY, theme);
        } catch {
          /* not persisted; still applied */
        }
      },
      toggleTheme() {
        get().setTheme(get().theme === 'dark' ? 'light' : 'dark');
      },
      setNotice(notice) {
        set({ notice });
      },

      async exportReport(format) {
        const runId = get().run.runId;
        if (!runId) {
          set({ notice: { kind: 'error', text: 'Run something first: the report covers the latest run.' } });
          return null;
        }
        set({ exporting: true });
        try {
          const rep = await api.exportReport({ runId, format });
          set({
            exporting: false,
            lastReport: rep,
            notice: {
              kind: 'info',
              text: rep.savedPath ? `Report saved to ${rep.savedPath}` : `Report ${rep.fileName} ready`,
            },
          });
          return rep;
        } catch (e) {
          // an engine that was restarted no longer holds the run; what was saved of it is a record
          const text = /^no run /.test(errorText(e))
            ? 'Export failed: the engine no longer holds this run (it was restarted); its saved record is in History.'
            : `Export failed: ${errorText(e)}`;
          set({ exporting: false, notice: { kind: 'error', text } });
          return null;
        }
      },

      async checkConnection() {
        if (checking) return get().connection;
        checking = true;
        lastCheck = Date.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        try {
          await Promise.race([
            api.appInfo(),
            new Promise((_, reject) => {
              timer = setTimeout(
                () => reject(new Error('engine connection lost: no answer within 4 s')),
                HEARTBEAT_TIMEOUT_MS,
              );
            }),
          ]);
          connectionOk();
        } catch (e) {
          if (!noteFailure(e)) connectionFailed('lost', e);
        } finally {
          clearTimeout(timer);
          checking = false;
        }
        return get().connection;
      },

      dispose() {
        unsubscribe?.();
        unsubscribe = null;
        if (heartbeat) clearInterval(heartbeat);
        heartbeat = null;
      },
    };
  });
  return store;
}
