// The results view's table and detail pane agree: the pane shows the row chosen while the table shows
// it, else the table's first row in its sort order (not the first result to arrive), and none when a
// filter hides every row.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { createAppStore } from '../../src-renderer/src/store';
import { ResultsView } from '../../src-renderer/src/components/ResultsView';
import { shownResult, visibleResults } from '../../src-renderer/src/lib/results';
import { IDLE_RUN } from '../../src-renderer/src/lib/runState';
import type { TensorResult } from '../../src-shared/contract';
import { FakeApi } from './fakeApi';
import { renderWithStore } from './render';

function result(id: string, status: TensorResult['status'], nmse: number, m = 1): TensorResult {
  return {
    resultId: id,
    runId: 'r',
    tensor: `t.${id}`,
    type: 'Q4_K',
    n: 4,
    k: 256,
    m,
    backend: 'cpu',
    device: 'cpu:0',
    path: 'cpu-f32',
    status,
    threshold: 1e-8,
    metrics: { nmse, maxAbsErr: 0, maxRelErr: 0, nanMismatches: 0, infMismatches: 0, count: 4, worst: null },
    timing: null,
    unfused: null,
    weightBytes: 576,
    gridAvailable: false,
    elapsedMs: 1,
  };
}

// in the order they arrived: a pass first, the failure last
const arrived = [result('a', 'pass', 1e-14), result('b', 'pass', 3e-14), result('c', 'fail', 0.2)];
const worstFirst = { key: 'status', dir: 'asc' } as const;

describe('results table and detail pane', () => {
  it("the table's rows: the filter's results in the sort order", () => {
    expect(visibleResults(arrived, 'all', worstFirst).map((r) => r.resultId)).toEqual(['c', 'b', 'a']);
    expect(visibleResults(arrived, 'problems', worstFirst).map((r) => r.resultId)).toEqual(['c']);
    expect(visibleResults(arrived, 'error', worstFirst)).toEqual([]);
    expect(visibleResults(arrived, 'all', { key: 'nmse', dir: 'asc' }).map((r) => r.resultId)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('the pane shows the chosen row while it is shown, else the first row, else none', () => {
    const rows = visibleResults(arrived, 'all', worstFirst);
    expect(shownResult(rows, null)?.resultId).toBe('c');
    expect(shownResult(rows, 'a')?.resultId).toBe('a');
    // the chosen result hidden by the filter: not shown; the filter's first row is
    const fails = visibleResults(arrived, 'fail', worstFirst);
    expect(shownResult(fails, 'a')?.resultId).toBe('c');
    expect(shownResult(visibleResults(arrived, 'error', worstFirst), 'a')).toBeNull();
    expect(shownResult([], null)).toBeNull();
  });

  it('after a run the pane shows the worst result, the first row, not the first to arrive', () => {
    const store = createAppStore(new FakeApi(), { heartbeatMs: 0 });
    store.setState({
      run: { ...IDLE_RUN, status: 'done', runId: 'r', total: 3, done: 3 },
      results: arrived,
      selectedResultId: null,
    });
    const html = renderWithStore(store, createElement(ResultsView));
    expect(/data-testid="result-detail" data-result-id="([^"]+)"/.exec(html)?.[1]).toBe('c');
    // a row the user chose stays shown
    store.setState({ selectedResultId: 'a' });
    expect(
      /data-testid="result-detail" data-result-id="([^"]+)"/.exec(
        renderWithStore(store, createElement(ResultsView)),
      )?.[1],
    ).toBe('a');
  });
});
