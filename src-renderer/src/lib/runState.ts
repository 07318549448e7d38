/** Run event reduction (pure, unit-tested): which events count, progress, results by id. */
import type { RunEvent, RunRequest, TensorResult } from '../../../src-shared/contract';

/** 'interrupted': the engine connection was lost while the run was active; its outcome is unknown. */
export type RunStatus =
  'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed' | 'interrupted';

export interface RunState {
  runId: string | null;
  status: RunStatus;
  request: RunRequest | null;
  total: number;
  done: number;
  etaMs: number | null;
  current: { tensor: string; m: number; index: number } | null;
  error: string | null;
  /** the engine's counts at the end; notComparable absent = 0 (as in the run-finished event) */
  summary: { passed: number; failed: number; errors: number; notComparable?: number } | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export const IDLE_RUN: RunState = {
  runId: null,
  status: 'idle',
  request: null,
  total: 0,
  done: 0,
  etaMs: null,
  current: null,
  error: null,
  summary: null,
  startedAt: null,
  finishedAt: null,
};

export function isActive(s: RunStatus): boolean {
  return s === 'starting' || s === 'running' || s === 'cancelling';
}

export interface RunSlice {
  run: RunState;
  results: TensorResult[];
  /** run ids we no longer listen to (cancelled or replaced) */
  staleRuns: ReadonlySet<string>;
}

/**
 * Mark an active run interrupted (the engine went away). Runs that already ended keep their outcome.
 */
export function interruptRun(run: RunState, reason: string, now = Date.now()): RunState {
  if (!isActive(run.status)) return run;
  return { ...run, status: 'interrupted', error: reason, current: null, etaMs: null, finishedAt: now };
}

/**
 * Apply a batch of events. Events of stale runs and of runs other than the current one are
 * dropped; while starting (runId not yet known) the first non-stale run's events are adopted, and
 * adopting a run replaces the results on screen (the engine has accepted the new run). Returns the same object when nothing changed, so React skips the render.
 */
export function applyRunEvents(slice: RunSlice, events: RunEvent[], now = Date.now()): RunSlice {
  let run = slice.run;
  let results = slice.results;
  let resultIds: Set<string> | null = null;
  for (const ev of events) {
    if (slice.staleRuns.has(ev.runId)) continue;
    if (run.runId === null) {
      if (run.status !== 'starting' && run.status !== 'cancelling') continue;
      run = { ...run, runId: ev.runId };
      results = [];
      resultIds = null;
    } else if (ev.runId !== run.runId) continue;
    switch (ev.type) {
      case 'run-started':
        run = {
          ...run,
          status: run.status === 'cancelling' ? 'cancelling' : 'running',
          total: ev.total,
          request: ev.request ?? run.request,
        };
        break;
      case 'job-started':
        run = {
          ...run,
          status: run.status === 'starting' ? 'running' : run.status,
          current: { tensor: ev.tensor, m: ev.m, index: ev.index },
          total: ev.total,
        };
        break;
      case 'result': {
        if (!resultIds) resultIds = new Set(results.map((r) => r.resultId));
        if (resultIds.has(ev.result.resultId)) break;
        resultIds.add(ev.result.resultId);
        if (results === slice.results) results = [...results];
        results.push(ev.result);
        break;
      }
      case 'progress':
        run = { ...run, done: ev.done, total: ev.total, etaMs: ev.etaMs };
        break;
      case 'run-finished':
        run = {
          ...run,
          status: ev.status,
          error: ev.error ?? null,
          current: null,
          etaMs: null,
          summary: {
            passed: ev.passed,
            failed: ev.failed,
            errors: ev.errors,
            ...(ev.notComparable ? { notComparable: ev.notComparable } : {}),
          },
          finishedAt: now,
        };
        break;
    }
  }
  if (run === slice.run && results === slice.results) return slice;
  return { ...slice, run, results };
}
