import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../src-main/engine/server/serve';
import { validateCalls } from '../../src-main/engine/api';
import { createHttpApi, tokenFromLocation } from '../../src-renderer/src/api/http-client';
import type { EngineApi, RunEvent } from '../../src-shared/contract';

/** Minimal EventSource over fetch (Node 20 has none): enough for the client's 'run' events. */
class FetchEventSource {
  onerror: ((ev: unknown) => void) | null = null;
  private handlers = new Map<string, ((ev: { data: string }) => void)[]>();
  private ctrl = new AbortController();
  constructor(url: string) {
    void this.pump(url);
  }
  addEventListener(type: string, cb: (ev: { data: string }) => void) {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), cb]);
  }
  close() {
    this.ctrl.abort();
  }
  private async pump(url: string) {
    try {
      const res = await fetch(url, { signal: this.ctrl.signal });
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = '';
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) type = line.slice(7);
            if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) for (const h of this.handlers.get(type) ?? []) h({ data });
        }
      }
    } catch (e) {
      this.onerror?.(e);
    }
  }
}

describe('HTTP client against the browser-mode server', () => {
  let dir: string;
  let srv: RunningServer;
  const listeners = new Set<(ev: RunEvent) => void>();
  const engine = validateCalls({
    appInfo: async () => ({ version: '1.2.3', mode: 'browser', platform: 'linux-x64' }),
    openModel: async (p: string) => {
      throw new Error(`cannot open ${path.basename(p)}: bad magic`);
    },
    startRun: async () => ({ runId: 'run-7' }),
    cancelRun: async () => undefined,
    onRunEvent(cb: (ev: RunEvent) => void) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    dispose: async () => undefined,
  } as unknown as EngineApi);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-client-'));
    mkdirSync(path.join(dir, 'm'));
    writeFileSync(path.join(dir, 'm', 'a.gguf'), 'x');
    srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [path.join(dir, 'm')],
      samplesDir: path.join(dir, 'm'),
      uiDir: dir,
      token: 'client-token-123',
      engine,
    });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the token from the page URL', () => {
    expect(tokenFromLocation('?token=abc&x=1')).toBe('abc');
    expect(tokenFromLocation('')).toBeNull();
  });

  it('calls methods, surfaces server errors as one-line Errors, streams events', async () => {
    const api = createHttpApi({
      baseUrl: `http://127.0.0.1:${srv.port}`,
      token: 'client-token-123',
      EventSourceImpl: FetchEventSource,
    });
    expect(await api.appInfo()).toEqual({ version: '1.2.3', mode: 'browser', platform: 'linux-x64' });
    expect(await api.pickModelFile()).toBeNull();
    await expect(api.openModel(path.join(dir, 'm', 'a.gguf'))).rejects.toThrow(
      'cannot open a.gguf: bad magic',
    );
    await expect(api.openModel('/etc/passwd')).rejects.toThrow(/outside the model folders/);
    await expect(api.cancelRun('')).rejects.toThrow(/cancelRun: invalid/);
    await expect(api.cancelRun('run-7')).resolves.toBeUndefined();

    const got: RunEvent[] = [];
    const off = api.onRunEvent((ev) => got.push(ev));
    for (let i = 0; i < 100 && listeners.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listeners.size).toBe(1);
    const ev: RunEvent = { type: 'progress', runId: 'run-7', done: 3, total: 4, etaMs: null };
    for (const l of listeners) l(ev);
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([ev]);
    off();
    for (let i = 0; i < 100 && listeners.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(listeners.size).toBe(0);
  });

  it('explains a wrong token and an unreachable server', async () => {
    const wrong = createHttpApi({ baseUrl: `http://127.0.0.1:${srv.port}`, token: 'wrong-token-000' });
    await expect(wrong.appInfo()).rejects.toThrow(/missing or wrong token/);
    const gone = createHttpApi({ baseUrl: 'http://127.0.0.1:1', token: 'x' });
    await expect(gone.appInfo()).rejects.toThrow(/cannot reach the QuantScope server/);
  });
});
