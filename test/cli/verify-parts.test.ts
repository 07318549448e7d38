/**
 * verify over more tensors than one run may name: the command runs them as successive parts
 * (QS_TENSORS_PER_RUN lowers the part size here, so a model of a few dozen tensors splits), prints
 * one table, writes every result into --json and --report, saves one record, and its summary line
 * and exit code cover every part. The results are the ones an unsplit run gives.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './helpers';
import { encodeGguf, md } from '../../src-main/engine/gguf';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { shutdownPool } from '../../src-main/engine/workers';
import { Rng } from '../../src-main/engine/rng';
import { LIMITS, type TensorResult } from '../../src-shared/contract';
import { partSizeFor } from '../../src-main/engine/cli/commands/verify';
import { EngineService } from '../../src-main/engine/service';
import { RecordStore } from '../../src-main/engine/records/store';

const COUNT = 37;
const PART = 10;
const K = 8;
const N = 2;
let dir: string;
let model: string;
let mixed: string;
let acts: string;

function f32(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(0));
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-parts-'));
  const rng = new Rng(5);
  model = path.join(dir, 'many.gguf');
  fs.writeFileSync(
    model,
    encodeGguf({
      metadata: [md.string('general.architecture', 'llama')],
      tensors: Array.from({ length: COUNT }, (_, i) => ({
        name: `blk.${i}.ffn_down.weight`,
        type: GgmlType.F32,
        dims: [K, N],
        data: f32(rng.normalF32(N * K)),
      })),
    }),
  );
  // all-zero tensors pass any bar (no error at all); the last part holds one with data, which fails
  // a bar of 1e-30, and one whose rows are longer than the activations file: an error
  mixed = path.join(dir, 'mixed.gguf');
  fs.writeFileSync(
    mixed,
    encodeGguf({
      metadata: [md.string('general.architecture', 'llama')],
      tensors: [
        ...Array.from({ length: 24 }, (_, i) => ({
          name: `zero.${i}`,
          type: GgmlType.F32,
          dims: [K, N],
          data: new Uint8Array(N * K * 4),
        })),
        { name: 'late.fail', type: GgmlType.F32, dims: [K, N], data: f32(rng.normalF32(N * K)) },
        { name: 'late.error', type: GgmlType.F32, dims: [2 * K, N], data: new Uint8Array(N * 2 * K * 4) },
      ],
    }),
  );
  acts = path.join(dir, 'x.f32');
  fs.writeFileSync(acts, f32(rng.normalF32(K)));
});

afterAll(async () => {
  await shutdownPool();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function withPartSize<T>(size: string | undefined, fn: () => Promise<T>): Promise<T> {
  const before = process.env.QS_TENSORS_PER_RUN;
  if (size === undefined) delete process.env.QS_TENSORS_PER_RUN;
  else process.env.QS_TENSORS_PER_RUN = size;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.QS_TENSORS_PER_RUN;
    else process.env.QS_TENSORS_PER_RUN = before;
  }
}

const verifyRecords = (d: string) => fs.readdirSync(d).filter((f) => /-verify-.*\.json$/.test(f));

describe('verify in parts', () => {
  it('the part size is the contract cap unless lowered, never raised', () => {
    expect(partSizeFor({})).toBe(LIMITS.tensorsPerRun);
    expect(partSizeFor({ QS_TENSORS_PER_RUN: '7' })).toBe(7);
    expect(partSizeFor({ QS_TENSORS_PER_RUN: String(10 * LIMITS.tensorsPerRun) })).toBe(LIMITS.tensorsPerRun);
    expect(() => partSizeFor({ QS_TENSORS_PER_RUN: '0' })).toThrow(/positive integer/);
  });

  it('runs every tensor in parts: one table, all rows in --json and --report, one record, the same results', async () => {
    const records = path.join(dir, 'records');
    const json = path.join(dir, 'split.json');
    const report = path.join(dir, 'split.md');
    // every part is one run of the engine
    const runs = vi.spyOn(EngineService.prototype as unknown as { start: () => unknown }, 'start');
    const split = await withPartSize(String(PART), () =>
      cli('verify', model, '--batch', '1,8', '--json', json, '--report', report, '--records', records),
    );
    const partSizes = (runs.mock.calls as unknown as [{ tensors: string[] }][]).map(
      ([q]) => q.tensors.length,
    );
    runs.mockRestore();
    expect(split.code, split.err).toBe(0);
    expect(partSizes).toEqual([10, 10, 10, 7]);
    const jobs = COUNT * 2;
    expect(split.out).toContain(`${jobs} passed, 0 failed, 0 errors of ${jobs}`);
    // one head, then one row per job, in tensor order
    const lines = split.out.split('\n');
    expect(lines.filter((l) => l.startsWith('tensor '))).toHaveLength(1);
    const rows = lines.filter((l) => l.startsWith('blk.'));
    expect(rows).toHaveLength(jobs);
    expect(rows[jobs - 1]).toMatch(new RegExp(`^blk\\.${COUNT - 1}\\.ffn_down\\.weight +F32 +2×8 +8 +PASS`));
    // the columns line up across parts: every row's verdict starts where the head's does
    const at = lines.find((l) => l.startsWith('tensor '))!.indexOf('result');
    for (const r of rows) expect(r.slice(at, at + 4)).toBe('PASS');

    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.verdict).toBe('PASS');
    expect(j.counts).toMatchObject({ total: jobs, passed: jobs });
    expect(j.request.tensors).toBe(COUNT);
    expect(j.results).toHaveLength(jobs);
    const keys = new Set(j.results.map((r: TensorResult) => `${r.tensor}@${r.m}`));
    expect(keys.size).toBe(jobs);
    // one run id for the whole command
    expect(new Set(j.results.map((r: TensorResult) => r.runId))).toEqual(new Set([j.runId]));
    const md = fs.readFileSync(report, 'utf8');
    expect(md.split('\n').filter((l) => l.startsWith('| blk.'))).toHaveLength(jobs);

    // one record for the command, with every result and every tensor name
    const saved = verifyRecords(records);
    expect(saved).toHaveLength(1);
    const rec = JSON.parse(fs.readFileSync(path.join(records, saved[0]), 'utf8'));
    expect(rec.results).toHaveLength(jobs);
    expect(rec.request.tensors).toHaveLength(COUNT);
    expect(rec.omittedResults).toBeUndefined();

    // the unsplit run gives the same results, bit for bit
    const whole = await withPartSize(undefined, () =>
      cli('verify', model, '--batch', '1,8', '--json', path.join(dir, 'whole.json'), '--no-record'),
    );
    expect(whole.code, whole.err).toBe(0);
    const w = JSON.parse(fs.readFileSync(path.join(dir, 'whole.json'), 'utf8'));
    const facts = (r: TensorResult) => [r.tensor, r.m, r.status, r.metrics?.nmse, r.outputHash];
    expect(j.results.map(facts)).toEqual(w.results.map(facts));
    // and the same table, but for its timing-free columns being equal anyway
    expect(split.out.split('\n').filter((l) => l.startsWith('blk.'))).toEqual(
      whole.out.split('\n').filter((l) => l.startsWith('blk.')),
    );
  }, 20_000);

  it('a failure and an error in the last part set the exit code, the summary and the verdict', async () => {
    const json = path.join(dir, 'mixed.json');
    const r = await withPartSize(String(PART), () =>
      cli(
        'verify',
        mixed,
        '--batch',
        '1',
        '--threshold',
        '1e-30',
        '--activations',
        acts,
        '--json',
        json,
        '--no-record',
      ),
    );
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('24 passed, 1 failed, 1 errors of 26');
    expect(r.out).toMatch(/late\.fail +F32 .* FAIL/);
    expect(r.out).toMatch(/late\.error +F32 +2×16 +1 +ERROR activations/);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.verdict).toBe('FAIL');
    expect(j.counts).toMatchObject({ total: 26, passed: 24, failed: 1, errors: 1 });
    expect(j.results.map((x: TensorResult) => x.status).slice(-2)).toEqual(['fail', 'error']);
  }, 20_000);

  it('the engine refuses a bad name in a later part before the first starts, and a cancel stops the parts', async () => {
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      outputCacheBytes: 0,
      records: new RecordStore(path.join(dir, 'cancel-records')),
    });
    try {
      const m = await engine.openModel(model);
      const names = Array.from({ length: COUNT }, (_, i) => `blk.${i}.ffn_down.weight`);
      const req = {
        modelId: m.modelId,
        tensors: names,
        batchSizes: [1],
        backend: 'cpu' as const,
        deviceIndex: 0,
        seed: 1,
        timing: 'none' as const,
        path: 'auto' as const,
        compareUnfused: false,
        threshold: null,
      };
      let parts = 0;
      await expect(
        engine.runInParts(
          { ...req, tensors: [...names, 'nope'] },
          { partSize: PART, onPart: () => void parts++ },
        ),
      ).rejects.toThrow(/no tensor named 'nope'/);
      expect(parts).toBe(0);

      const abort = new AbortController();
      const seen: number[] = [];
      const out = await engine.runInParts(req, {
        partSize: PART,
        signal: abort.signal,
        onPart: (results) => {
          seen.push(results.length);
          abort.abort(); // between the first part and the second
        },
      });
      expect(seen).toEqual([PART]);
      expect(out.status).toBe('cancelled');
      expect(out.report.request.tensors).toBe(COUNT);
      const rec = JSON.parse(fs.readFileSync(out.recordFile!, 'utf8'));
      expect(rec.status).toBe('cancelled');
      expect(rec.results).toHaveLength(PART);
    } finally {
      await engine.dispose();
    }
  });

  it('a bad part size is bad input', async () => {
    const r = await withPartSize('-3', () => cli('verify', model, '--no-record'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/QS_TENSORS_PER_RUN must be a positive integer/);
  });
});
