import { describe, expect, it } from 'vitest';
import {
  EMPTY_HISTORY_FILTER,
  NOT_COMPARABLE_UNSAID,
  BAD_WEIGHTS,
  NO_OUTPUTS,
  NO_WEIGHTS,
  NO_WEIGHT_ZOOM,
  benchTable,
  choicesOf,
  comparePair,
  copyBandwidthText,
  diagnosisSummary,
  filterRecords,
  fmtChange,
  hasCaseTable,
  localDateTime,
  localDay,
  selftestTable,
  readOnlyApi,
  recordResults,
  savedWeightGrid,
  sortNewestFirst,
  speedBars,
  toggleSelection,
} from '../../src-renderer/src/lib/history';
import { createAppStore } from '../../src-renderer/src/store';
import { notComparedColumns, notComparedRows } from '../../src-renderer/src/lib/colormap';
import { weightCellText } from '../../src-renderer/src/lib/weightmap';
import type {
  CompareRow,
  RecordSummaryEntry,
  RunRecordData,
  SavedHeatmap,
  WeightMapInfo,
} from '../../src-shared/contract';
import { FakeApi } from './fakeApi';

function entry(
  id: string,
  createdAt: string,
  opts: {
    model?: string;
    device?: string;
    fail?: number;
    error?: number;
    total?: number;
    kind?: RecordSummaryEntry['kind'];
  } = {},
): RecordSummaryEntry {
  const fail = opts.fail ?? 0;
  const error = opts.error ?? 0;
  const total = opts.total ?? 4;
  return {
    id,
    kind: opts.kind ?? 'verify',
    createdAt,
    model: opts.model === undefined ? 'tiny.gguf' : opts.model,
    device: opts.device ?? 'cpu:0 x64',
    backend: 'cpu',
    status: 'done',
    counts: { total, pass: total - fail - error, fail, error, notComparable: 0 },
  };
}

/** Runs `fn` with the process in time zone `tz` (Node reads TZ again when it changes). */
function inZone(tz: string, fn: () => void): void {
  const was = process.env.TZ;
  process.env.TZ = tz;
  try {
    fn();
  } finally {
    if (was === undefined) delete process.env.TZ;
    else process.env.TZ = was;
  }
}

const RECORDS = [
  entry('a', '2026-11-30T23:00:00.000Z', { model: 'llama.gguf', device: 'cuda:0 NVIDIA H200' }),
  entry('b', '2026-12-02T08:00:00.000Z', { fail: 1 }),
  entry('c', '2026-12-01T12:00:00.000Z', { device: 'cuda:0 NVIDIA H200' }),
  entry('d', '2026-12-03T09:30:00.000Z', { error: 2, model: 'llama.gguf' }),
  entry('e', '2026-12-03T09:30:00.000Z', { total: 0 }),
];

