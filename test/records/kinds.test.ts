// Records of every kind: the revision-3 schema and its migration from revision 2; check, bench and
// selftest saving their records from the CLI into a temporary store (--records wins over the test
// environment's QS_NO_RECORD=1; --no-record saves nothing); the copy bandwidth each run measured;
// and `compare` on two bench, two selftest and two check records, and refusing mixed kinds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgufFile } from '../../src-main/engine/gguf';
import { SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { Rng } from '../../src-main/engine/rng';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { sampleModelPath } from '../../src-main/engine/paths';
import { dequantize } from '../../src-main/engine/formats';
import { buildRecord } from '../../src-main/engine/records/build';
import { compareRecords } from '../../src-main/engine/records/compare';
import {
  RECORD_VERSION,
  UNRECORDED_COPY_METHOD,
  parseRecord,
  recordCounts,
  type RunRecord,
} from '../../src-main/engine/records/schema';
import { RecordStore } from '../../src-main/engine/records/store';
import { renderComparison } from '../../src-main/engine/report/compare-report';
import { defectiveWeights, identityOutput } from '../diagnosis/emulate';
import { cli } from '../cli/helpers';

const MODEL = sampleModelPath();
const TENSOR = 'blk.0.ffn_up.weight'; // Q4_K 1024 x 512
let dir: string;
let n = 0;
let k = 0;
let type = 0;
let data: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-kinds-'));
  const f = await GgufFile.open(MODEL);
  const t = f.tensor(TENSOR);
  ({ n, k, type } = t);
  data = await f.readTensor(t);
  await f.close();
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

const write = (name: string, a: Float32Array) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
};

/** The records a CLI run saved: the stderr line names the file. */
function savedRecord(err: string): RunRecord {
  const m = /record saved: (.+)\n/.exec(err);
  expect(m, err).not.toBeNull();
  return new RecordStore(path.dirname(m![1])).readFile(m![1]);
}

const v2 = (over: Record<string, unknown>) => ({
  schema: 'quantscope.record',
  version: 2,
  id: '20261201T100000000Z-verify-abc123',
  kind: 'verify',
  createdAt: '2026-12-01T10:00:00.000Z',
  app: { version: '0.1.0', commit: 'abc' },
  host: { os: 'Linux', hostname: 'h', node: 'v20' },
  device: { backend: 'cpu', index: 0, name: 'cpu', arch: 'x64', copyBandwidthGBs: 19.9 },
  model: { fileName: 'm.gguf', fileSize: 10, tensorsHash: null },
  request: {},
  status: 'done',
  results: [
    {
      tensor: 't',
      type: 'Q4_K',
      n: 1,
      k: 256,
      m: 1,
      status: 'pass',
      path: 'cpu-f32',
      metrics: { nmse: 1e-15 },
      timing: null,
      arithmetic: 'q8_1',
      arithmeticNmse: 2.5e-5,
    },
  ],
  ...over,
});

describe('record schema revision 3', () => {
  it('is the current revision', () => expect(RECORD_VERSION).toBe(3));

  it('migrates revision 2: the bare copy bandwidth becomes a measurement that says it was not recorded, arithmeticNmse becomes arithmeticError', () => {
    const r = parseRecord(v2({}));
    expect(r.version).toBe(3);
    expect(r.device?.copyBandwidth).toEqual({
      gbs: 19.9,
      measuredAt: null,
      bytes: null,
      repeats: null,
      method: UNRECORDED_COPY_METHOD,
    });
    expect(r.results[0].arithmeticError).toBe(2.5e-5);
    // a device without a copy figure stays without one
    const none = parseRecord(v2({ device: { backend: 'cuda', index: 0, name: 'g', arch: 'sm_90' } }));
    expect(none.device?.copyBandwidth).toBeNull();
  });

  it('migrates revision-2 bench and selftest records to empty sections; revision 3 requires them', () => {
    const b = parseRecord(v2({ kind: 'bench', id: '20261201T100000000Z-bench-abc123', results: [] }));
    expect(b.bench?.rows).toEqual([]);
    const s = parseRecord(v2({ kind: 'selftest', results: [] }));
    expect(s.selftest?.rows).toEqual([]);
    expect(() => parseRecord({ ...v2({ kind: 'bench', results: [] }), version: 3 })).toThrow(
      'bench: a bench record needs its bench section',
    );
  });

  it('a revision-2 file in a store lists and opens', () => {
    const store = path.join(dir, 'v2-store');
    fs.mkdirSync(store);
    fs.writeFileSync(path.join(store, '20261201T100000000Z-verify-abc123.json'), JSON.stringify(v2({})));
    const s = new RecordStore(store);
    expect(s.list().records.map((r) => r.id)).toEqual(['20261201T100000000Z-verify-abc123']);
    expect(s.byId('20261201T100000000Z-verify-abc123').results[0].arithmeticError).toBe(2.5e-5);
  });
});

