import { describe, it, expect } from 'vitest';
import { fmtBytes, fmtDuration, fmtSci, fmtUs, fmtShape } from '../../src-renderer/src/lib/format';
import { fmtNmse, fmtThreshold } from '../../src-shared/threshold';
import {
  clickSelect,
  filterTensors,
  selectionState,
  sortTensors,
  tensorFacets,
  toggleAll,
  EMPTY_FILTER,
} from '../../src-renderer/src/lib/tensors';
import { countResults, sortResults, tensorProgress, verdictText } from '../../src-renderer/src/lib/results';
import {
  buildLut,
  cellAt,
  cellsToRegion,
  dragRegion,
  legendTicks,
  logScale,
  lutIndex,
  paintGrid,
  NAN_RGBA,
  ZERO_RGBA,
  LUT_SIZE,
} from '../../src-renderer/src/lib/colormap';
import {
  bandwidthPoints,
  batchSeries,
  fusedVsUnfused,
  intensity,
  roofline,
  rooflinePoints,
} from '../../src-renderer/src/lib/charts';
import { createBatcher } from '../../src-renderer/src/lib/batcher';
import { applyRunEvents, IDLE_RUN, type RunSlice } from '../../src-renderer/src/lib/runState';
import { fakeModel } from './fakeApi';
import type { RunEvent, TensorResult } from '../../src-shared/contract';

function result(over: Partial<TensorResult> & { resultId: string }): TensorResult {
  return {
    runId: 'r1',
    tensor: 't',
    type: 'Q4_K',
    n: 256,
    k: 512,
    m: 1,
    backend: 'cpu',
    device: 'cpu',
    path: 'cpu-f32',
    status: 'pass',
    threshold: 1e-8,
    metrics: {
      nmse: 1e-12,
      maxAbsErr: 1e-6,
      maxRelErr: 1e-7,
      nanMismatches: 0,
      infMismatches: 0,
      count: 256,
      worst: null,
    },
    timing: null,
    unfused: null,
    weightBytes: 256 * 512 * (144 / 256),
    gridAvailable: true,
    elapsedMs: 1,
    ...over,
  };
}

const timing = (medianUs: number, gbps: number, tflops = 0.1) => ({
  protocol: 'hot' as const,
  medianUs,
  minUs: medianUs,
  maxUs: medianUs,
  spread: 0,
  samples: 5,
  weightCopies: 1,
  gbps,
  tflops,
  pctPeak: null,
  pctCopy: null,
});

describe('format', () => {
  it('formats bytes, times, errors and shapes with units', () => {
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(1536)).toBe('1.50 KiB');
    expect(fmtBytes(33 * 2 ** 20)).toBe('33.0 MiB');
    expect(fmtUs(14.69)).toBe('14.7 µs');
    expect(fmtUs(2.5)).toBe('2.50 µs');
    expect(fmtUs(1500)).toBe('1.50 ms');
    expect(fmtUs(null)).toBe('—');
    expect(fmtSci(0)).toBe('0');
    expect(fmtSci(1.234e-9)).toBe('1.23e-9');
    expect(fmtSci(NaN)).toBe('NaN');
    expect(fmtDuration(65_000)).toBe('1 min 5 s');
    expect(fmtShape([4096, 14336])).toBe('4096 × 14336');
  });
});

