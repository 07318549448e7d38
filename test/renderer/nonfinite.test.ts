// The renderer's side of non-finite block scales: the verdict badge text, counts, the model view's
// label and the counts a run's results carry back onto the model's tensors.
import { describe, expect, it } from 'vitest';
import type { ModelSummary, TensorResult, TensorSummary } from '../../src-shared/contract';
import { countResults, statusLabel, tensorProgress, verdictText } from '../../src-renderer/src/lib/results';
import { nonFiniteLabel, withResultScans } from '../../src-renderer/src/lib/tensors';
import {
  errorHistogram,
  gridScale,
  notComparedColumns,
  notComparedRows,
  paintGrid,
  NOT_COMPARED_RGBA,
  ZERO_RGBA,
} from '../../src-renderer/src/lib/colormap';

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
  it('the heatmap marks the outputs left out of the comparison, and the histogram counts them apart', () => {
    // 2 rows x 4 grid columns of 2 features each (8 features); features 2, 3 (all of column 1) and 6
    // (half of column 3) were left out, as the engine's leftOutCols says
    const grid = {
      rows: 2,
      cols: 4,
      colStart: 0,
      colEnd: 8,
      cellCols: 2,
      values: [1e-7, 0, 0, 2e-7, 3e-7, 0, 1e-6, 4e-7],
      min: 0,
      max: 1e-6,
      leftOutCols: [0, 2, 0, 1],
    };
    const mask = notComparedColumns(grid)!;
    expect([...mask]).toEqual([0, 1, 0, 0]);
    expect(notComparedColumns({ ...grid, leftOutCols: [0, 1, 0, 1] })).toBeNull();
    expect(notComparedColumns({ ...grid, leftOutCols: undefined })).toBeNull();
    // the last column is 1 feature wide (7 features in cells of 2): 1 left out is all of it
    expect([...notComparedColumns({ ...grid, colEnd: 7, leftOutCols: [0, 0, 0, 1] })!]).toEqual([0, 0, 0, 1]);

    const out = new Uint8ClampedArray(8 * 4);
    paintGrid(grid.values, 2, 4, gridScale(grid), out, undefined, mask);
    const px = (i: number) => [...out.slice(i * 4, i * 4 + 4)];
    expect(px(1)).toEqual(NOT_COMPARED_RGBA);
    expect(px(5)).toEqual(NOT_COMPARED_RGBA);
    // an exact zero that was compared is still drawn as zero
    expect(px(2)).toEqual(ZERO_RGBA);
    expect(px(0)).not.toEqual(NOT_COMPARED_RGBA);

    const h = errorHistogram(grid.values, gridScale(grid), 16, mask);
    expect(h).toMatchObject({ total: 8, notCompared: 2, zero: 1, nonFinite: 0 });
    expect(h.bins.reduce((a, b) => a + b, 0) + h.below).toBe(5);
    expect(errorHistogram(grid.values, gridScale(grid)).zero).toBe(3);
  });
  it('the weight map marks the weight rows left out of the comparison', () => {
    // 3 grid rows of 2 weight rows each (6 weight rows) x 2 columns; weight rows 2, 3 (all of grid row
    // 1) and 5 (half of grid row 2) were left out, as the engine's leftOutRows says
    const grid = {
      rows: 3,
      cols: 2,
      rowStart: 0,
      rowEnd: 6,
      cellRows: 2,
      values: [1e-7, 2e-7, 0, 0, 3e-7, 4e-7],
      min: 1e-7,
      max: 4e-7,
      leftOutRows: [0, 2, 1],
    };
    const mask = notComparedRows(grid)!;
    expect([...mask]).toEqual([0, 1, 0]);
    expect(notComparedRows({ ...grid, leftOutRows: [0, 1, 1] })).toBeNull();
    expect(notComparedRows({ ...grid, leftOutRows: undefined })).toBeNull();
    // the last grid row is 1 weight row high (5 rows in cells of 2): 1 left out is all of it
    expect([...notComparedRows({ ...grid, rowEnd: 5, leftOutRows: [0, 0, 1] })!]).toEqual([0, 0, 1]);

    const out = new Uint8ClampedArray(6 * 4);
    paintGrid(grid.values, 3, 2, gridScale(grid), out, undefined, null, mask);
    const px = (i: number) => [...out.slice(i * 4, i * 4 + 4)];
    expect([px(2), px(3)]).toEqual([NOT_COMPARED_RGBA, NOT_COMPARED_RGBA]);
    for (const i of [0, 1, 4, 5]) expect(px(i)).not.toEqual(NOT_COMPARED_RGBA);
  });
});
