import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineService } from '../../src-main/engine/service';
import { makeModel } from '../../src-main/engine/models/make-model';
import { PRESETS } from '../../src-main/engine/models/presets';
import { samplesDir } from '../../src-main/engine/paths';
import { shutdownPool } from '../../src-main/engine/workers';
import { LIMITS, type RunEvent, type RunRequest } from '../../src-shared/contract';

let dir: string;
let svc: EngineService;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-svc-'));
  fs.writeFileSync(
    path.join(dir, 'broken.gguf'),
    Buffer.from('GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff'),
  );
  svc = new EngineService({
    mode: 'browser',
    samplesDir: samplesDir(),
    modelDirs: [dir],
    restrictToDirs: true,
  });
});

afterAll(async () => {
  await svc.dispose();
  await shutdownPool();
  fs.rmSync(dir, { recursive: true, force: true });
});

function request(modelId: string, tensors: string[], over: Partial<RunRequest> = {}): RunRequest {
  return {
    modelId,
    tensors,
    batchSizes: [1, 4],
    backend: 'cpu',
    deviceIndex: 0,
    seed: 3,
    timing: 'hot',
    path: 'auto',
    compareUnfused: false,
    threshold: null,
    ...over,
  };
}

describe('EngineService', () => {
  it('lists the sample and the models folder', async () => {
    const files = await svc.listModelFiles();
    expect(files.find((f) => f.name === 'tiny.gguf')?.source).toBe('sample');
    expect(files.find((f) => f.name === 'broken.gguf')?.source).toBe('models');
  });

  it('names files in sub-folders by their path inside the folder and lists links to files inside it', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-list-')));
    const outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-out-')));
    try {
      fs.mkdirSync(path.join(root, 'llama', 'q4'), { recursive: true });
      fs.writeFileSync(path.join(root, 'llama', 'q4', 'm.gguf'), 'GGUF');
      fs.writeFileSync(path.join(root, 'top.gguf'), 'GGUF');
      fs.symlinkSync(path.join(root, 'top.gguf'), path.join(root, 'alias.gguf'));
      fs.writeFileSync(path.join(outside, 'secret.gguf'), 'GGUF');
      fs.symlinkSync(path.join(outside, 'secret.gguf'), path.join(root, 'escape.gguf'));
      const s2 = new EngineService({
        mode: 'browser',
        samplesDir: samplesDir(),
        modelDirs: [root],
        restrictToDirs: true,
      });
      const names = (await s2.listModelFiles()).filter((f) => f.source === 'models').map((f) => f.name);
      expect(names).toEqual(['alias.gguf', 'llama/q4/m.gguf', 'top.gguf']);
      await s2.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('refuses files outside the allowed folders and names a malformed file in one line', async () => {
    await expect(svc.openModel('/etc/passwd')).rejects.toThrow(/outside the model folders/);
    const err = await svc.openModel(path.join(dir, 'broken.gguf')).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^cannot open broken\.gguf: /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('opens a split model whole and lists it once; a file of it linked from outside the folders is refused', async () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-split-')));
    const outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-out-')));
    try {
      await makeModel({
        out: '',
        outs: [1, 2, 3].map((i) => path.join(root, `m-0000${i}-of-00003.gguf`)),
        preset: PRESETS.tiny,
        seed: 4,
      });
      const s2 = new EngineService({
        mode: 'browser',
        samplesDir: samplesDir(),
        modelDirs: [root],
        restrictToDirs: true,
      });
      const listed = (await s2.listModelFiles()).filter((f) => f.source === 'models');
      const total = [1, 2, 3].reduce(
        (a, i) => a + fs.statSync(path.join(root, `m-0000${i}-of-00003.gguf`)).size,
        0,
      );
      expect(listed).toEqual([
        {
          path: path.join(root, 'm-00001-of-00003.gguf'),
          name: 'm-00001-of-00003.gguf',
          size: total,
          source: 'models',
          files: 3,
        },
      ]);
      const m = await s2.openModel(path.join(root, 'm-00003-of-00003.gguf'));
      expect(m.fileName).toBe('m-00001-of-00003.gguf');
      expect(m.files?.map((f) => f.fileName)).toEqual([
        'm-00001-of-00003.gguf',
        'm-00002-of-00003.gguf',
        'm-00003-of-00003.gguf',
      ]);
      expect(m.fileSize).toBe(total);
      expect(m.tensorCount).toBe(21);
      expect(m.tensors.at(-1)?.shard).toBe(2);
      // a run reads tensors from every file
      const { runId } = await s2.startRun(
        request(m.modelId, ['token_embd.weight', 'output.weight'], { batchSizes: [1] }),
      );
      const done = await s2.waitForRun(runId);
      expect(done.status).toBe('done');
      expect(done.results.map((r) => [r.tensor, r.status])).toEqual([
        ['token_embd.weight', 'pass'],
        ['output.weight', 'pass'],
      ]);
      const md = (await s2.exportReport({ runId, format: 'md' })).content;
      expect(md).toContain('- Model: m-00001-of-00003.gguf and 2 more files (split model)');
      // file 2 replaced by a link to a file outside the folders
      fs.renameSync(path.join(root, 'm-00002-of-00003.gguf'), path.join(outside, 'm-00002-of-00003.gguf'));
      fs.symlinkSync(path.join(outside, 'm-00002-of-00003.gguf'), path.join(root, 'm-00002-of-00003.gguf'));
      await expect(s2.openModel(path.join(root, 'm-00001-of-00003.gguf'))).rejects.toThrow(
        /^cannot open m-00001-of-00003\.gguf: m-00002-of-00003\.gguf, a file of this split model, is outside the model folders/,
      );
      await s2.dispose();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('runs tensors on the cpu, streams events in order, keeps outputs for the heatmap, exports reports', async () => {
    const model = await svc.openModel(path.join(samplesDir(), 'tiny.gguf'));
    expect(model.tensors.length).toBeGreaterThan(10);
    const names = model.tensors
      .filter((t) => t.supported && t.layer === 0 && t.dims.length === 2)
      .map((t) => t.name)
      .slice(0, 3);
    const events: RunEvent[] = [];
    const off = svc.onRunEvent((e) => events.push(e));
    const { runId } = await svc.startRun(request(model.modelId, names));
    const done = await svc.waitForRun(runId);
    off();
    expect(done.status).toBe('done');
    expect(events[0].type).toBe('run-started');
    expect(events.at(-1)).toMatchObject({
      type: 'run-finished',
      status: 'done',
      passed: 6,
      failed: 0,
      errors: 0,
    });
    const results = events.filter((e) => e.type === 'result');
    expect(results).toHaveLength(6);
    for (const e of results) {
      if (e.type !== 'result') continue;
      expect(e.result.status).toBe('pass');
      expect(e.result.timing?.medianUs).toBeGreaterThan(0);
      expect(e.result.gridAvailable).toBe(true);
    }
    const first = results[1].type === 'result' ? results[1].result : null;
    const grid = await svc.errorGrid({ resultId: first!.resultId, maxRows: 2, maxCols: 16, metric: 'abs' });
    expect(grid.rows).toBe(2);
    expect(grid.values).toHaveLength(grid.rows * grid.cols);
    expect(Math.max(...grid.values)).toBeCloseTo(first!.metrics!.maxAbsErr, 12);
    const md = await svc.exportReport({ runId, format: 'md' });
    expect(md.fileName).toMatch(/\.md$/);
    expect(md.content).toContain('PASS');
    const json = JSON.parse((await svc.exportReport({ runId, format: 'json' })).content);
    expect(json.results).toHaveLength(6);
    expect((await svc.exportReport({ runId, format: 'html' })).content).toContain('<table>');
  });

  it('cancels a run midway, frees the slot, and a new run then completes', async () => {
    const model = await svc.openModel(path.join(samplesDir(), 'tiny.gguf'));
    const all = model.tensors.filter((t) => t.supported && t.dims.length === 2).map((t) => t.name);
    const events: RunEvent[] = [];
    const off = svc.onRunEvent((e) => events.push(e));
    const { runId } = await svc.startRun(
      request(model.modelId, all, { batchSizes: [1, 64, 256], timing: 'none' }),
    );
    await expect(svc.startRun(request(model.modelId, all))).rejects.toThrow(/already in progress/);
    await new Promise<void>((resolve) => {
      const off2 = svc.onRunEvent((e) => {
        if (e.type === 'result') {
          off2();
          resolve();
        }
      });
    });
    await svc.cancelRun(runId);
    const fin = events.find((e) => e.type === 'run-finished' && e.runId === runId);
    expect(fin).toMatchObject({ status: 'cancelled' });
    const nResults = events.filter((e) => e.type === 'result' && e.runId === runId).length;
    expect(nResults).toBeGreaterThan(0);
    expect(nResults).toBeLessThan(all.length * 3);
    const again = await svc.startRun(request(model.modelId, all.slice(0, 2), { batchSizes: [2] }));
    const done = await svc.waitForRun(again.runId);
    off();
    expect(done.status).toBe('done');
    expect(done.results).toHaveLength(2);
  });

  it('rejects bad run requests with a message', async () => {
    const model = await svc.openModel(path.join(samplesDir(), 'tiny.gguf'));
    await expect(svc.startRun(request('nope', ['x']))).rejects.toThrow(/no longer open/);
    await expect(svc.startRun(request(model.modelId, ['nope']))).rejects.toThrow(/no tensor named 'nope'/);
    await expect(
      svc.startRun(request(model.modelId, [model.tensors[1].name], { batchSizes: [0] })),
    ).rejects.toThrow(/^startRun: invalid batchSizes\.0: Too small/);
    // one batch limit, the contract's, whichever face asks
    await expect(
      svc.startRun(request(model.modelId, [model.tensors[1].name], { batchSizes: [LIMITS.maxBatch + 1] })),
    ).rejects.toThrow(`startRun: invalid batchSizes.0: Too big: expected number to be <=${LIMITS.maxBatch}`);
    await expect(
      svc.startRun(request(model.modelId, [model.tensors[1].name], { backend: 'vulkan' as never })),
    ).rejects.toThrow(/^startRun: invalid backend/);
    await expect(svc.openModel('')).rejects.toThrow('openModel: invalid argument: path is empty');
    const t = model.tensors[1].name;
    await expect(svc.startRun(request(model.modelId, [t], { deviceIndex: 7 }))).rejects.toThrow(
      'cpu:7 does not exist (1 cpu device)',
    );
    await expect(svc.startRun(request(model.modelId, [t], { devices: [0, 3] }))).rejects.toThrow(
      'cpu:3 does not exist (1 cpu device)',
    );
    await expect(svc.startRun(request(model.modelId, [t, t]))).rejects.toThrow(
      `tensor '${t}' is named twice in the run`,
    );
  });

  it('starts one run at a time even when two start calls overlap (the second is refused)', async () => {
    const model = await svc.openModel(path.join(samplesDir(), 'tiny.gguf'));
    const acts = path.join(dir, 'acts.f32');
    fs.writeFileSync(acts, new Float32Array(4 * 512).fill(0.25));
    const t = model.tensors.filter((x) => x.supported && x.dims.length === 2 && x.k === 512)[0].name;
    // a file of activations makes the start await a read before the run becomes active
    const req = request(model.modelId, [t], { batchSizes: [1], activations: acts });
    const both = await Promise.allSettled([svc.startRun(req), svc.startRun(req)]);
    expect(both.map((b) => b.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = both.find((b) => b.status === 'rejected') as PromiseRejectedResult;
    expect((refused.reason as Error).message).toMatch(/already in progress/);
    const ok = both.find((b) => b.status === 'fulfilled') as PromiseFulfilledResult<{ runId: string }>;
    expect((await svc.waitForRun(ok.value.runId)).status).toBe('done');
  });

  it('an activations file is resolved before the folder check: a link out of the folders is refused', async () => {
    const outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-acts-out-')));
    try {
      const model = await svc.openModel(path.join(samplesDir(), 'tiny.gguf'));
      const t = model.tensors.filter((x) => x.supported && x.dims.length === 2 && x.k === 512)[0].name;
      fs.writeFileSync(path.join(outside, 'x.f32'), new Float32Array(512));
      const link = path.join(dir, 'link.f32');
      fs.symlinkSync(path.join(outside, 'x.f32'), link);
      const run = (activations: string) =>
        svc.startRun(request(model.modelId, [t], { batchSizes: [1], activations }));
      await expect(run(link)).rejects.toThrow(/activations file .*link\.f32 is outside the folders/);
      // a missing file outside gets the same answer as one that exists there
      await expect(run(path.join(outside, 'x.f32'))).rejects.toThrow(/is outside the folders/);
      await expect(run(path.join(outside, 'none.f32'))).rejects.toThrow(/is outside the folders/);
      await expect(run(path.join(dir, 'none.f32'))).rejects.toThrow(/none\.f32: no such file/);
      // a relative path is taken in the first served folder, as the model path field takes it
      fs.writeFileSync(path.join(dir, 'acts.f32'), new Float32Array(512).fill(0.5));
      const { runId } = await run('acts.f32');
      expect((await svc.waitForRun(runId)).status).toBe('done');
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
