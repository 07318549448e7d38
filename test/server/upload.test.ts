import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, uploadFileName, type RunningServer } from '../../src-main/engine/server/serve';
import { makeModel } from '../../src-main/engine/models/make-model';
import { PRESETS } from '../../src-main/engine/models/presets';
import { splitFileName } from '../../src-shared/split-name';
import { createHttpApi, type XhrLike } from '../../src-renderer/src/api/http-client';
import type { ModelFileEntry, ModelSummary } from '../../src-shared/contract';
import { encodeGguf, md } from '../../src-main/engine/gguf';
import { GgmlType } from '../../src-main/engine/ggml-types';

const SAMPLES = path.resolve(__dirname, '../../samples');
const SAMPLE = readFileSync(path.join(SAMPLES, 'tiny.gguf'));

/**
 * The part of XMLHttpRequest the browser client uploads through, over Node's fetch (Node has no
 * XMLHttpRequest): the same requests reach the server; progress is reported once, when the body has
 * gone.
 */
class FetchXhr implements XhrLike {
  readonly upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  status = 0;
  statusText = '';
  responseText = '';
  private method = 'GET';
  private url = '';
  private readonly headers: Record<string, string> = {};
  private readonly ctl = new AbortController();
  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: Blob): void {
    void (async () => {
      try {
        const r = await fetch(this.url, {
          method: this.method,
          headers: this.headers,
          body,
          signal: this.ctl.signal,
        });
        this.upload.onprogress?.({ loaded: body.size });
        this.status = r.status;
        this.statusText = r.statusText;
        this.responseText = await r.text();
      } catch {
        (this.ctl.signal.aborted ? this.onabort : this.onerror)?.();
        return;
      }
      (this.ctl.signal.aborted ? this.onabort : this.onload)?.();
    })();
  }
  abort(): void {
    this.ctl.abort();
  }
}