describe('tensor table logic', () => {
  const model = fakeModel(3);
  it('filters by name terms, type and layer', () => {
    const f = filterTensors(model.tensors, { ...EMPTY_FILTER, text: 'ffn down' });
    expect(f.map((t) => t.name)).toEqual([
      'blk.0.ffn_down.weight',
      'blk.1.ffn_down.weight',
      'blk.2.ffn_down.weight',
    ]);
    const byType = filterTensors(model.tensors, { ...EMPTY_FILTER, type: 'Q8_0' });
    expect(byType.length).toBeGreaterThan(0);
    expect(byType.every((t) => t.typeName === 'Q8_0')).toBe(true);
    const l1 = filterTensors(model.tensors, { ...EMPTY_FILTER, layer: '1' });
    expect(l1.every((t) => t.layer === 1)).toBe(true);
    expect(l1.length).toBe(8);
    const none = filterTensors(model.tensors, { ...EMPTY_FILTER, layer: 'none' });
    expect(none.map((t) => t.name)).toEqual(['token_embd.weight', 'output_norm.weight', 'output.weight']);
    expect(
      filterTensors(model.tensors, { ...EMPTY_FILTER, type: 'supported' }).every((t) => t.supported),
    ).toBe(true);
  });
  it('sorts by size descending and by name with numeric order, stable on index', () => {
    const bySize = sortTensors(model.tensors, { key: 'nbytes', dir: 'desc' });
    for (let i = 1; i < bySize.length; i++)
      expect(bySize[i - 1].nbytes).toBeGreaterThanOrEqual(bySize[i].nbytes);
    const names = ['blk.10.a', 'blk.2.a', 'blk.1.a'].map((name, index) => ({
      ...model.tensors[1],
      name,
      index,
    }));
    expect(sortTensors(names, { key: 'name', dir: 'asc' }).map((t) => t.name)).toEqual([
      'blk.1.a',
      'blk.2.a',
      'blk.10.a',
    ]);
  });
  it('facets list types and layers', () => {
    const f = tensorFacets(model.tensors);
    expect(f.layers).toEqual([0, 1, 2]);
    expect(f.types).toContain('Q6_K');
  });
  it('shift-click selects a range in shown order, and unselects a range', () => {
    const shown = ['a', 'b', 'c', 'd', 'e'];
    let sel = clickSelect(new Set(), shown, 'b', null, false);
    expect([...sel]).toEqual(['b']);
    sel = clickSelect(sel, shown, 'e', 'b', true);
    expect([...sel].sort()).toEqual(['b', 'c', 'd', 'e']);
    sel = clickSelect(sel, shown, 'c', 'e', true); // c is on -> range turns off
    expect([...sel].sort()).toEqual(['b']);
  });
  it('select all filtered skips unsupported tensors and toggles off when all are on', () => {
    const shown = filterTensors(model.tensors, { ...EMPTY_FILTER, layer: '0' });
    const all = toggleAll(new Set(), shown);
    expect(all.size).toBe(7); // attn_norm is 1-D
    expect(selectionState(all, shown)).toBe('all');
    expect(toggleAll(all, shown).size).toBe(0);
    expect(selectionState(new Set([shown[1].name]), shown)).toBe('some');
  });
});

