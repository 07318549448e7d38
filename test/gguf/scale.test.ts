/**
 * Large valid files: a header with a huge number of tensors or metadata entries is read, inspected
 * and written as JSON without argument spreads overflowing the stack or one giant string; a run over
 * tens of thousands of tensors does linear work. The files are generated here (never committed):
 * a hand-written header and a sparse data section. Default sizes are past V8's argument-spread
 * limit (~120k); QS_SCALE_FULL=1 runs the full 10^6 tensors and 2^20 metadata entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from '../cli/helpers';
import { GgufFile } from '../../src-main/engine/gguf';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { executeRun, type RunPlan } from '../../src-main/engine/run/runner';
import type { Backend, BackendSession } from '../../src-main/engine/backends/types';
import { renderReport, reportJson, type ReportInput } from '../../src-main/engine/report/report';
import { resultsTable } from '../../src-main/engine/cli/commands/verify';
import { writeJson } from '../../src-main/engine/json-stream';
import type { TensorResult } from '../../src-shared/contract';

const FULL = process.env.QS_SCALE_FULL === '1';
const TENSORS = FULL ? 1_000_000 : 1 << 18;
const META = FULL ? 1 << 20 : 1 << 18;
const LIMIT_MS = FULL ? 600_000 : 180_000;

/** Writes a GGUF v3 header by hand (fast for a million entries); F32 [8] tensors, sparse data. */
function writeBig(file: string, tensors: number, meta: number): void {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.write('GGUF', 0, 'latin1');
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(BigInt(tensors), 8);
  head.writeBigUInt64LE(BigInt(meta + 1), 16);
  parts.push(head);
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(b.length));
    return Buffer.concat([l, b]);
  };
  parts.push(str('general.architecture'), Buffer.from([8, 0, 0, 0]), str('llama'));
  for (let i = 0; i < meta; i++) {
    const v = Buffer.alloc(8);
    v.writeUInt32LE(4, 0); // UINT32
    v.writeUInt32LE(i, 4);
    parts.push(str(`meta.key.${i}`), v);
  }
  for (let i = 0; i < tensors; i++) {
    const t = Buffer.alloc(4 + 8 + 4 + 8);
    t.writeUInt32LE(1, 0); // n_dims
    t.writeBigUInt64LE(8n, 4);
    t.writeUInt32LE(GgmlType.F32, 12);
    t.writeBigUInt64LE(BigInt(i * 32), 16);
    parts.push(str(`blk.${i >> 10}.t${i & 1023}.weight`), t);
  }
  const header = Buffer.concat(parts);
  const dataStart = Math.ceil(header.length / 32) * 32;
  fs.writeFileSync(file, header);
  fs.truncateSync(file, dataStart + tensors * 32);
}

let dir: string;
let manyTensors: string;
let manyMeta: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-scale-'));
  manyTensors = path.join(dir, 'tensors.gguf');
  manyMeta = path.join(dir, 'meta.gguf');
  writeBig(manyTensors, TENSORS, 0);
  writeBig(manyMeta, 1, META);
  console.log(
    `scale test: ${TENSORS} tensors, ${META} metadata entries${FULL ? '' : ' (QS_SCALE_FULL=1 for 10^6 / 2^20)'}`,
  );
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('large valid files', () => {
  it(
    `parses, inspects and writes --json for ${TENSORS} tensors`,
    async () => {
      const f = await GgufFile.open(manyTensors);
      expect(f.header.tensors).toHaveLength(TENSORS);
      await f.close();
      const r = await cli('inspect', manyTensors);
      expect(r.code, r.err).toBe(0);
      expect(r.out.split('\n').length).toBeGreaterThan(TENSORS);
      expect(r.out).toContain(`blk.${(TENSORS - 1) >> 10}.t${(TENSORS - 1) & 1023}.weight`);
      const j = await cli('inspect', manyTensors, '--json');
      expect(j.code, j.err).toBe(0);
      const s = JSON.parse(j.out);
      expect(s.tensors).toHaveLength(TENSORS);
      expect(s.tensors[TENSORS - 1].index).toBe(TENSORS - 1);
    },
    LIMIT_MS,
  );

  it(
    `parses, inspects and writes --json for ${META} metadata entries`,
    async () => {
      const r = await cli('inspect', manyMeta);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`meta.key.${META - 1}`);
      const j = await cli('inspect', manyMeta, '--json');
      expect(j.code, j.err).toBe(0);
      expect(JSON.parse(j.out).metadata).toHaveLength(META + 1);
    },
    LIMIT_MS,
  );
});

