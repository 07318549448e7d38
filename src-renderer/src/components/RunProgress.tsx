import { useEffect, useState } from 'react';
import { useApp } from '../context';
import { isActive } from '../lib/runState';
import { fmtDuration } from '../lib/format';
import { plannedText, tensorProgress } from '../lib/results';

const STATUS_TEXT = {
  idle: '',
  starting: 'Starting…',
  running: 'Running',
  cancelling: 'Cancelling…',
  done: 'Done',
  cancelled: 'Cancelled',
  failed: 'Failed',
  interrupted: 'Interrupted',
} as const;

/** The run strip: overall progress, time left, current job, per-tensor progress on demand. */
export function RunProgress() {
  const s = useApp((s) => ({ run: s.run, results: s.results, cancelRun: s.cancelRun }));
  const [open, setOpen] = useState(false);
  const [, tick] = useState(0);
  const active = isActive(s.run.status);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => tick((x) => x + 1), 500);
    return () => clearInterval(t);
  }, [active]);
  if (s.run.status === 'idle') return null;
  const { run } = s;
  const done = Math.max(run.done, s.results.length);
  const pct = run.total > 0 ? Math.min(100, (done / run.total) * 100) : 0;
  const elapsed = run.startedAt ? (run.finishedAt ?? Date.now()) - run.startedAt : null;
  const rows = open ? tensorProgress(run.request, s.results, run.current) : [];

  return (
    <div className={`run-strip ${run.status}`} data-testid="run-progress" data-status={run.status}>
      <div className="run-line">
        <span className="run-status" data-testid="run-status">
          {STATUS_TEXT[run.status]}
        </span>
        <div
          className="progress"
          role="progressbar"
          aria-valuemin={0}
          aria-valuemax={run.total}
          aria-valuenow={done}
          data-testid="progress-bar"
        >
          <div className="progress-fill" style={{ width: `${pct}%` }} />
        </div>
        <span className="num" data-testid="progress-count">
          {done} / {run.total}
        </span>
        {active && (
          <span className="num muted" data-testid="eta">
            {run.etaMs != null ? `${fmtDuration(run.etaMs)} left` : 'estimating…'}
          </span>
        )}
        {elapsed != null && <span className="num muted">{fmtDuration(elapsed)} elapsed</span>}
        {active && run.current && (
          <span className="mono ellipsis current-job" data-testid="current-job">
            {run.current.tensor} · m={run.current.m}
          </span>
        )}
        {run.summary && (
          <span className="run-summary num" data-testid="run-summary">
            <span className="pass-text">{run.summary.passed} passed</span> ·{' '}
            {!!run.summary.notComparable && (
              <>
                <span
                  className="warn-text"
                  title="outputs of weight rows with non-finite block scales were left out"
                >
                  {run.summary.notComparable} not comparable
                </span>{' '}
                ·{' '}
              </>
            )}
            <span className="fail-text">{run.summary.failed} failed</span> ·{' '}
            <span className="error-text-inline">{run.summary.errors} errors</span>
            {run.status !== 'done' && run.total > 0 && (
              <span className="muted"> · {plannedText(done, run.total)}</span>
            )}
          </span>
        )}
        {!run.summary && run.status === 'interrupted' && (
          <span className="run-summary num muted" data-testid="run-summary">
            {plannedText(done, run.total)}
          </span>
        )}
        {run.error && (
          <span className="error-text-inline" data-testid="run-error">
            {run.error}
          </span>
        )}
        <div className="spacer" />
        {run.request && (
          <button className="btn small" onClick={() => setOpen(!open)} data-testid="toggle-tensor-progress">
            {open ? 'Hide' : 'Per tensor'}
          </button>
        )}
        {active && (
          <button
            className="btn small danger"
            onClick={() => s.cancelRun()}
            disabled={run.status === 'cancelling'}
          >
            Cancel
          </button>
        )}
      </div>
      {open && (
        <div className="tensor-progress" data-testid="tensor-progress">
          {rows.map((r) => (
            <div key={r.tensor} className={`tp-row${r.running ? ' running' : ''}`}>
              <span className="mono ellipsis">{r.tensor}</span>
              <div className="progress thin">
                <div
                  className="progress-fill"
                  style={{ width: `${(r.done / Math.max(1, r.total)) * 100}%` }}
                />
              </div>
              <span className="num">
                {r.done}/{r.total}
              </span>
              <span className="num">
                {r.pass > 0 && <span className="pass-text">{r.pass}✓ </span>}
                {r.fail > 0 && <span className="fail-text">{r.fail}✗ </span>}
                {r.error > 0 && <span className="error-text-inline">{r.error}! </span>}
                {r['not-comparable'] > 0 && (
                  <span className="warn-text" title="not comparable: non-finite block scales">
                    {r['not-comparable']}?{' '}
                  </span>
                )}
              </span>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
