/**
 * The main process's side of the preload's channels, as plain functions over an ipcMain-like object
 * (no electron import) so it is unit-tested without Electron: one handler per method of the
 * contract's table, each behind the trusted-sender check, replies in the { ok, value } envelope.
 */
import {
  ALLOW_DROPPED_CHANNEL,
  API_METHOD_NAMES,
  apiChannel,
  droppedPathSchema,
  oneLine,
  type ApiHandler,
  type ApiMethod,
} from '../../src-shared/contract';

/** What a handler returns across IPC; the preload turns `ok: false` back into an Error. */
export type IpcReply<T = unknown> = { ok: true; value: T } | { ok: false; message: string };

export function okReply<T>(value: T): IpcReply<T> {
  return { ok: true, value };
}

export function errorReply(e: unknown): IpcReply<never> {
  return { ok: false, message: oneLine(e) };
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

/** The parts of ipcMain this module uses. */
export interface IpcMainLike<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => Promise<unknown>): void;
  on(channel: string, listener: (event: E, ...args: unknown[]) => void): void;
}

export interface IpcWiring<E> {
  handlers: Record<ApiMethod, ApiHandler>;
  /** the trusted-sender check of one event */
  trusted(event: E): boolean;
  /** the frame URL to name in the warning about a refused call */
  describe(event: E): string;
  /** the user dropped this .gguf file on the window */
  allowDropped(path: string): void;
  warn?(message: string): void;
}

/** Registers one invoke handler per method of the table and the dropped-file channel. */
export function registerApiHandlers<E>(ipc: IpcMainLike<E>, w: IpcWiring<E>): void {
  for (const method of API_METHOD_NAMES) {
    const handler = w.handlers[method];
    ipc.handle(apiChannel(method), async (event, ...args) => {
      if (!w.trusted(event)) {
        (w.warn ?? console.warn)(`refused IPC ${method} from an untrusted sender (${w.describe(event)})`);
        return errorReply(new Error('refused: the request did not come from the QuantScope window'));
      }
      try {
        return okReply((await handler(args)) ?? null);
      } catch (e) {
        return errorReply(e);
      }
    });
  }
  ipc.on(ALLOW_DROPPED_CHANNEL, (event, ...args) => {
    if (!w.trusted(event)) return;
    const res = droppedPathSchema.safeParse(args);
    if (res.success) w.allowDropped(res.data[0]);
  });
}
