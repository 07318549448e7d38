import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../../src-main/engine/server/serve';
import { EngineService } from '../../src-main/engine/service';
import { RecordStore } from '../../src-main/engine/records/store';
import type { ModelFileEntry, ModelSummary } from '../../src-shared/contract';

const SAMPLES = path.resolve(__dirname, '../../samples');

describe('browser-mode server with the real EngineService', () => {
  it('lists and opens the sample and a models folder, and refuses a malformed file in one line', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-real-'));
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
      const call = async (m: string, args: unknown[]) => {
        const res = await fetch(`http://127.0.0.1:${srv.port}/api/${m}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` },
          body: JSON.stringify(args),
        });
        return { status: res.status, body: await res.json() };
      };
      const info = await call('appInfo', []);
      expect(info.body.mode).toBe('browser');
      const files = (await call('listModelFiles', [])).body as ModelFileEntry[];
      const sample = files.find((f) => f.source === 'sample' && f.name === 'tiny.gguf');
      expect(sample, JSON.stringify(files)).toBeTruthy();
      expect(files.some((f) => f.name === 'malformed.gguf')).toBe(true);
      const opened = await call('openModel', [sample!.path]);
      expect(opened.status).toBe(200);
      expect((opened.body as ModelSummary).tensors.length).toBeGreaterThan(5);
      const bad = await call('openModel', [path.join(dir, 'malformed.gguf')]);
      expect(bad.status).toBe(422);
      expect(bad.body.message).toMatch(/malformed\.gguf|tensor count|count/i);
      expect(bad.body.message).not.toContain('\n');
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers an unknown run or record id with 404 and its one-line message', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-real-'));
    // the engine the server would make, with a records folder of the test's own
    const engine = new EngineService({
      mode: 'browser',
      samplesDir: SAMPLES,
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
      const call = async (m: string, args: unknown[]) => {
        const res = await fetch(`http://127.0.0.1:${srv.port}/api/${m}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${srv.token}` },
          body: JSON.stringify(args),
        });
        return { status: res.status, message: ((await res.json()) as { message: string }).message };
      };
      expect(await call('cancelRun', ['nope1234'])).toEqual({ status: 404, message: 'no run nope1234' });
      expect(await call('exportReport', [{ runId: 'nope1234', format: 'md' }])).toEqual({
        status: 404,
        message: 'no run nope1234',
      });
      expect(await call('openRecord', ['nope'])).toEqual({
        status: 404,
        message: "no record 'nope' in the records folder",
      });
      // a malformed id is still bad arguments, not an unknown one
      expect((await call('openRecord', ['../x'])).status).toBe(400);
    } finally {
      await srv.close();
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