describe('history filter and order', () => {
  it('lists newest first, ties by id, with no filter', () => {
    expect(filterRecords(RECORDS, EMPTY_HISTORY_FILTER).map((r) => r.id)).toEqual(['e', 'd', 'b', 'c', 'a']);
  });

  it('sorts unparseable dates last', () => {
    const rows = [
      { id: 'x', createdAt: 'not a date' },
      { id: 'y', createdAt: '2026-01-01T00:00:00Z' },
    ];
    expect(sortNewestFirst(rows).map((r) => r.id)).toEqual(['y', 'x']);
  });

  it('filters by model, device and verdict', () => {
    const f = EMPTY_HISTORY_FILTER;
    expect(filterRecords(RECORDS, { ...f, model: 'llama.gguf' }).map((r) => r.id)).toEqual(['d', 'a']);
    expect(filterRecords(RECORDS, { ...f, device: 'cuda:0 NVIDIA H200' }).map((r) => r.id)).toEqual([
      'c',
      'a',
    ]);
    expect(filterRecords(RECORDS, { ...f, verdict: 'failures' }).map((r) => r.id)).toEqual(['d', 'b']);
    // a run without results is not "all passed"
    expect(filterRecords(RECORDS, { ...f, verdict: 'clean' }).map((r) => r.id)).toEqual(['c', 'a']);
  });

  it('filters by an inclusive date range on the record day', () => {
    inZone('UTC', () => {
      const f = { ...EMPTY_HISTORY_FILTER, from: '2026-12-01', to: '2026-12-02' };
      expect(filterRecords(RECORDS, f).map((r) => r.id)).toEqual(['b', 'c']);
      expect(filterRecords(RECORDS, { ...EMPTY_HISTORY_FILTER, to: '2026-11-30' }).map((r) => r.id)).toEqual([
        'a',
      ]);
    });
  });

  it('filters on the local day, the one the date column shows', () => {
    const late = [entry('x', '2026-12-05T01:27:00.000Z')];
    const day = (d: string) => ({ ...EMPTY_HISTORY_FILTER, from: d, to: d });
    // behind UTC: the evening before the UTC day
    inZone('America/Los_Angeles', () => {
      expect(localDateTime(late[0].createdAt)).toBe('2026-12-04 17:27:00');
      expect(filterRecords(late, day('2026-12-04')).map((r) => r.id)).toEqual(['x']);
      expect(filterRecords(late, day('2026-12-05'))).toEqual([]);
    });
    // ahead of UTC: 23:00 UTC on 30 November is the morning of 1 December
    inZone('Asia/Tokyo', () => {
      expect(localDay(RECORDS[0].createdAt)).toBe('2026-12-01');
      expect(filterRecords(RECORDS, day('2026-12-01')).map((r) => r.id)).toEqual(['c', 'a']);
      expect(filterRecords(RECORDS, { ...EMPTY_HISTORY_FILTER, to: '2026-11-30' })).toEqual([]);
    });
  });

  it('offers each model and device once, sorted', () => {
    expect(choicesOf(RECORDS, 'model')).toEqual(['llama.gguf', 'tiny.gguf']);
    expect(choicesOf(RECORDS, 'device')).toEqual(['cpu:0 x64', 'cuda:0 NVIDIA H200']);
  });
});

describe('picking two runs to compare', () => {
  it('keeps at most two, a third pick replacing the earliest', () => {
    let s = toggleSelection([], 'a');
    s = toggleSelection(s, 'b');
    expect(s).toEqual(['a', 'b']);
    expect(toggleSelection(s, 'c')).toEqual(['b', 'c']);
    expect(toggleSelection(s, 'a')).toEqual(['b']);
  });

  it('makes the older run the baseline whatever the order of the clicks', () => {
    expect(comparePair(['d', 'a'], RECORDS)).toEqual({ baseline: 'a', candidate: 'd' });
    expect(comparePair(['a', 'd'], RECORDS)).toEqual({ baseline: 'a', candidate: 'd' });
    expect(comparePair(['a'], RECORDS)).toBeNull();
    expect(comparePair(['a', 'gone'], RECORDS)).toBeNull();
  });
});

const REC: RunRecordData = {
  schema: 'quantscope.record',
  version: 2,
  id: '20261203T093000Z-verify-abc123',
  kind: 'verify',
  createdAt: '2026-12-03T09:30:00.000Z',
  app: { version: '0.3.0', commit: 'abc' },
  host: { os: 'Linux', hostname: 'h', node: 'v22' },
  device: { backend: 'cuda', index: 0, name: 'NVIDIA H200', arch: 'sm_90' },
  model: { fileName: 'tiny.gguf', fileSize: 1, tensorsHash: null },
  request: {},
  status: 'done',
  results: [
    {
      // as the engine saves it: a whole TensorResult
      resultId: 'live-1',
      runId: 'r1',
      tensor: 'blk.0.attn_q.weight',
      type: 'Q4_K',
      n: 256,
      k: 256,
      m: 1,
      backend: 'cuda',
      device: 'NVIDIA H200',
      path: 'fused-small-q8',
      status: 'pass',
      threshold: 5e-4,
      metrics: {
        nmse: 1e-6,
        maxAbsErr: 0.01,
        maxRelErr: 0.001,
        nanMismatches: 0,
        infMismatches: 0,
        count: 256,
        worst: null,
      },
      timing: { protocol: 'hot', medianUs: 12, spread: 0.02, gbps: 3.1 },
      unfused: null,
      weightBytes: 36864,
      gridAvailable: true,
      elapsedMs: 40,
    },
    // as the CLI may save it: the schema's fields only
    {
      tensor: 'blk.0.ffn_up.weight',
      type: 'Q8_0',
      n: 512,
      k: 256,
      m: 8,
      status: 'not-comparable',
      path: null,
      notComparable: 'non-finite scales: 3 blocks in 3 of 512 weight rows; their 24 outputs are not compared',
      nonFiniteBlocks: 3,
      metrics: null,
      timing: null,
    },
  ],
};

