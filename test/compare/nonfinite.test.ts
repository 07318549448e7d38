// Blocks whose half scales are NaN or infinite: counted per weight row, their outputs left out of
// the comparison, and the result judged "not comparable" (not PASS, not FAIL) in cpu verify, check,
// inspect and the reports, while the other tensors are judged as usual.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dequantize, nonFiniteScaleRows, quantize } from '../../src-main/engine/formats';
import { compareOutputs, errorGrid } from '../../src-main/engine/compare';
import { encodeGguf } from '../../src-main/engine/gguf/encode';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { GgufFile } from '../../src-main/engine/gguf';
import { Rng } from '../../src-main/engine/rng';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { scanModelScales } from '../../src-main/engine/scales';
import { identityOutput } from '../diagnosis/emulate';
import { cli } from '../cli/helpers';
import { EngineService } from '../../src-main/engine/service';
import { RecordStore } from '../../src-main/engine/records/store';
import { readOnlyApi, recordResults } from '../../src-renderer/src/lib/history';
import { notComparedColumns, notComparedRows } from '../../src-renderer/src/lib/colormap';
import { NOT_COMPARED_LEGEND, NOT_COMPARED_ROWS_LEGEND } from '../../src-main/engine/report/report';
import { recordReport } from '../../src-main/engine/report/record-report';
import { FakeApi } from '../renderer/fakeApi';
import { inflateSync } from 'node:zlib';
import { countResults, statusLabel, verdictText } from '../../src-renderer/src/lib/results';
import type { RunEvent, RunRecordData } from '../../src-shared/contract';

const INF = 0x7c00;
const NAN = 0x7e00;

/** Sets the half at `byte` of block `block` of row `row` (little-endian). */
function poke(
  data: Uint8Array,
  rowBytes: number,
  blockBytes: number,
  row: number,
  block: number,
  byte: number,
  half: number,
) {
  const o = row * rowBytes + block * blockBytes + byte;
  data[o] = half & 0xff;
  data[o + 1] = half >> 8;
}

function tensor(type: number, n: number, k: number, seed: number): Uint8Array {
  return quantize(type, new Rng(seed).normalF32(n * k), n, k);
}

// Q4_0: 32 elements in 18 bytes (d at 0); Q4_K: 256 elements in 144 bytes (d at 0, dmin at 2).
const N = 16;
const q40 = tensor(GgmlType.Q4_0, N, 256, 1);
poke(q40, 8 * 18, 18, 3, 2, 0, INF);
poke(q40, 8 * 18, 18, 7, 0, 0, NAN);
const q4k = tensor(GgmlType.Q4_K, N, 512, 2);
poke(q4k, 2 * 144, 144, 1, 1, 0, INF);
poke(q4k, 2 * 144, 144, 5, 0, 2, NAN); // dmin
const clean = tensor(GgmlType.Q4_K, N, 512, 3);

let dir: string;
let model: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-nonfinite-'));
  model = path.join(dir, 'nonfinite.gguf');
  fs.writeFileSync(
    model,
    encodeGguf({
      metadata: [],
      tensors: [
        { name: 'bad.q4_0', type: GgmlType.Q4_0, dims: [256, N], data: q40 },
        { name: 'bad.q4_k', type: GgmlType.Q4_K, dims: [512, N], data: q4k },
        { name: 'good.q4_k', type: GgmlType.Q4_K, dims: [512, N], data: clean },
      ],
    }),
  );
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

