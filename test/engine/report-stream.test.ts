/**
 * Reports written from results that are not held in memory: a spool file of results read back one
 * at a time gives exactly the report the array gives (NaN and infinite metrics included), and a
 * table written in batches has one head and the columns of the whole.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  renderReport,
  reportChunks,
  reportSource,
  resultStats,
  type ReportInput,
} from '../../src-main/engine/report/report';
import { ResultSpool } from '../../src-main/engine/report/spool';
import { StreamedTable, tableLines } from '../../src-main/engine/cli/table';
import { checkOutputs, writeOutputChunks } from '../../src-main/engine/output-path';
import type { TensorResult } from '../../src-shared/contract';
import { Capture } from '../cli/helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-stream-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function result(i: number, over: Partial<TensorResult> = {}): TensorResult {
  return {
    resultId: `r:t${i}:1`,
    runId: 'r',
    tensor: `blk.${i}.ffn_down.weight µ ✓ 𝔘 <${'x'.repeat(i % 50)}>`,
    type: 'Q4_K',
    n: 4096,
    k: 14336,
    m: 1,
    backend: 'cuda',
    device: 'cuda:0 H100',
    path: 'fused-small-f32',
    status: 'pass',
    threshold: 1e-8,
    metrics: {
      nmse: 3e-14,
      maxAbsErr: 1e-6,
      maxRelErr: 1e-7,
      nanMismatches: 0,
      infMismatches: 0,
      count: 4096,
      worst: null,
    },
    timing: {
      protocol: 'cold',
      medianUs: 32 + (i % 9),
      minUs: 31,
      maxUs: 40,
      spread: 0.02,
      samples: 20,
      weightCopies: 8,
      gbps: 1031 - (i % 13),
      tflops: 3.7,
      pctPeak: 31,
      pctCopy: 36,
    },
    unfused: null,
    weightBytes: 33030144,
    gridAvailable: false,
    elapsedMs: 10,
    ...over,
  };
}

function input(results: TensorResult[]): ReportInput {
  return {
    runId: 'r',
    createdAt: '2026-11-26T23:00:00.000Z',
    startedAt: '2026-11-26T22:59:00.000Z',
    appVersion: '0.1.0',
    host: 'test',
    model: { fileName: 'm.gguf', path: '/m.gguf', fileSize: 1e9, architecture: 'llama', name: null },
    device: null,
    backend: 'cuda',
    request: {
      batchSizes: [1],
      seed: 1,
      timing: 'cold',
      path: 'auto',
      threshold: null,
      tensors: results.length,
    },
    status: 'done',
    results,
    maps: {},
  };
}

describe('results spool', () => {
  it('reads back, as often as asked, what was appended: non-finite numbers and characters split between reads included', () => {
    // a few MB, so lines and multi-byte characters straddle the 1 MiB reads
    const results = Array.from({ length: 4000 }, (_, i) =>
      result(
        i,
        i % 1000 === 7
          ? {
              status: 'fail',
              metrics: { ...result(0).metrics!, nmse: NaN, maxAbsErr: Infinity, maxRelErr: -Infinity },
              diagnosis: { class: 'nibble-order', sentence: 'halves swapped', evidence: ['row 0'] },
              unfused: { timing: null, metrics: null, error: 'no unfused path' },
            }
          : i % 1000 === 8
            ? { status: 'error', error: 'out of memory', metrics: null, timing: null }
            : {},
      ),
    );
    const spool = ResultSpool.create();
    try {
      spool.append(results.slice(0, 2500));
      spool.append(results.slice(2500));
      expect(spool.count).toBe(results.length);
      expect(spool.stats).toEqual(resultStats(results));
      const back = [...spool];
      expect(back).toEqual(results);
      expect(back[7].metrics?.nmse).toBeNaN();
      expect(back[7].metrics?.maxRelErr).toBe(-Infinity);
      expect([...spool].length).toBe(results.length);

      // every format, from the spool, is the report the array gives
      const src = reportSource(input(results));
      for (const f of ['json', 'md', 'html'] as const)
        expect([...reportChunks({ ...src, results: spool, stats: spool.stats }, f)].join('')).toBe(
          renderReport(input(results), f),
        );
    } finally {
      spool.close();
    }
  });

  it('writes a report to its output in pieces, through a temporary file', async () => {
    const results = Array.from({ length: 50 }, (_, i) => result(i));
    const [out] = await checkOutputs([{ option: '--report', path: path.join(dir, 'r.md') }]);
    await writeOutputChunks(out, reportChunks(reportSource(input(results)), 'md'));
    expect(fs.readFileSync(path.join(dir, 'r.md'), 'utf8')).toBe(renderReport(input(results), 'md'));
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('a table written in batches', () => {
  const head = ['name', 'n'];
  const numeric = [false, true];

  it('one batch is the whole table', () => {
    const rows = [
      ['a', '1'],
      ['bbbb', '22'],
    ];
    const out = new Capture();
    new StreamedTable(out, head, numeric).write(rows);
    expect(out.text).toBe(tableLines(head, rows, numeric).join('\n') + '\n');
  });

  it('the head comes once; widths known beforehand hold later rows; a wider cell pushes only its row', () => {
    const out = new Capture();
    const t = new StreamedTable(out, head, numeric, [6, 0]);
    t.write([['a', '1']]);
    t.write([['abcdef', '2']]);
    t.write([['abcdefgh', '3']]);
    expect(out.text.split('\n')).toEqual([
      'name    n',
      '------  -',
      'a       1',
      'abcdef  2',
      'abcdefgh  3',
      '',
    ]);
    const empty = new Capture();
    new StreamedTable(empty, head, numeric).end();
    expect(empty.text).toBe('name  n\n----  -\n');
  });
});
