import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRecord } from '../../src-main/engine/records/build';
import { compareRecords, parseTolerance } from '../../src-main/engine/records/compare';
import {
  parseRecord,
  RECORD_VERSION,
  type RecordResult,
  type RunRecord,
} from '../../src-main/engine/records/schema';
import { RecordStore, newRecordId } from '../../src-main/engine/records/store';
import { thresholdsChanged } from '../../src-shared/comparison';
import { cli } from '../cli/helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'qs-records-'));

function result(
  tensor: string,
  m: number,
  status: RecordResult['status'],
  us: number | null,
  spread = 0.01,
  nmse = 1e-14,
): RecordResult {
  return {
    tensor,
    type: 'Q4_K',
    n: 64,
    k: 256,
    m,
    status,
    path: 'fused-small-q8',
    metrics: { nmse },
    timing: us === null ? null : { protocol: 'hot', medianUs: us, spread },
  };
}

function record(
  results: RecordResult[],
  opts: {
    hash?: string;
    model?: string;
    at?: string;
    fileSize?: number;
    request?: Partial<RunRecord['request']>;
  } = {},
): RunRecord {
  return buildRecord({
    kind: 'verify',
    createdAt: new Date(opts.at ?? '2026-12-01T10:00:00Z'),
    device: {
      backend: 'cuda',
      index: 0,
      name: 'NVIDIA H200',
      arch: 'sm_90',
      details: { driverVersion: '13.0' },
    },
    model: {
      fileName: opts.model ?? 'm.gguf',
      fileSize: opts.fileSize ?? 1000,
      tensorsHash: opts.hash ?? 'ab'.repeat(32),
    },
    request: { batchSizes: [1, 8], seed: 1, timing: 'hot', path: 'auto', ...opts.request },
    status: 'done',
    results,
  });
}

describe('record schema', () => {
  it('a built record validates, with device driver version lifted out of details', () => {
    const r = parseRecord(JSON.parse(JSON.stringify(record([result('a', 1, 'pass', 10)]))));
    expect(r.version).toBe(RECORD_VERSION);
    expect(r.device?.driverVersion).toBe('13.0');
    expect(r.app.commit).toBeTruthy();
  });

  it('revision-1 records are migrated (whole-file sha256 -> tensorsHash, missing spread -> 0)', () => {
    const v1 = {
      schema: 'quantscope.record',
      version: 1,
      id: 'old-1',
      kind: 'verify',
      createdAt: '2026-01-01T00:00:00Z',
      app: { version: '0.0.9', commit: 'abc' },
      host: { os: 'Linux', hostname: 'h', node: 'v20' },
      device: null,
      model: { fileName: 'x.gguf', fileSize: 5, sha256: 'ff' },
      request: {},
      status: 'done',
      results: [{ ...result('a', 1, 'pass', 3), timing: { protocol: 'cold', medianUs: 3 } }],
      futureField: { kept: true },
    };
    const r = parseRecord(v1);
    expect(r.model?.tensorsHash).toBe('ff');
    expect(r.results[0].timing?.spread).toBe(0);
    expect((r as Record<string, unknown>).futureField).toEqual({ kept: true });
  });

  it("a saved heatmap's count of left-out outputs is read back; a heatmap without one still reads", () => {
    const heat = (leftOutCols?: number[]) => ({
      m: 1,
      n: 4,
      rows: 1,
      cols: 4,
      cellRows: 1,
      cellCols: 1,
      values: [1e-7, 0, 2e-7, 0],
      min: 1e-7,
      max: 2e-7,
      ...(leftOutCols === undefined ? {} : { leftOutCols }),
    });
    const withHeat = (h: ReturnType<typeof heat>) =>
      JSON.parse(
        JSON.stringify(record([{ ...result('a', 1, 'not-comparable', null), heatmap: { abs: h, rel: h } }])),
      );
    const r = parseRecord(withHeat(heat([0, 1, 0, 1])));
    expect(r.version).toBe(RECORD_VERSION);
    expect(r.results[0].heatmap?.abs.leftOutCols).toEqual([0, 1, 0, 1]);
    // records written before the count was kept (same revision: the field is optional)
    expect(parseRecord(withHeat(heat())).results[0].heatmap?.abs.leftOutCols).toBeUndefined();
    expect(() => parseRecord(withHeat(heat(['all'] as unknown as number[])))).toThrow(
      /^results\.0\.heatmap\.abs\.leftOutCols/,
    );
  });

  it("a FAIL's weight map description is read back with its count of left-out weight rows, or without one", () => {
    const map = { n: 4, k: 64, blockElems: 32, subElems: 32, spans: [[0, 64]] };
    const withMap = (m: unknown) =>
      JSON.parse(JSON.stringify(record([{ ...result('a', 1, 'fail', 3), weightMap: m as never }])));
    const r = parseRecord(withMap({ ...map, rowsLeftOut: 2 }));
    expect(r.results[0].weightMap).toEqual({ ...map, rowsLeftOut: 2 });
    // records written before the count was kept, and results without a map (same revision)
    expect(parseRecord(withMap(map)).results[0].weightMap?.rowsLeftOut).toBeUndefined();
    expect(parseRecord(withMap(null)).results[0].weightMap).toBeNull();
    expect(parseRecord(record([result('a', 1, 'fail', 3)])).results[0].weightMap).toBeUndefined();
    expect(() => parseRecord(withMap({ ...map, rowsLeftOut: 'two' }))).toThrow(
      /^results\.0\.weightMap\.rowsLeftOut/,
    );
  });

  it('rejects what is not a record, and records from a newer QuantScope, by name', () => {
    expect(() => parseRecord([])).toThrow('not a JSON object');
    expect(() => parseRecord({ schema: 'x' })).toThrow(/not a QuantScope record/);
    expect(() => parseRecord({ schema: 'quantscope.record', version: 99 })).toThrow(
      /newer than this QuantScope reads/,
    );
    const bad = JSON.parse(JSON.stringify(record([result('a', 1, 'pass', 1)])));
    bad.results[0].status = 'maybe';
    expect(() => parseRecord(bad)).toThrow(/^results\.0\.status/);
  });
});