describe('the CLI saves check, bench and selftest records', () => {
  it('check: the tensor, input, m, arithmetic, metrics, verdict and diagnosis', async () => {
    const store = path.join(dir, 'check');
    const good = write('id-ok.f32', identityOutput(dequantize(type, data, n, k), n, k));
    const bad = write('id-bad.f32', identityOutput(defectiveWeights(type, data, n, k, 'min-sign'), n, k));
    const a = await cli('check', MODEL, TENSOR, '--input', 'identity', '--output', good, '--records', store);
    expect(a.code, a.err).toBe(0);
    const ra = savedRecord(a.err);
    expect(ra.kind).toBe('check');
    expect(ra.model?.fileName).toBe(path.basename(MODEL));
    expect(ra.model?.tensorsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(ra.request).toMatchObject({ tensors: [TENSOR], batchSizes: [k], arithmetic: 'f32' });
    expect(ra.request.input).toMatch(/identity/);
    expect(ra.results[0]).toMatchObject({ tensor: TENSOR, m: k, status: 'pass', arithmeticError: 0 });

    const b = await cli('check', MODEL, TENSOR, '--input', 'identity', '--output', bad, '--records', store);
    expect(b.code).toBe(1);
    const rb = savedRecord(b.err);
    expect(rb.results[0].status).toBe('fail');
    expect(rb.results[0].diagnosis?.class).toBe('min-sign');

    // compare: the new failure, both runs' kernel and arithmetic error, and the failing side's diagnosis
    const c = await cli('compare', ra.id, rb.id, '--records', store);
    expect(c.code, c.err).toBe(1);
    expect(c.out).toMatch(/NEW-FAILURE/);
    expect(c.out).toMatch(/arith\. was/);
    expect(c.out).toMatch(/none → min-sign/);
    expect(c.out).toMatch(/diagnosis blk\.0\.ffn_up\.weight m=512 candidate: min-sign: \S/);
    const cmp = compareRecords(ra, rb);
    expect(cmp.kind).toBe('check');
    expect(cmp.rows[0].candidate?.diagnosis?.class).toBe('min-sign');
    expect(cmp.rows[0].baseline?.diagnosis).toBeNull();
    expect(cmp.rows[0].baseline?.arithmeticError).toBe(0);
    // the exported comparison carries them too
    const html = renderComparison(
      { comparison: cmp, baseline: ra, candidate: rb, createdAt: '2026-12-03T00:00:00Z' },
      'html',
    );
    expect(html).toContain('Arith. NMSE was');
    expect(html).toMatch(/now: <b>min-sign<\/b> \S/);
    const json = JSON.parse(
      renderComparison(
        { comparison: cmp, baseline: ra, candidate: rb, createdAt: '2026-12-03T00:00:00Z' },
        'json',
      ),
    );
    expect(json.rows[0].candidate.diagnosis.class).toBe('min-sign');
    expect(json.rows[0].diagnosisChange).toBe('none → min-sign');
  });

  it('check with a declared arithmetic keeps its arithmetic error; --no-record saves nothing', async () => {
    const store = path.join(dir, 'check-q8');
    const m = 2;
    const x = new Rng(4).normalF32(m * k);
    const xp = write('x.f32', x);
    const y = write('y.f32', Float32Array.from(referenceMatmulSync(type, data, n, k, x, m, SCHEMES.q8_1)));
    const args = ['check', MODEL, TENSOR, '--input', xp, '--output', y, '--m', '2', '--arithmetic', 'q8_1'];
    const r = await cli(...args, '--records', store);
    expect(r.code, r.err).toBe(0);
    const rec = savedRecord(r.err);
    expect(rec.request).toMatchObject({ arithmetic: 'q8_1', input: xp, output: y, batchSizes: [2] });
    expect(rec.results[0].arithmeticError).toBeGreaterThan(0);
    const off = await cli(...args, '--records', store, '--no-record');
    expect(off.code).toBe(0);
    expect(off.err).not.toMatch(/record saved/);
    expect(new RecordStore(store).list().records).toHaveLength(1);
  });

  it('selftest: backend, device and every case with its verdict; compare finds a new failure', async () => {
    const store = path.join(dir, 'selftest');
    const r = await cli('selftest', '--backend', 'cpu', '--quick', '--formats', 'q4_0', '--records', store);
    expect(r.code, r.out + r.err).toBe(0);
    const rec = savedRecord(r.err);
    expect(rec.kind).toBe('selftest');
    expect(rec.device?.backend).toBe('cpu');
    expect(rec.selftest?.backend).toBe('cpu');
    const rows = rec.selftest!.rows;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((x) => x.format === 'Q4_0' && x.status === 'pass' && x.nmse !== null)).toBe(true);
    expect(recordCounts(rec)).toMatchObject({ total: rows.length, pass: rows.length });

    // a candidate where one case fails with a diagnosis
    const failed = structuredClone(rec) as RunRecord;
    failed.id = rec.id.replace('selftest', 'selftest2');
    failed.selftest!.rows[0] = {
      ...failed.selftest!.rows[0],
      status: 'fail',
      nmse: 0.5,
      diagnosis: { class: 'scale', sentence: 'the block scale is read wrong' },
    };
    const cmp = compareRecords(rec, failed);
    expect(cmp.kind).toBe('selftest');
    expect(cmp.regressed).toBe(true);
    expect(cmp.counts['new-failure']).toBe(1);
    expect(cmp.rows[0].tensor).toMatch(/^Q4_0 \d+×\d+ \S+ auto$/);
    expect(cmp.rows[0].candidate?.diagnosis?.class).toBe('scale');
    expect(compareRecords(rec, structuredClone(rec)).regressed).toBe(false);
  });

  it('selftest and bench over a device list keep every device and tag each row with it', async () => {
    const store = path.join(dir, 'devices');
    const st = await cli(
      'selftest',
      '--backend',
      'cpu',
      '--quick',
      '--formats',
      'q8_0',
      '--device',
      '0,0',
      '--records',
      store,
    );
    expect(st.code, st.out + st.err).toBe(0);
    const sr = savedRecord(st.err);
    expect(sr.devices?.map((d) => [d.slot, d.index, d.status])).toEqual([
      [0, 0, 'done'],
      [1, 0, 'done'],
    ]);
    const slots = new Set(sr.selftest!.rows.map((x) => x.slot));
    expect(slots).toEqual(new Set([0, 1]));
    const b = await cli(
      'bench',
      '--backend',
      'cpu',
      '--formats',
      'q8_0',
      '--m',
      '1',
      '--n',
      '64',
      '--k',
      '256',
      '--repeats',
      '3',
      '--device',
      '0,0',
      '--records',
      store,
    );
    expect(b.code, b.out + b.err).toBe(0);
    const br = savedRecord(b.err);
    expect(br.kind).toBe('bench');
    expect(br.devices).toHaveLength(2);
    expect(br.bench!.rows.map((x) => x.slot).sort()).toEqual([0, 1]);
  });

  it('bench: device, copy bandwidth, per format/m timings with IQR and samples; compare judges speed against spread', async () => {
    const store = path.join(dir, 'bench');
    const r = await cli(
      'bench',
      '--backend',
      'cpu',
      '--formats',
      'q4_0,q8_0',
      '--m',
      '1,2',
      '--n',
      '64',
      '--k',
      '256',
      '--repeats',
      '3',
      '--records',
      store,
    );
    expect(r.code, r.out + r.err).toBe(0);
    // the header names the cpu's compute units as what they are
    expect(r.out).toMatch(/^bench on cpu:0 .*\(\S+, \d+ worker threads?\), peak/m);
    const rec = savedRecord(r.err);
    expect(rec.kind).toBe('bench');
    expect(rec.model).toBeNull();
    expect(rec.device?.backend).toBe('cpu');
    // this run's own copy bandwidth, with how it was measured
    const copy = rec.device?.copyBandwidth;
    expect(copy?.gbs).toBeGreaterThan(0);
    expect(copy).toMatchObject({ bytes: 16 << 20, repeats: 5 });
    expect(Date.parse(copy!.measuredAt!)).toBeGreaterThan(Date.now() - 600_000);
    expect(rec.device?.copyBandwidthGBs).toBe(copy?.gbs);
    const b = rec.bench!;
    expect(b.shape).toEqual({ n: 64, k: 256 });
    expect(b.protocols).toEqual(['hot']); // the cpu's one protocol
    expect(b.rows).toHaveLength(4);
    for (const row of b.rows) {
      expect(row).toMatchObject({ n: 64, k: 256, protocol: 'hot', path: 'cpu-f32', samples: 3 });
      expect(row.medianUs).toBeGreaterThan(0);
      expect(row.iqrUs).toBeGreaterThanOrEqual(0);
      expect(row.gbps).toBeGreaterThan(0);
      expect(row.pctCopy).toBeCloseTo((100 * row.gbps) / copy!.gbs, 6);
      expect(row.check.status).toBe('pass');
    }
    expect(b.rows.map((x) => `${x.format}:${x.m}`).sort()).toEqual(['Q4_0:1', 'Q4_0:2', 'Q8_0:1', 'Q8_0:2']);
    expect(b.peer).toBeNull();

    // speed: outside tolerance and spread is slower; inside the spread is not
    const slow = structuredClone(rec) as RunRecord;
    slow.id = rec.id.replace('bench', 'bench2');
    for (const x of slow.bench!.rows) x.spread = 0.01;
    const base = structuredClone(slow) as RunRecord;
    base.id = rec.id;
    slow.bench!.rows[0].medianUs = base.bench!.rows[0].medianUs * 1.5;
    slow.bench!.rows[1].medianUs = base.bench!.rows[1].medianUs * 1.03;
    const cmp = compareRecords(base, slow, 0.05);
    expect(cmp.kind).toBe('bench');
    expect(cmp.counts.slower).toBe(1);
    expect(cmp.counts.same).toBe(3);
    expect(cmp.regressed).toBe(true);
    // a wide spread on either side absorbs the same slowdown
    slow.bench!.rows[0].spread = 0.6;
    expect(compareRecords(base, slow, 0.05).regressed).toBe(false);
  });

  it('bench on the cpu refuses the cold protocol with one line', async () => {
    const r = await cli('bench', '--backend', 'cpu', '--protocol', 'cold', '--no-record');
    expect(r.code).toBe(2);
    expect(r.err).toBe('quantscope: error: --protocol cold: the cpu backend has one timing protocol, hot\n');
  });
});

