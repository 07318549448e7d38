/**
 * A saved run's report, made from its record: `quantscope records <id> --report F` and the engine's
 * exportRecordReport (History's Export) write what the run's own --report wrote, as far as the record
 * keeps it: the same verdict, model, device, settings, counts and result rows, with the heatmaps the
 * record kept. Bench records give their bench report; selftest records have none.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src-main/engine/records/build';
import { RECORDING_OFF } from '../../src-main/engine/records/access';
import { RecordStore } from '../../src-main/engine/records/store';
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

/** The lines of a Markdown report that describe the run, without when and where the report was made. */
const runLines = (md: string) => md.split('\n').filter((l) => !l.startsWith('- Run '));

/**
 * The lines of the run's own Markdown report that its record can give back: all of runLines but the
 * weight maps' rows of the heatmap table (a record keeps no weight map).
 */
const recordedLines = (md: string) => runLines(md).filter((l) => !l.startsWith('| weights | '));

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
    expect(runLines(now)).toEqual(recordedLines(was));
    // the heatmaps the record kept are summarised, one table row per result
    expect(now.split('\n').filter((l) => l.startsWith('| output | blk.0.attn\\_'))).toHaveLength(10);
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
      expect(runLines(md.content)).toEqual(recordedLines(fs.readFileSync(live, 'utf8')));
      const html = await svc.exportRecordReport({ id, format: 'html' });
      expect(html.content).toContain('<h2>Heatmaps</h2>');
      expect(html.content.match(/<img class="map"/g)).toHaveLength(10);
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
