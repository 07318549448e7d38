// The run strip's summary after a run: every result is counted, not-comparable ones included, as the
// results header and the CLI count them.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { createAppStore } from '../../src-renderer/src/store';
import { RunProgress } from '../../src-renderer/src/components/RunProgress';
import { applyRunEvents, IDLE_RUN, type RunSlice } from '../../src-renderer/src/lib/runState';
import { FakeApi } from './fakeApi';
import { renderWithStore, textOf } from './render';

function finished(notComparable?: number): RunSlice {
  const slice: RunSlice = {
    run: { ...IDLE_RUN, status: 'starting', total: 4, startedAt: 1 },
    results: [],
    staleRuns: new Set(),
  };
  return applyRunEvents(slice, [
    { type: 'run-started', runId: 'r', total: 4, request: null as never },
    {
      type: 'run-finished',
      runId: 'r',
      status: 'done',
      passed: 2,
      failed: 0,
      errors: 0,
      ...(notComparable !== undefined ? { notComparable } : {}),
    },
  ]);
}

function stripText(slice: RunSlice): string {
  const store = createAppStore(new FakeApi(), { heartbeatMs: 0 });
  store.setState({ run: slice.run, results: slice.results });
  return textOf(renderWithStore(store, createElement(RunProgress)), 'run-summary') ?? '';
}

describe('run strip summary', () => {
  it('keeps the not-comparable count of the run-finished event', () => {
    expect(finished(2).run.summary).toEqual({ passed: 2, failed: 0, errors: 0, notComparable: 2 });
    expect(finished().run.summary).toEqual({ passed: 2, failed: 0, errors: 0 });
  });

  it('counts not-comparable results beside passed, failed and errors', () => {
    expect(stripText(finished(2))).toMatch(/^2 passed · 2 not comparable · 0 failed · 0 errors/);
    expect(stripText(finished(0))).toMatch(/^2 passed · 0 failed · 0 errors/);
  });
});
