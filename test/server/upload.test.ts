import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer, uploadFileName, type RunningServer } from '../../src-main/engine/server/serve';
import { createHttpApi } from '../../src-renderer/src/api/http-client';
import type { ModelFileEntry, ModelSummary } from '../../src-shared/contract';
import { encodeGguf, md } from '../../src-main/engine/gguf';
import { GgmlType } from '../../src-main/engine/ggml-types';

const SAMPLES = path.resolve(__dirname, '../../samples');
const SAMPLE = readFileSync(path.join(SAMPLES, 'tiny.gguf'));

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

  it('refuses one file of a split model: the others cannot come with it', async () => {
    const before = filesBelow(srv.uploadDir).length;
    const shard = encodeGguf({
      metadata: [md.u16('split.no', 0), md.u16('split.count', 2), md.i32('split.tensors.count', 2)],
      tensors: [{ name: 'a.weight', type: GgmlType.F32, dims: [32, 2], data: new Uint8Array(256) }],
    });
    const res = await upload(Buffer.from(shard), 'm-00001-of-00002.gguf');
    expect(res.status).toBe(422);
    expect(res.body.message).toBe(
      'cannot open m-00001-of-00002.gguf: it is one file of a split model, and an upload is one file: serve the folder that holds all of its files with --models',
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
    const api = createHttpApi({ baseUrl: base(), token: srv.token });
    const model = await api.uploadModel!(new File([new Uint8Array(SAMPLE)], 'client.gguf'));
    expect(model.fileName).toBe('client.gguf');
    const wrong = createHttpApi({ baseUrl: base(), token: 'wrong-token-123' });
    await expect(wrong.uploadModel!(new File([new Uint8Array(SAMPLE)], 'c.gguf'))).rejects.toThrow(
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