/** Every file below dir (the upload folder's per-upload sub-folders included). */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('browser-mode upload route', () => {
  let dir: string;
  let srv: RunningServer;
  const limit = SAMPLE.length + 1024;
  const base = () => `http://127.0.0.1:${srv.port}`;
  const upload = (
    body: Buffer,
    name = 'up.gguf',
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: { message?: string } & Partial<ModelSummary> }> =>
    fetch(`${base()}/api/upload?name=${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        Authorization: `Bearer ${srv.token}`,
        ...headers,
      },
      body: new Blob([new Uint8Array(body)]),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-upload-'));
    srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
      maxUploadBytes: limit,
      uploadParent: dir,
    });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a good file to the upload folder and opens it with the parser', async () => {
    const res = await upload(SAMPLE, 'my model.gguf');
    expect(res.status).toBe(200);
    expect(res.body.fileName).toBe('my model.gguf');
    expect(res.body.tensors!.length).toBeGreaterThan(5);
    expect(path.dirname(path.dirname(res.body.path!))).toBe(srv.uploadDir);
    expect(readFileSync(res.body.path!).equals(SAMPLE)).toBe(true);
    // listed as an upload, under its own name
    const files = (await fetch(`${base()}/api/listModelFiles`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` },
      body: '[]',
    }).then((r) => r.json())) as ModelFileEntry[];
    expect(files.find((f) => f.source === 'upload')).toMatchObject({ name: 'my model.gguf' });
  });

  it('refuses a file over the limit in one line and removes the partial file', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const big = Buffer.alloc(limit + 1);
    big.set(SAMPLE);
    const res = await upload(big, 'big.gguf');
    expect(res.status).toBe(413);
    expect(res.body.message).toBe(
      `big.gguf is larger than the upload limit of ${limit} bytes (--max-upload)`,
    );
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
  });

  it('counts the bytes when no length is declared (chunked body over the limit)', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${base()}/api/upload?name=chunked.gguf`,
        {
          method: 'PUT',
          headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${srv.token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // written in pieces without Content-Length: chunked transfer encoding
      for (let i = 0; i < 8; i++) req.write(Buffer.alloc(Math.ceil(limit / 4)));
      req.end();
    });
    expect(status).toBe(413);
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
  });

  it('refuses a wrong token, another origin and a form body', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const bad = await upload(SAMPLE, 'x.gguf', { Authorization: 'Bearer wrong-token-123' });
    expect(bad.status).toBe(401);
    const cross = await upload(SAMPLE, 'x.gguf', { Origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    const form = await upload(SAMPLE, 'x.gguf', { 'Content-Type': 'text/plain' });
    expect(form.status).toBe(415);
    const notGguf = await upload(SAMPLE, 'x.bin');
    expect(notGguf.status).toBe(400);
    expect(notGguf.body.message).toMatch(/only \.gguf files can be uploaded/);
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
  });

  it('refuses one file of a split model sent alone: its other files did not come with it', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const shard = encodeGguf({
      metadata: [md.u16('split.no', 0), md.u16('split.count', 2), md.i32('split.tensors.count', 2)],
      tensors: [{ name: 'a.weight', type: GgmlType.F32, dims: [32, 2], data: new Uint8Array(256) }],
    });
    const res = await upload(Buffer.from(shard), 'm-00001-of-00002.gguf');
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(
      'cannot open m-00001-of-00002.gguf: it is one file of a split model, and its other files were not uploaded with it: upload all of its files together',
    );
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
  });

  it('answers a malformed GGUF with the parse error, removes it, and keeps serving', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const bad = await upload(
      Buffer.from('GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'),
      'bad.gguf',
    );
    expect(bad.status).toBe(422);
    expect(bad.body.message).toMatch(/^cannot open bad\.gguf: /);
    expect(bad.body.message).not.toContain('\n');
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
    const good = await upload(SAMPLE, 'again.gguf');
    expect(good.status).toBe(200);
  });

  it('leaves no file behind when the upload is aborted', async () => {
    const before = filesBelow(srv.uploadDir).length;
    await new Promise<void>((resolve) => {
      const req = request(`${base()}/api/upload?name=aborted.gguf`, {
        method: 'PUT',
        headers: {
          'Content-Type': 'application/octet-stream',
          Authorization: `Bearer ${srv.token}`,
          'Content-Length': String(SAMPLE.length),
        },
      });
      req.on('error', () => resolve());
      req.write(SAMPLE.subarray(0, 1000), () => setTimeout(() => req.destroy(), 100));
    });
    // the server notices the closed connection and removes the partial file
    const deadline = Date.now() + 5000;
    while (filesBelow(srv.uploadDir).length !== before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(filesBelow(srv.uploadDir)).toHaveLength(before);
    expect(readdirSync(srv.uploadDir).every((d) => filesBelow(path.join(srv.uploadDir, d)).length > 0)).toBe(
      true,
    );
  });

  it('removes the upload folder when the server closes', async () => {
    const other = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
      uploadParent: dir,
    });
    const folder = other.uploadDir;
    expect(existsSync(folder)).toBe(true);
    await other.close();
    expect(existsSync(folder)).toBe(false);
  });

  it('removes the upload folders of servers that were killed, not those of running ones', async () => {
    const orphan = path.join(dir, 'quantscope-uploads-999999999-abc');
    const alive = path.join(dir, `quantscope-uploads-${process.ppid}-abc`);
    mkdirSync(path.join(orphan, 'x'), { recursive: true });
    mkdirSync(alive);
    const other = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
      uploadParent: dir,
    });
    await other.close();
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    // this server's own folder is still there
    expect(existsSync(srv.uploadDir)).toBe(true);
  });

  it('is what the browser client uploads through', async () => {
    const api = createHttpApi({ baseUrl: base(), token: srv.token, XMLHttpRequestImpl: FetchXhr });
    const model = await api.uploadModel!([new File([new Uint8Array(SAMPLE)], 'client.gguf')]);
    expect(model.fileName).toBe('client.gguf');
    const wrong = createHttpApi({
      baseUrl: base(),
      token: 'wrong-token-123',
      XMLHttpRequestImpl: FetchXhr,
    });
    await expect(wrong.uploadModel!([new File([new Uint8Array(SAMPLE)], 'c.gguf')])).rejects.toThrow(
      /missing or wrong token/,
    );
  });

  it('keeps an uploaded file under its base name, and only .gguf', () => {
    expect(uploadFileName('../../etc/x.gguf')).toBe('x.gguf');
    expect(uploadFileName('C:\\models\\a.GGUF')).toBe('a.GGUF');
    expect(uploadFileName('a\u0007b.gguf')).toBe('ab.gguf');
    expect(() => uploadFileName('.gguf')).toThrow(/only \.gguf files/);
    expect(() => uploadFileName(null)).toThrow(/only \.gguf files/);
    expect(() => uploadFileName('passwd')).toThrow(/only \.gguf files/);
    // a long name keeps its end, at most 200 bytes of UTF-8, never half a character
    const emoji = uploadFileName('\u{1F600}'.repeat(120) + '.gguf');
    expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(200);
    expect(emoji).toBe('\u{1F600}'.repeat(48) + '.gguf');
    expect(uploadFileName('a'.repeat(300) + '.gguf')).toBe('a'.repeat(195) + '.gguf');
  });
});

describe('browser-mode upload of a split model (one upload set)', () => {
  let dir: string;
  let srv: RunningServer;
  /** the tiny preset in three files, as the model writer splits it */
  let parts: { name: string; bytes: Buffer }[];
  let total: number;
  const base = () => `http://127.0.0.1:${srv.port}`;
  const SET = 'a'.repeat(32);
  let setNo = 0;
  /** a fresh set id for each upload */
  const newSet = () => (++setNo).toString(16).padStart(32, '0');
  const put = (
    bytes: Buffer,
    query: Record<string, string>,
    server = srv,
  ): Promise<{
    status: number;
    body: { message?: string; files?: unknown; bytes?: number } & Partial<ModelSummary>;
  }> =>
    fetch(`http://127.0.0.1:${server.port}/api/upload?${new URLSearchParams(query)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', Authorization: `Bearer ${server.token}` },
      body: new Blob([new Uint8Array(bytes)]),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const del = (
    query: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: { message?: string; ended?: boolean } }> =>
    fetch(`${base()}/api/upload?${new URLSearchParams(query)}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${srv.token}`, ...headers },
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  /** the set's folders below the upload folder, and every file in them */
  const snapshot = (server = srv) => ({
    dirs: readdirSync(server.uploadDir).sort(),
    files: filesBelow(server.uploadDir),
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-upload-split-'));
    const made = path.join(dir, 'made');
    mkdirSync(made);
    const outs = [0, 1, 2].map((i) => path.join(made, splitFileName('tiny-split', i, 3)));
    await makeModel({ out: '', outs, preset: PRESETS.tiny, seed: 5 });
    parts = outs.map((p) => ({ name: path.basename(p), bytes: readFileSync(p) }));
    total = parts.reduce((n, p) => n + p.bytes.length, 0);
    srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
      maxUploadBytes: total + 1024,
      uploadParent: dir,
      uploadIdleMs: 3000,
    });
  });
  afterAll(async () => {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the files of one set in one folder and opens the model from its first file, with all of them', async () => {
    const before = snapshot();
    const set = newSet();
    // any order: the last one sent carries open=1
    const order = [parts[2], parts[0], parts[1]];
    let sent = 0;
    for (let i = 0; i < order.length; i++) {
      const last = i === order.length - 1;
      const res = await put(order[i].bytes, {
        name: order[i].name,
        set,
        total: String(total),
        ...(last ? { open: '1' } : {}),
      });
      sent += order[i].bytes.length;
      expect(res.status, res.body.message).toBe(200);
      if (!last) expect(res.body).toEqual({ files: i + 1, bytes: sent });
      else {
        expect(res.body.fileName).toBe('tiny-split-00001-of-00003.gguf');
        expect(res.body.files).toHaveLength(3);
        expect(res.body.fileSize).toBe(total);
        expect(res.body.tensorCount).toBeGreaterThan(5);
      }
    }
    // one new folder, holding the three files as they were sent
    const after = snapshot();
    const added = after.dirs.filter((d) => !before.dirs.includes(d));
    expect(added).toHaveLength(1);
    expect(readdirSync(path.join(srv.uploadDir, added[0])).sort()).toEqual(parts.map((p) => p.name));
    for (const p of parts)
      expect(readFileSync(path.join(srv.uploadDir, added[0], p.name)).equals(p.bytes)).toBe(true);
    // listed once, as an upload of three files
    const files = (await fetch(`${base()}/api/listModelFiles`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` },
      body: '[]',
    }).then((r) => r.json())) as ModelFileEntry[];
    const listed = files.filter((f) => f.source === 'upload' && f.name.startsWith('tiny-split-'));
    expect(listed).toEqual([
      expect.objectContaining({ name: 'tiny-split-00001-of-00003.gguf', files: 3, size: total }),
    ]);
    // the set has ended: a late file of it is refused, and nothing is added
    const late = await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/^this upload set has ended/);
    expect(snapshot()).toEqual(after);
  });

  it('is what the browser client uploads a split model through', async () => {
    const api = createHttpApi({ baseUrl: base(), token: srv.token, XMLHttpRequestImpl: FetchXhr });
    const progress: number[] = [];
    const model = await api.uploadModel!(
      parts.map((p) => new File([new Uint8Array(p.bytes)], p.name)),
      { onProgress: (sent, all) => progress.push(sent, all) },
    );
    expect(model.fileName).toBe('tiny-split-00001-of-00003.gguf');
    expect(model.files?.map((f) => path.basename(f.path))).toEqual(parts.map((p) => p.name));
    // the bytes of all the files: growing, through each file's end, to the total
    const sent = progress.filter((_, i) => i % 2 === 0);
    expect(progress.filter((_, i) => i % 2 === 1).every((t) => t === total)).toBe(true);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(sent).toEqual(
      expect.arrayContaining([parts[0].bytes.length, parts[0].bytes.length + parts[1].bytes.length, total]),
    );
    expect(sent.at(-1)).toBe(total);
  });

  it('a client cancelled after its first file sends no other file and ends the set at once', async () => {
    const before = snapshot();
    const requests: string[] = [];
    const api = createHttpApi({
      baseUrl: base(),
      token: srv.token,
      XMLHttpRequestImpl: FetchXhr,
      fetchImpl: (input, init) => {
        requests.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    const abort = new AbortController();
    const upload = api.uploadModel!(
      parts.map((p) => new File([new Uint8Array(p.bytes)], p.name)),
      {
        signal: abort.signal,
        // the first file has gone: the user cancels before the second starts
        onProgress: (sent) => {
          if (sent >= parts[0].bytes.length) abort.abort();
        },
      },
    );
    await expect(upload).rejects.toMatchObject({ name: 'AbortError' });
    expect(requests).toEqual([expect.stringMatching(/^DELETE .*\/api\/upload\?set=[0-9a-f]{32}$/)]);
    // removed well within the idle time (3 s here)
    const deadline = Date.now() + 1000;
    while (snapshot().dirs.length !== before.dirs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(snapshot()).toEqual(before);
  });

  it('DELETE with the set id ends a set at once: its files go and its id is spent', async () => {
    const before = snapshot();
    const set = newSet();
    expect((await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) })).status).toBe(200);
    expect(snapshot().files).toHaveLength(before.files.length + 1);
    const res = await del({ set });
    expect(res).toEqual({ status: 200, body: { ended: true } });
    expect(snapshot()).toEqual(before);
    const late = await put(parts[1].bytes, { name: parts[1].name, set, total: String(total) });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/^this upload set has ended/);
    // a set the server does not hold: nothing to remove, and its id is spent all the same
    const unknown = newSet();
    expect(await del({ set: unknown })).toEqual({ status: 200, body: { ended: false } });
    const after = await put(parts[0].bytes, { name: parts[0].name, set: unknown, total: String(total) });
    expect(after.status).toBe(409);
    expect(snapshot()).toEqual(before);
  });

  it('DELETE passes the same checks as every request, and needs a well-formed set id', async () => {
    const before = snapshot();
    const set = newSet();
    expect((await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) })).status).toBe(200);
    const held = snapshot();
    expect(await del({ set }, { Authorization: 'Bearer wrong-token-123' })).toMatchObject({
      status: 401,
      body: { message: expect.stringMatching(/missing or wrong token/) },
    });
    expect(await del({ set }, { Origin: 'http://evil.example' })).toMatchObject({ status: 403 });
    expect(await del({ set }, { 'Sec-Fetch-Site': 'cross-site' })).toMatchObject({ status: 403 });
    expect(await del({ set: 'ABC' })).toEqual({
      status: 400,
      body: { message: 'an upload set id must be 32 lowercase hexadecimal digits' },
    });
    expect(await del({})).toEqual({
      status: 400,
      body: { message: 'DELETE /api/upload needs set=<id>: the upload set to end' },
    });
    // none of those touched the set: its next file is still taken
    expect(snapshot()).toEqual(held);
    expect((await put(parts[1].bytes, { name: parts[1].name, set, total: String(total) })).status).toBe(200);
    expect((await del({ set })).body).toEqual({ ended: true });
    expect(snapshot()).toEqual(before);
  });

  it('DELETE cuts off the file of the set that is arriving, and nothing of the set stays', async () => {
    const before = snapshot();
    const set = newSet();
    const slow = request(
      `${base()}/api/upload?${new URLSearchParams({ name: parts[0].name, set, total: String(total) })}`,
      {
        method: 'PUT',
        headers: {
          'Content-Type': 'application/octet-stream',
          Authorization: `Bearer ${srv.token}`,
          'Content-Length': String(parts[0].bytes.length),
        },
      },
    );
    const slowAnswer = new Promise<{ status: number; message: string }>((resolve, reject) => {
      slow.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, message: JSON.parse(text).message }));
      });
      slow.on('error', reject);
    });
    await new Promise<void>((r) => slow.write(parts[0].bytes.subarray(0, 1000), () => r()));
    while (snapshot().files.length === before.files.length) await new Promise((r) => setTimeout(r, 20));
    expect(await del({ set })).toEqual({ status: 200, body: { ended: true } });
    expect(await slowAnswer).toEqual({ status: 409, message: 'the upload was cancelled' });
    slow.destroy();
    expect(snapshot()).toEqual(before);
  });

  it('refuses a set with a missing file in one line when it is to open, and keeps none of its files', async () => {
    const before = snapshot();
    const set = newSet();
    const first = await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) });
    expect(first.status).toBe(200);
    expect(snapshot().files).toHaveLength(before.files.length + 1);
    const res = await put(parts[2].bytes, { name: parts[2].name, set, total: String(total), open: '1' });
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(
      'tiny-split-00001-of-00003.gguf is a split model of 3 files, but file 2 (tiny-split-00002-of-00003.gguf) is missing: upload all 3 files together',
    );
    expect(snapshot()).toEqual(before);
  });

  it('refuses a set id that is not 32 lowercase hexadecimal digits, before storing anything', async () => {
    const before = snapshot();
    for (const bad of ['abc', SET.toUpperCase(), `${SET}0`, 'g'.repeat(32), '', '../'.repeat(11)]) {
      const res = await put(parts[0].bytes, { name: parts[0].name, set: bad, total: String(total) });
      expect(res.status, bad).toBe(400);
      expect(res.body.message).toBe('an upload set id must be 32 lowercase hexadecimal digits');
    }
    expect(snapshot()).toEqual(before);
  });

  it('refuses a set larger than the upload limit, which holds for all its files together', async () => {
    // each file is under the limit, the three together are not
    const largest = Math.max(...parts.map((p) => p.bytes.length));
    const small = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
      maxUploadBytes: largest + 1,
      uploadParent: dir,
    });
    try {
      const before = snapshot(small);
      const res = await put(
        parts[0].bytes,
        { name: parts[0].name, set: newSet(), total: String(total) },
        small,
      );
      expect(res.status).toBe(413);
      expect(res.body.message).toBe(
        `the 3 files of tiny-split-00001-of-00003.gguf (${total} bytes) are larger than the upload limit of ${largest + 1} bytes (--max-upload)`,
      );
      expect(snapshot(small)).toEqual(before);
      // a set that understates its total is cut off where its bytes pass it, and removed
      const set = newSet();
      const under = String(parts[0].bytes.length + 10);
      expect((await put(parts[0].bytes, { name: parts[0].name, set, total: under }, small)).status).toBe(200);
      const over = await put(parts[1].bytes, { name: parts[1].name, set, total: under }, small);
      expect(over.status).toBe(413);
      expect(over.body.message).toBe(
        `tiny-split-00002-of-00003.gguf: the files of tiny-split-00001-of-00003.gguf are larger than the ${under} bytes their upload set declared`,
      );
      expect(snapshot(small)).toEqual(before);
    } finally {
      await small.close();
    }
  });

  it('removes the files already stored when a later file is refused, and ends the set', async () => {
    const before = snapshot();
    const cases: { query: (set: string) => Record<string, string>; status: number; message: RegExp }[] = [
      {
        query: (set) => ({ name: 'other-00002-of-00003.gguf', set, total: String(total) }),
        status: 400,
        message: /^other-00002-of-00003\.gguf is not a file of tiny-split-00001-of-00003\.gguf/,
      },
      {
        query: (set) => ({ name: 'plain.gguf', set, total: String(total) }),
        status: 400,
        message: /^plain\.gguf is not a file of a split model/,
      },
      {
        query: (set) => ({ name: parts[0].name, set, total: String(total) }),
        status: 409,
        message: /^tiny-split-00001-of-00003\.gguf was already uploaded in this set$/,
      },
      {
        query: (set) => ({ name: parts[1].name, set, total: String(total + 1) }),
        status: 400,
        message: /declares \d+ bytes for its upload set, which declared \d+$/,
      },
      {
        query: (set) => ({ name: parts[1].name, set, total: String(total), open: 'yes' }),
        status: 400,
        message: /^open=1 marks the last file/,
      },
    ];
    for (const c of cases) {
      const set = newSet();
      expect((await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) })).status).toBe(
        200,
      );
      const res = await put(parts[1].bytes, c.query(set));
      expect(res.status, c.message.source).toBe(c.status);
      expect(res.body.message).toMatch(c.message);
      expect(snapshot(), c.message.source).toEqual(before);
      // the set id is spent
      const again = await put(parts[1].bytes, { name: parts[1].name, set, total: String(total) });
      expect(again.status).toBe(409);
      expect(snapshot()).toEqual(before);
    }
  });

  it('answers a set whose files do not make one model with the parse error, and removes it', async () => {
    const before = snapshot();
    const set = newSet();
    // the second file's bytes under the third's name: its split keys say it is file 2
    for (const [i, bytes] of [parts[0].bytes, parts[1].bytes, parts[1].bytes].entries()) {
      const res = await put(bytes, {
        name: parts[i].name,
        set,
        total: String(parts[0].bytes.length + 2 * parts[1].bytes.length),
        ...(i === 2 ? { open: '1' } : {}),
      });
      expect(res.status, res.body.message).toBe(i === 2 ? 422 : 200);
      if (i === 2)
        expect(res.body.message).toBe(
          "cannot open tiny-split-00001-of-00003.gguf: tiny-split-00003-of-00003.gguf: its split keys (file 2 of 3) do not make it file 3 of 3 of tiny-split-00001-of-00003.gguf's model",
        );
    }
    expect(snapshot()).toEqual(before);
    // and the server goes on: the right files open
    const set2 = newSet();
    for (const [i, p] of parts.entries()) {
      const res = await put(p.bytes, {
        name: p.name,
        set: set2,
        total: String(total),
        ...(i === 2 ? { open: '1' } : {}),
      });
      expect(res.status, res.body.message).toBe(200);
      if (i === 2) expect(res.body.files).toHaveLength(3);
    }
  });

  it('removes a set whose next file does not come in time', async () => {
    const before = snapshot();
    const set = newSet();
    expect((await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) })).status).toBe(200);
    expect(snapshot().files).toHaveLength(before.files.length + 1);
    const deadline = Date.now() + 10_000;
    while (snapshot().dirs.length !== before.dirs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(snapshot()).toEqual(before);
    const late = await put(parts[1].bytes, { name: parts[1].name, set, total: String(total) });
    expect(late.status).toBe(409);
  });

  it('removes the whole set when a file of it is cut off', async () => {
    const before = snapshot();
    const set = newSet();
    expect((await put(parts[0].bytes, { name: parts[0].name, set, total: String(total) })).status).toBe(200);
    await new Promise<void>((resolve) => {
      const req = request(
        `${base()}/api/upload?${new URLSearchParams({ name: parts[1].name, set, total: String(total) })}`,
        {
          method: 'PUT',
          headers: {
            'Content-Type': 'application/octet-stream',
            Authorization: `Bearer ${srv.token}`,
            'Content-Length': String(parts[1].bytes.length),
          },
        },
      );
      req.on('error', () => resolve());
      req.write(parts[1].bytes.subarray(0, 1000), () => setTimeout(() => req.destroy(), 100));
    });
    const deadline = Date.now() + 5000;
    while (snapshot().dirs.length !== before.dirs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(snapshot()).toEqual(before);
  });

  it('refuses a file of a set that comes while another is arriving, and removes the set', async () => {
    const before = snapshot();
    const set = newSet();
    // the first file arrives slowly: its request stays open while the second comes
    const slow = request(
      `${base()}/api/upload?${new URLSearchParams({ name: parts[0].name, set, total: String(total) })}`,
      {
        method: 'PUT',
        headers: {
          'Content-Type': 'application/octet-stream',
          Authorization: `Bearer ${srv.token}`,
          'Content-Length': String(parts[0].bytes.length),
        },
      },
    );
    const slowAnswer = new Promise<{ status: number; message: string }>((resolve, reject) => {
      slow.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, message: JSON.parse(text).message }));
      });
      slow.on('error', reject);
    });
    await new Promise<void>((r) => slow.write(parts[0].bytes.subarray(0, 1000), () => r()));
    while (snapshot().files.length === before.files.length) await new Promise((r) => setTimeout(r, 20));
    const second = await put(parts[1].bytes, { name: parts[1].name, set, total: String(total) });
    expect(second.status).toBe(409);
    expect(second.body.message).toBe(
      'tiny-split-00002-of-00003.gguf came while another file of its upload set was arriving',
    );
    // the slow one is refused as well, and nothing of the set stays
    expect(await slowAnswer).toEqual({ status: 409, message: 'another file of this upload failed' });
    slow.destroy();
    expect(snapshot()).toEqual(before);
  });
});
