/**
 * A record keeps at most RECORD_RESULTS results: every result that is not a pass first, then the
 * first passes, and the counts of what it left out. History counts the whole run, and a comparison
 * reads a row such a record lacks as a pass.
 */
import { describe, expect, it } from 'vitest';
import { RECORD_RESULTS, RecordResults, buildRecord } from '../../src-main/engine/records/build';
import { compareRecords } from '../../src-main/engine/records/compare';
import { parseRecord, recordCounts, type RecordResult } from '../../src-main/engine/records/schema';

function row(tensor: string, status: RecordResult['status'], us = 10): RecordResult {
  return {
    tensor,
    type: 'Q4_K',
    n: 64,
    k: 256,
    m: 1,
    status,
    path: 'fused-small-q8',
    metrics: { nmse: status === 'pass' ? 1e-14 : 1e-3 },
    timing: { protocol: 'hot', medianUs: us, spread: 0.01 },
  };
}

function record(rows: RecordResult[], max: number) {
  const kept = new RecordResults<RecordResult>(max);
  for (const r of rows) kept.add(r);
  const omitted = kept.omitted();
  return parseRecord(
    buildRecord({
      kind: 'verify',
      device: null,
      model: { fileName: 'm.gguf', fileSize: 1, tensorsHash: null },
      request: { batchSizes: [1] },
      status: 'done',
      results: kept.rows(),
      ...(omitted ? { extra: { omittedResults: omitted } } : {}),
    }),
  );
}

describe('bounded records', () => {
  it('keeps every result while they fit, and then the ones that are not a pass first, in run order', () => {
    expect(RECORD_RESULTS).toBeGreaterThanOrEqual(20_000);
    const small = new RecordResults<RecordResult>(5);
    for (const s of ['pass', 'fail', 'pass'] as const) small.add(row(s, s));
    expect(small.rows().map((r) => r.status)).toEqual(['pass', 'fail', 'pass']);
    expect(small.omitted()).toBeNull();

    const kept = new RecordResults<RecordResult>(4);
    const statuses = [
      'pass',
      'pass',
      'fail',
      'pass',
      'pass',
      'error',
      'not-comparable',
      'pass',
      'fail',
      'fail',
    ];
    statuses.forEach((s, i) => kept.add(row(`t${i}`, s as RecordResult['status'])));
    // four slots: the first four results that are not a pass (t2, t5, t6, t8); t9 and the passes go
    expect(kept.rows().map((r) => r.tensor)).toEqual(['t2', 't5', 't6', 't8']);
    expect(kept.omitted()).toEqual({ pass: 5, fail: 1, error: 0, notComparable: 0 });

    const mostlyPass = new RecordResults<RecordResult>(3);
    ['pass', 'pass', 'pass', 'pass', 'fail', 'pass'].forEach((s, i) =>
      mostlyPass.add(row(`t${i}`, s as RecordResult['status'])),
    );
    expect(mostlyPass.rows().map((r) => r.tensor)).toEqual(['t0', 't1', 't4']);
    expect(mostlyPass.omitted()).toEqual({ pass: 3, fail: 0, error: 0, notComparable: 0 });
  });

  it('counts the whole run, the left-out results included, and passes the schema', () => {
    const rec = record(
      Array.from({ length: 10 }, (_, i) => row(`t${i}`, i === 7 ? 'fail' : 'pass')),
      4,
    );
    expect(rec.results).toHaveLength(4);
    expect(rec.omittedResults).toEqual({ pass: 6, fail: 0, error: 0, notComparable: 0 });
    expect(recordCounts(rec)).toEqual({ total: 10, pass: 9, fail: 1, error: 0, notComparable: 0 });
  });

  it('compares a row a record left out as a pass, without timing', () => {
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    // baseline: t7 failed; candidate: t7 passes (left out) and t8 newly fails
    const baseline = record(
      names.map((n) => row(n, n === 't7' ? 'fail' : 'pass')),
      3,
    );
    const candidate = record(
      names.map((n) => row(n, n === 't8' ? 'fail' : 'pass')),
      3,
    );
    expect(baseline.results.map((r) => r.tensor)).toEqual(['t0', 't1', 't7']);
    expect(candidate.results.map((r) => r.tensor)).toEqual(['t0', 't1', 't8']);
    const cmp = compareRecords(baseline, candidate);
    const verdictOf = (t: string) => cmp.rows.find((r) => r.tensor === t)?.verdict;
    expect(verdictOf('t7')).toBe('fixed');
    expect(verdictOf('t8')).toBe('new-failure');
    expect(verdictOf('t0')).toBe('same');
    expect(cmp.counts.missing).toBe(0);
    expect(cmp.regressed).toBe(true); // t8

    // a record that also left out failures cannot vouch for a missing row
    const lossy = record(
      names.map((n) => row(n, n === 't0' ? 'pass' : 'fail')),
      2,
    );
    expect(lossy.omittedResults?.fail).toBeGreaterThan(0);
    const cmp2 = compareRecords(baseline, lossy);
    expect(cmp2.rows.find((r) => r.tensor === 't7')?.verdict).toBe('missing');
  });
});
