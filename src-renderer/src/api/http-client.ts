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
import type { ModelSummary, RunEvent, ShellExtensions } from '../../../src-shared/contract/types';

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
}

/** One line for the user from a failed response. */
async function errorFrom(res: Response, method: string): Promise<Error> {
  let message = '';
  try {
    const body = (await res.json()) as { message?: unknown };
    if (typeof body?.message === 'string') message = body.message;
  } catch {
    /* not JSON: fall through to the status line */
  }
  if (!message) message = `${method} failed: HTTP ${res.status} ${res.statusText}`.trim();
  return new Error(message);
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

  /** One file as the request body: the browser streams a File from disk, never reading it whole. */
  async function putFile(file: File, query: string): Promise<Response> {
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await doFetch(`${base}${UPLOAD_ROUTE}?name=${encodeURIComponent(file.name)}${query}`, {
        method: 'PUT',
        headers,
        body: file,
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new Error(
        `the upload of ${file.name} failed (${e instanceof Error ? e.message : String(e)}): the server refused it or stopped`,
      );
    }
    if (!res.ok) throw await errorFrom(res, 'upload');
    return res;
  }

  /**
   * One file, or the files of one split model: those go one after another under one new set id
   * (UPLOAD_ROUTE), the last with open=1. A refused file ends the set on the server, which removes
   * the files sent before it.
   */
  async function uploadModel(
    files: readonly File[],
    onProgress?: (sent: number, total: number) => void,
  ): Promise<ModelSummary> {
    if (files.length === 0) throw new Error('no file to upload');
    const total = files.reduce((n, f) => n + f.size, 0);
    let query = '';
    if (files.length > 1) {
      const id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
        b.toString(16).padStart(2, '0'),
      ).join('');
      query = `&set=${id}&total=${total}`;
    }
    let sent = 0;
    for (let i = 0; i < files.length - 1; i++) {
      await (await putFile(files[i], query)).text();
      sent += files[i].size;
      onProgress?.(sent, total);
    }
    const last = files[files.length - 1];
    const res = await putFile(last, files.length > 1 ? `${query}&open=1` : '');
    const model = wireParse<ModelSummary>(await res.text());
    onProgress?.(total, total);
    return model;
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