describe('compare across kinds', () => {
  const mk = (kind: 'verify' | 'bench' | 'selftest') =>
    buildRecord({
      kind,
      device: { backend: 'cpu', index: 0, name: 'cpu', arch: 'x64' },
      model: null,
      request: {},
      status: 'done',
      results: [],
      ...(kind === 'bench' ? { bench: { rows: [] } } : {}),
      ...(kind === 'selftest' ? { selftest: { rows: [] } } : {}),
    });

  it('refuses a bench record against a selftest record with a clear one-line error (exit 2)', async () => {
    const store = path.join(dir, 'mixed');
    const s = new RecordStore(store);
    const a = mk('bench');
    const b = mk('selftest');
    s.save(a);
    s.save(b);
    expect(() => compareRecords(a, b)).toThrow(
      'cannot compare a bench record with a selftest record: compare two records of the same kind',
    );
    const r = await cli('compare', a.id, b.id, '--records', store);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'quantscope: error: cannot compare a bench record with a selftest record: compare two records of the same kind\n',
    );
    expect(() => compareRecords(mk('verify'), a)).toThrow(
      'cannot compare a verify record with a bench record',
    );
  });
});

describe('verify through the engine keeps the copy bandwidth it measured', () => {
  it('a timed cpu verify records its own measurement, and each run measures again', async () => {
    const store = path.join(dir, 'verify');
    const args = ['verify', '--tensors', 'blk.0.ffn_up.weight', '--batch', '1', '--timing', 'hot'];
    const a = await cli(...args, '--records', store);
    expect(a.code, a.err).toBe(0);
    const b = await cli(...args, '--records', store);
    expect(b.code, b.err).toBe(0);
    const [ra, rb] = [savedRecord(a.err), savedRecord(b.err)];
    for (const r of [ra, rb]) {
      expect(r.device?.copyBandwidth).toMatchObject({ bytes: 16 << 20, repeats: 5 });
      expect(r.results[0].timing?.pctCopy).toBeCloseTo(
        (100 * (r.results[0].timing!.gbps as number)) / r.device!.copyBandwidth!.gbs,
        6,
      );
    }
    // measured again by the second run, not carried over from the first
    expect(rb.device!.copyBandwidth!.measuredAt! > ra.device!.copyBandwidth!.measuredAt!).toBe(true);
    expect(ra.results[0].arithmeticError).toBeTypeOf('number');
  });
});
