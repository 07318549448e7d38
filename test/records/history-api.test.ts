/**
 * The records as the app reaches them through the contract: EngineService's listRecords,
 * openRecord, compareRecords and exportComparison over a temporary RecordStore of made-up records,
 * the same methods with recording off, the id rule that keeps paths out, and the comparison report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildRecord } from '../../src-main/engine/records/build';
import type { RecordResult, RunRecord } from '../../src-main/engine/records/schema';
import { RecordStore } from '../../src-main/engine/records/store';
import { EngineService } from '../../src-main/engine/service';
import { RECORDING_OFF } from '../../src-main/engine/records/access';
import { escapeHtml } from '../../src-main/engine/report/compare-report';
import { startServer } from '../../src-main/engine/server/serve';
import { NotFoundError, wireParse } from '../../src-shared/contract';

function result(
  tensor: string,
  m: number,
  status: RecordResult['status'],
  us: number,
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
    timing: { protocol: 'hot', medianUs: us, spread: 0.01 },
  };
}

function record(at: string, results: RecordResult[], device = 'NVIDIA H200', model = 'm.gguf'): RunRecord {
  return buildRecord({
    kind: 'verify',
    createdAt: new Date(at),
    device: { backend: 'cuda', index: 0, name: device, arch: 'sm_90', details: { driverVersion: '580.1' } },
    model: { fileName: model, fileSize: 1000, tensorsHash: 'ab'.repeat(32) },
    request: { batchSizes: [1, 8], seed: 1, timing: 'hot', path: 'auto' },
    status: 'done',
    results,
  });
}

const engineWith = (records: RecordStore | null) =>
  new EngineService({
    mode: 'browser',
    samplesDir: '/',
    modelDirs: [],
    restrictToDirs: true,
    workerThreads: 1,
    records,
  });

describe('records through the engine', () => {
  let dir: string;
  let store: RecordStore;
  let svc: EngineService;
  let old: RunRecord;
  let now: RunRecord;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-history-'));
    store = new RecordStore(dir);
    // the same work (the same tensors ran, on the same weights): one row is only in the candidate
    old = record('2026-11-01T10:00:00Z', [
      result('blk.0.attn_q.weight', 1, 'pass', 10),
      result('blk.0.attn_q.weight', 8, 'pass', 20),
      result('blk.0.ffn_up.weight', 1, 'pass', 30),
      result('<script>alert(1)</script>', 8, 'pass', 5),
    ]);
    now = record(
      '2026-12-01T10:00:00Z',
      [
        result('blk.0.attn_q.weight', 1, 'fail', 10, 1e-3),
        result('blk.0.attn_q.weight', 8, 'pass', 30),
        result('blk.0.ffn_up.weight', 1, 'pass', 15),
        result('<script>alert(1)</script>', 1, 'pass', 5),
      ],
      'NVIDIA <b>H100</b>',
    );
    store.save(old);
    store.save(now);
    fs.writeFileSync(path.join(dir, 'broken.json'), '{ not json');
    svc = engineWith(store);
  });
  afterAll(async () => {
    await svc.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists every record newest first, with the damaged file and its reason', async () => {
    const l = await svc.listRecords();
    expect(l.recording).toBe(true);
    expect(l.records.map((r) => r.id)).toEqual([now.id, old.id]);
    expect(l.records[0]).toMatchObject({
      kind: 'verify',
      model: 'm.gguf',
      device: 'cuda:0 NVIDIA <b>H100</b>',
      counts: { total: 4, pass: 3, fail: 1, error: 0 },
    });
    expect(l.records[0]).not.toHaveProperty('file');
    expect(l.skipped).toEqual([{ file: 'broken.json', reason: 'broken.json: damaged (not valid JSON)' }]);
  });

  it('opens a record by id, validated', async () => {
    const r = await svc.openRecord(old.id);
    expect(r.id).toBe(old.id);
    expect(r.results).toHaveLength(4);
    expect(r.device?.driverVersion).toBe('580.1');
  });

  it('refuses paths and unknown ids with one line', async () => {
    await expect(svc.openRecord('../etc/passwd')).rejects.toThrow(/^openRecord: invalid .*record id/);
    await expect(svc.openRecord('/tmp/x.json')).rejects.toThrow(/record id/);
    await expect(svc.openRecord('nope')).rejects.toThrow("no record 'nope' in the records folder");
    await expect(svc.openRecord('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(svc.compareRecords({ baseline: old.id, candidate: 'a/b' })).rejects.toThrow(
      /^compareRecords: invalid candidate/,
    );
  });

  it('finds a record whose file was renamed by hand, by the id inside it', async () => {
    const moved = record('2026-10-01T10:00:00Z', [result('blk.0.attn_q.weight', 1, 'pass', 10)]);
    fs.writeFileSync(path.join(dir, 'renamed.json'), JSON.stringify(moved));
    try {
      expect((await svc.openRecord(moved.id)).createdAt).toBe('2026-10-01T10:00:00.000Z');
    } finally {
      fs.rmSync(path.join(dir, 'renamed.json'));
    }
  });

  it('compares two records: new failure, slower and faster, regressions first', async () => {
    const c = await svc.compareRecords({ baseline: old.id, candidate: now.id });
    expect(c.regressed).toBe(true);
    expect(c.verdict).toBe('regressed');
    expect(c.different).toBeNull();
    expect(c.rows.map((r) => [r.tensor, r.m, r.verdict])).toEqual([
      ['blk.0.attn_q.weight', 1, 'new-failure'],
      ['<script>alert(1)</script>', 8, 'missing'],
      ['blk.0.attn_q.weight', 8, 'slower'],
      ['blk.0.ffn_up.weight', 1, 'faster'],
      ['<script>alert(1)</script>', 1, 'new'],
    ]);
    expect(c.rows[2]).toMatchObject({ speedRatio: 1.5, noise: 0.05 });
    // a wide tolerance turns the slowdown into noise
    const loose = await svc.compareRecords({ baseline: old.id, candidate: now.id, speedTolerance: 0.6 });
    expect(loose.rows.find((r) => r.tensor === 'blk.0.attn_q.weight' && r.m === 8)?.verdict).toBe('same');
    await expect(svc.compareRecords({ baseline: old.id, candidate: old.id })).rejects.toThrow(
      'pick two different records',
    );
  });

  it('exports the comparison as self-contained HTML, everything from the records escaped', async () => {
    const rep = await svc.exportComparison({ baseline: old.id, candidate: now.id, format: 'html' });
    expect(rep.fileName).toBe(`quantscope-compare-${old.id}-vs-${now.id}.html`);
    const html = rep.content;
    expect(html.indexOf('REGRESSED')).toBeLessThan(html.indexOf('What was compared'));
    expect(html.indexOf('What was compared')).toBeLessThan(html.indexOf('Per tensor and batch size'));
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('NVIDIA &lt;b&gt;H100&lt;/b&gt;');
    expect(html).toContain('580.1');
    expect(html).toContain('ab'.repeat(32));
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toContain('<svg');
  });

  it('exports the comparison as JSON', async () => {
    const rep = await svc.exportComparison({ baseline: old.id, candidate: now.id, format: 'json' });
    const j = JSON.parse(rep.content);
    expect(j).toMatchObject({ schema: 'quantscope-comparison/1', verdict: 'REGRESSED', regressed: true });
    expect(j.baseline.device).toMatchObject({ name: 'cuda:0 NVIDIA H200', driverVersion: '580.1' });
    expect(j.rows).toHaveLength(5);
  });

  it('says "no regression" when nothing got worse', async () => {
    const again = record('2026-12-02T10:00:00Z', old.results);
    store.save(again);
    const ok = await svc.exportComparison({ baseline: old.id, candidate: again.id, format: 'html' });
    expect(ok.content).toMatch(/<h1[^>]*>no regression<\/h1>/);
  });

  it('exports records that are not of the same work with no verdict, each difference named, both thresholds', async () => {
    const strict = buildRecord({
      ...old,
      createdAt: new Date('2026-12-03T10:00:00Z'),
      request: { ...old.request, threshold: 1.75e-14 },
      results: old.results.map((r) => ({ ...r, threshold: 1.75e-14 })),
    });
    const loose = buildRecord({
      ...old,
      createdAt: new Date('2026-12-03T09:00:00Z'),
      request: { ...old.request, threshold: 1.5e-14 },
      results: old.results.map((r) => ({ ...r, threshold: 1.5e-14 })),
    });
    store.save(strict);
    store.save(loose);
    const html = (await svc.exportComparison({ baseline: loose.id, candidate: strict.id, format: 'html' }))
      .content;
    expect(html).toMatch(/<h1[^>]*data-verdict="not-same-work"[^>]*>not the same work: no verdict<\/h1>/);
    expect(html).toContain('<li>the thresholds differ (1.5e-14 vs 1.75e-14)</li>');
    expect(html).toContain('<th class="num">Threshold was</th><th class="num">Threshold now</th>');
    expect(html).toContain('<td class="num">1.50e-14</td><td class="num">1.75e-14</td>');
    expect(html).not.toMatch(/REGRESSED|no regression<\/h1>/);
    const j = JSON.parse(
      (await svc.exportComparison({ baseline: loose.id, candidate: strict.id, format: 'json' })).content,
    );
    expect(j).toMatchObject({
      verdict: 'not the same work: no verdict',
      differences: ['the thresholds differ (1.5e-14 vs 1.75e-14)'],
    });
    expect(j.baseline.request).toMatchObject({ threshold: 1.5e-14 });
  });
});

describe('records in browser mode', () => {
  it('the server answers from the engine records folder and refuses paths', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-history-srv-'));
    const store = new RecordStore(path.join(dir, 'records'));
    const a = record('2026-11-01T10:00:00Z', [result('t', 1, 'pass', 10)]);
    store.save(a);
    fs.writeFileSync(path.join(dir, 'outside.json'), JSON.stringify(a));
    const engine = engineWith(store);
    const srv = await startServer({
      host: '127.0.0.1',
      port: 0,
      modelDirs: [dir],
      samplesDir: dir,
      uiDir: dir,
      token: 'history-token-0123',
      engine,
    });
    const post = async (method: string, args: unknown[]) => {
      const res = await fetch(`http://127.0.0.1:${srv.port}/api/${method}`, {
        method: 'POST',
        headers: { Authorization: 'Bearer history-token-0123', 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
      return { status: res.status, body: wireParse<Record<string, unknown>>(await res.text()) };
    };
    try {
      const list = await post('listRecords', []);
      expect(list.status).toBe(200);
      expect((list.body.records as { id: string }[]).map((r) => r.id)).toEqual([a.id]);
      expect((await post('openRecord', [a.id])).body.id).toBe(a.id);
      for (const bad of ['../outside', path.join(dir, 'outside.json'), 'outside.json/..']) {
        const res = await post('openRecord', [bad]);
        expect(res.status, bad).toBe(400);
        expect(res.body.message).toMatch(/^openRecord: invalid .*record id/);
      }
    } finally {
      await srv.close();
      await engine.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('records with recording off', () => {
  it('lists nothing and says why; the rest refuse with the same sentence', async () => {
    const svc = engineWith(null);
    try {
      expect(await svc.listRecords()).toEqual({
        recording: false,
        note: RECORDING_OFF,
        records: [],
        skipped: [],
      });
      await expect(svc.openRecord('x')).rejects.toThrow(RECORDING_OFF);
      await expect(svc.compareRecords({ baseline: 'a', candidate: 'b' })).rejects.toThrow(RECORDING_OFF);
      await expect(svc.exportComparison({ baseline: 'a', candidate: 'b', format: 'json' })).rejects.toThrow(
        RECORDING_OFF,
      );
    } finally {
      await svc.dispose();
    }
  });
});

describe('escapeHtml', () => {
  it('leaves no character that opens markup or ends an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
