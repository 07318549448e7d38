// What the app's Kernels tab and the run setup's new choices reach through EngineService: the
// activations and declared arithmetic recorded for a run, users' code objects checked, hashed and
// recorded per run (refused on the cpu, refused outside the served folders), the selftest with its
// events and cancel, check pairs judged like `quantscope check` (an identity pair with a planted defect
// gives a FAIL, a diagnosis and a weight map over the probed weights) and the GPU session's per-run
// user kernels with their own geometry.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineService } from '../../src-main/engine/service';
import { samplesDir } from '../../src-main/engine/paths';
import { shutdownPool } from '../../src-main/engine/workers';
import { RecordStore } from '../../src-main/engine/records/store';
import { GgufFile } from '../../src-main/engine/gguf';
import { dequantize } from '../../src-main/engine/formats';
import { readSessionConfig } from '../../src-main/engine/backends/gpu/config';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { defectiveWeights, identityOutput } from '../diagnosis/emulate';
import { executeRun } from '../../src-main/engine/run/runner';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import type { Backend, SessionOptions } from '../../src-main/engine/backends/types';
import { NotFoundError, type RunEvent, type RunRequest } from '../../src-shared/contract';

const TENSOR = 'blk.0.ffn_up.weight'; // Q4_K 1024 x 512
let dir: string;
let outside: string;
let records: RecordStore;
let svc: EngineService;
let n = 0;
let k = 0;
let type = 0;
let data: Uint8Array;

const write = (name: string, a: Float32Array | Uint8Array, where = dir) => {
  const p = path.join(where, name);
  fs.writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
};

beforeAll(async () => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-kui-')));
  outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'qs-kui-out-')));
  records = new RecordStore(path.join(dir, 'records'));
  svc = new EngineService({
    mode: 'browser',
    samplesDir: samplesDir(),
    modelDirs: [dir],
    restrictToDirs: true,
    records,
  });
  const f = await GgufFile.open(path.join(samplesDir(), 'tiny.gguf'));
  const t = f.tensor(TENSOR);
  ({ n, k, type } = t);
  data = await f.readTensor(t);
  await f.close();
});

afterAll(async () => {
  await svc.dispose();
  await shutdownPool();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outside, { recursive: true, force: true });
});

function request(modelId: string, over: Partial<RunRequest> = {}): RunRequest {
  return {
    modelId,
    tensors: [TENSOR],
    batchSizes: [1],
    backend: 'cpu',
    deviceIndex: 0,
    seed: 7,
    timing: 'none',
    path: 'auto',
    compareUnfused: false,
    threshold: null,
    ...over,
  };
}

const openSample = async () => (await svc.openModel(path.join(samplesDir(), 'tiny.gguf'))).modelId;

describe('run setup choices reach the record and the report', () => {
  it('a run with outlier activations and a declared arithmetic records both, with the seed', async () => {
    const modelId = await openSample();
    const { runId } = await svc.startRun(request(modelId, { activations: 'outliers', arithmetic: 'f32' }));
    const out = await svc.waitForRun(runId);
    expect(out.status).toBe('done');
    expect(out.results[0].status).toBe('pass');
    const rec = records.readFile(out.recordFile!);
    expect(rec.request).toMatchObject({ activations: 'outliers', arithmetic: 'f32', seed: 7 });
    // the record keeps each result's heatmap, summarised, in both metrics
    const r0 = out.results[0];
    const heat = rec.results[0].heatmap!;
    expect(heat.abs).toMatchObject({ m: r0.m, n: r0.n, rows: Math.min(16, r0.m) });
    expect(heat.abs.values).toHaveLength(heat.abs.rows * heat.abs.cols);
    expect(heat.rel.max).toBeGreaterThanOrEqual(0);
    const md = (await svc.exportReport({ runId, format: 'md' })).content;
    expect(md).toMatch(/arithmetic f32; activations gaussian with channels \d+ \\\+ 128i x20, seed 7/);
  });
});

