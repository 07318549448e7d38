/**
 * Coalesces high-frequency events (run progress, results) into one flush per animation frame so
 * the UI renders at most ~60 times a second however fast the engine streams.
 */
export type Scheduler = (cb: () => void) => unknown;

const defaultScheduler: Scheduler = (cb) =>
  typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => cb()) : setTimeout(cb, 16);

export interface Batcher<T> {
  push(item: T): void;
  /** deliver anything pending now (tests, teardown) */
  flush(): void;
}

export function createBatcher<T>(
  deliver: (items: T[]) => void,
  schedule: Scheduler = defaultScheduler,
): Batcher<T> {
  let pending: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending.length) return;
    const items = pending;
    pending = [];
    deliver(items);
  };
  return {
    push(item) {
      pending.push(item);
      if (!scheduled) {
        scheduled = true;
        schedule(flush);
      }
    },
    flush,
  };
}
