/**
 * The selftest from the app: a backend's kernels on random and adversarial weights in every format
 * and path against the reference (`quantscope selftest`), through the engine, with progress, cancel
 * and a summary per format and path; failing cases with their diagnosis.
 */
import { useEffect, useRef, useState } from 'react';
import { useApp } from '../context';
import type { BackendKind } from '../../../src-shared/contract';
import { fmtSci } from '../lib/format';
import {
  applySelftestEvent,
  groupSelftest,
  IDLE_SELFTEST,
  selftestActive,
  type SelftestState,
} from '../lib/selftest';
import { errorText } from '../store';
import { isActive } from '../lib/runState';

export function SelftestPanel() {
  const s = useApp((s) => ({ api: s.api, backends: s.backends, runStatus: s.run.status }));
  const available = s.backends.filter((b) => b.available);
  const [backend, setBackend] = useState<BackendKind>('cpu');
  const [quick, setQuick] = useState(true);
  const [formats, setFormats] = useState('');
  const [st, setSt] = useState<SelftestState>(IDLE_SELFTEST);
  const stRef = useRef(st);
  stRef.current = st;
  const active = selftestActive(st);

  useEffect(
    () =>
      s.api.onRunEvent((ev) => {
        if (ev.type.startsWith('selftest-')) setSt((cur) => applySelftestEvent(cur, ev));
      }),
    [s.api],
  );

  const be = available.find((b) => b.backend === backend) ?? available[0];
  const start = async () => {
    const list = formats
      .split(/[\s,]+/)
      .map((f) => f.trim().toUpperCase())
      .filter(Boolean);
    setSt({ ...IDLE_SELFTEST, status: 'starting' });
    try {
      const { runId } = await s.api.startSelftest({
        backend: be?.backend ?? 'cpu',
        deviceIndex: be?.devices[0]?.index ?? 0,
        quick,
        ...(list.length ? { formats: list } : {}),
      });
      setSt((cur) =>
        cur.runId ? cur : { ...cur, runId, status: cur.status === 'starting' ? 'running' : cur.status },
      );
    } catch (e) {
      setSt({ ...IDLE_SELFTEST, status: 'failed', error: errorText(e) });
    }
  };
  const cancel = async () => {
    const id = stRef.current.runId;
    if (!id) return;
    setSt((cur) => ({ ...cur, status: 'cancelling' }));
    try {
      await s.api.cancelRun(id);
    } catch (e) {
      setSt((cur) => ({ ...cur, error: `Cancel failed: ${errorText(e)}` }));
    }
  };

  const groups = groupSelftest(st.rows);
  const failures = st.rows.filter((r) => r.result !== 'pass');
  const done = st.rows.length;
  const pct = st.total > 0 ? (100 * done) / st.total : 0;

  return (
    <section className="card selftest" data-testid="selftest-panel">
      <h2 className="card-title">Selftest</h2>
      <p className="hint">
        A backend’s kernels on random and adversarial weights, every format and path, against the reference of
        each path’s declared arithmetic (<span className="mono">quantscope selftest</span>).
      </p>
      <div className="inline inline-wrap">
        <div className="seg" role="radiogroup" aria-label="Selftest backend">
          {(['cpu', 'cuda', 'hip'] as BackendKind[]).map((b) => {
            const ok = available.some((x) => x.backend === b);
            return (
              <button
                key={b}
                role="radio"
                aria-checked={be?.backend === b}
                className={be?.backend === b ? 'on' : ''}
                disabled={!ok || active}
                data-testid={`selftest-backend-${b}`}
                onClick={() => setBackend(b)}
              >
                {b.toUpperCase()}
              </button>
            );
          })}
        </div>
        <label className="check">
          <input
            type="checkbox"
            checked={quick}
            disabled={active}
            data-testid="selftest-quick"
            onChange={(e) => setQuick(e.target.checked)}
          />
          Quick
        </label>
        <input
          value={formats}
          placeholder="formats, e.g. Q4_0 Q4_K (all)"
          aria-label="Selftest formats"
          disabled={active}
          data-testid="selftest-formats"
          onChange={(e) => setFormats(e.target.value)}
        />
        {active ? (
          <button
            className="btn danger"
            data-testid="selftest-cancel"
            disabled={st.status === 'cancelling' || !st.runId}
            onClick={() => void cancel()}
          >
            {st.status === 'cancelling' ? 'Cancelling…' : 'Cancel'}
          </button>
        ) : (
          <button
            className="btn primary"
            data-testid="selftest-start"
            disabled={!be || isActive(s.runStatus)}
            title={isActive(s.runStatus) ? 'a run is in progress' : undefined}
            onClick={() => void start()}
          >
            ▶ Run selftest
          </button>
        )}
      </div>
      {st.status !== 'idle' && (
        <div className="selftest-progress" data-testid="selftest-progress">
          <div className="bar">
            <div className="fill" style={{ width: `${pct}%` }} />
          </div>
          <span className="num small" data-testid="selftest-status" data-status={st.status}>
            {st.device ? `${st.device} · ` : ''}
            {done}/{st.total || '…'} cases · {st.passed} passed, {st.failed} failed · {st.status}
          </span>
        </div>
      )}
      {st.error && (
        <p className="error-text" role="alert" data-testid="selftest-error">
          {st.error}
        </p>
      )}
      {groups.length > 0 && (
        <div className="kernel-table-wrap">
          <table className="kernel-table" data-testid="selftest-table">
            <thead>
              <tr>
                <th>Format</th>
                <th>Path</th>
                <th className="num">Cases</th>
                <th>Result</th>
                <th className="num">Worst NMSE</th>
                <th className="num">Worst / bar</th>
                <th className="num">Time</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => (
                <tr
                  key={`${g.format}/${g.path}`}
                  data-testid="selftest-row"
                  data-result={g.failed ? 'fail' : 'pass'}
                >
                  <td className="mono">{g.format}</td>
                  <td className="mono">{g.path}</td>
                  <td className="num">{g.cases}</td>
                  <td>
                    <span className={`status ${g.failed ? 'fail' : 'pass'}`}>
                      {g.failed ? `${g.failed} FAIL` : 'PASS'}
                    </span>
                  </td>
                  <td className="num">{fmtSci(g.worstNmse)}</td>
                  <td className="num">{g.worstRatio === null ? '—' : fmtSci(g.worstRatio, 1)}</td>
                  <td className="num">{(g.ms / 1000).toFixed(2)} s</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {failures.length > 0 && (
        <ul className="selftest-failures small" data-testid="selftest-failures">
          {failures.slice(0, 50).map((r, i) => (
            <li key={i} className="fail-text">
              <span className="mono">
                {r.format} n={r.n} k={r.k} m={r.m} {r.weights} {r.path ?? r.requested}
              </span>
              : {r.result.toUpperCase()} {r.nmse !== null ? `NMSE ${fmtSci(r.nmse)}` : ''} {r.detail}
              {r.diagnosis && (
                <>
                  {' '}
                  · <b>{r.diagnosis.class}</b>: {r.diagnosis.sentence}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
