import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, realpathSync, writeFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, type RunningServer } from '../../src-main/engine/server/serve';
import { validateCalls } from '../../src-main/engine/api';
import type { EngineApi, ModelSummary, RunEvent, RunRequest } from '../../src-shared/contract';

/** A fake engine that records calls, so the tests check what reached it (and what did not). */
function fakeEngine() {
  const calls: { method: string; args: unknown[] }[] = [];
  const listeners = new Set<(ev: RunEvent) => void>();
  const rec =
    <T>(method: string, value: T) =>
    async (...args: unknown[]): Promise<T> => {
      calls.push({ method, args });
      return value;
    };
  type Fake = EngineApi & { emit(ev: RunEvent): void; listenerCount(): number; disposed: boolean };
  // The engine validates its arguments (src-main/engine/api.ts); the fake does it the same way.
  const engine: Fake = validateCalls<Fake>({
    disposed: false,
    appInfo: rec('appInfo', { version: '9.9.9', mode: 'browser' as const, platform: 'test' }),
    listModelFiles: rec('listModelFiles', [{ path: '/x/a.gguf', name: 'a.gguf', size: 1, source: 'sample' }]),
    openModel: async (p: string) => {
      calls.push({ method: 'openModel', args: [p] });
      if (p.endsWith('bad.gguf')) throw new Error('bad.gguf: not a GGUF file (magic is "XXXX")\nsecond line');
      return { modelId: 'm1', path: p, fileName: path.basename(p) } as ModelSummary;
    },
    completePath: rec('completePath', []),
    listTensors: rec('listTensors', { modelId: 'm1', offset: 0, total: 0, tensors: [] }),
    devices: rec('devices', []),
    startRun: rec('startRun', { runId: 'r1' }),
    cancelRun: rec('cancelRun', undefined),
    onRunEvent(cb: (ev: RunEvent) => void) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    errorGrid: rec('errorGrid', { resultId: 'x' } as never),
    exportReport: rec('exportReport', { fileName: 'r.md', content: '# r' }),
    listRecords: rec('listRecords', { recording: true, records: [], skipped: [] }),
    openRecord: rec('openRecord', {} as never),
    exportRecordReport: rec('exportRecordReport', { fileName: 'r.html', content: '<p>r</p>' }),
    compareRecords: rec('compareRecords', {} as never),
    exportComparison: rec('exportComparison', { fileName: 'c.html', content: '<p>c</p>' }),
    codeObjectInfo: rec('codeObjectInfo', { path: '/x/k.cubin', fileName: 'k.cubin', size: 1, sha256: 'ab' }),
    startSelftest: rec('startSelftest', { runId: 's1' }),
    checkPair: rec('checkPair', {} as never),
    weightGrid: rec('weightGrid', { resultId: 'x' } as never),
    async dispose() {
      engine.disposed = true;
    },
    emit(ev: RunEvent) {
      for (const l of listeners) l(ev);
    },
    listenerCount: () => listeners.size,
  });
  return { engine, calls };
}

const TOKEN = 'test-token-0123456789';
const runReq: RunRequest = {
  modelId: 'm1',
  tensors: ['blk.0.attn_q.weight'],
  batchSizes: [1, 8],
  backend: 'cpu',
  deviceIndex: 0,
  seed: 42,
  timing: 'none',
  path: 'auto',
  compareUnfused: false,
  threshold: null,
};