describe('record store', () => {
  it('a result whose NMSE is NaN or infinite is saved and read back with those values', () => {
    const dir = tmp();
    const store = new RecordStore(dir);
    const rec = record([
      result('a', 1, 'fail', null, 0, NaN),
      result('b', 1, 'fail', null, 0, Infinity),
      result('c', 1, 'pass', 5),
    ]);
    const file = store.save(rec);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('"nmse": "NaN"');
    expect(text).toContain('"nmse": "Infinity"');
    const back = store.byId(rec.id);
    expect(back.results.map((r) => r.metrics?.nmse)).toEqual([NaN, Infinity, 1e-14]);
    expect(back.results[2].timing?.medianUs).toBe(5);
  });
  it('ids made in the same millisecond still sort in the order they were made', () => {
    // later than any id made before in this process
    const at = new Date('2099-12-03T10:15:00.123Z');
    const ids = [newRecordId('verify', at), newRecordId('verify', at), newRecordId('check', at)];
    expect(ids[0]).toMatch(/^20991203T101500\d{3}Z-verify-[a-z0-9]+$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map((i) => i.slice(0, 19))).size).toBe(3);
  });

  it('saves, lists newest first, loads by id prefix; the index is used and rebuilt when lost', () => {
    const dir = tmp();
    const s = new RecordStore(dir);
    const a = record([result('a', 1, 'pass', 1)], { at: '2026-12-01T10:00:00Z' });
    const b = record([result('a', 1, 'fail', 1)], { at: '2026-12-02T10:00:00Z' });
    s.save(a);
    s.save(b);
    let l = s.list();
    expect(l.records.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(l.records[0].counts).toMatchObject({ total: 1, fail: 1 });
    expect(s.load(a.id.slice(0, a.id.length - 2)).id).toBe(a.id);
    // latest is the newest, latest~N the N-th before it
    expect(s.load('latest').id).toBe(b.id);
    expect(s.load('latest~0').id).toBe(b.id);
    expect(s.load('latest~1').id).toBe(a.id);
    expect(() => s.load('latest~2')).toThrow(
      `'latest~2' names none: ${dir} holds 2 records (latest to latest~1)`,
    );
    expect(() => new RecordStore(tmp()).load('latest')).toThrow(/^no records in .*, so 'latest' names none$/);
    // a listing with a current index re-reads no record file
    const readFile = fs.readFileSync;
    let reads = 0;
    fs.readFileSync = ((...args: Parameters<typeof readFile>) => {
      if (String(args[0]).endsWith('.json') && !String(args[0]).endsWith('index.json')) reads++;
      return readFile(...args);
    }) as typeof readFile;
    try {
      s.list();
    } finally {
      fs.readFileSync = readFile;
    }
    expect(reads).toBe(0);
    fs.rmSync(path.join(dir, 'index.json'));
    l = s.list();
    expect(l.records).toHaveLength(2);
    expect(fs.existsSync(path.join(dir, 'index.json'))).toBe(true);
  });

  it('a damaged record file is reported and skipped, never fatal', () => {
    const dir = tmp();
    const s = new RecordStore(dir);
    s.save(record([result('a', 1, 'pass', 1)]));
    fs.writeFileSync(path.join(dir, 'broken.json'), '{"schema": "quantscope.rec');
    fs.writeFileSync(path.join(dir, 'other.json'), '{"hello": 1}');
    const l = s.list();
    expect(l.records).toHaveLength(1);
    expect(l.skipped.map((x) => x.file).sort()).toEqual(['broken.json', 'other.json']);
    expect(l.skipped.find((x) => x.file === 'broken.json')!.reason).toMatch(/damaged/);
  });

  it('a writer killed mid-write leaves no half record: the store still opens with every whole record', async () => {
    const dir = tmp();
    const s = new RecordStore(dir);
    s.save(record([result('a', 1, 'pass', 1)]));
    // a child process saving a large record in a loop, killed while it writes
    const big = record(Array.from({ length: 20000 }, (_, i) => result(`t${i}`, 1, 'pass', 1)));
    const script = path.join(dir, '..', `writer-${process.pid}.mjs`);
    const storeUrl = new URL('../../src-main/engine/records/store.ts', import.meta.url).href;
    fs.writeFileSync(
      script,
      `import { writeFileAtomic } from ${JSON.stringify(storeUrl)};
const data = ${JSON.stringify(JSON.stringify(big))};
for (let i = 0; ; i++) writeFileAtomic(${JSON.stringify(dir)} + '/w' + (i % 50) + '.json', data);
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore' });
    // kill it once it has completed some records, while it is writing the next
    const t0 = Date.now();
    while (!fs.readdirSync(dir).some((f) => /^w\d+\.json$/.test(f)) && Date.now() - t0 < 20_000)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    fs.rmSync(script);
    const l = s.list();
    // every file that exists under a record name is whole (renamed into place only when complete)
    expect(l.skipped).toEqual([]);
    for (const r of l.records.filter((x) => x.file.startsWith('w'))) expect(r.counts.total).toBe(20000);
    expect(l.records.filter((x) => x.file.startsWith('w')).length).toBeGreaterThanOrEqual(1);
    // and the store still takes new records
    s.save(record([result('b', 1, 'pass', 1)], { at: '2026-12-09T00:00:00Z' }));
    expect(s.list().records[0].counts.total).toBe(1);
  }, 30_000);
});

describe('compare', () => {
  const base = record([
    result('a', 1, 'pass', 100, 0.02),
    result('b', 1, 'pass', 100, 0.02),
    result('c', 1, 'fail', 50),
  ]);

  it('a new failure regresses; a fix does not', () => {
    const cand = record([
      result('a', 1, 'fail', 100),
      result('b', 1, 'pass', 100),
      result('c', 1, 'pass', 50),
    ]);
    const c = compareRecords(base, cand);
    expect(c.rows.find((r) => r.tensor === 'a')!.verdict).toBe('new-failure');
    expect(c.rows.find((r) => r.tensor === 'c')!.verdict).toBe('fixed');
    expect(c.regressed).toBe(true);
    expect(c.rows[0].verdict).toBe('new-failure'); // worst first
  });

  it('not comparable on its own is no failure: neither a new failure, nor still failing, nor a fix', () => {
    const b = record([
      result('nc-nc', 1, 'not-comparable', 100),
      result('pass-nc', 1, 'pass', 100),
      result('nc-fail', 1, 'not-comparable', 100),
      result('fail-nc', 1, 'fail', 100),
    ]);
    const c = compareRecords(
      b,
      record([
        result('nc-nc', 1, 'not-comparable', 100),
        result('pass-nc', 1, 'not-comparable', 100),
        result('nc-fail', 1, 'fail', 100),
        result('fail-nc', 1, 'not-comparable', 100),
      ]),
    );
    const v = (t: string) => c.rows.find((r) => r.tensor === t)!.verdict;
    expect([v('nc-nc'), v('pass-nc'), v('nc-fail'), v('fail-nc')]).toEqual([
      'same',
      'same',
      'new-failure',
      'fixed',
    ]);
    expect(c.regressed).toBe(true);
  });

  it('a slowdown inside the tolerance or the spread is not a regression; beyond both it is', () => {
    const inside = compareRecords(
      base,
      record([result('a', 1, 'pass', 104), result('b', 1, 'pass', 100), result('c', 1, 'fail', 50)]),
    );
    expect(inside.rows.find((r) => r.tensor === 'a')!.verdict).toBe('same');
    expect(inside.regressed).toBe(false);
    // 8% slower but the candidate's own spread is 10%: noise
    const noisy = compareRecords(
      base,
      record([result('a', 1, 'pass', 108, 0.1), result('b', 1, 'pass', 100), result('c', 1, 'fail', 50)]),
    );
    expect(noisy.rows.find((r) => r.tensor === 'a')!.verdict).toBe('same');
    const slow = compareRecords(
      base,
      record([result('a', 1, 'pass', 110, 0.01), result('b', 1, 'pass', 100), result('c', 1, 'fail', 50)]),
    );
    const row = slow.rows.find((r) => r.tensor === 'a')!;
    expect(row.verdict).toBe('slower');
    expect(row.speedRatio).toBeCloseTo(1.1, 9);
    expect(slow.regressed).toBe(true);
  });

  it('an improvement beyond the noise is reported as faster, not a regression', () => {
    const c = compareRecords(
      base,
      record([result('a', 1, 'pass', 80), result('b', 1, 'pass', 100), result('c', 1, 'fail', 50)]),
    );
    expect(c.rows.find((r) => r.tensor === 'a')!.verdict).toBe('faster');
    expect(c.regressed).toBe(false);
  });

  it('a result missing from the candidate regresses; a new one does not', () => {
    const c = compareRecords(
      base,
      record([result('a', 1, 'pass', 100), result('c', 1, 'fail', 50), result('d', 8, 'pass', 1)]),
    );
    expect(c.counts.missing).toBe(1);
    expect(c.counts.new).toBe(1);
    expect(c.regressed).toBe(true);
  });

  it('records of different weights are named as different work, and get no verdict', () => {
    const other = record(base.results, { hash: 'cd'.repeat(32) });
    const c = compareRecords(base, other);
    expect(c.differences).toEqual([
      `the weights differ (m.gguf vs m.gguf: tensor hashes ${'ab'.repeat(6)} vs ${'cd'.repeat(6)})`,
    ]);
    expect(c.different).toBe(c.differences[0]);
    expect(c.verdict).toBe('not-same-work');
    const same = compareRecords(base, base);
    expect(same.different).toBeNull();
    expect(same.differences).toEqual([]);
    expect(same.verdict).toBe('no-regression');
  });

  it('another tensor selection of the same file is named as such, not as other weights', () => {
    // 19 tensors at the default threshold, then 2 of them at a threshold of 1.75e-14: the hashes differ
    // only because each covers the tensors that ran
    const names = Array.from({ length: 19 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const wide = record(
      names.map((t) => ({ ...result(t, 1, 'pass', 100, 0.01, 1.83e-14), threshold: 1e-8 })),
      { hash: 'aa'.repeat(32), request: { threshold: null } },
    );
    const narrow = record(
      names.slice(0, 2).map((t) => ({ ...result(t, 1, 'fail', 100, 0.01, 1.83e-14), threshold: 1.75e-14 })),
      { hash: 'bb'.repeat(32), request: { threshold: 1.75e-14 } },
    );
    const c = compareRecords(wide, narrow);
    expect(c.differences).toEqual([
      'a different tensor selection (19 vs 2 tensors, 2 in common)',
      'the thresholds differ (per path vs 1.75e-14)',
    ]);
    expect(c.different).not.toMatch(/weights/);
    // no verdict, though the rows alone would regress (2 new failures, 17 missing)
    expect(c.verdict).toBe('not-same-work');
    expect(c.regressed).toBe(true);
    expect(c.counts).toMatchObject({ 'new-failure': 2, missing: 17 });
    // each side's threshold: the new failures' NMSE did not change, their bar did
    const nf = c.rows.find((r) => r.verdict === 'new-failure')!;
    expect(nf.baseline).toMatchObject({ nmse: 1.83e-14, threshold: 1e-8 });
    expect(nf.candidate).toMatchObject({ nmse: 1.83e-14, threshold: 1.75e-14 });
    expect(thresholdsChanged(c.rows)).toBe(true);
    expect(thresholdsChanged(compareRecords(wide, wide).rows)).toBe(false);
    // another file beside another selection is named too; no tensor in common says none
    const elsewhere = record([result('x', 1, 'pass', 100)], { hash: 'cc'.repeat(32), model: 'n.gguf' });
    expect(compareRecords(wide, elsewhere).differences).toEqual([
      'a different tensor selection (19 vs 1 tensors, none in common)',
      'different model files (m.gguf vs n.gguf)',
    ]);
  });

  it('threshold, seed, activations and arithmetic differences are each named', () => {
    const run = (request: Partial<RunRecord['request']>) => record(base.results, { request });
    const a = run({ threshold: 1.5e-14, seed: 42, activations: 'gaussian' });
    expect(
      compareRecords(a, run({ threshold: 1.75e-14, seed: 42, activations: 'gaussian' })).differences,
    ).toEqual(['the thresholds differ (1.5e-14 vs 1.75e-14)']);
    expect(
      compareRecords(a, run({ threshold: 1.5e-14, seed: 1, activations: 'outliers', arithmetic: 'q8_1' }))
        .differences,
    ).toEqual([
      'the seeds differ (42 vs 1)',
      'the activations differ (gaussian vs outliers)',
      'the arithmetic differs (per path vs q8_1)',
    ]);
    // the same work: the device, path and timing protocol may differ
    const same = compareRecords(
      a,
      run({ threshold: 1.5e-14, seed: 42, activations: 'gaussian', path: 'mma' }),
    );
    expect(same.differences).toEqual([]);
    // a field only one record states is not a difference (older records lack some)
    expect(compareRecords(record(base.results, { request: { seed: undefined } }), a).differences).toEqual([]);
  });

  it('latest and latest~N name records on the command line: the last two runs compared; --baseline latest is the newest before the run', async () => {
    const dir = tmp();
    const verify = (...more: string[]) =>
      cli(
        'verify',
        '--backend',
        'cpu',
        '--batch',
        '1',
        '--tensors',
        'output.weight',
        '--records',
        dir,
        ...more,
      );
    const saved = (err: string) => /record saved: .*[/\\](\S+)\.json/.exec(err)![1];
    const first = saved((await verify()).err);
    const second = saved((await verify()).err);
    const cmp = await cli('compare', 'latest~1', 'latest', '--records', dir);
    expect(cmp.code, cmp.err).toBe(0);
    expect(cmp.out).toMatch(new RegExp(`^baseline +${first} `, 'm'));
    expect(cmp.out).toMatch(new RegExp(`^candidate +${second} `, 'm'));
    // found before the run: the baseline is the second run, not the third's own record
    const third = await verify('--baseline', 'latest');
    expect(third.code, third.err).toBe(0);
    expect(third.out).toMatch(new RegExp(`^baseline +${second} `, 'm'));
    expect(third.out).toMatch(new RegExp(`^candidate +${saved(third.err)} `, 'm'));
    const none = await cli('compare', 'latest~3', 'latest', '--records', dir);
    expect(none.code).toBe(2);
    expect(none.err).toBe(
      `quantscope: error: 'latest~3' names none: ${dir} holds 3 records (latest to latest~2)\n`,
    );
  });

  it('the CLI refuses work that is not the same, naming each difference; --allow-different shows no verdict', async () => {
    const dir = tmp();
    const s = new RecordStore(dir);
    const names = ['t0', 't1', 't2'];
    const wide = record(
      names.map((t) => ({ ...result(t, 1, 'pass', 100, 0.01, 1.83e-14), threshold: 1e-8 })),
      { hash: 'aa'.repeat(32), request: { threshold: null }, at: '2026-12-01T10:00:00Z' },
    );
    const narrow = record(
      names.slice(0, 1).map((t) => ({ ...result(t, 1, 'fail', 100, 0.01, 1.83e-14), threshold: 1.75e-14 })),
      { hash: 'bb'.repeat(32), request: { threshold: 1.75e-14 }, at: '2026-12-01T11:00:00Z' },
    );
    s.save(wide);
    s.save(narrow);
    const refused = await cli('compare', wide.id, narrow.id, '--records', dir);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'the records are not of the same work: a different tensor selection (3 vs 1 tensors, 1 in common); the thresholds differ (per path vs 1.75e-14)',
    );
    expect(refused.err).not.toMatch(/weights differ/);
    const shown = await cli('compare', wide.id, narrow.id, '--records', dir, '--allow-different');
    expect(shown.out).toMatch(/^not the same work: the thresholds differ \(per path vs 1\.75e-14\)$/m);
    expect(shown.out).toMatch(/bar was +bar now/);
    expect(shown.out).toMatch(/1\.00e-8 +1\.75e-14/);
    expect(shown.out).toMatch(/^not the same work: no verdict \(the rows alone: a regression\)$/m);
    expect(shown.out).not.toMatch(/^REGRESSED$/m);
    expect(shown.code).toBe(1);
  });

  it('tolerance parsing', () => {
    expect(parseTolerance('5%')).toBeCloseTo(0.05, 12);
    expect(parseTolerance('0.1')).toBe(0.1);
    expect(() => parseTolerance('fast')).toThrow(/not a tolerance/);
  });
});