describe('results logic', () => {
  const rs = [
    result({ resultId: 'a', tensor: 'x', metrics: null, status: 'error', error: 'boom' }),
    result({ resultId: 'b', tensor: 'y', timing: timing(10, 500) }),
    result({
      resultId: 'c',
      tensor: 'z',
      status: 'fail',
      timing: timing(5, 900),
      metrics: { ...result({ resultId: 'c' }).metrics!, nmse: 0.3 },
    }),
  ];
  it('sorts numerically with missing values last in both directions', () => {
    expect(sortResults(rs, { key: 'gbps', dir: 'desc' }).map((r) => r.resultId)).toEqual(['c', 'b', 'a']);
    expect(sortResults(rs, { key: 'gbps', dir: 'asc' }).map((r) => r.resultId)).toEqual(['b', 'c', 'a']);
    expect(sortResults(rs, { key: 'status', dir: 'asc' }).map((r) => r.resultId)).toEqual(['a', 'c', 'b']);
  });
  it('counts and explains verdicts', () => {
    expect(countResults(rs)).toEqual({ pass: 1, fail: 1, error: 1, 'not-comparable': 0, total: 3 });
    expect(verdictText(rs[0])).toBe('boom');
    expect(verdictText(rs[1])).toMatch(/^NMSE 1\.00e-12 ≤ 1e-8$/);
    expect(verdictText(rs[2])).toBe('NMSE 3.00e-1 > 1e-8');
  });
  it('writes the threshold as it was given, and the NMSE so that the comparison printed is true', () => {
    const at = (nmse: number, threshold: number, status: TensorResult['status']) =>
      verdictText(result({ resultId: 'x', status, threshold, metrics: { ...rs[1].metrics!, nmse } }));
    expect(at(1.83e-14, 1.75e-14, 'fail')).toBe('NMSE 1.83e-14 > 1.75e-14');
    expect(at(1.2e-14, 1.5e-14, 'pass')).toBe('NMSE 1.20e-14 ≤ 1.5e-14');
    // two decimals would round 1.7504e-14 onto the threshold: as many as it takes instead
    expect(at(1.7504e-14, 1.75e-14, 'fail')).toBe('NMSE 1.7504e-14 > 1.75e-14');
    // rounding up onto the threshold still reads true for a pass
    expect(at(1.7496e-14, 1.75e-14, 'pass')).toBe('NMSE 1.75e-14 ≤ 1.75e-14');
    // a zero error reads 0, as it does in the table
    expect(at(0, 1e-8, 'pass')).toBe('NMSE 0 ≤ 1e-8');
    // a FAIL by NaN outputs with an NMSE under the threshold says so, and the sign stays true
    expect(
      verdictText(
        result({
          resultId: 'y',
          status: 'fail',
          metrics: { ...rs[1].metrics!, nmse: 1e-12, nanMismatches: 3 },
        }),
      ),
    ).toBe('NMSE 1.00e-12 ≤ 1e-8, 3 NaN mismatches');
    const nc = result({
      resultId: 'z',
      status: 'not-comparable',
      threshold: 1.75e-14,
      notComparable: 'non-finite scales: 3 blocks in 3 of 512 weight rows',
      metrics: { ...rs[1].metrics!, nmse: 1.5e-14 },
    });
    expect(verdictText(nc)).toBe(
      'non-finite scales: 3 blocks in 3 of 512 weight rows; the other outputs: NMSE 1.50e-14 ≤ 1.75e-14',
    );
  });
  it('formats thresholds and NMSE beside them in one way, for the app, the report and the CLI', () => {
    expect(fmtThreshold(1e-8)).toBe('1e-8');
    expect(fmtThreshold(1.75e-14)).toBe('1.75e-14');
    expect(fmtThreshold(0.000123456)).toBe('1.23456e-4');
    expect(fmtThreshold(null)).toBe('—');
    expect(fmtNmse(1.83e-14, 1.75e-14, 3)).toBe('1.830e-14');
    expect(fmtNmse(Infinity, 1e-8)).toBe('∞');
    expect(fmtNmse(Number.NaN, 1e-8)).toBe('NaN');
    expect(fmtNmse(2.5e-9, null)).toBe('2.50e-9');
  });
  it('tracks per-tensor progress', () => {
    const req = {
      modelId: 'm',
      tensors: ['x', 'y', 'w'],
      batchSizes: [1, 8],
      backend: 'cpu' as const,
      deviceIndex: 0,
      seed: 1,
      timing: 'none' as const,
      path: 'auto' as const,
      compareUnfused: false,
      threshold: null,
    };
    const p = tensorProgress(req, rs, { tensor: 'w' });
    expect(p.map((r) => [r.tensor, r.done, r.total, r.running])).toEqual([
      ['x', 1, 2, false],
      ['y', 1, 2, false],
      ['w', 0, 2, true],
    ]);
    expect(p[0].error).toBe(1);
  });
});