describe('browser-mode server', () => {
  let dir: string;
  let srv: RunningServer;
  let fake: ReturnType<typeof fakeEngine>;
  let base: string;
  const models = () => path.join(dir, 'models');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-serve-'));
    mkdirSync(path.join(dir, 'ui', 'assets'), { recursive: true });
    mkdirSync(path.join(dir, 'samples'));
    mkdirSync(models());
    mkdirSync(path.join(dir, 'outside'));
    writeFileSync(path.join(dir, 'ui', 'index.html'), '<!doctype html><title>QS</title>');
    writeFileSync(path.join(dir, 'ui', 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    writeFileSync(path.join(models(), 'ok.gguf'), 'GGUF');
    writeFileSync(path.join(models(), 'bad.gguf'), 'XXXX');
    writeFileSync(path.join(dir, 'outside', 'x.gguf'), 'GGUF');
    symlinkSync(path.join(dir, 'outside', 'x.gguf'), path.join(models(), 'link.gguf'));
    symlinkSync(path.join(dir, 'outside'), path.join(models(), 'outlink'));
    fake = fakeEngine();
    srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [models()],
      samplesDir: path.join(dir, 'samples'),
      uiDir: path.join(dir, 'ui'),
      token: TOKEN,
      engine: fake.engine,
    });
    base = `http://127.0.0.1:${srv.port}`;
  });

  afterAll(async () => {
    await srv?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const api = (method: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('prints a loopback URL with the token', () => {
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/?token=${TOKEN}`);
    expect(srv.port).toBeGreaterThan(0);
  });

  it('generates a long random token when none is given', async () => {
    const s = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: path.join(dir, 'samples'),
      uiDir: path.join(dir, 'ui'),
      engine: fakeEngine().engine,
    });
    try {
      expect(s.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(s.token).not.toBe(TOKEN);
      expect(s.url).toContain(`?token=${s.token}`);
    } finally {
      await s.close();
    }
  });

  it('refuses requests without a token or with a wrong one (401)', async () => {
    const before = fake.calls.length;
    const none = await fetch(`${base}/api/appInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '[]',
    });
    expect(none.status).toBe(401);
    expect((await none.json()).message).toMatch(/token/);
    const wrong = await api('appInfo', [], { Authorization: 'Bearer not-the-token-000000' });
    expect(wrong.status).toBe(401);
    const wrongQuery = await fetch(`${base}/?token=nope`);
    expect(wrongQuery.status).toBe(401);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    expect(fake.calls.length).toBe(before);
  });

  it('answers a browser navigation without a valid token with a page asking for it (401)', async () => {
    const page = await fetch(`${base}/?token=old-token-00000000`, { headers: { Accept: 'text/html,*/*' } });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('set-cookie')).toBeNull();
    const html = await page.text();
    expect(html).toContain('Access token needed');
    expect(html).toMatch(/<form method="get" action="\/"><input name="token"/);
    expect(html).not.toContain(TOKEN);
    // API calls keep their JSON error whatever they accept.
    const apiCall = await fetch(`${base}/api/appInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/html' },
      body: '[]',
    });
    expect(apiCall.status).toBe(401);
    expect((await apiCall.json()).message).toMatch(/token/);
  });

  it('accepts the token as bearer, query or cookie, and sets the cookie on the page load', async () => {
    const page = await fetch(`${base}/?token=${TOKEN}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>QS</title>');
    const cookie = page.headers.get('set-cookie') ?? '';
    // one cookie name per port: two servers on one host keep their own tokens
    expect(cookie).toMatch(
      new RegExp(`^qs_token_${srv.port}=test-token-0123456789; Path=/; HttpOnly; SameSite=Strict$`),
    );
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');

    const byCookie = await fetch(`${base}/assets/app.js`, {
      headers: { Cookie: `other=1; qs_token_${srv.port}=${TOKEN}` },
    });
    expect(byCookie.status).toBe(200);
    // another port's cookie, or the old shared name, is not this server's token
    for (const c of [`qs_token_${srv.port + 1}=${TOKEN}`, `qs_token=${TOKEN}`]) {
      const other = await fetch(`${base}/api/appInfo`, {
        method: 'POST',
        headers: { Cookie: c },
        body: '[]',
      });
      expect(other.status, c).toBe(401);
    }
    // a malformed percent escape in the cookie is a wrong token (401), not a server error
    for (const c of [
      `qs_token_${srv.port}=%`,
      `qs_token_${srv.port}=%E0%A4%A`,
      `qs_token_${srv.port}=${TOKEN}%zz`,
    ]) {
      const bad = await fetch(`${base}/api/appInfo`, { method: 'POST', headers: { Cookie: c }, body: '[]' });
      expect(bad.status, c).toBe(401);
      expect((await bad.json()).message).toMatch(/missing or wrong token/);
    }
    expect(byCookie.headers.get('content-type')).toMatch(/javascript/);
    const byQuery = await fetch(`${base}/api/appInfo?token=${TOKEN}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '[]',
    });
    expect(byQuery.status).toBe(200);
    expect(await byQuery.json()).toEqual({ version: '9.9.9', mode: 'browser', platform: 'test' });
  });

  it('refuses a foreign Host header (DNS rebinding) and a foreign Origin (403)', async () => {
    const http = await import('node:http');
    const raw = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: srv.port, path: '/api/appInfo', method: 'POST', headers },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end('[]');
      });
    const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
    const evil = await raw({ ...auth, Host: `evil.example.com:${srv.port}` });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).message).toMatch(/Host/);
    expect((await raw({ ...auth, Host: `127.0.0.1:${srv.port + 1}` })).status).toBe(403);
    expect((await raw({ ...auth, Host: `localhost:${srv.port}` })).status).toBe(200);

    const foreign = await api('appInfo', [], { Origin: 'http://evil.example.com' });
    expect(foreign.status).toBe(403);
    expect((await foreign.json()).message).toMatch(/cross-origin/);
    expect((await api('appInfo', [], { Origin: base })).status).toBe(200);
    expect((await api('appInfo', [], { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
  });

  it('serves the API with a valid token and validates arguments', async () => {
    const list = await api('listModelFiles', []);
    expect(list.status).toBe(200);
    expect((await list.json())[0].name).toBe('a.gguf');

    const start = await api('startRun', [runReq]);
    expect(start.status).toBe(200);
    expect(await start.json()).toEqual({ runId: 'r1' });
    expect(fake.calls.at(-1)).toEqual({ method: 'startRun', args: [runReq] });

    const cancel = await api('cancelRun', ['r1']);
    expect(cancel.status).toBe(200);
    expect(await cancel.json()).toBeNull();

    expect(await (await api('pickModelFile', [])).json()).toBeNull();

    const bad = await api('startRun', [{ ...runReq, batchSizes: [0] }]);
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toBe(
      'startRun: invalid batchSizes.0: Too small: expected number to be >=1',
    );
    const extra = await api('startRun', [{ ...runReq, evil: true }]);
    expect(extra.status).toBe(400);
    const arity = await api('cancelRun', []);
    expect((await arity.json()).message).toBe('cancelRun: expected 1 argument, got 0');
    const unknown = await api('deleteEverything', []);
    expect(unknown.status).toBe(404);
    const get = await fetch(`${base}/api/appInfo`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(405);
  });

  it('answers malformed JSON bodies with 400 and a one-line message', async () => {
    const res = await api('openModel', '{"path": ');
    expect(res.status).toBe(400);
    const { message } = await res.json();
    expect(message).toMatch(/^malformed JSON body: /);
    expect(message).not.toContain('\n');
    const notArray = await api('openModel', { path: 'x' });
    expect(notArray.status).toBe(400);
    expect((await notArray.json()).message).toBe('openModel: arguments must be a JSON array');
    const wrongType = await api('appInfo', '[]', { 'Content-Type': 'text/plain' });
    expect(wrongType.status).toBe(415);
  });

  it('refuses oversized bodies (413)', async () => {
    const res = await api('openModel', JSON.stringify(['x'.repeat(5 << 20)]));
    expect(res.status).toBe(413);
  });

  it('answers an oversized body sent without a length (chunked) with a 413, and keeps serving', async () => {
    const piece = new TextEncoder().encode('x'.repeat(1 << 20));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 6) c.enqueue(piece);
        else c.close();
      },
    });
    const res = await fetch(`${base}/api/appInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).message).toMatch(/^request body too large \(limit \d+ bytes\)$/);
    expect((await api('appInfo', [])).status).toBe(200);
  });

  it('only opens model files under the model folders', async () => {
    const ok = await api('openModel', [path.join(models(), 'ok.gguf')]);
    expect(ok.status).toBe(200);
    expect((await ok.json()).fileName).toBe('ok.gguf');

    const before = fake.calls.length;
    for (const p of [
      path.join(dir, 'secret.txt'),
      path.join(models(), '..', 'secret.txt'),
      path.join(dir, 'outside', 'x.gguf'),
      path.join(models(), 'link.gguf'), // a symlink pointing outside
      '/etc/passwd',
      // missing files outside answer exactly like existing ones: existence is not revealed
      path.join(dir, 'outside', 'missing.gguf'),
      path.join(dir, 'no-such-folder', 'deeper', 'missing.gguf'),
      path.join(models(), '..', 'missing.txt'),
      '/etc/no-such-file-here',
      path.join(models(), 'outlink', 'missing.gguf'), // under a link to a folder outside
    ]) {
      const res = await api('openModel', [p]);
      expect(res.status, p).toBe(403);
      expect((await res.json()).message).toMatch(/outside the model folders/);
    }
    const missing = await api('openModel', [path.join(models(), 'nope.gguf')]);
    expect(missing.status).toBe(404);
    expect((await api('openModel', [path.join(models(), 'sub', 'nope.gguf')])).status).toBe(404);
    expect(fake.calls.length).toBe(before);
  });

  it('takes a relative model path in the first model folder, where completion takes it', async () => {
    const ok = await api('openModel', ['ok.gguf']);
    expect(ok.status).toBe(200);
    expect(fake.calls.at(-1)).toEqual({
      method: 'openModel',
      args: [path.join(realpathSync(models()), 'ok.gguf')],
    });
    expect((await api('openModel', ['sub/nope.gguf'])).status).toBe(404);
    expect((await api('openModel', ['../outside/x.gguf'])).status).toBe(403);
  });

  it('passes engine errors through as one line (422)', async () => {
    const res = await api('openModel', [path.join(models(), 'bad.gguf')]);
    expect(res.status).toBe(422);
    expect((await res.json()).message).toBe('bad.gguf: not a GGUF file (magic is "XXXX")');
  });

  it('serves static files only from the UI folder', async () => {
    const h = { Authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${base}/assets/app.js`, { headers: h })).status).toBe(200);
    expect((await fetch(`${base}/..%2Fsecret.txt`, { headers: h })).status).toBe(404);
    expect((await fetch(`${base}/assets/..%2F..%2Fsecret.txt`, { headers: h })).status).toBe(404);
    expect((await fetch(`${base}/missing.js`, { headers: h })).status).toBe(404);
    expect((await fetch(`${base}/assets`, { headers: h })).status).toBe(404);
  });

  it('streams run events over SSE', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${base}/api/events?token=${TOKEN}`, { signal: ctrl.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    // wait for the subscription, then emit
    for (let i = 0; i < 50 && fake.engine.listenerCount() === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(fake.engine.listenerCount()).toBe(1);
    fake.engine.emit({ type: 'progress', runId: 'r1', done: 1, total: 2, etaMs: 5 });
    while (!text.includes('"progress"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    const line = text.split('\n').find((l) => l.startsWith('data: '))!;
    expect(JSON.parse(line.slice(6))).toEqual({ type: 'progress', runId: 'r1', done: 1, total: 2, etaMs: 5 });
    ctrl.abort();
    for (let i = 0; i < 50 && fake.engine.listenerCount() > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(fake.engine.listenerCount()).toBe(0);
  });

  it('says clearly when the UI is not built (503)', async () => {
    const s = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [models()],
      samplesDir: path.join(dir, 'samples'),
      uiDir: path.join(dir, 'no-ui'),
      token: TOKEN,
      engine: fakeEngine().engine,
    });
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/?token=${TOKEN}`);
      expect(res.status).toBe(503);
      expect((await res.json()).message).toMatch(/UI is not built.*npm run build/);
    } finally {
      await s.close();
    }
  });

  it('rejects bad options with one-line errors', async () => {
    const common = { host: '127.0.0.1', samplesDir: path.join(dir, 'samples'), uiDir: path.join(dir, 'ui') };
    await expect(
      startServer({ ...common, port: 0, modelDirs: [path.join(dir, 'nope')], engine: fake.engine }),
    ).rejects.toThrow(/models folder not found/);
    await expect(startServer({ ...common, port: 70000, modelDirs: [], engine: fake.engine })).rejects.toThrow(
      /port/,
    );
    await expect(
      startServer({ ...common, port: 0, modelDirs: [], token: 'a b', engine: fake.engine }),
    ).rejects.toThrow(/token/);
    await expect(
      startServer({ ...common, port: srv.port, modelDirs: [], engine: fake.engine }),
    ).rejects.toThrow(/already in use/);
  });
});
