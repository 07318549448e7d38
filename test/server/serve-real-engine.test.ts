import { describe, it, expect } from 'vitest';
import { copyFileSync, mkdtempSync, realpathSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../src-main/engine/server/serve';
import { EngineService } from '../../src-main/engine/service';
import { RecordStore } from '../../src-main/engine/records/store';
import type { ModelFileEntry, ModelSummary, PathCompletion } from '../../src-shared/contract';

const SAMPLES = path.resolve(__dirname, '../../samples');

describe('browser-mode server with the real EngineService', () => {
  const call = async (srv: { port: number; token: string }, m: string, args: unknown[]) => {
    const res = await fetch(`http://127.0.0.1:${srv.port}/api/${m}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` },
      body: JSON.stringify(args),
    });
    return { status: res.status, body: await res.json() };
  };

  it('serves only the --models folders, and refuses a malformed file in one line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-real-'));
    copyFileSync(path.join(SAMPLES, 'tiny.gguf'), path.join(dir, 'copy.gguf'));
    writeFileSync(
      path.join(dir, 'malformed.gguf'),
      Buffer.from('GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'),
    );
    const srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [dir],
      samplesDir: SAMPLES,
      uiDir: dir,
    });
    try {
      const info = await call(srv, 'appInfo', []);
      expect(info.body.mode).toBe('browser');
      const files = (await call(srv, 'listModelFiles', [])).body as ModelFileEntry[];
      expect(files.map((f) => [f.name, f.source]).sort()).toEqual([
        ['copy.gguf', 'models'],
        ['malformed.gguf', 'models'],
      ]);
      const opened = await call(srv, 'openModel', [path.join(dir, 'copy.gguf')]);
      expect(opened.status).toBe(200);
      expect((opened.body as ModelSummary).tensors.length).toBeGreaterThan(5);
      // the samples folder is not served beside the folders named
      const sample = await call(srv, 'openModel', [path.join(SAMPLES, 'tiny.gguf')]);
      expect(sample.status).toBe(403);
      expect(sample.body.message).toMatch(/outside the model folders/);
      const roots = (await call(srv, 'completePath', [''])).body as PathCompletion[];
      expect(roots.map((r) => r.path)).toEqual([realpathSync(dir) + path.sep]);
      expect((await call(srv, 'completePath', [SAMPLES + path.sep])).status).toBe(422);
      const bad = await call(srv, 'openModel', [path.join(dir, 'malformed.gguf')]);
      expect(bad.status).toBe(422);
      expect(bad.body.message).toMatch(/malformed\.gguf|tensor count|count/i);
      expect(bad.body.message).not.toContain('\n');
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves the samples folder when no --models folder is named', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-real-'));
    const srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [],
      samplesDir: SAMPLES,
      uiDir: dir,
    });
    try {
      const files = (await call(srv, 'listModelFiles', [])).body as ModelFileEntry[];
      const sample = files.find((f) => f.source === 'sample' && f.name === 'tiny.gguf');
      expect(sample, JSON.stringify(files)).toBeTruthy();
      expect((await call(srv, 'openModel', [sample!.path])).status).toBe(200);
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers an unknown run, record or model id with 404 and its one-line message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-real-'));
    // the engine the server would make, with a records folder of the test's own
    const engine = new EngineService({
      mode: 'browser',
      samplesDir: null,
      modelDirs: [dir],
      restrictToDirs: true,
      workerThreads: 1,
      records: new RecordStore(path.join(dir, 'records')),
    });
    const srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [dir],
      samplesDir: SAMPLES,
      uiDir: dir,
      engine,
    });
    try {
      const refused = async (m: string, args: unknown[]) => {
        const r = await call(srv, m, args);
        return { status: r.status, message: (r.body as { message: string }).message };
      };
      expect(await refused('cancelRun', ['nope1234'])).toEqual({ status: 404, message: 'no run nope1234' });
      expect(await refused('exportReport', [{ runId: 'nope1234', format: 'md' }])).toEqual({
        status: 404,
        message: 'no run nope1234',
      });
      expect(await refused('openRecord', ['nope'])).toEqual({
        status: 404,
        message: "no record 'nope' in the records folder",
      });
      // a model handle the engine does not hold (closed, or another engine's) is unknown too
      expect(await refused('listTensors', [{ modelId: 'gone', offset: 0, limit: 10 }])).toEqual({
        status: 404,
        message: 'that model is no longer open: open it again',
      });
      // a malformed id is still bad arguments, not an unknown one
      expect((await call(srv, 'openRecord', ['../x'])).status).toBe(400);
    } finally {
      await srv.close();
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