describe('heatmap colour mapping', () => {
  it('builds a 256-entry opaque LUT from dark to bright', () => {
    const lut = buildLut();
    expect(lut.length).toBe(LUT_SIZE * 4);
    const lum = (i: number) => lut[i * 4] + lut[i * 4 + 1] + lut[i * 4 + 2];
    expect(lum(255)).toBeGreaterThan(lum(0));
    for (let i = 0; i < LUT_SIZE; i++) expect(lut[i * 4 + 3]).toBe(255);
  });
  it('log scale spans the values, capped at 8 decades, ignores zero/NaN', () => {
    expect(logScale([0, 1e-6, 1e-3, NaN])).toEqual({ lo: -6, hi: -3 });
    expect(logScale([1e-30, 1])).toEqual({ lo: -8, hi: 0 });
    expect(logScale([0, 0])).toBeNull();
    const s = logScale([1e-4])!;
    expect(s.hi - s.lo).toBeCloseTo(1);
  });
  it('paints zero, NaN (null after JSON) and extremes distinctly', () => {
    const vals = [0, 1e-6, 1e-3, NaN, null as unknown as number, Infinity];
    const s = logScale(vals)!;
    const out = new Uint8ClampedArray(vals.length * 4);
    const lut = buildLut();
    paintGrid(vals, 1, vals.length, s, out, lut);
    expect([...out.slice(0, 4)]).toEqual(ZERO_RGBA);
    expect([...out.slice(4, 8)]).toEqual([...lut.slice(0, 4)]);
    expect([...out.slice(8, 12)]).toEqual([...lut.slice(255 * 4, 256 * 4)]);
    for (const i of [3, 4, 5]) expect([...out.slice(i * 4, i * 4 + 4)]).toEqual(NAN_RGBA);
    expect(lutIndex(10 ** -4.5, s)).toBe(128);
    expect(() => paintGrid(vals, 2, vals.length, s, out)).toThrow(/too small/);
  });
  it('paints a 512 x 4096 grid quickly (sanity, not a benchmark)', () => {
    const n = 512 * 4096;
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = 1e-7 * (1 + (i % 977));
    const out = new Uint8ClampedArray(n * 4);
    const t0 = performance.now();
    paintGrid(vals, 512, 4096, logScale(vals), out);
    const ms = performance.now() - t0;
    expect(out[3]).toBe(255);
    expect(ms).toBeLessThan(2000);
  });
  it('maps pixels to cells and cell rectangles to output regions', () => {
    expect(cellAt(0, 0, 100, 50, 10, 20)).toEqual({ row: 0, col: 0 });
    expect(cellAt(99.9, 49.9, 100, 50, 10, 20)).toEqual({ row: 9, col: 19 });
    expect(cellAt(100, 10, 100, 50, 10, 20)).toBeNull();
    const g = { rowStart: 0, rowEnd: 30, colStart: 100, colEnd: 1100, cellRows: 4, cellCols: 8 };
    expect(cellsToRegion(g, 2, 10, 1, 3)).toEqual({ rowStart: 4, rowEnd: 12, colStart: 124, colEnd: 188 });
    expect(cellsToRegion(g, 7, 0, 7, 124).rowEnd).toBe(30);
  });
  it('a drag zooms to its cells; an end beyond the canvas is clamped to the edge', () => {
    // 8 x 512 outputs drawn as 8 x 512 cells on a 1024 x 80 px canvas (2 px per column)
    const g = {
      rows: 8,
      cols: 512,
      rowStart: 0,
      rowEnd: 8,
      colStart: 0,
      colEnd: 512,
      cellRows: 1,
      cellCols: 1,
    };
    expect(dragRegion(g, 20, 5, 100, 45, 1024, 80)).toEqual({
      rowStart: 0,
      rowEnd: 5,
      colStart: 10,
      colEnd: 51,
    });
    // released right of and below the canvas: to its last column and row
    expect(dragRegion(g, 20, 15, 1400, 300, 1024, 80)).toEqual({
      rowStart: 1,
      rowEnd: 8,
      colStart: 10,
      colEnd: 512,
    });
    // and left of and above it: from its first
    expect(dragRegion(g, 100, 45, -50, -10, 1024, 80)).toEqual({
      rowStart: 0,
      rowEnd: 5,
      colStart: 0,
      colEnd: 51,
    });
    // a click is no zoom, nor is a drag over the whole grid
    expect(dragRegion(g, 20, 5, 22, 7, 1024, 80)).toBeNull();
    expect(dragRegion(g, 0, 0, 2000, 200, 1024, 80)).toBeNull();
  });
  it('legend ticks fall on decades inside the range', () => {
    const t = legendTicks({ lo: -7.5, hi: -3.2 });
    expect(t.map((x) => x.label)).toEqual(['1e-7', '1e-6', '1e-5', '1e-4']);
    for (const x of t) expect(x.pos).toBeGreaterThan(0);
  });
});

