/**
 * A saved run's report, made from its record: `quantscope records <id> --report F` and the engine's
 * exportRecordReport (History's Export) write what the run's own --report wrote, as far as the record
 * keeps it: the same verdict, model, device, settings, counts and result rows, with the heatmaps and
 * weight maps the record kept. Bench records give their bench report; selftest records have none.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src-main/engine/records/build';
import { RECORDING_OFF } from '../../src-main/engine/records/access';
import { RecordStore } from '../../src-main/engine/records/store';
import { recordReport } from '../../src-main/engine/report/record-report';
import { EngineService } from '../../src-main/engine/service';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { parseApiArgs } from '../../src-shared/contract';
import { cli } from '../cli/helpers';

const SAMPLE = path.resolve(__dirname, '../../samples/tiny.gguf');

let dir: string;
let records: string;
let live: string;
let id: string;

const engineWith = (store: RecordStore | null) =>
  new EngineService({
    mode: 'browser',
    samplesDir: '/',
    modelDirs: [],
    restrictToDirs: true,
    workerThreads: 1,
    records: store,
  });

/**
 * The lines of a Markdown report that describe the run, without when and where the report was made.
 * A record gives back all of them, the heatmap table's weights rows included: the record keeps each
 * weight map as the same grid (16 x 128 cells at most, 4 significant digits) the run's own report
 * summarises, so nothing differs by downsampling.
 */
const runLines = (md: string) => md.split('\n').filter((l) => !l.startsWith('- Run '));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-record-report-'));
  records = path.join(dir, 'records');
  live = path.join(dir, 'live.md');
  // one run writes its own report and its record
  const r = await cli(
    'verify',
    SAMPLE,
    '--tensors',
    'blk.0.attn_*',
    '--batch',
    '1,4',
    '--threshold',
    '1.75e-14',
    '--records',
    records,
    '--report',
    live,
  );
  expect([0, 1], r.err + r.out).toContain(r.code);
  [{ id }] = new RecordStore(records).list().records;
}, 120_000);

afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

