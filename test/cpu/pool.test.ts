import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import {
  getPool,
  isAbortError,
  runChunks,
  setWorkerScript,
  shutdownPool,
} from '../../src-main/engine/workers';

/** The engine's tasks plus the pool tests' own (echo, spin, fail). */
const TEST_WORKER = path.join(__dirname, 'pool-worker.ts');

beforeAll(async () => {
  await shutdownPool();
  setWorkerScript(TEST_WORKER);
});
afterAll(async () => {
  await shutdownPool();
  setWorkerScript(null);
});

describe('worker pool', () => {
  it('runs named tasks on workers and returns their results', async () => {
    const p = getPool();
    expect(p.size).toBeGreaterThanOrEqual(1);
    const rs = await Promise.all([1, 2, 3, 4, 5].map((v) => p.run<{ v: number }>('echo', { v })));
    expect(rs.map((r) => r.v)).toEqual([1, 2, 3, 4, 5]);
    const sab = new SharedArrayBuffer(8);
    const back = await p.run<SharedArrayBuffer>('echo', sab);
    new Int32Array(back)[0] = 42; // shared, not copied
    expect(new Int32Array(sab)[0]).toBe(42);
  });

  it('reports task errors and unknown tasks as one-line errors', async () => {
    const p = getPool();
    await expect(p.run('fail', { message: 'boom' })).rejects.toThrow('boom');
    await expect(p.run('no-such-task', {})).rejects.toThrow("unknown worker task 'no-such-task'");
    expect(await p.run('echo', 7)).toBe(7);
  });

  it('cancellation drops queued tasks, rejects promptly with AbortError, and the pool still works', async () => {
    const p = getPool();
    const ac = new AbortController();
    const started = Date.now();
    const jobs = Array.from({ length: p.size * 3 }, () => p.run('spin', { ms: 300 }, { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    const settled = await Promise.allSettled(jobs);
    const took = Date.now() - started;
    expect(took).toBeLessThan(250); // rejected at the abort, not after the running chunks
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect(isAbortError((s as PromiseRejectedResult).reason)).toBe(true);
    }
    // the pool recovers: the running spins end, then new work runs
    const t1 = Date.now();
    expect(await p.run('echo', 'after')).toBe('after');
    expect(Date.now() - t1).toBeLessThan(2000);
    // an already aborted signal rejects at once
    await expect(p.run('echo', 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('runChunks bounds the tasks in flight and stops at the first failure', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    await runChunks<number>({
      count: 12,
      concurrency: 2,
      make: (i) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return { name: 'echo', payload: i };
      },
      done: (i, r) => {
        inFlight--;
        expect(r).toBe(i);
        seen.push(i);
      },
    });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(maxInFlight).toBeLessThanOrEqual(2);
    let made = 0;
    await expect(
      runChunks<number>({
        count: 50,
        concurrency: 1,
        make: (i) => {
          made++;
          return i === 3
            ? { name: 'fail', payload: { message: 'chunk 3 broke' } }
            : { name: 'echo', payload: i };
        },
        done: () => {},
      }),
    ).rejects.toThrow('chunk 3 broke');
    expect(made).toBe(4);
  });

  it('shutdownPool terminates the workers and a later use starts a new pool', async () => {
    const a = getPool();
    await shutdownPool();
    await expect(a.run('echo', 1)).rejects.toThrow('shut down');
    expect(await getPool().run('echo', 2)).toBe(2);
  });

  it('a worker that cannot start fails its task with a one-line error instead of hanging', async () => {
    await shutdownPool();
    setWorkerScript('/nonexistent/quantscope-worker.cjs');
    try {
      const err = await getPool()
        .run('echo', 1)
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(err?.message).toMatch(/^worker failed: /);
      expect(err?.message).not.toContain('\n');
    } finally {
      await shutdownPool();
      setWorkerScript(TEST_WORKER);
    }
    expect(await getPool().run('echo', 3)).toBe(3);
  });
});
