// A large model's tensor list arrives in pages: the engine's openModel leaves it out above
// LIMITS.tensorPage tensors, listTensors returns it piece by piece (through the browser server's
// routes too), and the renderer's store assembles it before the table shows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppStore } from '../../src-renderer/src/store';
import { withAllTensors } from '../../src-renderer/src/lib/tensors';
import { FakeApi } from './fakeApi';
import { EngineService } from '../../src-main/engine/service';
import { encodeGguf } from '../../src-main/engine/gguf/encode';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { LIMITS, type ModelSummary } from '../../src-shared/contract';
import { startServer } from '../../src-main/engine/server/serve';

let dir: string;
let big: string;
const COUNT = 2 * LIMITS.tensorPage + 1234;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-pages-'));
  big = path.join(dir, 'many.gguf');
  const tensors = [];
  for (let i = 0; i < COUNT; i++)
    tensors.push({ name: `t.${i}`, type: GgmlType.F32, dims: [1, 1], data: new Uint8Array(4) });
  fs.writeFileSync(big, encodeGguf({ metadata: [], tensors }));
  fs.mkdirSync(path.join(dir, 'ui'));
  fs.writeFileSync(path.join(dir, 'ui', 'index.html'), '<title>x</title>');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('tensor pages', () => {
  it('the engine pages a large list and sends a small one inline', async () => {
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      outputCacheBytes: 0,
      records: null,
    });
    try {
      const s = await engine.openModel(big);
      expect(s.tensorsPaged).toBe(true);
      expect(s.tensors).toEqual([]);
      expect(s.tensorCount).toBe(COUNT);
      const p1 = await engine.listTensors({ modelId: s.modelId, offset: 0, limit: LIMITS.tensorPage });
      expect(p1.tensors.length).toBe(LIMITS.tensorPage);
      expect(p1.total).toBe(COUNT);
      const p2 = await engine.listTensors({
        modelId: s.modelId,
        offset: 2 * LIMITS.tensorPage,
        limit: 10_000,
      });
      expect(p2.tensors.map((t) => t.name)).toEqual(
        Array.from({ length: 1234 }, (_, i) => `t.${2 * LIMITS.tensorPage + i}`),
      );
      expect((await engine.listTensors({ modelId: s.modelId, offset: COUNT + 5, limit: 1 })).tensors).toEqual(
        [],
      );
      await expect(
        engine.listTensors({ modelId: s.modelId, offset: 0, limit: LIMITS.tensorPage + 1 }),
      ).rejects.toThrow(/listTensors: invalid limit/);
      await expect(engine.listTensors({ modelId: 'nope', offset: 0, limit: 1 })).rejects.toThrow(
        /no longer open/,
      );
      // the engine still selects among all tensors (the CLI's verify)
      expect(engine.selectTensors(s.modelId, 't.5000?').supported.length).toBe(10);
      const all = await withAllTensors(engine, s);
      expect(all.tensors.length).toBe(COUNT);
      expect(all.tensors[COUNT - 1].name).toBe(`t.${COUNT - 1}`);
    } finally {
      await engine.dispose();
    }
  });

  it('through the browser server: no response carries the whole list', async () => {
    const srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [dir],
      samplesDir: dir,
      uiDir: path.join(dir, 'ui'),
      token: 'page-token-123',
    });
    try {
      let largest = 0;
      const call = async (method: string, args: unknown[]) => {
        const res = await fetch(`http://127.0.0.1:${srv.port}/api/${method}`, {
          method: 'POST',
          headers: { Authorization: 'Bearer page-token-123', 'Content-Type': 'application/json' },
          body: JSON.stringify(args),
        });
        const text = await res.text();
        expect(res.status, text.slice(0, 200)).toBe(200);
        largest = Math.max(largest, text.length);
        return JSON.parse(text);
      };
      const s = (await call('openModel', [big])) as ModelSummary;
      expect(s.tensorsPaged).toBe(true);
      const all = await withAllTensors({ listTensors: (req) => call('listTensors', [req]) }, s);
      expect(all.tensors.length).toBe(COUNT);
      // one page of 50k tensor summaries is a few MB; the whole list here is over twice that
      const whole = JSON.stringify(all.tensors).length;
      expect(largest).toBeLessThan(whole * 0.6);
    } finally {
      await srv.close();
    }
  });

  it('the store assembles the pages before showing the model', async () => {
    const api = new FakeApi({ tensorPage: 5 });
    const store = createAppStore(api, { schedule: (cb) => queueMicrotask(cb) });
    await store.getState().openModel('/models/big.gguf');
    const s = store.getState();
    expect(s.openError).toBeNull();
    expect(s.model?.tensorsPaged).toBe(false);
    expect(s.model?.tensors.length).toBe(s.model?.tensorCount);
    expect(s.model!.tensors.length).toBeGreaterThan(100);
    expect(api.calls.filter((c) => c.startsWith('listTensors:')).length).toBe(
      Math.ceil(s.model!.tensors.length / 5),
    );
  });
});
