/** The selftest panel's state: rows folded from selftest-* run events, and summaries per format and path. */
import type { RunEvent, SelftestRowData } from '../../../src-shared/contract';

export interface SelftestState {
  runId: string | null;
  status: 'idle' | 'starting' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';
  device: string | null;
  total: number;
  rows: SelftestRowData[];
  passed: number;
  failed: number;
  error: string | null;
}

export const IDLE_SELFTEST: SelftestState = {
  runId: null,
  status: 'idle',
  device: null,
  total: 0,
  rows: [],
  passed: 0,
  failed: 0,
  error: null,
};

export function selftestActive(s: SelftestState): boolean {
  return s.status === 'starting' || s.status === 'running' || s.status === 'cancelling';
}

/**
 * Applies one event of this selftest (events of other runs leave the state as it is). While starting,
 * the first selftest event names the run: its events can arrive before startSelftest's reply.
 */
export function applySelftestEvent(s: SelftestState, ev: RunEvent): SelftestState {
  if (s.runId === null && s.status === 'starting' && ev.type.startsWith('selftest-'))
    s = { ...s, runId: ev.runId, status: 'running' };
  if (ev.runId !== s.runId) return s;
  switch (ev.type) {
    case 'selftest-started':
      return {
        ...s,
        status: s.status === 'cancelling' ? s.status : 'running',
        total: ev.total,
        device: ev.device,
      };
    case 'selftest-row':
      return {
        ...s,
        total: ev.total,
        rows: [...s.rows, ev.row],
        passed: s.passed + (ev.row.result === 'pass' ? 1 : 0),
        failed: s.failed + (ev.row.result === 'pass' ? 0 : 1),
      };
    case 'selftest-finished':
      return { ...s, status: ev.status, error: ev.error ?? null, passed: ev.passed, failed: ev.failed };
    default:
      return s;
  }
}

export interface SelftestGroup {
  format: string;
  path: string;
  cases: number;
  passed: number;
  failed: number;
  /** the largest NMSE of the group's cases that have one */
  worstNmse: number | null;
  /** the largest NMSE relative to its bar (1 = at the bar) */
  worstRatio: number | null;
  ms: number;
}

/** Rows summarised per (format, path), in the order they first appear. */
export function groupSelftest(rows: readonly SelftestRowData[]): SelftestGroup[] {
  const out = new Map<string, SelftestGroup>();
  for (const r of rows) {
    const path = r.path ?? r.requested;
    const key = `${r.format}\u0000${path}`;
    let g = out.get(key);
    if (!g) {
      g = {
        format: r.format,
        path,
        cases: 0,
        passed: 0,
        failed: 0,
        worstNmse: null,
        worstRatio: null,
        ms: 0,
      };
      out.set(key, g);
    }
    g.cases++;
    if (r.result === 'pass') g.passed++;
    else g.failed++;
    g.ms += r.ms;
    if (r.nmse !== null && (g.worstNmse === null || !(r.nmse <= g.worstNmse))) g.worstNmse = r.nmse;
    if (r.nmse !== null && r.threshold) {
      const ratio = r.nmse / r.threshold;
      if (g.worstRatio === null || !(ratio <= g.worstRatio)) g.worstRatio = ratio;
    }
  }
  return [...out.values()];
}