describe('user kernels per run', () => {
  it('are refused on the cpu, in one line', async () => {
    const modelId = await openSample();
    const co = write('k.cubin', new Uint8Array([1, 2, 3]));
    await expect(
      svc.startRun(request(modelId, { userKernels: [{ format: 'Q4_K', path: co }] })),
    ).rejects.toThrow(/user kernels are GPU code objects: choose the cuda or hip backend/);
  });

  it('are refused outside the served folders, when missing, or with a bad geometry, before the run', async () => {
    const modelId = await openSample();
    const far = write('far.cubin', new Uint8Array([1]), outside);
    await expect(
      svc.startRun(request(modelId, { backend: 'cuda', userKernels: [{ format: 'Q4_K', path: far }] })),
    ).rejects.toThrow(/Q4_K user kernel .*far\.cubin is outside the folders this server may open/);
    await expect(
      svc.startRun(
        request(modelId, {
          backend: 'cuda',
          userKernels: [{ format: 'Q4_K', path: path.join(dir, 'nope') }],
        }),
      ),
    ).rejects.toThrow(/no such file/);
    const co = write('k2.cubin', new Uint8Array([1]));
    await expect(
      svc.startRun(
        request(modelId, { backend: 'cuda', userKernels: [{ format: 'Q4_K', path: co, grid: 'q/2' }] }),
      ),
    ).rejects.toThrow(/startRun: invalid userKernels\.0\.grid: a geometry is up to three expressions/);
    await expect(
      svc.startRun(
        request(modelId, { backend: 'cuda', userKernels: [{ format: 'Q4_K', path: co, grid: 'n*2' }] }),
      ),
    ).rejects.toThrow(/Q4_K user kernel grid: 'n\*2' is not an integer, m, n, k or x\/d/);
    await expect(
      svc.startRun(
        request(modelId, {
          backend: 'cuda',
          userKernels: [
            { format: 'Q4_K', path: co },
            { format: 'Q4_K', path: co },
          ],
        }),
      ),
    ).rejects.toThrow(/one code object per format/);
  });

  it("a GPU run records the code object's path, size and sha256 whatever becomes of the run", async () => {
    const modelId = await openSample();
    const bytes = new Uint8Array(300).map((_, i) => (i * 7) & 255);
    const co = write('mine.cubin', bytes);
    const { runId } = await svc.startRun(
      request(modelId, {
        backend: 'cuda',
        userKernels: [{ format: 'Q4_K', path: co, grid: 'n/4', block: '128', arithmetic: 'q8_1' }],
      }),
    );
    const out = await svc.waitForRun(runId);
    // no GPU here: the run fails to open cuda (on a GPU machine a bad code object is a per-tensor error)
    if (out.status === 'failed') expect(out.error).toMatch(/cuda/);
    const rec = records.readFile(out.recordFile!);
    expect(rec.request.userKernels).toEqual([
      {
        format: 'Q4_K',
        path: co,
        grid: 'n/4',
        block: '128',
        arithmetic: 'q8_1',
        size: 300,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      },
    ]);
    const md = (await svc.exportReport({ runId, format: 'md' })).content;
    expect(md).toContain(`sha256 ${createHash('sha256').update(bytes).digest('hex')}, grid n/4, block 128`);
    expect(md).toMatch(/- User kernels: Q4\\_K .*mine\.cubin/);
  });

  it('codeObjectInfo hashes a file under the served folders and refuses others', async () => {
    const bytes = new Uint8Array([9, 8, 7, 6]);
    const co = write('info.hsaco', bytes);
    const i = await svc.codeObjectInfo(co);
    expect(i).toEqual({
      path: co,
      fileName: 'info.hsaco',
      size: 4,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    await expect(svc.codeObjectInfo(write('x.hsaco', bytes, outside))).rejects.toThrow(/outside the folders/);
    fs.mkdirSync(path.join(dir, 'sub.cubin'));
    await expect(svc.codeObjectInfo(path.join(dir, 'sub.cubin'))).rejects.toThrow(
      /sub\.cubin is a directory, not a regular file/,
    );
  });

  it('a GPU session takes the run user kernels over the environment, with their own geometry', () => {
    const cfg = readSessionConfig(
      'cuda',
      { cacheDir: null, prebuiltDir: null },
      { Q4_K_MATMUL_CUBIN: '/env/q4k.cubin', Q8_0_MATMUL_CUBIN: '/env/q8.cubin', QS_CUSTOM_GRID: 'n' },
      [{ type: GgmlType.Q4_K, path: '/run/q4k.cubin', grid: 'n/8,m', block: '64' }],
    );
    expect(cfg.customKernels.get(GgmlType.Q4_K)).toEqual({
      variable: 'the Q4_K user kernel',
      path: '/run/q4k.cubin',
      grid: 'n/8,m',
      block: '64',
    });
    expect(cfg.customKernels.get(GgmlType.Q8_0)).toEqual({
      variable: 'Q8_0_MATMUL_CUBIN',
      path: '/env/q8.cubin',
    });
    expect(cfg.customGrid).toBe('n');
  });
});

describe('a run with a user kernel, on a stand-in GPU backend', () => {
  /** A backend whose kernel is "custom" and computes q8_1 arithmetic; it keeps the session options. */
  function customBackend(seen: SessionOptions[]): Backend {
    const device = {
      backend: 'cuda' as const,
      index: 0,
      name: 'stand-in',
      arch: 'sm_90',
      memoryTotal: 0,
      memoryFree: 0,
      computeUnits: 1,
      warpSize: 32,
      peakBandwidthGBs: null,
      copyBandwidthGBs: null,
      peakTflops: null,
      details: {},
    };
    return {
      kind: 'cuda',
      status: async () => ({ backend: 'cuda', available: true, devices: [device] }),
      open: async (_i, opts = {}) => {
        seen.push(opts);
        return {
          device,
          load: async (w) => ({ ...w, bytes: w.data.length, dispose: () => undefined, data: w.data }),
          run: async (w, x, m) => {
            const d = (w as unknown as { data: Uint8Array }).data;
            return {
              y: Float32Array.from(referenceMatmulSync(w.type, d, w.n, w.k, x, m, SCHEMES.q8_1)),
              path: 'custom',
            };
          },
          time: async () => {
            throw new Error('not timed');
          },
          close: async () => undefined,
        };
      },
    };
  }

  it('the session gets the code objects, and a result is judged by the arithmetic its kernel declares', async () => {
    const file = await GgufFile.open(path.join(samplesDir(), 'tiny.gguf'));
    try {
      const run = async (userArithmetic?: Map<string, string>) => {
        const seen: SessionOptions[] = [];
        const session = { userKernels: [{ type: GgmlType.Q4_K, path: '/k.cubin', grid: 'n' }] };
        const out = await executeRun({
          runId: 'r',
          file,
          tensors: [file.tensor(TENSOR)],
          batchSizes: [4],
          backend: customBackend(seen),
          deviceIndex: 0,
          seed: 1,
          timing: 'none',
          path: 'auto',
          compareUnfused: false,
          threshold: null,
          session,
          userArithmetic,
          request: {} as RunRequest,
          signal: new AbortController().signal,
          onEvent: () => undefined,
        });
        expect(seen).toEqual([session]);
        return out.results[0];
      };
      const declared = await run(new Map([['Q4_K', 'q8_1']]));
      expect([declared.status, declared.arithmetic]).toEqual(['pass', 'q8_1']);
      const undeclared = await run();
      expect([undeclared.status, undeclared.arithmetic]).toEqual(['fail', 'f32']);
      expect(undeclared.diagnosis).toBeTruthy();
    } finally {
      await file.close();
    }
  });
});

describe('selftest through the engine', () => {
  it('streams its rows and finishes with the counts', async () => {
    const events: RunEvent[] = [];
    const off = svc.onRunEvent((ev) => events.push(ev));
    const { runId } = await svc.startSelftest({
      backend: 'cpu',
      deviceIndex: 0,
      quick: true,
      formats: ['Q4_0'],
    });
    await expect(svc.startSelftest({ backend: 'cpu', deviceIndex: 0, quick: true })).rejects.toThrow(
      /a selftest is in progress/,
    );
    await svc.cancelRun('nothing').catch(() => undefined);
    for (let i = 0; i < 600 && !events.some((e) => e.type === 'selftest-finished'); i++)
      await new Promise((r) => setTimeout(r, 50));
    off();
    const mine = events.filter((e) => e.runId === runId);
    const started = mine.find((e) => e.type === 'selftest-started');
    const rows = mine.filter((e) => e.type === 'selftest-row');
    const fin = mine.find((e) => e.type === 'selftest-finished');
    expect(started && started.type === 'selftest-started' && started.device).toMatch(/^cpu:0 /);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((e) => e.type === 'selftest-row' && e.row.format === 'Q4_0')).toBe(true);
    expect(fin).toMatchObject({ status: 'done', passed: rows.length, failed: 0 });
    // saved as a selftest record with every case, like the CLI's
    const rec = records
      .list()
      .records.map((x) => records.byId(x.id))
      .find(
        (x) => x.kind === 'selftest' && x.request.quick === true && x.selftest?.rows.length === rows.length,
      );
    expect(rec?.selftest?.rows.every((x) => x.format === 'Q4_0' && x.status === 'pass')).toBe(true);
    expect(rec?.status).toBe('done');
  });

  it('cancelRun stops a selftest', async () => {
    const events: RunEvent[] = [];
    const off = svc.onRunEvent((ev) => events.push(ev));
    const { runId } = await svc.startSelftest({ backend: 'cpu', deviceIndex: 0, quick: false });
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'selftest-row'); i++)
      await new Promise((r) => setTimeout(r, 25));
    const t0 = performance.now();
    await svc.cancelRun(runId);
    off();
    expect(performance.now() - t0).toBeLessThan(10_000);
    const fin = events.find((e) => e.type === 'selftest-finished');
    expect(fin).toMatchObject({ runId, status: 'cancelled', failed: 0 });
    // the case the cancel cut short is no row: every row streamed is a finished case
    const rows = events.filter((e) => e.type === 'selftest-row');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((e) => e.type === 'selftest-row' && e.row.result === 'pass')).toBe(true);
    // its record names the device and holds the same rows
    const rec = records
      .list()
      .records.map((x) => records.byId(x.id))
      .find((x) => x.kind === 'selftest' && x.status === 'cancelled' && x.request.quick === false);
    expect(rec?.device?.name).toBeTruthy();
    expect(rec?.selftest?.rows).toHaveLength(rows.length);
    expect(rec?.selftest?.rows.every((x) => x.status === 'pass')).toBe(true);
    // cancelling it again, once finished, is a no-op as for a run; an unknown id is an error
    await expect(svc.cancelRun(runId)).resolves.toBeUndefined();
    await expect(svc.cancelRun('selftest-nothing')).rejects.toThrow('no run selftest-nothing');
    await expect(svc.cancelRun('selftest-nothing')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a format without kernels on the backend, and an unknown one', async () => {
    await expect(
      svc.startSelftest({ backend: 'cpu', deviceIndex: 0, quick: true, formats: ['Q9_Z'] }),
    ).rejects.toThrow(/'Q9_Z' is not a supported format/);
  });
});