describe('a record shown with the results views', () => {
  it('turns its rows into TensorResults with fresh ids and no heatmap grid', () => {
    const rows = recordResults(REC);
    expect(rows.map((r) => r.resultId)).toEqual([`${REC.id}#0`, `${REC.id}#1`]);
    expect(rows.every((r) => r.runId === REC.id && r.gridAvailable === false)).toBe(true);
    expect(rows[0]).toMatchObject({ status: 'pass', backend: 'cuda', weightBytes: 36864, elapsedMs: 40 });
    expect(rows[0].metrics?.maxAbsErr).toBe(0.01);
    expect(rows[0].timing?.medianUs).toBe(12);
    // a not-comparable result stays one, with its reason; it is no error
    expect(rows[1]).toMatchObject({
      status: 'not-comparable',
      notComparable: 'non-finite scales: 3 blocks in 3 of 512 weight rows; their 24 outputs are not compared',
      nonFiniteBlocks: 3,
      backend: 'cuda',
      device: 'NVIDIA H200',
      metrics: null,
      timing: null,
      unfused: null,
    });
    expect(rows[1].error).toBeUndefined();
    // a record that did not keep the reason still says not comparable, and that the numbers are unknown
    const bare = { ...REC.results[1] };
    delete bare.notComparable;
    const [unsaid] = recordResults({ ...REC, results: [bare] });
    expect(unsaid).toMatchObject({ status: 'not-comparable', notComparable: NOT_COMPARABLE_UNSAID });
  });

  it('reads through the real API, refuses work and says outputs are not kept', async () => {
    const fake = new FakeApi({ records: [REC] });
    const ro = readOnlyApi(fake);
    expect((await ro.openRecord(REC.id)).id).toBe(REC.id);
    expect((await ro.listRecords()).records.map((r) => r.id)).toEqual([REC.id]);
    await expect(ro.errorGrid({ resultId: 'x', maxRows: 1, maxCols: 1, metric: 'abs' })).rejects.toThrow(
      NO_OUTPUTS,
    );
    await expect(ro.startRun({} as never)).rejects.toThrow('read-only');
    // with its record, the heatmaps the record kept are served (whole output, no hover detail)
    const heat = {
      m: 2,
      n: 4,
      rows: 2,
      cols: 2,
      cellRows: 1,
      cellCols: 2,
      values: [0, 1e-7, 3e-7, 0],
      min: 0,
      max: 3e-7,
    };
    const kept = {
      ...REC,
      results: [{ ...REC.results[0], heatmap: { abs: heat, rel: heat } }, REC.results[1]],
    };
    const ro2 = readOnlyApi(fake, kept);
    const g = await ro2.errorGrid({ resultId: `${REC.id}#0`, maxRows: 64, maxCols: 64, metric: 'rel' });
    expect(g).toMatchObject({
      resultId: `${REC.id}#0`,
      metric: 'rel',
      rows: 2,
      cols: 2,
      max: 3e-7,
      worst: [],
    });
    expect(g.values).toEqual(heat.values);
    // a heatmap kept without a count of left-out outputs marks none
    expect(g.leftOutCols).toBeUndefined();
    expect(notComparedColumns(g)).toBeNull();
    // one kept with it: the grid carries it, and the heatmap greys the columns whose outputs were all left out
    const left = { ...heat, leftOutCols: [0, 2] };
    const ro3 = readOnlyApi(fake, {
      ...kept,
      results: [{ ...REC.results[0], heatmap: { abs: left, rel: left } }],
    });
    const g3 = await ro3.errorGrid({ resultId: `${REC.id}#0`, maxRows: 64, maxCols: 64, metric: 'abs' });
    expect(g3.leftOutCols).toEqual([0, 2]);
    expect([...notComparedColumns(g3)!]).toEqual([0, 1]);
    await expect(
      ro2.errorGrid({ resultId: `${REC.id}#1`, maxRows: 1, maxCols: 1, metric: 'abs' }),
    ).rejects.toThrow(NO_OUTPUTS);
    // a record that kept where a FAIL's probe looked, not its grid: the weight map says so
    await expect(
      ro2.weightGrid({ resultId: `${REC.id}#0`, maxRows: 1, maxCols: 1, metric: 'abs' }),
    ).rejects.toThrow(NO_WEIGHTS);
    // a store made on it holds the record's rows and never subscribes to live runs
    const store = createAppStore(ro);
    store.setState({ results: recordResults(REC) });
    expect(store.getState().results).toHaveLength(2);
    expect(fake.listeners.size).toBe(0);
  });
});

