/**
 * The IPC contract between the preload and the main process, as plain data and functions (no
 * electron import) so it is unit-tested without Electron: the channel map, payload validation with
 * the shared zod schemas, the trusted-sender check, and the reply envelope.
 *
 * Every ipcMain.handle in main.ts goes through checkSender + parseApiArgs before anything else.
 */
import { z } from 'zod';
import { API_METHODS, LIMITS, parseApiArgs, type ApiMethod } from '../engine/server/api-schemas';

/** invoke channels: one per QuantScopeApi method ('qs:openModel', ...) */
export const API_CHANNEL_PREFIX = 'qs:';
export const apiChannel = (m: ApiMethod): string => `${API_CHANNEL_PREFIX}${m}`;
export const API_CHANNELS: Readonly<Record<ApiMethod, string>> = Object.fromEntries(
  API_METHODS.map((m) => [m, apiChannel(m)]),
) as Record<ApiMethod, string>;

/** main -> renderer */
export const RUN_EVENT_CHANNEL = 'qs:run-event';
export const MENU_COMMAND_CHANNEL = 'qs:menu-command';
/** renderer -> main (send, not invoke): the user dropped this file; allow opening it */
export const ALLOW_DROPPED_CHANNEL = 'qs:allow-dropped';

export const droppedPathSchema = z.tuple([
  z
    .string()
    .min(1, 'empty path')
    .max(LIMITS.pathChars, 'path is too long')
    .refine((s) => !s.includes('\0'), 'path contains a NUL byte')
    .refine((s) => /\.gguf$/i.test(s), 'only .gguf files can be dropped'),
]);

/** What a handler returns across IPC; the preload turns `ok: false` back into an Error. */
export type IpcReply<T = unknown> = { ok: true; value: T } | { ok: false; message: string };

export function okReply<T>(value: T): IpcReply<T> {
  return { ok: true, value };
}

export function errorReply(e: unknown): IpcReply<never> {
  const msg = e instanceof Error ? e.message : String(e);
  const line = msg.split('\n')[0].trim() || 'unknown error';
  return { ok: false, message: line.length > 500 ? `${line.slice(0, 497)}...` : line };
}

/** Validates the arguments of an API call from the renderer (throws a one-line Error). */
export function validateApiCall<M extends ApiMethod>(
  method: M,
  args: unknown[],
): ReturnType<typeof parseApiArgs<M>> {
  return parseApiArgs(method, args);
}

export interface SenderInfo {
  /** event.sender.id */
  webContentsId: number;
  /** event.senderFrame?.url (null when the frame is gone) */
  frameUrl: string | null | undefined;
  /** event.senderFrame?.parent === null */
  isMainFrame: boolean;
}

export interface TrustedOrigin {
  /** our window's webContents id (null before the window exists) */
  webContentsId: number | null;
  /** the URL the app is loaded from: 'app://quantscope/index.html' or the dev server's */
  appUrl: string;
}

/** scheme + host of a URL, also for non-special schemes where URL.origin is 'null' */
export function urlOrigin(u: string): string | null {
  try {
    const url = new URL(u);
    if (!url.host) return null;
    return `${url.protocol}//${url.host}`.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Like GitHub Desktop's trusted-sender checks: the message must come from our window's webContents,
 * from its main frame, and that frame must show our app's URL (not a page it was navigated to).
 */
export function isTrustedSender(sender: SenderInfo, trusted: TrustedOrigin): boolean {
  if (trusted.webContentsId === null || sender.webContentsId !== trusted.webContentsId) return false;
  if (!sender.isMainFrame || !sender.frameUrl) return false;
  const want = urlOrigin(trusted.appUrl);
  return want !== null && urlOrigin(sender.frameUrl) === want;
}