describe('check pairs', () => {
  it('an identity pair with swapped nibbles: FAIL, the diagnosis, a heatmap and a weight map of the probed weights', async () => {
    const modelId = await openSample();
    const y = write('wrong.f32', identityOutput(defectiveWeights(type, data, n, k, 'nibble-order'), n, k));
    const r = await svc.checkPair({
      modelId,
      tensor: TENSOR,
      input: 'identity',
      output: y,
      arithmetic: 'f32',
    });
    expect(r.status).toBe('fail');
    expect(r.m).toBe(k);
    expect(r.diagnosis?.class).toBe('nibble-order');
    expect(r.gridAvailable).toBe(true);
    // saved as a check record, with its diagnosis
    const rec = records
      .list()
      .records.filter((x) => x.kind === 'check')
      .map((x) => records.byId(x.id))
      .find((x) => x.request.output === y);
    expect(rec?.results[0]).toMatchObject({ status: 'fail', diagnosis: { class: 'nibble-order' } });
    expect(rec?.request.input).toMatch(/identity/);
    expect(r.weightMap).toEqual({ n, k, blockElems: 256, subElems: 32, spans: [[0, k]] });
    const heat = await svc.errorGrid({ resultId: r.resultId, maxRows: 16, maxCols: 16, metric: 'abs' });
    expect(heat.max).toBeGreaterThan(0);
    const w = await svc.weightGrid({ resultId: r.resultId, maxRows: 32, maxCols: 64, metric: 'rel' });
    expect([w.m, w.n, w.rows, w.cols]).toEqual([n, k, 32, 64]);
    expect(w.max).toBeGreaterThan(0);
    // zoomed into one block of one row: element resolution
    const z = await svc.weightGrid({
      resultId: r.resultId,
      rowStart: 3,
      rowEnd: 4,
      colStart: 256,
      colEnd: 512,
      maxRows: 8,
      maxCols: 512,
      metric: 'abs',
    });
    expect([z.rows, z.cols, z.cellCols]).toEqual([1, 256, 1]);
  });

  it('the right weights pass; an ordinary pair has no weight map; bad sizes are one clear line', async () => {
    const modelId = await openSample();
    const ok = write('right.f32', identityOutput(dequantize(type, data, n, k), n, k));
    const pass = await svc.checkPair({ modelId, tensor: TENSOR, input: 'identity', output: ok });
    expect(pass.status).toBe('pass');
    expect(pass.diagnosis ?? null).toBeNull();
    expect(pass.weightMap).toBeUndefined();

    const x = write('x.f32', new Float32Array(2 * k).fill(0.5));
    const y = write('y.f32', new Float32Array(2 * n).fill(1));
    const fail = await svc.checkPair({ modelId, tensor: TENSOR, input: x, output: y, m: 2 });
    expect(fail.status).toBe('fail');
    expect(fail.diagnosis).toBeTruthy();
    expect(fail.weightMap).toBeUndefined();
    await expect(svc.checkPair({ modelId, tensor: TENSOR, input: x, output: y, m: 3 })).rejects.toThrow(
      /activations .*x\.f32 hold 1024 values, m=3 x k=512 needs 1536/,
    );
    await expect(svc.checkPair({ modelId, tensor: 'nope', input: 'identity', output: y })).rejects.toThrow(
      /no tensor named 'nope'/,
    );
    await expect(
      svc.checkPair({
        modelId,
        tensor: TENSOR,
        input: 'identity',
        output: write('o.f32', new Float32Array(2 * n), outside),
      }),
    ).rejects.toThrow(/outside the folders this server may open/);
  });
});
