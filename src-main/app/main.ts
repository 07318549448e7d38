/**
 * Electron main process: one window, the application menu, the app:// protocol for the built UI,
 * the security settings of Electron's checklist, and the IPC bridge to the engine, which runs in a
 * utility process (engine-host.ts) so the UI never waits on the engine.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  session,
  utilityProcess,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
} from 'electron';
import {
  CONTENT_SECURITY_POLICY,
  MENU_COMMAND_CHANNEL,
  RUN_EVENT_CHANNEL,
  SECURITY_HEADERS,
  createApiHandlers,
  mimeType,
  type MenuCommand,
  type ReportResult,
  type ShellHooks,
} from '../../src-shared/contract';
import { samplesDir as defaultSamplesDir, resolveTypedPath } from '../engine/paths';
import { APP_VERSION } from '../engine/version';
import { isTrustedSender, registerApiHandlers } from './ipc';
import { APP_SCHEME, APP_URL, resolveAppFile } from './app-protocol';
import { AllowedPaths } from './allowed-paths';
import { EngineClient, type ChildLike } from './engine-client';
import { buildMenuTemplate } from './menu';
import { clearRecent, pruneRecent, readRecent } from './recent';

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const isDev = devServerUrl !== undefined;
const appUrl = devServerUrl ?? APP_URL;
const rendererDir = path.join(__dirname, '..', 'renderer');
const preloadFile = path.join(__dirname, '..', 'preload', 'index.js');
const engineHostFile = path.join(__dirname, 'engine-host.js');

/** The dev server needs Vite's HMR websocket and React refresh's inline preamble; nothing else does. */
const DEV_CSP = CONTENT_SECURITY_POLICY.replace(
  "script-src 'self'",
  "script-src 'self' 'unsafe-inline'",
).replace("connect-src 'self'", "connect-src 'self' ws://localhost:* http://localhost:*");

// Must run before 'ready'.
app.enableSandbox();
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
  },
]);

let mainWindow: BrowserWindow | null = null;
let engine: EngineClient | null = null;

function samplesDirectory(): string {
  return app.isPackaged ? path.join(process.resourcesPath, 'samples') : defaultSamplesDir();
}

/** Extra model folders (like `quantscope serve --models`): QS_MODEL_DIRS, path-delimiter separated. */
function extraModelDirs(): string[] {
  return (process.env.QS_MODEL_DIRS ?? '')
    .split(path.delimiter)
    .filter((d) => d.trim().length > 0)
    .map((d) => path.resolve(d));
}

function recentFile(): string {
  return path.join(app.getPath('userData'), 'recent.json');
}

function sendMenuCommand(cmd: MenuCommand): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(MENU_COMMAND_CHANNEL, cmd);
}