describe('chart data', () => {
  const rs = [
    result({ resultId: 'a', m: 1, type: 'Q4_K', timing: timing(10, 1000, 0.5) }),
    result({ resultId: 'b', m: 1, type: 'Q4_K', timing: timing(10, 2000, 0.7) }),
    result({ resultId: 'c', m: 1, type: 'Q4_K', timing: timing(10, 3000, 0.9) }),
    result({ resultId: 'd', m: 8, type: 'Q6_K', timing: timing(10, 1500, 3) }),
    result({ resultId: 'e', m: 8, type: 'Q6_K', timing: null }),
  ];
  it('keeps timed results and takes per-format medians against m', () => {
    expect(bandwidthPoints(rs).map((p) => p.key)).toEqual(['a', 'b', 'c', 'd']);
    const s = batchSeries(rs, 'gbps');
    expect(s.types).toEqual(['Q4_K', 'Q6_K']);
    expect(s.rows).toEqual([
      { m: 1, Q4_K: 2000 },
      { m: 8, Q6_K: 1500 },
    ]);
  });
  it('computes intensity and a roof that bends at the ridge point', () => {
    const r = rs[0];
    expect(intensity(r)).toBeCloseTo((2 * 1 * 256 * 512) / r.weightBytes);
    expect(rooflinePoints(rs)).toHaveLength(4);
    const roof = roofline(3000, 400, 0.5, 500);
    expect(roof[0].roof).toBeCloseTo((3000 * roof[0].ai) / 1000);
    expect(roof[roof.length - 1].roof).toBe(400);
    expect(roofline(null, 400, 1, 10)).toEqual([]);
  });
  it('pairs fused and unfused timings', () => {
    const f = fusedVsUnfused([
      result({ resultId: 'x', timing: timing(10, 1), unfused: { timing: timing(25, 1), metrics: null } }),
      ...rs,
    ]);
    expect(f).toHaveLength(1);
    expect(f[0].speedup).toBeCloseTo(2.5);
  });
});

describe('event batching and run reduction', () => {
  it('delivers pushed items once per scheduled frame', () => {
    const frames: (() => void)[] = [];
    const got: number[][] = [];
    const b = createBatcher<number>(
      (xs) => got.push(xs),
      (cb) => frames.push(cb),
    );
    b.push(1);
    b.push(2);
    b.push(3);
    expect(frames).toHaveLength(1);
    frames[0]();
    b.push(4);
    expect(frames).toHaveLength(2);
    frames[1]();
    expect(got).toEqual([[1, 2, 3], [4]]);
  });
  it('adopts the first run while starting, ignores stale runs and duplicates', () => {
    const slice: RunSlice = {
      run: { ...IDLE_RUN, status: 'starting' },
      results: [],
      staleRuns: new Set(['old']),
    };
    const r1 = result({ resultId: 'r1', runId: 'new' });
    const evs: RunEvent[] = [
      { type: 'result', runId: 'old', result: result({ resultId: 'o', runId: 'old' }) },
      { type: 'progress', runId: 'old', done: 9, total: 9, etaMs: 0 },
      { type: 'job-started', runId: 'new', tensor: 't', m: 1, index: 0, total: 2 },
      { type: 'result', runId: 'new', result: r1 },
      { type: 'result', runId: 'new', result: r1 },
      { type: 'progress', runId: 'new', done: 1, total: 2, etaMs: 50 },
      { type: 'result', runId: 'other', result: result({ resultId: 'z', runId: 'other' }) },
    ];
    const next = applyRunEvents(slice, evs);
    expect(next.run.runId).toBe('new');
    expect(next.run.status).toBe('running');
    expect(next.results.map((r) => r.resultId)).toEqual(['r1']);
    expect(next.run.done).toBe(1);
    expect(next.run.etaMs).toBe(50);
    expect(slice.results).toEqual([]);
    const fin = applyRunEvents(next, [
      { type: 'run-finished', runId: 'new', status: 'cancelled', passed: 1, failed: 0, errors: 0 },
    ]);
    expect(fin.run.status).toBe('cancelled');
    expect(fin.run.summary).toEqual({ passed: 1, failed: 0, errors: 0 });
    expect(applyRunEvents(fin, [])).toBe(fin);
    const idle: RunSlice = { run: IDLE_RUN, results: [], staleRuns: new Set() };
    expect(applyRunEvents(idle, evs.slice(2))).toBe(idle);
  });
});

