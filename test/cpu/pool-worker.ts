/**
 * Worker entry for the pool tests: the engine's tasks plus three that exercise the pool itself
 * (echo, a busy wait, a throw). The tests point the pool at this file with setWorkerScript.
 */
import { runWorkerIfRequested } from '../../src-main/engine/workers';
import { TASKS, type TaskOutput } from '../../src-main/engine/workers/tasks';

const TEST_TASKS = {
  ...TASKS,
  /** echoes the payload */
  echo: (p: unknown): TaskOutput => ({ result: p }),
  /** keeps the worker busy for `ms` milliseconds, then answers `ms` */
  spin: (p: { ms: number }): TaskOutput => {
    const end = Date.now() + Math.min(Math.max(0, p.ms), 10_000);
    while (Date.now() < end);
    return { result: p.ms };
  },
  /** throws */
  fail: (p: { message: string }): TaskOutput => {
    throw new Error(p.message);
  },
};

if (!runWorkerIfRequested(TEST_TASKS)) throw new Error('pool-worker.ts must be started by the worker pool');
