// The renderer's side of non-finite block scales: the verdict badge text, counts, the model view's
// label and the counts a run's results carry back onto the model's tensors.
import { describe, expect, it } from 'vitest';
import type { ModelSummary, TensorResult, TensorSummary } from '../../src-shared/contract';
import { countResults, statusLabel, tensorProgress, verdictText } from '../../src-renderer/src/lib/results';
import { nonFiniteLabel, withResultScans } from '../../src-renderer/src/lib/tensors';

const tensor = (i: number): TensorSummary => ({
  index: i,
  name: `t${i}`,
  type: 12,
  typeName: 'Q4_K',
  dims: [256, 4],
  n: 4,
  k: 256,
  nbytes: 576,
  offset: 0,
  supported: true,
  layer: null,
});
const model = { modelId: 'm', tensors: [tensor(0), tensor(1), tensor(2)] } as unknown as ModelSummary;
const result = (t: string, status: TensorResult['status'], nonFiniteBlocks?: number): TensorResult =>
  ({
    resultId: `r:${t}`,
    tensor: t,
    m: 1,
    status,
    nonFiniteBlocks,
    notComparable:
      status === 'not-comparable' ? 'non-finite scales: 3 blocks in 1 of 4 weight rows' : undefined,
    threshold: 1e-8,
    metrics: {
      nmse: 1e-15,
      maxAbsErr: 0,
      maxRelErr: 0,
      nanMismatches: 0,
      infMismatches: 0,
      count: 3,
      worst: null,
    },
  }) as unknown as TensorResult;

describe('not comparable in the renderer', () => {
  it('badge text, counts, per-tensor progress and the verdict line', () => {
    expect(statusLabel('not-comparable')).toBe('NOT COMPARABLE');
    expect(statusLabel('pass')).toBe('PASS');
    const rs = [result('t0', 'pass'), result('t1', 'not-comparable', 3)];
    expect(countResults(rs)).toMatchObject({ pass: 1, 'not-comparable': 1, total: 2 });
    const req = { tensors: ['t0', 't1'], batchSizes: [1] } as never;
    expect(tensorProgress(req, rs, null)[1]).toMatchObject({ done: 1, 'not-comparable': 1 });
    expect(verdictText(rs[1])).toMatch(/^non-finite scales: 3 blocks .*the other outputs: NMSE 1\.00e-15/);
  });
  it('the model view label', () => {
    expect(nonFiniteLabel(1)).toBe('non-finite scales: 1 block');
    expect(nonFiniteLabel(12)).toBe('non-finite scales: 12 blocks');
  });
  it("a run's counts land on the model's tensors; nothing changes, same object", () => {
    expect(withResultScans(model, [result('t0', 'pass', 0)])).toBe(model);
    const next = withResultScans(model, [result('t2', 'not-comparable', 3), result('t1', 'error', 5)]);
    expect(next).not.toBe(model);
    expect(next.tensors.map((t) => t.nonFiniteBlocks)).toEqual([undefined, undefined, 3]);
    expect(next.tensors[0]).toBe(model.tensors[0]);
    expect(withResultScans(next, [result('t2', 'not-comparable', 3)])).toBe(next);
  });
});