describe('more formatting', () => {
  it('shows output values at float32 resolution and FLOP with SI prefixes', async () => {
    const { fmtVal, fmtFlop } = await import('../../src-renderer/src/lib/format');
    const { shortTensor } = await import('../../src-renderer/src/lib/charts');
    expect(fmtVal(0.576000123)).toBe('0.576000123');
    expect(fmtVal(1.5e-9)).toBe('1.50000000e-9');
    expect(fmtVal(NaN)).toBe('NaN');
    expect(fmtFlop(262144)).toBe('262 kFLOP');
    expect(fmtFlop(2 * 4096 * 14336)).toBe('117 MFLOP');
    expect(shortTensor('blk.3.ffn_down.weight · m=8')).toBe('L3.ffn_down · m=8');
    expect(shortTensor('output.weight')).toBe('output');
  });
});

describe('log axes', () => {
  it('snaps to decades and keeps at most ~8 ticks', async () => {
    const { logAxis } = await import('../../src-renderer/src/lib/charts');
    expect(logAxis([0.3, 14])).toEqual({ domain: [0.1, 100], ticks: [0.1, 1, 10, 100] });
    const wide = logAxis([1e-9, 1e9]);
    expect(wide.ticks.length).toBeLessThanOrEqual(10);
    expect(wide.domain[0]).toBeLessThanOrEqual(1e-9);
    expect(wide.domain[1]).toBe(1e9);
    expect(logAxis([]).ticks).toEqual([1, 10]);
    expect(logAxis([5, 5]).domain).toEqual([1, 10]);
  });
});

describe('grid scale', () => {
  it('uses the engine min/max when the min is positive, else scans', async () => {
    const { gridScale } = await import('../../src-renderer/src/lib/colormap');
    expect(gridScale({ values: [], min: 1e-6, max: 1e-3 })).toEqual({ lo: -6, hi: -3 });
    expect(gridScale({ values: [0, 1e-5, 1e-2], min: 0, max: 1e-2 })).toEqual({ lo: -5, hi: -2 });
    expect(gridScale({ values: [0, 0], min: 0, max: 0 })).toBeNull();
  });
  it('table log2 paints like the exact log10 mapping (within one LUT step)', async () => {
    const { paintGrid, lutIndex, buildLut } = await import('../../src-renderer/src/lib/colormap');
    const lut = buildLut();
    const s = { lo: -9, hi: -1 };
    const vals = Array.from({ length: 2000 }, (_, i) => 10 ** (-9 + (8 * i) / 1999));
    const out = new Uint8ClampedArray(vals.length * 4);
    paintGrid(vals, 1, vals.length, s, out, lut);
    for (let i = 0; i < vals.length; i++) {
      const want = lutIndex(vals[i], s);
      const ok = [want - 1, want, want + 1].some(
        (j) =>
          j >= 0 &&
          j < 256 &&
          out[i * 4] === lut[j * 4] &&
          out[i * 4 + 1] === lut[j * 4 + 1] &&
          out[i * 4 + 2] === lut[j * 4 + 2],
      );
      expect(ok, `value ${vals[i]} -> LUT ${want}`).toBe(true);
    }
  });
});

describe('heatmap grid cache', () => {
  it('reuses a fetched grid, forgets failures, keeps at most 6', async () => {
    const { cachedGrid } = await import('../../src-renderer/src/components/Heatmap');
    let calls = 0;
    let fail = true;
    const api = {
      errorGrid: async (req: { resultId: string }) => {
        calls++;
        if (req.resultId === 'bad' && fail) throw new Error('gone');
        return {
          resultId: req.resultId,
          rows: req.resultId === 'huge' ? 512 : 4,
          cols: req.resultId === 'huge' ? 4096 : 4,
        } as never;
      },
    };
    const req = (id: string) => ({ resultId: id, maxRows: 4, maxCols: 4, metric: 'abs' as const });
    await cachedGrid(api, req('a'));
    await cachedGrid(api, req('a'));
    expect(calls).toBe(1);
    await expect(cachedGrid(api, req('bad'))).rejects.toThrow('gone');
    await new Promise((r) => setTimeout(r, 0));
    fail = false;
    await cachedGrid(api, req('bad'));
    expect(calls).toBe(3);
    for (const id of ['b', 'c', 'd', 'e', 'f', 'g']) await cachedGrid(api, req(id));
    await cachedGrid(api, req('a')); // evicted by now
    expect(calls).toBe(10);
    await cachedGrid(api, req('huge'));
    await new Promise((r) => setTimeout(r, 0));
    await cachedGrid(api, req('huge')); // too big to keep
    expect(calls).toBe(12);
  });
});