describe("a record's saved weight map", () => {
  // 6 weight rows by 8 probed elements (two spans, a gap between), in cells of 2 x 2
  const spans: [number, number][] = [
    [0, 4],
    [60, 64],
  ];
  const map = (values: number[], leftOutRows?: number[]): SavedHeatmap => ({
    m: 6,
    n: 8,
    rows: 3,
    cols: 4,
    cellRows: 2,
    cellCols: 2,
    values,
    min: 0,
    max: Math.max(...values),
    ...(leftOutRows ? { leftOutRows } : {}),
  });
  const abs = map([0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.25], [0, 2, 1]);
  const rel = map([0, 0.125, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0625], [0, 2, 1]);
  const info: WeightMapInfo = { n: 6, k: 64, blockElems: 32, subElems: 8, spans, rowsLeftOut: 3 };
  const withGrid = (weightMap: WeightMapInfo): RunRecordData => ({
    ...REC,
    results: [{ ...REC.results[1], status: 'fail', weightMap }],
  });

  it('History serves it whole, in the metric asked, with the weight rows left out counted', async () => {
    const rec = withGrid({ ...info, grid: { abs, rel } });
    // the results view keeps the map, grid and all, on the result it draws
    expect(recordResults(rec)[0].weightMap?.grid?.rel).toEqual(rel);
    const ro = readOnlyApi(new FakeApi(), rec);
    const id = `${REC.id}#0`;
    const g = await ro.weightGrid({ resultId: id, maxRows: 192, maxCols: 512, metric: 'rel' });
    expect(g).toMatchObject({
      resultId: id,
      metric: 'rel',
      m: 6,
      n: 8,
      rowStart: 0,
      rowEnd: 6,
      colStart: 0,
      colEnd: 8,
      rows: 3,
      cols: 4,
      cellRows: 2,
      cellCols: 2,
      worst: [],
      leftOutRows: [0, 2, 1],
    });
    expect(g.values).toEqual(rel.values);
    expect((await ro.weightGrid({ resultId: id, maxRows: 1, maxCols: 1, metric: 'abs' })).values).toEqual(
      abs.values,
    );
    // the cell row of only left-out weight rows is grey; the one with a compared row is not
    expect([...notComparedRows(g)!]).toEqual([0, 1, 0]);
    // what the hover says of a cell: its weight rows, and its elements with their blocks (across the gap)
    expect(weightCellText(g, 1, info)).toBe('weight rows 0–1 × elements 2–3 (block 0)');
    expect(weightCellText(g, 11, info)).toBe('weight rows 4–5 × elements 62–63 (block 1)');
    expect(weightCellText({ ...g, cellCols: 4, cols: 2 }, 1, info)).toBe(
      'weight rows 0–1 × elements 60–63 (block 1)',
    );
    // a region is a zoom, which a saved map does not have
    await expect(
      ro.weightGrid({ resultId: id, rowStart: 2, rowEnd: 4, maxRows: 2, maxCols: 8, metric: 'rel' }),
    ).rejects.toThrow(NO_WEIGHT_ZOOM);
  });

  it('a record without the grid says so, and a grid that does not fit its geometry is refused', async () => {
    const id = `${REC.id}#0`;
    const old = readOnlyApi(new FakeApi(), withGrid(info));
    await expect(old.weightGrid({ resultId: id, maxRows: 1, maxCols: 1, metric: 'rel' })).rejects.toThrow(
      NO_WEIGHTS,
    );
    for (const bad of [
      { ...rel, values: rel.values.slice(1) }, // a value short
      { ...rel, m: 7 }, // more weight rows than the probe's tensor
      { ...rel, n: 9 }, // more columns than probed elements
      { ...rel, leftOutRows: [1] }, // a count for one cell row of three
    ]) {
      expect(() => savedWeightGrid(id, info, bad, 'rel')).toThrow(BAD_WEIGHTS);
      const ro = readOnlyApi(new FakeApi(), withGrid({ ...info, grid: { abs, rel: bad } }));
      await expect(ro.weightGrid({ resultId: id, maxRows: 1, maxCols: 1, metric: 'rel' })).rejects.toThrow(
        BAD_WEIGHTS,
      );
    }
  });
});