describe("a saved run's report", () => {
  it('records <id> --report writes what the run wrote: verdict, model, device, settings, counts, rows', async () => {
    const saved = path.join(dir, 'saved.md');
    const r = await cli('records', id, '--records', records, '--report', saved);
    expect(r.code, r.err).toBe(0);
    const was = fs.readFileSync(live, 'utf8');
    const now = fs.readFileSync(saved, 'utf8');
    expect(now).toMatch(/^# QuantScope correctness report — (PASS|FAIL)\n/);
    expect(now).toContain('- Model: tiny.gguf (llama, QuantScope Tiny Llama \\(synthetic\\), ');
    expect(now).toContain('threshold 1.75e-14');
    // blk.0.attn_* is five tensors, at two batch sizes
    expect(now.split('\n').filter((l) => l.startsWith('| blk.0.attn\\_'))).toHaveLength(10);
    expect(runLines(now)).toEqual(runLines(was));
    // the heatmaps the record kept are summarised, one table row per result, and each failure's
    // weight map (the probed weights) one row more, as the run's own report has them
    expect(now.split('\n').filter((l) => l.startsWith('| output | blk.0.attn\\_'))).toHaveLength(10);
    const weightRows = (md: string) => md.split('\n').filter((l) => l.startsWith('| weights | '));
    expect(weightRows(now).length).toBeGreaterThan(0);
    expect(weightRows(now)).toEqual(weightRows(was));
    // the record's own facts: its id, when the run started and ended, the QuantScope that made it
    expect(now).toMatch(
      new RegExp(`^- Run ${id}, \\d{4}-\\d\\d-\\d\\dT.* → \\d{4}-\\d\\d-\\d\\dT.*; QuantScope `, 'm'),
    );
  });

  it('the engine makes the same file for the app, with the heatmaps the record kept', async () => {
    const svc = engineWith(new RecordStore(records));
    try {
      const md = await svc.exportRecordReport({ id, format: 'md' });
      expect(md.fileName).toMatch(/^quantscope-tiny-cpu-.*\.md$/);
      expect(runLines(md.content)).toEqual(runLines(fs.readFileSync(live, 'utf8')));
      const html = await svc.exportRecordReport({ id, format: 'html' });
      expect(html.content).toContain('<h2>Heatmaps</h2>');
      // an output heatmap per result, and a weight map per failure that has one
      const weightMaps = md.content.split('\n').filter((l) => l.startsWith('| weights | ')).length;
      expect(weightMaps).toBeGreaterThan(0);
      expect(html.content.match(/<img class="map"/g)).toHaveLength(10 + weightMaps);
      expect(html.content.match(/<img class="map" alt="weight map /g)).toHaveLength(weightMaps);
      const json = JSON.parse((await svc.exportRecordReport({ id, format: 'json' })).content);
      expect(json).toMatchObject({ schema: 'quantscope-report/1', runId: id, counts: { total: 10 } });
      // named by id only; a selftest record has no report; recording off refuses with its sentence
      expect(() => parseApiArgs('exportRecordReport', [{ id: '../x', format: 'md' }])).toThrow(/record id/);
      const st = buildRecord({
        kind: 'selftest',
        device: null,
        model: null,
        request: {},
        status: 'done',
        results: [],
        selftest: { rows: [] },
      });
      new RecordStore(records).save(st);
      await expect(svc.exportRecordReport({ id: st.id, format: 'html' })).rejects.toThrow(
        `record ${st.id} is a selftest record: it has no report`,
      );
    } finally {
      await svc.dispose();
    }
    const off = engineWith(null);
    await expect(off.exportRecordReport({ id, format: 'md' })).rejects.toThrow(RECORDING_OFF);
    await off.dispose();
  });

  it("a failing check's saved report draws the weight map its own report drew: the same table rows and image", async () => {
    // the weights as dequantized, then an identity output with the halves of every 64 elements
    // exchanged: a wrong weight map everywhere, and worse in some cells than in others
    const tensor = 'blk.0.ffn_up.weight'; // Q4_K, k 512, n 1024
    const [n, k] = [1024, 512];
    const wPath = path.join(dir, 'w.f32');
    const dq = await cli('dequant', SAMPLE, tensor, '--out', wPath, '--force');
    expect(dq.code, dq.err).toBe(0);
    const buf = fs.readFileSync(wPath);
    const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(w.length).toBe(n * k);
    const y = new Float32Array(k * n); // y[r][j] = weight j, element r
    for (let j = 0; j < n; j++)
      for (let r = 0; r < k; r++) y[r * n + j] = w[j * k + (r % 64 < 32 ? r + 32 : r - 32)];
    const wrong = path.join(dir, 'wrong.f32');
    fs.writeFileSync(wrong, new Uint8Array(y.buffer));
    const checkRecords = path.join(dir, 'check-records');
    const liveMd = path.join(dir, 'check.md');
    const liveHtml = path.join(dir, 'check.html');
    for (const out of [liveMd, liveHtml]) {
      const r = await cli(
        'check',
        SAMPLE,
        tensor,
        '--input',
        'identity',
        '--output',
        wrong,
        '--records',
        checkRecords,
        '--report',
        out,
      );
      expect(r.code, r.err + r.out).toBe(1);
    }
    const store = new RecordStore(checkRecords);
    const rec = store.byId(store.list().records[0].id);
    const grid = rec.results[0].weightMap?.grid;
    expect(grid?.abs).toMatchObject({ m: n, n: k, rows: 16, cols: 128, cellRows: 64, cellCols: 4 });
    expect(grid!.abs.max).toBeGreaterThan(0);
    // the Markdown heatmap table: the same output and weights rows, the weights' cells named by rows,
    // elements and blocks
    const table = (md: string) => md.split('\n').filter((l) => /^\| (output|weights) \| /.test(l));
    const saved = recordReport(rec, 'md').content;
    expect(table(saved)).toEqual(table(fs.readFileSync(liveMd, 'utf8')));
    expect(table(saved)[1]).toMatch(
      /^\| weights \| blk\.0\.ffn\\_up\.weight m=512 \| 16×128 of 64×4 \(1024×512\) \| .* \| weight rows \d+–\d+ × elements \d+–\d+ \(block \d\)/,
    );
    // the HTML report: the same weight map image, with the same caption
    const figure = (html: string) =>
      /<figure><img class="map" alt="weight map [^]*?<\/figure>/.exec(html)?.[0];
    const savedHtml = recordReport(rec, 'html').content;
    expect(figure(savedHtml)).toBeDefined();
    expect(figure(savedHtml)).toBe(figure(fs.readFileSync(liveHtml, 'utf8')));
    // the JSON report: the map once, in its maps, and the result with the map's geometry alone
    const json = JSON.parse(recordReport(rec, 'json').content);
    expect(json.maps[`${rec.id}#0`].weights).toEqual(grid!.abs);
    expect(json.results[0].weightMap).toMatchObject({ n, k });
    expect(json.results[0].weightMap.grid).toBeUndefined();
  });

  it('an older record, without the model name or start time, still makes its report', () => {
    const old = buildRecord({
      kind: 'verify',
      device: null,
      model: { fileName: 'm.gguf', fileSize: 10, tensorsHash: null },
      request: { batchSizes: [1], seed: 1, timing: 'none', path: 'auto', threshold: null },
      status: 'done',
      results: [
        {
          tensor: 't',
          type: 'Q4_K',
          n: 4,
          k: 256,
          m: 1,
          status: 'not-comparable',
          path: 'cpu-f32',
          notComparable:
            'non-finite scales: 1 blocks in 1 of 4 weight rows; their 1 outputs are not compared',
          metrics: { nmse: 1e-15 },
          timing: null,
          diagnosis: null,
        },
      ],
    });
    const store = new RecordStore(path.join(dir, 'old'));
    store.save(old);
    const svc = engineWith(store);
    return svc
      .exportRecordReport({ id: old.id, format: 'md' })
      .then((r) => {
        expect(r.content).toContain('- Model: m.gguf (unknown architecture, 10 B)');
        expect(r.content).toMatch(/^- Run .*, start not recorded → /m);
        // the bar the record did not keep is left empty
        expect(r.content).toMatch(/\| 1\.00e-15 \| — \|/);
        expect(r.content).toContain('NOT COMPARABLE: non-finite scales: 1 blocks');
      })
      .finally(() => svc.dispose());
  });
});