describe('non-finite scales', () => {
  it('are counted per weight row (d and dmin alike)', () => {
    const a = nonFiniteScaleRows(GgmlType.Q4_0, q40, N, 256);
    expect(a.badBlocks).toBe(2);
    expect(a.badRows).toBe(2);
    expect([...a.rows!].flatMap((v, i) => (v ? [i] : []))).toEqual([3, 7]);
    const b = nonFiniteScaleRows(GgmlType.Q4_K, q4k, N, 512);
    expect([b.badBlocks, b.badRows]).toEqual([2, 2]);
    expect([...b.rows!].flatMap((v, i) => (v ? [i] : []))).toEqual([1, 5]);
    expect(nonFiniteScaleRows(GgmlType.Q4_K, clean, N, 512)).toEqual({
      badBlocks: 0,
      badRows: 0,
      rows: null,
    });
    expect(nonFiniteScaleRows(GgmlType.F32, new Uint8Array(64), 4, 4).badBlocks).toBe(0);
  });

  it('compareOutputs leaves the masked output features out', () => {
    const ref = Float64Array.from([1, NaN, 3, 4, Infinity, 6]);
    const got = Float32Array.from([1, Infinity, 3, 4, NaN, 6]);
    const all = compareOutputs(ref, got, 2, 3);
    expect(all.nanMismatches + all.infMismatches).toBe(2);
    const masked = compareOutputs(ref, got, 2, 3, Uint8Array.from([0, 1, 0]));
    expect(masked).toMatchObject({ nmse: 0, nanMismatches: 0, infMismatches: 0, count: 4 });
    expect(() => compareOutputs(ref, got, 2, 3, new Uint8Array(2))).toThrow('skip mask has 2 entries');
  });

  it('errorGrid leaves the masked output features out of its cells and counts them per grid column', () => {
    // 2 rows x 6 features; features 1 and 4 are left out (NaN and Inf against finite values there)
    const ref = Float64Array.from([1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]);
    const got = Float32Array.from([1.5, NaN, 3, 4, Infinity, 6, 1, NaN, 3.25, 4, Infinity, 6]);
    const skipCols = Uint8Array.from([0, 1, 0, 0, 1, 0]);
    const one = errorGrid(ref, got, 2, 6, { maxRows: 2, maxCols: 6, metric: 'abs', skipCols });
    expect(one.leftOutCols).toEqual([0, 1, 0, 0, 1, 0]);
    // a left-out cell is 0 (no error measured), never Infinity; min and max are of compared cells
    expect(one.values).toEqual([0.5, 0, 0, 0, 0, 0, 0, 0, 0.25, 0, 0, 0]);
    expect([one.min, one.max]).toEqual([0, 0.5]);
    // cells of 2 features: the one left out is not part of the value, nor the cell's worst element
    const two = errorGrid(ref, got, 2, 6, { maxRows: 2, maxCols: 3, metric: 'abs', skipCols });
    expect(two.cellCols).toBe(2);
    expect(two.leftOutCols).toEqual([1, 0, 1]);
    expect(two.values).toEqual([0.5, 0, 0, 0, 0.25, 0]);
    expect(two.worst.slice(4 * 4, 4 * 4 + 4)).toEqual([1, 2, 3, 3.25]);
    // the relative metric scales each row by its compared features only
    const rel = errorGrid(ref, got, 2, 6, { maxRows: 2, maxCols: 6, metric: 'rel', skipCols });
    expect(rel.values[0]).toBe(0.5 / 6);
    // a region without left-out features, and no mask, carry no count
    const clean = errorGrid(ref, got, 2, 6, {
      maxRows: 2,
      maxCols: 6,
      metric: 'abs',
      colStart: 2,
      colEnd: 4,
      skipCols,
    });
    expect(clean.leftOutCols).toBeUndefined();
    expect(errorGrid(ref, got, 2, 6, { maxRows: 2, maxCols: 6, metric: 'abs' }).leftOutCols).toBeUndefined();
    expect(() =>
      errorGrid(ref, got, 2, 6, { maxRows: 1, maxCols: 1, metric: 'abs', skipCols: new Uint8Array(2) }),
    ).toThrow('skip mask has 2 entries');
  });

  it('a model scan counts them per tensor, in few reads', async () => {
    const f = await GgufFile.open(model);
    try {
      const c = await scanModelScales(f);
      expect([...c!.entries()].sort((x, y) => x[0] - y[0])).toEqual([
        [0, 2],
        [1, 2],
        [2, 0],
      ]);
      expect(await scanModelScales(f, 100)).toBeNull();
    } finally {
      await f.close();
    }
  });

  it('inspect shows "non-finite scales: N blocks" (text and --json)', async () => {
    const r = await cli('inspect', model);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/scales: 2 tensors with non-finite scales/);
    expect(r.out).toMatch(/bad\.q4_k .*yes; non-finite scales: 2 blocks/);
    const j = await cli('inspect', model, '--json');
    const s = JSON.parse(j.out);
    expect(s.tensors.map((t: { nonFiniteBlocks: number }) => t.nonFiniteBlocks)).toEqual([2, 2, 0]);
  });

  it('the engine scans a small model on open: counts and warnings in its summary', async () => {
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      outputCacheBytes: 0,
      records: null,
    });
    try {
      const s = await engine.openModel(model);
      expect(s.tensors.map((t) => t.nonFiniteBlocks)).toEqual([2, 2, 0]);
      expect(s.warnings).toEqual([
        'bad.q4_0: non-finite scales: 2 blocks',
        'bad.q4_k: non-finite scales: 2 blocks',
      ]);
    } finally {
      await engine.dispose();
    }
  });

  it('cpu verify: not comparable with its reason, the clean tensor PASS, exit 0', async () => {
    const json = path.join(dir, 'v.json');
    const md = path.join(dir, 'v.md');
    const html = path.join(dir, 'v.html');
    const r = await cli('verify', model, '--batch', '1,4', '--no-record', '--json', json, '--report', md);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/bad\.q4_0 .*NOT COMPARABLE: non-finite scales: 2 blocks in 2 of 16 weight rows/);
    expect(r.out).toMatch(
      /not comparable bad\.q4_k m=4: non-finite scales: 2 blocks in 2 of 16 weight rows; their 8 outputs are not compared/,
    );
    expect(r.out).toMatch(/2 passed, 0 failed, 0 errors, 4 not comparable of 6/);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    const by = (t: string, m: number) =>
      j.results.find((x: { tensor: string; m: number }) => x.tensor === t && x.m === m);
    for (const m of [1, 4]) {
      for (const t of ['bad.q4_0', 'bad.q4_k']) {
        const x = by(t, m);
        expect(x.status).toBe('not-comparable');
        expect(x.nonFiniteBlocks).toBe(2);
        expect(x.notComparable).toMatch(/non-finite scales: 2 blocks/);
        // the other outputs were judged: finite, within the bar
        expect(x.metrics.count).toBe(m * (N - 2));
        expect(x.metrics.nmse).toBeLessThanOrEqual(1e-8);
      }
      expect(by('good.q4_k', m).status).toBe('pass');
    }
    const report = fs.readFileSync(md, 'utf8');
    expect(report).toMatch(/correctness report — PASS/);
    expect(report).toMatch(/4 not comparable of 6/);
    expect(report).toMatch(/NOT COMPARABLE: non-finite scales: 2 blocks/);
    const h = await cli('verify', model, '--batch', '1', '--no-record', '--report', html, '-t', 'bad.q4_0');
    expect(h.code).toBe(0);
    expect(fs.readFileSync(html, 'utf8')).toMatch(
      /<tr class="not-comparable">.*NOT COMPARABLE: non-finite scales/,
    );
  });

  it("the engine's heatmap of a not-comparable result says which outputs were left out", async () => {
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      records: null,
    });
    try {
      const s = await engine.openModel(model);
      const events: RunEvent[] = [];
      const off = engine.onRunEvent((e) => events.push(e));
      const { runId } = await engine.startRun({
        modelId: s.modelId,
        tensors: ['bad.q4_0', 'good.q4_k'],
        batchSizes: [4],
        backend: 'cpu',
        deviceIndex: 0,
        seed: 1,
        timing: 'none',
        path: 'auto',
        compareUnfused: false,
        threshold: null,
      });
      await engine.waitForRun(runId);
      off();
      const results = events.flatMap((e) => (e.type === 'result' ? [e.result] : []));
      const bad = results.find((r) => r.tensor === 'bad.q4_0')!;
      expect(bad.status).toBe('not-comparable');
      const grid = await engine.errorGrid({ resultId: bad.resultId, maxRows: 4, maxCols: N, metric: 'abs' });
      // weight rows 3 and 7 feed output features 3 and 7
      expect(grid.leftOutCols).toEqual(Array.from({ length: N }, (_, c) => (c === 3 || c === 7 ? 1 : 0)));
      for (let r = 0; r < 4; r++) expect([grid.values[r * N + 3], grid.values[r * N + 7]]).toEqual([0, 0]);
      const good = results.find((r) => r.tensor === 'good.q4_k')!;
      const g2 = await engine.errorGrid({ resultId: good.resultId, maxRows: 4, maxCols: N, metric: 'abs' });
      expect(g2.leftOutCols).toBeUndefined();
      // a pair judged by check: the same
      const w = dequantize(GgmlType.Q4_K, q4k, N, 512);
      const ok = path.join(dir, 'id-grid.f32');
      fs.writeFileSync(ok, new Uint8Array(identityOutput(w, N, 512).buffer));
      const c = await engine.checkPair({
        modelId: s.modelId,
        tensor: 'bad.q4_k',
        input: 'identity',
        output: ok,
        m: 512,
      });
      expect(c.status).toBe('not-comparable');
      const g3 = await engine.errorGrid({ resultId: c.resultId, maxRows: 8, maxCols: N, metric: 'abs' });
      expect(g3.leftOutCols).toEqual(Array.from({ length: N }, (_, i) => (i === 1 || i === 5 ? 1 : 0)));
    } finally {
      await engine.dispose();
    }
  });

  it('check: a right output is not comparable (exit 0); wrong elsewhere is FAIL (exit 1)', async () => {
    const w = dequantize(GgmlType.Q4_K, q4k, N, 512);
    const y = identityOutput(w, N, 512);
    const ok = path.join(dir, 'id-ok.f32');
    fs.writeFileSync(ok, new Uint8Array(y.buffer));
    const r = await cli('check', model, 'bad.q4_k', '--input', 'identity', '--output', ok);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.out).toMatch(/not comparable bad\.q4_k: non-finite scales: 2 blocks in 2 of 16 weight rows/);
    expect(r.out).toMatch(/NOT-COMPARABLE|NOT COMPARABLE/);
    // output feature 0 (weight row 0, finite scales) is wrong for every identity row
    const bad = y.slice();
    for (let e = 0; e < 512; e++) bad[e * N] += 1;
    const wrong = path.join(dir, 'id-bad.f32');
    fs.writeFileSync(wrong, new Uint8Array(bad.buffer));
    const f = await cli('check', model, 'bad.q4_k', '--input', 'identity', '--output', wrong);
    expect(f.code).toBe(1);
    expect(f.out).toMatch(/FAIL/);
  });

  it('a record keeps the reason, and History shows the saved run as the live one: not comparable', async () => {
    const records = path.join(dir, 'records');
    const r = await cli('verify', model, '--batch', '1,4', '--records', records);
    expect(r.code, r.err + r.out).toBe(0);
    const store = new RecordStore(records);
    const [entry] = store.list().records;
    // the record as read back (validated, typed): verdict, reason with its numbers, blocks
    const rec = store.byId(entry.id);
    const saved = rec.results.find((x) => x.tensor === 'bad.q4_k' && x.m === 4)!;
    expect(saved.status).toBe('not-comparable');
    expect(saved.nonFiniteBlocks).toBe(2);
    expect(saved.notComparable).toBe(
      'non-finite scales: 2 blocks in 2 of 16 weight rows; their 8 outputs are not compared',
    );
    expect(entry.counts).toMatchObject({ pass: 2, fail: 0, error: 0, notComparable: 4 });
    // the History view's rows: the same verdicts, counts and verdict lines as the run's own results
    const rows = recordResults(rec);
    expect(countResults(rows)).toMatchObject({ pass: 2, fail: 0, error: 0, 'not-comparable': 4 });
    const row = rows.find((x) => x.tensor === 'bad.q4_k' && x.m === 4)!;
    expect(statusLabel(row.status)).toBe('NOT COMPARABLE');
    expect(row.error).toBeUndefined();
    expect(verdictText(row)).toMatch(
      /^non-finite scales: 2 blocks in 2 of 16 weight rows; their 8 outputs are not compared; the other outputs: NMSE/,
    );
  });

  it("the saved heatmap marks the outputs left out: in the record, History's heatmap and the report", async () => {
    const records = path.join(dir, 'records-heat');
    const r = await cli('verify', model, '--batch', '4', '-t', 'bad.q4_k', '--records', records);
    expect(r.code, r.err + r.out).toBe(0);
    const store = new RecordStore(records);
    const rec = store.byId(store.list().records[0].id);
    const heat = rec.results[0].heatmap!;
    // weight rows 1 and 5 feed output features 1 and 5: one feature per column, as the live grid
    const mask = Array.from({ length: N }, (_, c) => (c === 1 || c === 5 ? 1 : 0));
    for (const metric of ['abs', 'rel'] as const) {
      expect(heat[metric].leftOutCols).toEqual(mask);
      // their errors are in no cell (0, not NaN or infinity), as in the live heatmap
      for (let row = 0; row < heat[metric].rows; row++)
        expect([heat[metric].values[row * N + 1], heat[metric].values[row * N + 5]]).toEqual([0, 0]);
      expect(Number.isFinite(heat[metric].max)).toBe(true);
    }
    // History draws the saved grid with the same grey columns as the live one
    const grid = await readOnlyApi(new FakeApi(), rec as unknown as RunRecordData).errorGrid({
      resultId: `${rec.id}#0`,
      maxRows: 16,
      maxCols: 128,
      metric: 'abs',
    });
    expect([...notComparedColumns(grid)!]).toEqual(mask);
    // the report made from the record: grey columns in its image, said in the caption and legend
    const html = recordReport(rec, 'html').content;
    expect(html).toContain(NOT_COMPARED_LEGEND);
    expect(html).toContain('2 of 16 output columns not compared (grey)');
    const png = Buffer.from(/src="data:image\/png;base64,([^"]+)"/.exec(html)![1], 'base64');
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    const stride = 1 + 3 * N; // a filter byte, then 3 bytes a pixel
    for (let row = 0; row < heat.abs.rows; row++)
      for (let c = 0; c < N; c++) {
        const px = raw.subarray(row * stride + 1 + c * 3, row * stride + 4 + c * 3);
        expect([...px].join() === '128,128,128', `row ${row} column ${c}`).toBe(mask[c] === 1);
      }
  });

  it("a FAIL's weight map leaves out the weight rows whose outputs were left out: the engine's grid, the app's count, the report", async () => {
    // bad.q4_k: weight rows 1 and 5 have a non-finite scale; weight row 0 comes out one too large
    const w = dequantize(GgmlType.Q4_K, q4k, N, 512);
    const y = identityOutput(w, N, 512);
    for (let e = 0; e < 512; e++) y[e * N] += 1;
    const wrong = path.join(dir, 'id-wmap.f32');
    fs.writeFileSync(wrong, new Uint8Array(y.buffer));
    const mask = Array.from({ length: N }, (_, j) => (j === 1 || j === 5 ? 1 : 0));
    const engine = new EngineService({
      mode: 'cli',
      samplesDir: dir,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
      records: null,
    });
    try {
      const s = await engine.openModel(model);
      const c = await engine.checkPair({
        modelId: s.modelId,
        tensor: 'bad.q4_k',
        input: 'identity',
        output: wrong,
        m: 512,
      });
      expect(c.status).toBe('fail');
      expect(c.weightMap).toMatchObject({ n: N, k: 512, rowsLeftOut: 2 });
      // the diagnosis rests on the compared rows: 14 of them, one wrong
      expect(c.diagnosis?.evidence).toContain(
        '2 weight rows not compared (non-finite block scales; their outputs were left out)',
      );
      expect(c.diagnosis?.evidence[0]).toMatch(
        / of 7168 probed weights wrong \(512 elements of each of 14 rows\), in 1 rows$/,
      );
      for (const metric of ['abs', 'rel'] as const) {
        const g = await engine.weightGrid({ resultId: c.resultId, maxRows: N, maxCols: 64, metric });
        expect(g.leftOutRows).toEqual(mask);
        expect([...notComparedRows(g)!]).toEqual(mask);
        // the rows left out are in no cell: 0, not the NaN or infinity of their scales
        for (const j of [1, 5])
          expect(g.values.slice(j * g.cols, (j + 1) * g.cols).every((v) => v === 0)).toBe(true);
        expect(Number.isFinite(g.max) && g.max > 0).toBe(true);
      }
      // two weight rows to a cell: row 1 shares its cell with row 0 (counted, not grey)
      const half = await engine.weightGrid({ resultId: c.resultId, maxRows: 8, maxCols: 64, metric: 'abs' });
      expect(half.leftOutRows).toEqual([1, 0, 1, 0, 0, 0, 0, 0]);
      expect(notComparedRows(half)).toBeNull();
      // a region without those rows carries no count
      const away = await engine.weightGrid({
        resultId: c.resultId,
        rowStart: 8,
        rowEnd: 16,
        maxRows: 8,
        maxCols: 64,
        metric: 'abs',
      });
      expect(away.leftOutRows).toBeUndefined();
    } finally {
      await engine.dispose();
    }
    // check --report: the weight map's image greys those rows, its caption and the legend say so;
    // the Markdown report's heatmap table counts them
    const html = path.join(dir, 'wmap.html');
    const md = path.join(dir, 'wmap.md');
    for (const out of [html, md]) {
      const r = await cli(
        'check',
        model,
        'bad.q4_k',
        '--input',
        'identity',
        '--output',
        wrong,
        '--report',
        out,
      );
      expect(r.code, r.err + r.out).toBe(1);
    }
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toContain('2 of 16 weight rows not compared (grey)</figcaption>');
    expect(page).toContain(NOT_COMPARED_ROWS_LEGEND);
    const pngs = [...page.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((x) =>
      Buffer.from(x[1], 'base64'),
    );
    expect(pngs).toHaveLength(2);
    const png = pngs[1];
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(height).toBe(N);
    const idat = png.indexOf('IDAT');
    const raw = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)));
    const stride = 1 + 3 * width;
    for (let row = 0; row < height; row++) {
      const grey = [...raw.subarray(row * stride + 1, (row + 1) * stride)].every((b) => b === 128);
      expect(grey, `weight row ${row}`).toBe(mask[row] === 1);
    }
    const text = fs.readFileSync(md, 'utf8');
    expect(text).toContain('## Heatmaps');
    expect(text).toMatch(/^\| output \| bad\.q4\\_k m=512 \| .* \| 2 of 16 output columns \|$/m);
    expect(text).toMatch(
      /^\| weights \| bad\.q4\\_k m=512 \| 16×128 of 1×4 \(16×512\) \| .*weight row 0 × elements \d+–\d+ \(block \d\).* \| 2 of 16 weight rows \|$/m,
    );
  });
});