describe('the comparison chart and change column', () => {
  const row = (tensor: string, m: number, was: number | null, now: number | null): CompareRow => ({
    tensor,
    type: 'Q4_K',
    m,
    verdict: 'same',
    baseline:
      was === null
        ? null
        : {
            status: 'pass',
            nmse: 1e-6,
            threshold: 1e-8,
            arithmeticError: 0,
            diagnosis: null,
            us: was,
            spread: 0.01,
          },
    candidate:
      now === null
        ? null
        : {
            status: 'pass',
            nmse: 1e-6,
            threshold: 1e-8,
            arithmeticError: 0,
            diagnosis: null,
            us: now,
            spread: 0.01,
          },
    speedRatio: was && now ? now / was : null,
    noise: 0.05,
    nmseRatio: 1,
    diagnosisChange: null,
  });

  it('pairs the two records per tensor and batch size, skipping rows without timing', () => {
    const rows = [
      row('a', 1, 10, 12),
      row('b', 8, null, 5),
      { ...row('c', 1, 1, 1), baseline: null, candidate: null },
    ];
    expect(speedBars(rows)).toEqual([
      { label: 'a m=1', baseline: 10, candidate: 12 },
      { label: 'b m=8', baseline: null, candidate: 5 },
    ]);
    expect(speedBars(rows, 1)).toHaveLength(1);
  });

  it('writes the change as a signed percentage', () => {
    expect(fmtChange(1.123)).toBe('+12.3%');
    expect(fmtChange(0.5)).toBe('−50.0%');
    expect(fmtChange(null)).toBe('—');
  });
});

