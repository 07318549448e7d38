/**
 * The preload (sandboxed, context-isolated): exposes exactly `window.quantscope` — one function per
 * method of the contract's table, plus onRunEvent and the shell extensions onMenuCommand and
 * pathForFile — through contextBridge. ipcRenderer itself is never exposed; each method invokes its
 * own fixed channel, and replies come back as { ok, value } | { ok: false, message } so errors
 * reach the UI as plain one-line Errors.
 *
 * It imports only the contract's zod-free files, so the sandboxed bundle stays one small file.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import {
  ALLOW_DROPPED_CHANNEL,
  API_METHOD_NAMES,
  MENU_COMMAND_CHANNEL,
  RUN_EVENT_CHANNEL,
  apiChannel,
  resultOf,
  type QuantScopeApi,
} from '../src-shared/contract/methods';
import type { RunEvent, ShellExtensions } from '../src-shared/contract/types';

type Reply = { ok: true; value: unknown } | { ok: false; message: string };

async function invoke(channel: string, args: unknown[]): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, ...args)) as Reply;
  if (!reply || typeof reply !== 'object') throw new Error('no reply from the QuantScope main process');
  if (!reply.ok) throw new Error(reply.message);
  return reply.value;
}

function subscribe<T>(channel: string, cb: (v: T) => void): () => void {
  const listener = (_e: IpcRendererEvent, v: T) => cb(v);
  ipcRenderer.on(channel, listener);
  return () => {
    ipcRenderer.removeListener(channel, listener);
  };
}

/** window.quantscope: built from the method table, so every method of the contract is here. */
export function buildPreloadApi(): QuantScopeApi & Required<Omit<ShellExtensions, 'uploadModel'>> {
  const calls: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of API_METHOD_NAMES) {
    const channel = apiChannel(method);
    calls[method] = async (...args) => resultOf(method, await invoke(channel, args));
  }
  return {
    ...(calls as unknown as QuantScopeApi),
    onRunEvent: (cb: (ev: RunEvent) => void) => subscribe(RUN_EVENT_CHANNEL, cb),
    onMenuCommand: (cb: (cmd: string) => void) => subscribe(MENU_COMMAND_CHANNEL, cb),
    pathForFile(file: File): string {
      const p = webUtils.getPathForFile(file);
      // Tell the main process the user dropped this file, so the openModel that follows is allowed.
      // send and invoke share one ordered channel, so this arrives first.
      if (p) ipcRenderer.send(ALLOW_DROPPED_CHANNEL, p);
      return p;
    },
  };
}

contextBridge.exposeInMainWorld('quantscope', buildPreloadApi());
