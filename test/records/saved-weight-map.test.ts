/**
 * The weight map a record keeps (weightMap.grid): the probed weights of a FAIL reduced by maximum
 * to at most 16 x 128 cells in both metrics, the weight rows left out counted per cell row; how it
 * reads back (old records without it still read, the revision is unchanged); and that the engine
 * keeps it for a failing run and a failing check, equal to the live map reduced alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord, savedWeightGrid, savedWeightMap } from '../../src-main/engine/records/build';
import {
  parseRecord,
  recordJson,
  RECORD_VERSION,
  type RecordResult,
} from '../../src-main/engine/records/schema';
import { RecordStore } from '../../src-main/engine/records/store';
import { EngineService } from '../../src-main/engine/service';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { notComparedRows } from '../../src-shared/heatmap';
import { cli } from '../cli/helpers';

const SAMPLE = path.resolve(__dirname, '../../samples/tiny.gguf');

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-saved-wmap-'));
});

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

/**
 * A hand-built map of 20 weight rows by 130 probed elements, every expected weight 2 (row 3's first
 * 4, so its scale is 4), decoded right but for a few weights; rows 6, 7 and 8 left out.
 */
function handMap() {
  const m = 20;
  const n = 130;
  const ref = new Float64Array(m * n).fill(2);
  ref[3 * n] = 4;
  const got = Float32Array.from(ref);
  const set = (row: number, col: number, v: number) => (got[row * n + col] = v);
  set(0, 0, 2.5); // |error| 0.5, relative 0.25
  set(1, 1, 2.25); // same cell, smaller
  set(2, 4, 2.75); // |error| 0.75, relative 0.375 (row 2's scale is 2)
  set(3, 5, 3); // same cell: |error| 1, relative 0.25 (row 3's scale is 4)
  set(19, 129, 2.125); // the last weight, alone in the last column of cells
  set(12, 20, NaN); // a NaN where a number was expected
  set(6, 0, NaN); // left out: in no cell
  set(8, 10, 10); // left out: in no cell
  const skipRows = new Uint8Array(m);
  for (const j of [6, 7, 8]) skipRows[j] = 1;
  return { ref, got, m, n, skipRows };
}

describe('a weight map reduced for its record', () => {
  it('keeps the largest error of each cell, per metric, exactly, and counts the rows left out', () => {
    const w = handMap();
    const g = savedWeightGrid(w);
    for (const h of [g.abs, g.rel]) {
      // 20 rows in cells of 2 (10 cell rows), 130 elements in cells of 2 (65 cell columns)
      expect(h).toMatchObject({ m: 20, n: 130, rows: 10, cols: 65, cellRows: 2, cellCols: 2 });
      expect(h.values).toHaveLength(10 * 65);
      // rows 6 and 7 make cell row 3 (all left out), row 8 half of cell row 4
      expect(h.leftOutRows).toEqual([0, 0, 0, 2, 1, 0, 0, 0, 0, 0]);
      expect(h.min).toBe(0);
      expect(h.max).toBe(Infinity);
    }
    const at = (v: number[], row: number, col: number) => v[row * 65 + col];
    const nonZero = (v: number[]) =>
      v
        .map((x, i) => [i, x] as const)
        .filter(([, x]) => x !== 0)
        .map(([i, x]) => [(i / 65) | 0, i % 65, x]);
    // |error|: the cell of rows 2-3 and elements 4-5 keeps row 3's 1 over row 2's 0.75
    expect(nonZero(g.abs.values)).toEqual([
      [0, 0, 0.5],
      [1, 2, 1],
      [6, 10, Infinity],
      [9, 64, 0.125],
    ]);
    // relative to the row's largest expected weight: there row 2's 0.375 beats row 3's 1/4
    expect(nonZero(g.rel.values)).toEqual([
      [0, 0, 0.25],
      [1, 2, 0.375],
      [6, 10, Infinity],
      [9, 64, 0.0625],
    ]);
    // the NaN and the large error of the rows left out are in no cell
    expect(at(g.abs.values, 3, 0)).toBe(0);
    expect(at(g.abs.values, 4, 5)).toBe(0);
    expect([...notComparedRows({ ...g.abs, rowStart: 0, rowEnd: g.abs.m })!]).toEqual([
      0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
    ]);
  });

  it('a small map keeps one weight a cell; a large one at most 16 x 128 cells, where no bad weight hides', () => {
    const small = savedWeightMap(
      { ref: Float64Array.from([1, 2, 3, 4, 5, 6]), got: Float32Array.from([1, 2, 3, 4, 5, 7]), m: 2, n: 3 },
      'abs',
    );
    expect(small).toMatchObject({ rows: 2, cols: 3, cellRows: 1, cellCols: 1, values: [0, 0, 0, 0, 0, 1] });
    expect(small.leftOutRows).toBeUndefined();

    const m = 1000;
    const n = 1000;
    const ref = new Float64Array(m * n).fill(1);
    const got = Float32Array.from(ref);
    got[m * n - 1] = 1 + 1 / 3; // the last weight of the last row
    for (const metric of ['abs', 'rel'] as const) {
      const h = savedWeightMap({ ref, got, m, n }, metric);
      expect(h.rows).toBeLessThanOrEqual(16);
      expect(h.cols).toBeLessThanOrEqual(128);
      expect(h).toMatchObject({ rows: 16, cols: 125, cellRows: 63, cellCols: 8 });
      expect(h.values).toHaveLength(16 * 125);
      // 4 significant digits, in the last cell; min and max are exact
      expect(h.values[16 * 125 - 1]).toBe(0.3333);
      expect(h.values.filter((v) => v !== 0)).toHaveLength(1);
      expect(h.max).toBeCloseTo(1 / 3, 7);
    }
  });
});