describe('records of every kind', () => {
  const KINDS = [
    entry('v', '2026-12-01T10:00:00.000Z'),
    entry('c', '2026-12-01T11:00:00.000Z', { kind: 'check' }),
    entry('b', '2026-12-01T12:00:00.000Z', { kind: 'bench', model: null as unknown as string }),
    entry('s', '2026-12-01T13:00:00.000Z', { kind: 'selftest', fail: 1 }),
  ];

  it('filters by kind and offers the kinds present', () => {
    const f = EMPTY_HISTORY_FILTER;
    expect(filterRecords(KINDS, { ...f, kind: 'bench' }).map((r) => r.id)).toEqual(['b']);
    expect(filterRecords(KINDS, { ...f, kind: 'selftest', verdict: 'failures' }).map((r) => r.id)).toEqual([
      's',
    ]);
    expect(filterRecords(KINDS, f).map((r) => r.id)).toEqual(['s', 'b', 'c', 'v']);
    expect(choicesOf(KINDS, 'kind')).toEqual(['bench', 'check', 'selftest', 'verify']);
    // a bench has no model: it is not offered as one
    expect(choicesOf(KINDS, 'model')).toEqual(['tiny.gguf']);
  });

  it('bench and selftest records open as tables; verify and check as results', () => {
    expect(['verify', 'check', 'bench', 'selftest'].map((k) => hasCaseTable(k as 'verify'))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  const base = { ...REC, version: 3, results: [] };

  it("a bench record's table: median, IQR, spread, samples, bandwidth, check, and the peer's time and ratio when known", () => {
    const row = {
      format: 'Q4_0',
      n: 4096,
      k: 14336,
      m: 1,
      protocol: 'hot',
      path: 'fused-small',
      medianUs: 12.345,
      iqrUs: 0.25,
      spread: 0.031,
      samples: 30,
      gbps: 2600.4,
      tflops: 1.5,
      pctPeak: 54.2,
      pctCopy: 61.9,
      peerUs: null,
      check: { status: 'pass' as const, nmse: 1.2e-15 },
    };
    const t = benchTable({
      ...base,
      kind: 'bench',
      bench: { rows: [row, { ...row, m: 8, check: { status: 'fail', nmse: 0.3 } }] },
    });
    expect(t.columns).not.toContain('Peer µs');
    expect(t.rows[0].cells).toEqual([
      'Q4_0',
      '4096×14336',
      '1',
      'hot',
      'fused-small',
      '12.35',
      '0.25',
      '3.1%',
      '30',
      '2600.4',
      '1.500',
      '54.2',
      '61.9',
      'PASS 1.20e-15',
    ]);
    // a cpu's small shares keep their significant digits
    const cpu = benchTable({
      ...base,
      kind: 'bench',
      bench: { rows: [{ ...row, gbps: 0.433, pctPeak: null, pctCopy: 0.4327 }] },
    });
    expect(cpu.rows[0].cells.slice(11, 13)).toEqual(['—', '0.433']);
    expect(t.rows[1].status).toBe('fail');
    const withPeer = benchTable({ ...base, kind: 'bench', bench: { rows: [{ ...row, peerUs: 14.1 }] } });
    expect(withPeer.columns.slice(-3)).toEqual(['Peer µs', 'vs peer', 'Check']);
    // the peer's time over ours: 14.1 / 12.345
    expect(withPeer.rows[0].cells.slice(-3)).toEqual(['14.10', '1.14×', 'PASS 1.20e-15']);
    expect(withPeer.columns.length).toBe(withPeer.numeric.length);
    expect(benchTable({ ...base, kind: 'bench' }).rows).toEqual([]);
  });

  it("a selftest record's table: each case's verdict, errors and diagnosis", () => {
    const t = selftestTable({
      ...base,
      kind: 'selftest',
      selftest: {
        rows: [
          {
            format: 'Q4_K',
            n: 64,
            k: 256,
            m: 1,
            weights: 'random',
            requested: 'auto',
            path: 'cpu-f32',
            status: 'fail',
            nmse: 0.02,
            threshold: 1e-8,
            arithmetic: 'f32',
            arithmeticError: 0,
            diagnosis: { class: 'min-sign', sentence: 'the block minimum is added, not subtracted' },
            detail: '',
            ms: 3,
          },
        ],
      },
    });
    expect(t.columns.length).toBe(t.numeric.length);
    expect(t.rows[0].status).toBe('fail');
    expect(t.rows[0].cells).toEqual([
      'Q4_K',
      '64×256',
      '1',
      'random',
      'cpu-f32',
      'FAIL',
      '2.00e-2',
      '1.00e-8',
      'f32',
      '0',
      'min-sign: the block minimum is added, not subtracted',
    ]);
  });

  it('shows the copy bandwidth a run measured, with how; an older record says it was not recorded', () => {
    const at = '2026-12-03T10:15:00.000Z';
    const text = copyBandwidthText({ gbs: 31.84, measuredAt: at, bytes: 16 << 20, repeats: 5, method: 'x' });
    expect(text).toBe(`31.8 GB/s · 16 MiB × 5 · measured ${new Date(at).toLocaleString()}`);
    expect(
      copyBandwidthText({ gbs: 19.9, measuredAt: null, bytes: null, repeats: null, method: 'not recorded' }),
    ).toBe('19.9 GB/s · measurement not recorded');
    expect(copyBandwidthText(null, 25)).toBe('25.0 GB/s');
    expect(copyBandwidthText(undefined, null)).toBeNull();
  });

  it("a comparison row's diagnosis cell: the change first, else each failing side", () => {
    const side = (d: { class: string; sentence: string } | null) => ({
      status: d ? 'fail' : 'pass',
      nmse: 1e-3,
      threshold: 1e-8,
      arithmeticError: 1e-5,
      diagnosis: d,
      us: null,
      spread: null,
    });
    const row = (
      b: ReturnType<typeof side>,
      c: ReturnType<typeof side>,
      change: string | null,
    ): CompareRow => ({
      tensor: 't',
      type: 'Q4_K',
      m: 1,
      verdict: 'still-failing',
      baseline: b,
      candidate: c,
      speedRatio: null,
      noise: null,
      nmseRatio: null,
      diagnosisChange: change,
    });
    const scale = { class: 'scale', sentence: 's' };
    expect(diagnosisSummary(row(side(scale), side(scale), null))).toBe('was scale, now scale');
    expect(diagnosisSummary(row(side(null), side(scale), 'none → scale'))).toBe('none → scale');
    expect(diagnosisSummary(row(side(null), side(null), null))).toBe('—');
  });
});
