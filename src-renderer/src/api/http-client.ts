/**
 * QuantScopeApi over HTTP, for browser mode (`quantscope serve`): POST /api/<method> with a JSON
 * array of arguments, and one shared EventSource on /api/events for run events. The token comes from
 * the page URL (?token=...) and is sent as a bearer token; without one, the HttpOnly cookie the server
 * set on the first page load authenticates the same-origin requests.
 */
import { wireParse } from '../../../src-shared/contract/wire';
import {
  API_METHOD_NAMES,
  EVENTS_ROUTE,
  UPLOAD_ROUTE,
  apiRoute,
  resultOf,
  type ApiMethod,
  type QuantScopeApi,
} from '../../../src-shared/contract/methods';
import type {
  ModelSummary,
  RunEvent,
  ShellExtensions,
  UploadOptions,
} from '../../../src-shared/contract/types';

/** What uploadModel uses of XMLHttpRequest. */
export interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
  readonly upload: { onprogress: ((ev: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  readonly status: number;
  readonly statusText: string;
  readonly responseText: string;
}

type EventSourceLike = {
  addEventListener(type: string, cb: (ev: { data: string }) => void): void;
  close(): void;
  onerror: ((ev: unknown) => void) | null;
};

export interface HttpApiOptions {
  /** origin + path prefix of the server ('' = same origin) */
  baseUrl?: string;
  token?: string | null;
  fetchImpl?: typeof fetch;
  EventSourceImpl?: new (url: string) => EventSourceLike;
  /** what uploads go through (default: the browser's XMLHttpRequest) */
  XMLHttpRequestImpl?: new () => XhrLike;
}

/** One line for the user from a failed response's status and body (the server's { message }). */
function errorFromBody(status: number, statusText: string, text: string, method: string): Error {
  let message = '';
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body?.message === 'string') message = body.message;
  } catch {
    /* not JSON: fall through to the status line */
  }
  if (!message) message = `${method} failed: HTTP ${status} ${statusText}`.trim();
  return new Error(message);
}

async function errorFrom(res: Response, method: string): Promise<Error> {
  const text = await res.text().catch(() => '');
  return errorFromBody(res.status, res.statusText, text, method);
}

/** The rejection of a cancelled upload. */
function cancelled(): Error {
  return new DOMException('the upload was cancelled', 'AbortError');
}

export function tokenFromLocation(search: string): string | null {
  try {
    return new URLSearchParams(search).get('token');
  } catch {
    return null;
  }
}