describe('a record with a weight map', () => {
  const failing = (weightMap: unknown): RecordResult =>
    ({
      tensor: 'blk.0.ffn_up.weight',
      type: 'Q4_K',
      n: 20,
      k: 256,
      m: 256,
      status: 'fail',
      path: 'custom',
      metrics: { nmse: 0.1 },
      timing: null,
      weightMap,
    }) as RecordResult;
  const geometry = { n: 20, k: 256, blockElems: 256, subElems: 32, spans: [[0, 130]] };

  it('reads back with its grid (NaN and infinity included) at the same revision; one without a grid still reads', () => {
    expect(RECORD_VERSION).toBe(3);
    const grid = savedWeightGrid(handMap());
    const rec = buildRecord({
      kind: 'check',
      device: null,
      model: null,
      request: {},
      status: 'done',
      results: [failing({ ...geometry, rowsLeftOut: 3, grid }), failing(geometry)],
    });
    const text = recordJson(rec);
    expect(text).toContain('"Infinity"');
    const back = parseRecord(JSON.parse(text));
    expect(back.version).toBe(3);
    expect(back.results[0].weightMap?.grid).toEqual(grid);
    expect(back.results[0].weightMap).toMatchObject({ ...geometry, rowsLeftOut: 3 });
    // as written before records kept the grid: the geometry alone
    expect(back.results[1].weightMap).toEqual(geometry);
    expect(back.results[1].weightMap?.grid).toBeUndefined();
    // a grid that is not one is refused, by its place in the record
    const bad = JSON.parse(text);
    bad.results[0].weightMap.grid.rel.values = 'none';
    expect(() => parseRecord(bad)).toThrow(/^results\.0\.weightMap\.grid\.rel\.values: /);
  });
});

describe('the engine keeps the weight map of a failure in its record', () => {
  const engine = (store: RecordStore) =>
    new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      records: store,
    });

  it("a failing check pair: the record's grid is the live map reduced to 16 x 128 cells", async () => {
    // an identity output with the halves of every 64 elements of each row exchanged
    const tensor = 'blk.0.ffn_up.weight'; // Q4_K, k 512, n 1024
    const [n, k] = [1024, 512];
    const wPath = path.join(dir, 'w.f32');
    const dq = await cli('dequant', SAMPLE, tensor, '--out', wPath, '--force');
    expect(dq.code, dq.err).toBe(0);
    const buf = fs.readFileSync(wPath);
    const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    const y = new Float32Array(k * n);
    for (let j = 0; j < n; j++)
      for (let r = 0; r < k; r++) y[r * n + j] = w[j * k + (r % 64 < 32 ? r + 32 : r - 32)];
    const wrong = path.join(dir, 'wrong.f32');
    fs.writeFileSync(wrong, new Uint8Array(y.buffer));
    const store = new RecordStore(path.join(dir, 'check'));
    const svc = engine(store);
    try {
      const s = await svc.openModel(SAMPLE);
      const live = await svc.checkPair({ modelId: s.modelId, tensor, input: 'identity', output: wrong });
      expect(live.status).toBe('fail');
      expect(live.weightMap).toBeTruthy();
      // the live result carries no grid: the app asks weightGrid for the probed weights
      expect(live.weightMap?.grid).toBeUndefined();
      const rec = store.byId(store.list().records[0].id);
      const saved = rec.results[0].weightMap!;
      expect(saved).toMatchObject({
        n,
        k,
        blockElems: live.weightMap!.blockElems,
        spans: live.weightMap!.spans,
      });
      for (const metric of ['abs', 'rel'] as const) {
        const g = await svc.weightGrid({ resultId: live.resultId, maxRows: 16, maxCols: 128, metric });
        const h = saved.grid![metric];
        expect(h).toMatchObject({
          m: n,
          n: k,
          rows: g.rows,
          cols: g.cols,
          cellRows: g.cellRows,
          cellCols: g.cellCols,
          min: g.min,
          max: g.max,
        });
        expect(h.values).toEqual(g.values.map((v) => Number(v.toPrecision(4))));
        expect(h.max).toBeGreaterThan(0);
      }
    } finally {
      await svc.dispose();
    }
  });

  it('a failing verify run: each failure with a weight map keeps its grid, bounded', async () => {
    const records = path.join(dir, 'verify');
    const r = await cli(
      'verify',
      SAMPLE,
      '--tensors',
      'blk.0.attn_q.weight',
      '--batch',
      '4',
      '--threshold',
      '1.75e-14',
      '--records',
      records,
    );
    expect([0, 1], r.err + r.out).toContain(r.code);
    const store = new RecordStore(records);
    const rec = store.byId(store.list().records[0].id);
    const withMap = rec.results.filter((x) => x.weightMap);
    expect(withMap.length).toBeGreaterThan(0);
    for (const x of withMap) {
      expect(x.status).toBe('fail');
      const g = x.weightMap!.grid!;
      for (const h of [g.abs, g.rel]) {
        expect(h.m).toBe(x.weightMap!.n);
        expect(h.n).toBe(x.weightMap!.spans.reduce((a, [s, e]) => a + (e - s), 0));
        expect(h.rows).toBeLessThanOrEqual(16);
        expect(h.cols).toBeLessThanOrEqual(128);
        expect(h.values).toHaveLength(h.rows * h.cols);
      }
    }
  });
});
