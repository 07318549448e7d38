/**
 * The app's engine runs the cpu backend with one worker thread fewer than the CLI (its UI keeps a
 * core), so cpu timings from the two differ: the device says why beside its thread count, in the run
 * setup's facts, the record, each result's path detail, the report made from the record, and a
 * comparison of an app run with a CLI run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordStore } from '../../src-main/engine/records/store';
import { recordReport } from '../../src-main/engine/report/record-report';
import { EngineService } from '../../src-main/engine/service';
import {
  appPoolSize,
  configurePool,
  defaultPoolSize,
  poolKeptForApp,
  poolSize,
  shutdownPool,
} from '../../src-main/engine/workers/pool';
import { computeUnitsText } from '../../src-shared/devices';
import { cli } from '../cli/helpers';

const SAMPLE = path.resolve(__dirname, '../../samples/tiny.gguf');
const KEPT = '1 worker thread (one core kept for the app)';

let dir: string;
let store: RecordStore;
let cliId: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-app-threads-'));
  store = new RecordStore(dir);
  const r = await cli('verify', SAMPLE, '-t', 'blk.0.attn_q.weight', '--batch', '1', '--records', dir);
  expect(r.code, r.err + r.out).toBe(0);
  cliId = store.list().records[0].id;
}, 120_000);

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

const app = (workerThreads?: number) =>
  new EngineService({
    mode: 'browser',
    samplesDir: path.dirname(SAMPLE),
    modelDirs: [],
    restrictToDirs: false,
    ...(workerThreads === undefined ? {} : { workerThreads }),
    records: store,
  });

describe("the app's cpu worker threads", () => {
  it('are one fewer than the CLI’s where there are two or more, and the pool says how many it kept', async () => {
    expect(appPoolSize(8)).toEqual({ size: 7, kept: 1 });
    expect(appPoolSize(2)).toEqual({ size: 1, kept: 1 });
    expect(appPoolSize(1)).toEqual({ size: 1, kept: 0 });
    expect(computeUnitsText('cpu', 1, 1)).toBe(KEPT);
    expect(computeUnitsText('cpu', 7, 1)).toBe('7 worker threads (one core kept for the app)');
    expect(computeUnitsText('cpu', 6, 2)).toBe('6 worker threads (2 cores kept for the app)');
    expect(computeUnitsText('cpu', 8, 0)).toBe('8 worker threads');
    expect(computeUnitsText('hip', 104, 1)).toBe('104 CUs');
    // the app's engine (no workerThreads given) takes the app's size; a size given keeps none
    const a = app();
    expect([poolSize(), poolKeptForApp()]).toEqual([appPoolSize().size, appPoolSize().kept]);
    await a.dispose();
    const b = app(defaultPoolSize());
    expect([poolSize(), poolKeptForApp()]).toEqual([defaultPoolSize(), 0]);
    await b.dispose();
  });

  it('the CLI’s record names its threads with no note; the app’s says one core was kept', async () => {
    const cliRec = store.byId(cliId);
    expect(cliRec.device?.computeUnits).toBe(defaultPoolSize());
    expect(cliRec.device?.threadsKeptForApp).toBeUndefined();
    expect(cliRec.results[0].pathDetail).not.toContain('kept for the app');

    const svc = app();
    try {
      // this machine may have one core: make the app's pool the one of a two-core machine
      await configurePool(1, 1);
      const cpu = (await svc.backendStatus('cpu')).devices[0];
      expect(cpu).toMatchObject({ computeUnits: 1, threadsKeptForApp: 1 });
      expect(cpu.details.threads).toMatch(
        /^1 worker thread \(\d+ logical CPUs; one core kept for the app: the CLI runs 2\)$/,
      );
      const model = await svc.openModel(SAMPLE);
      const { runId } = await svc.startRun({
        modelId: model.modelId,
        tensors: ['blk.0.attn_q.weight'],
        batchSizes: [1],
        backend: 'cpu',
        deviceIndex: 0,
        seed: 1,
        timing: 'none',
        path: 'auto',
        compareUnfused: false,
        threshold: null,
      });
      await svc.waitForRun(runId);
      const appId = store.list().records.find((r) => r.id !== cliId)!.id;
      const rec = store.byId(appId);
      expect(rec.device).toMatchObject({ backend: 'cpu', computeUnits: 1, threadsKeptForApp: 1 });
      expect(rec.results[0].pathDetail).toMatch(/^cpu: 1 worker thread \(one core kept for the app\), /);
      // the report made from each record: the device line says the count, and the app's why
      expect(recordReport(rec, 'html').content).toContain(`(x64, ${KEPT}, `);
      expect(recordReport(cliRec, 'html').content).toContain(
        `(x64, ${computeUnitsText('cpu', defaultPoolSize())}, `,
      );
      // a comparison of the two runs shows both counts side by side, marked as different
      const cmp = (await svc.exportComparison({ baseline: cliId, candidate: appId, format: 'html' })).content;
      const units = /<tr><th>Compute units<\/th>(.*?)<\/tr>/.exec(cmp)![1];
      expect(units).toContain(`>${computeUnitsText('cpu', defaultPoolSize())}</td>`);
      expect(units).toContain(`>${KEPT}</td>`);
      expect(units).toContain('class="diff"');
      const json = JSON.parse(
        (await svc.exportComparison({ baseline: cliId, candidate: appId, format: 'json' })).content,
      );
      expect(json.candidate.device.computeUnits).toBe(KEPT);
    } finally {
      await svc.dispose();
    }
  });
});
