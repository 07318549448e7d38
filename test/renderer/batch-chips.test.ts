// Custom batch sizes: a size added by hand keeps its chip when it is switched off, so it can be
// switched on again, until its × removes it.
import { describe, expect, it } from 'vitest';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { StoreProvider } from '../../src-renderer/src/context';
import { RunSetup } from '../../src-renderer/src/components/RunSetup';
import { BATCH_CHOICES, batchChips, createAppStore, type AppStore } from '../../src-renderer/src/store';
import { FakeApi } from './fakeApi';

function makeStore(): AppStore {
  return createAppStore(new FakeApi(), { schedule: (cb) => queueMicrotask(cb) });
}

/** The chips RunSetup shows: batch size → pressed, and whether it has a remove button. */
function chips(store: AppStore): Map<number, { on: boolean; removable: boolean }> {
  // Server rendering reads a zustand store's initial state: render from a view of the store whose
  // initial state is its current one.
  const now: AppStore = { ...store, getInitialState: () => store.getState() };
  const html = renderToStaticMarkup(
    createElement(StoreProvider, { store: now, children: createElement(RunSetup) }),
  );
  const out = new Map<number, { on: boolean; removable: boolean }>();
  for (const m of html.matchAll(/<button[^>]*aria-pressed="(true|false)"[^>]*data-testid="batch-(\d+)"/g))
    out.set(Number(m[2]), {
      on: m[1] === 'true',
      removable: html.includes(`data-testid="batch-remove-${m[2]}"`),
    });
  return out;
}

describe('custom batch size chips', () => {
  it('keep their chip when switched off, switch on again, and go only when removed', () => {
    const store = makeStore();
    store.getState().addBatchSizes([7, 33, 8]);
    expect(store.getState().config.batchSizes).toEqual([1, 7, 8, 33]);
    expect(store.getState().customBatchSizes).toEqual([7, 33]);
    let shown = chips(store);
    expect(shown.get(7)).toEqual({ on: true, removable: true });
    expect(shown.get(8)).toEqual({ on: true, removable: false });

    // Off (as a chip click does): the chip stays, not pressed.
    store.getState().setConfig({ batchSizes: [1, 8, 33] });
    shown = chips(store);
    expect(shown.get(7)).toEqual({ on: false, removable: true });
    expect([...shown.keys()]).toEqual([...BATCH_CHOICES, 7, 33]);

    // On again.
    store.getState().setConfig({ batchSizes: [1, 7, 8, 33] });
    expect(chips(store).get(7)?.on).toBe(true);

    // Removed: the chip goes, and so does the size from the selection.
    store.getState().removeBatchSize(7);
    expect(store.getState().config.batchSizes).toEqual([1, 8, 33]);
    shown = chips(store);
    expect(shown.has(7)).toBe(false);
    // Removing one that is off leaves the selection alone.
    store.getState().setConfig({ batchSizes: [1, 8] });
    store.getState().removeBatchSize(33);
    expect(store.getState().config.batchSizes).toEqual([1, 8]);
    expect(chips(store).has(33)).toBe(false);
    expect(store.getState().customBatchSizes).toEqual([]);
  });

  it('list the fixed choices, then the custom sizes in order, each once', () => {
    expect(batchChips([33, 7], [1, 7, 2048])).toEqual([...BATCH_CHOICES, 7, 33, 2048]);
    expect(batchChips([], [1, 64])).toEqual([...BATCH_CHOICES]);
  });
});