async function refreshMenu(): Promise<void> {
  let hasSample = false;
  try {
    hasSample = (await fsp.readdir(samplesDirectory())).some((f) => f.toLowerCase().endsWith('.gguf'));
  } catch {
    hasSample = false;
  }
  const template = buildMenuTemplate({
    isMac: process.platform === 'darwin',
    isDev,
    recent: pruneRecent(recentFile()),
    hasSample,
    send: sendMenuCommand,
    clearRecent: () => {
      clearRecent(recentFile());
      void refreshMenu();
    },
    about: () => {
      const opts = {
        type: 'info' as const,
        title: 'About QuantScope',
        message: `QuantScope ${APP_VERSION}`,
        detail:
          'Verifies and benchmarks fused dequantize+matmul GPU kernels on GGUF weights against a CPU reference.\n\n' +
          `Electron ${process.versions.electron} · Chromium ${process.versions.chrome} · Node ${process.versions.node}`,
      };
      void (mainWindow ? dialog.showMessageBox(mainWindow, opts) : dialog.showMessageBox(opts));
    },
    quit: () => app.quit(),
    toggleDevTools: () => mainWindow?.webContents.toggleDevTools(),
    reload: () => mainWindow?.webContents.reload(),
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function trusted(event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = event.senderFrame;
  return isTrustedSender(
    {
      webContentsId: event.sender.id,
      frameUrl: frame?.url ?? null,
      isMainFrame: frame ? frame.parent === null : false,
    },
    { webContentsId: mainWindow && !mainWindow.isDestroyed() ? mainWindow.webContents.id : null, appUrl },
  );
}

function registerIpc(eng: EngineClient, allowed: AllowedPaths): void {
  // The shell's own part of the table; every other method goes to the engine process as it came.
  /** Offers a save dialog for a report the engine made; cancelled: the report as it came. */
  async function saveWithDialog(rep: ReportResult, format: string, what: string): Promise<ReportResult> {
    const ext = path.extname(rep.fileName).slice(1) || format;
    const opts = {
      title: `Save ${what}`,
      defaultPath: path.join(app.getPath('documents'), path.basename(rep.fileName)),
      filters: [{ name: `${ext.toUpperCase()} ${what}`, extensions: [ext] }],
    };
    const res = mainWindow
      ? await dialog.showSaveDialog(mainWindow, opts)
      : await dialog.showSaveDialog(opts);
    if (res.canceled || !res.filePath) return rep;
    try {
      await fsp.writeFile(res.filePath, rep.content, 'utf8');
    } catch (e) {
      throw new Error(`could not save the ${what} to ${res.filePath}: ${(e as Error).message}`);
    }
    return { ...rep, savedPath: res.filePath };
  }

  const hooks: ShellHooks = {
    async pickModelFile() {
      const opts = {
        title: 'Open a GGUF model',
        properties: ['openFile' as const],
        filters: [
          { name: 'GGUF models', extensions: ['gguf'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const res = mainWindow
        ? await dialog.showOpenDialog(mainWindow, opts)
        : await dialog.showOpenDialog(opts);
      if (res.canceled || res.filePaths.length === 0) return null;
      const chosen = res.filePaths[0];
      allowed.allow(chosen);
      return chosen;
    },
    async pickFile([kind]) {
      const opts = {
        title: kind === 'code-object' ? 'Choose a code object (.cubin, .hsaco)' : 'Choose a float32 file',
        properties: ['openFile' as const],
        filters:
          kind === 'code-object'
            ? [
                { name: 'Code objects', extensions: ['cubin', 'hsaco', 'co', 'o'] },
                { name: 'All files', extensions: ['*'] },
              ]
            : [
                { name: 'Raw float32', extensions: ['f32', 'bin', 'raw', 'npy'] },
                { name: 'All files', extensions: ['*'] },
              ],
      };
      const res = mainWindow
        ? await dialog.showOpenDialog(mainWindow, opts)
        : await dialog.showOpenDialog(opts);
      if (res.canceled || res.filePaths.length === 0) return null;
      const chosen = res.filePaths[0];
      allowed.allow(chosen);
      return chosen;
    },
    // The engine reads only files the user chose in a dialog (or under the allowed folders).
    async codeObjectInfo([p], forward) {
      allowed.checkChosen(p);
      return forward([p]);
    },
    async startRun([req], forward) {
      for (const u of req.userKernels ?? []) allowed.checkChosen(u.path);
      return forward([req]);
    },
    async checkPair([req], forward) {
      if (req.input !== 'identity') allowed.checkChosen(req.input);
      allowed.checkChosen(req.output);
      return forward([req]);
    },
    async openModel([typed], forward) {
      // a typed path is taken where its completions are: in the home folder, which `~` also names
      // (this process's working directory means nothing to the person typing)
      const home = app.getPath('home');
      const p = resolveTypedPath(typed, home, home);
      try {
        return await forward([await allowed.check(p)]);
      } finally {
        void refreshMenu(); // the engine added it to the recent list, or it is gone from it
      }
    },
    async exportReport(args, forward) {
      return saveWithDialog(await forward(args), args[0].format, 'report');
    },
    async exportRecordReport(args, forward) {
      return saveWithDialog(await forward(args), args[0].format, 'report');
    },
    async exportComparison(args, forward) {
      return saveWithDialog(await forward(args), args[0].format, 'comparison');
    },
  };

  registerApiHandlers<IpcMainInvokeEvent | IpcMainEvent>(ipcMain, {
    handlers: createApiHandlers((method, args) => eng.call(method, args), hooks),
    trusted,
    describe: (event) => event.senderFrame?.url ?? 'no frame',
    allowDropped: (p) => allowed.allow(p),
  });

  eng.onEvent((ev) => {
    if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(RUN_EVENT_CHANNEL, ev);
  });
}

function hardenSessions(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  // CSP for responses that pass through the network stack (the dev server). app:// responses carry
  // it from the protocol handler; the built index.html also has it in a <meta>.
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [isDev ? DEV_CSP : CONTENT_SECURITY_POLICY],
      },
    });
  });
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(rendererDir, request.url);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const data = await fsp.readFile(file);
      return new Response(new Uint8Array(data), {
        headers: { ...SECURITY_HEADERS, 'Content-Type': mimeType(file) },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.on('will-redirect', (e) => e.preventDefault());
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1440,
    height: 920,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'QuantScope',
    backgroundColor: '#111318',
    webPreferences: {
      preload: preloadFile,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      devTools: isDev,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(appUrl);
  return win;
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });

  void app.whenReady().then(async () => {
    app.setAppUserModelId('dev.quantscope.app');
    hardenSessions();
    const samples = samplesDirectory();
    const recent = recentFile();
    const modelDirs = extraModelDirs();
    engine = new EngineClient(
      () =>
        utilityProcess.fork(engineHostFile, [], {
          serviceName: 'QuantScope engine',
          stdio: 'inherit',
          env: {
            ...process.env,
            QS_SAMPLES_DIR: samples,
            // the desktop app's records live in its userData folder (the CLI's default on Linux too)
            QS_RECORDS_DIR: process.env.QS_RECORDS_DIR ?? path.join(app.getPath('userData'), 'records'),
            // the package's prebuilt kernels (electron-builder.yml extraResources), unless the user points elsewhere
            ...(app.isPackaged && !process.env.QS_KERNELS_DIR
              ? { QS_KERNELS_DIR: path.join(process.resourcesPath, 'kernels') }
              : {}),
          },
        }) as unknown as ChildLike,
      { mode: 'electron', samplesDir: samples, modelDirs, restrictToDirs: false, recentFile: recent },
    );
    registerIpc(engine, new AllowedPaths([samples, ...modelDirs], () => readRecent(recent)));
    await refreshMenu();
    mainWindow = createWindow();
    app.on('activate', () => {
      if (!mainWindow) mainWindow = createWindow();
    });
  });

  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => {
    engine?.dispose();
    engine = null;
  });
}
