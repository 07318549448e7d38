/**
 * The preload (sandboxed, context-isolated): exposes exactly `window.quantscope` — QuantScopeApi plus
 * the shell extensions onMenuCommand and pathForFile — through contextBridge. ipcRenderer itself is
 * never exposed; each method invokes one fixed channel, and replies come back as { ok, value } |
 * { ok: false, message } so errors reach the UI as plain one-line Errors.
 *
 * Channel names are repeated here rather than imported from src-main/app/ipc.ts so the sandboxed
 * bundle stays free of zod and node modules; test/app checks the two lists agree.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { QuantScopeApi, RunEvent } from './api';
import type { ShellExtensions } from './api';

export const PRELOAD_CHANNELS = {
  appInfo: 'qs:appInfo',
  listModelFiles: 'qs:listModelFiles',
  pickModelFile: 'qs:pickModelFile',
  openModel: 'qs:openModel',
  devices: 'qs:devices',
  startRun: 'qs:startRun',
  cancelRun: 'qs:cancelRun',
  errorGrid: 'qs:errorGrid',
  exportReport: 'qs:exportReport',
  runEvent: 'qs:run-event',
  menuCommand: 'qs:menu-command',
  allowDropped: 'qs:allow-dropped',
} as const;

type Reply = { ok: true; value: unknown } | { ok: false; message: string };

async function invoke<T>(channel: string, ...args: unknown[]): Promise<T> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as Reply;
  if (!reply || typeof reply !== 'object') throw new Error('no reply from the QuantScope main process');
  if (!reply.ok) throw new Error(reply.message);
  return reply.value as T;
}

function subscribe<T>(channel: string, cb: (v: T) => void): () => void {
  const listener = (_e: IpcRendererEvent, v: T) => cb(v);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

const c = PRELOAD_CHANNELS;
const api: QuantScopeApi & Required<ShellExtensions> = {
  appInfo: () => invoke(c.appInfo),
  listModelFiles: () => invoke(c.listModelFiles),
  pickModelFile: () => invoke(c.pickModelFile),
  openModel: (path: string) => invoke(c.openModel, path),
  devices: () => invoke(c.devices),
  startRun: (req) => invoke(c.startRun, req),
  cancelRun: async (runId: string) => {
    await invoke(c.cancelRun, runId);
  },
  onRunEvent: (cb: (ev: RunEvent) => void) => subscribe(c.runEvent, cb),
  errorGrid: (req) => invoke(c.errorGrid, req),
  exportReport: (req) => invoke(c.exportReport, req),
  onMenuCommand: (cb: (cmd: string) => void) => subscribe(c.menuCommand, cb),
  pathForFile(file: File): string {
    const p = webUtils.getPathForFile(file);
    // Tell the main process the user dropped this file, so the openModel that follows is allowed.
    // send and invoke share one ordered channel, so this arrives first.
    if (p) ipcRenderer.send(c.allowDropped, p);
    return p;
  },
};

contextBridge.exposeInMainWorld('quantscope', api);