export function createHttpApi(opts: HttpApiOptions = {}): QuantScopeApi & ShellExtensions {
  const base = (opts.baseUrl ?? '').replace(/\/$/, '');
  const token = opts.token ?? null;
  const doFetch = opts.fetchImpl ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const ES: (new (url: string) => EventSourceLike) | undefined =
    opts.EventSourceImpl ??
    (typeof EventSource !== 'undefined'
      ? (EventSource as unknown as new (url: string) => EventSourceLike)
      : undefined);

  async function call(method: ApiMethod, args: unknown[]): Promise<unknown> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await doFetch(`${base}${apiRoute(method)}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(args),
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new Error(
        `cannot reach the QuantScope server (${e instanceof Error ? e.message : String(e)}); is \`quantscope serve\` still running?`,
      );
    }
    if (!res.ok) throw await errorFrom(res, method);
    return wireParse(await res.text());
  }

  function uploadHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  /**
   * One file as the request body, which the browser streams from disk, never reading it whole;
   * resolves with the response's text. Sent with XMLHttpRequest, not fetch: its upload.onprogress is
   * the only browser API that reports how much of a request body has gone out (fetch reports
   * nothing until the response). `onBytes` gets the bytes of this file sent so far; `signal` aborts
   * the request (xhr.abort()), and the server removes the partial file when the connection closes.
   * Cookies: an XMLHttpRequest without withCredentials sends them to its own origin only, as fetch's
   * credentials: 'same-origin' does.
   */
  function putFile(
    file: File,
    query: string,
    onBytes: (sent: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) return reject(cancelled());
      const Xhr = opts.XMLHttpRequestImpl ?? (globalThis.XMLHttpRequest as unknown as new () => XhrLike);
      const xhr = new Xhr();
      const onAbort = (): void => xhr.abort();
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      xhr.open('PUT', `${base}${UPLOAD_ROUTE}?name=${encodeURIComponent(file.name)}${query}`);
      for (const [k, v] of Object.entries(uploadHeaders())) xhr.setRequestHeader(k, v);
      xhr.upload.onprogress = (ev) => onBytes(Math.min(ev.loaded, file.size));
      xhr.onload = () => {
        done();
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.responseText);
        else reject(errorFromBody(xhr.status, xhr.statusText, xhr.responseText, 'upload'));
      };
      xhr.onerror = () => {
        done();
        reject(
          new Error(
            `the upload of ${file.name} failed: the connection to the server broke (it refused the file or stopped); is \`quantscope serve\` still running?`,
          ),
        );
      };
      xhr.onabort = () => {
        done();
        reject(cancelled());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      xhr.send(file);
    });
  }

  /** Ends a split model's set on the server at once (its files go), rather than after its idle time. */
  function endSet(id: string): void {
    const headers = uploadHeaders();
    delete headers['Content-Type'];
    doFetch(`${base}${UPLOAD_ROUTE}?set=${id}`, {
      method: 'DELETE',
      headers,
      credentials: 'same-origin',
    }).then(
      (res) => res.body?.cancel(),
      () => undefined, // the server is gone: so is the set
    );
  }

  /**
   * One file, or the files of one split model: those go one after another under one new set id
   * (UPLOAD_ROUTE), the last with open=1. A refused file ends the set on the server, which removes
   * the files sent before it; a cancel (opts.signal) aborts the file in flight and ends the set.
   */
  async function uploadModel(files: readonly File[], o: UploadOptions = {}): Promise<ModelSummary> {
    if (files.length === 0) throw new Error('no file to upload');
    const { onProgress, signal } = o;
    const total = files.reduce((n, f) => n + f.size, 0);
    let query = '';
    let setId: string | null = null;
    if (files.length > 1) {
      setId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
        b.toString(16).padStart(2, '0'),
      ).join('');
      query = `&set=${setId}&total=${total}`;
    }
    let sent = 0;
    try {
      for (let i = 0; i < files.length - 1; i++) {
        await putFile(files[i], query, (n) => onProgress?.(sent + n, total), signal);
        sent += files[i].size;
        onProgress?.(sent, total);
      }
      const last = files[files.length - 1];
      const text = await putFile(
        last,
        setId ? `${query}&open=1` : '',
        (n) => onProgress?.(sent + n, total),
        signal,
      );
      const model = wireParse<ModelSummary>(text);
      onProgress?.(total, total);
      return model;
    } catch (e) {
      if (setId && signal?.aborted) endSet(setId);
      throw e;
    }
  }

  const listeners = new Set<(ev: RunEvent) => void>();
  let source: EventSourceLike | null = null;

  function openEvents(): void {
    if (source || !ES) return;
    const url = `${base}${EVENTS_ROUTE}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
    const es = new ES(url);
    source = es;
    es.addEventListener('run', (msg) => {
      let ev: RunEvent;
      try {
        ev = wireParse<RunEvent>(msg.data);
      } catch {
        return;
      }
      for (const l of [...listeners]) {
        try {
          l(ev);
        } catch (e) {
          console.error('run event listener failed', e);
        }
      }
    });
    // EventSource reconnects by itself (the server sends retry: 2000); nothing to do on error.
    es.onerror = () => undefined;
  }

  // One function per method of the table; shell-only ones too (the server answers pickModelFile
  // with null: a browser has no native dialog, the UI lists listModelFiles() instead).
  const calls: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of API_METHOD_NAMES)
    calls[method] = async (...args) => resultOf(method, await call(method, args));

  return {
    ...(calls as unknown as Omit<QuantScopeApi, 'onRunEvent'>),
    uploadModel,
    onRunEvent(cb: (ev: RunEvent) => void) {
      listeners.add(cb);
      openEvents();
      return () => {
        listeners.delete(cb);
        if (listeners.size === 0 && source) {
          source.close();
          source = null;
        }
      };
    },
  };
}