describe('runner over many tensors', () => {
  it('reads each of 80k tensors once and reports every job in order (a counting fake)', async () => {
    const COUNT = 80_000;
    const batchSizes = [1, 8];
    const tensors = Array.from({ length: COUNT }, (_, i) => ({
      index: i,
      name: `t${i}`,
      dims: [32, 1],
      type: GgmlType.Q8_0,
      typeName: 'Q8_0',
      supported: true,
      relOffset: i * 34,
      offset: i * 34,
      nbytes: 34,
      nElements: 32,
      k: 32,
      n: 1,
    }));
    const reads = new Map<string, number>();
    // readTensor fails, so each job takes the error path: the runner's own per-tensor work is
    // all that runs, and the counts show it is done once per tensor and once per job
    const file = {
      readTensor: async (t: { name: string }) => {
        reads.set(t.name, (reads.get(t.name) ?? 0) + 1);
        throw new Error('fake: no data');
      },
    } as unknown as GgufFile;
    let opens = 0;
    let closes = 0;
    const session = {
      device: null,
      load: async () => {
        throw new Error('not reached');
      },
      close: async () => {
        closes++;
      },
    } as unknown as BackendSession;
    const backend = {
      kind: 'cpu',
      status: async () => ({ backend: 'cpu', available: true, devices: [] }),
      open: async () => {
        opens++;
        return session;
      },
    } as unknown as Backend;
    let jobEvents = 0;
    let lastIndex = -1;
    let outOfOrder = 0;
    const plan = {
      runId: 'scale',
      file,
      tensors,
      batchSizes,
      backend,
      deviceIndex: 0,
      seed: 1,
      timing: 'none',
      path: 'auto',
      compareUnfused: false,
      threshold: null,
      request: {},
      signal: new AbortController().signal,
      onEvent: (ev: { type: string; index?: number }) => {
        if (ev.type === 'job-started') {
          jobEvents++;
          if (ev.index !== lastIndex + 1) outOfOrder++;
          lastIndex = ev.index!;
        }
      },
    } as unknown as RunPlan;
    const out = await executeRun(plan);
    expect(out.status).toBe('done');
    expect(opens).toBe(1);
    expect(closes).toBe(1);
    expect(reads.size).toBe(COUNT);
    for (const n of reads.values()) expect(n).toBe(1);
    expect(jobEvents).toBe(COUNT * batchSizes.length);
    expect(outOfOrder).toBe(0);
    expect(out.results).toHaveLength(COUNT * batchSizes.length);
    expect(out.results[2 * 1234 + 1]).toMatchObject({ tensor: 't1234', m: 8, status: 'error' });
  }, 120_000);
});

describe('verify output for 136k results', () => {
  it('prints the table, renders Markdown and HTML, and streams the JSON report', async () => {
    const COUNT = 136_000;
    const results: TensorResult[] = Array.from({ length: COUNT }, (_, i) => ({
      resultId: `r:t${i}:1`,
      runId: 'r',
      tensor: `blk.${i >> 10}.t${i & 1023}.weight`,
      type: 'Q4_K',
      n: 8,
      k: 256,
      m: 1,
      backend: 'cpu',
      device: 'cpu:0',
      path: 'cpu-f32',
      status: 'pass',
      threshold: 1e-8,
      metrics: {
        nmse: 1e-15,
        maxAbsErr: 1e-7,
        maxRelErr: 1e-7,
        nanMismatches: 0,
        infMismatches: 0,
        count: 8,
        worst: null,
      },
      timing: {
        protocol: 'hot',
        medianUs: 10 + (i % 7),
        minUs: 9,
        maxUs: 20,
        spread: 0.1,
        samples: 3,
        weightCopies: 1,
        gbps: 1 + (i % 5),
        tflops: 0.01,
        pctPeak: null,
        pctCopy: null,
      },
      unfused: null,
      weightBytes: 1152,
      gridAvailable: false,
      elapsedMs: 1,
    }));
    const input: ReportInput = {
      runId: 'r',
      createdAt: '2026-12-01T00:00:00.000Z',
      startedAt: '2026-12-01T00:00:00.000Z',
      appVersion: '0',
      host: 'test',
      model: { fileName: 'm.gguf', path: '/m.gguf', fileSize: 1, architecture: null, name: null },
      device: null,
      backend: 'cpu',
      request: { batchSizes: [1], seed: 1, timing: 'hot', path: 'auto', threshold: null, tensors: COUNT },
      status: 'done',
      results,
    };
    expect(resultsTable(results).split('\n')).toHaveLength(COUNT + 3);
    expect(
      renderReport(input, 'md')
        .split('\n')
        .filter((l) => l.startsWith('| ')),
    ).toHaveLength(COUNT + 1);
    expect(renderReport(input, 'html')).toContain(`blk.${(COUNT - 1) >> 10}`);
    let size = 0;
    const parts: string[] = [];
    await writeJson(
      {
        write: (c: string) => {
          size = Math.max(size, c.length);
          parts.push(c);
          return true;
        },
        once: () => undefined,
      },
      reportJson(input),
    );
    expect(size).toBeLessThan(4 << 20); // written in pieces
    expect(JSON.parse(parts.join('')).results).toHaveLength(COUNT);
  }, 120_000);
});
