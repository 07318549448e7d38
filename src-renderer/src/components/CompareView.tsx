import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApp } from '../context';
import { errorText } from '../store';
import { download } from '../lib/download';
import { fmtSci, fmtUs } from '../lib/format';
import {
  REGRESSION_VERDICTS,
  VERDICT_LABEL,
  diagnosisSummary,
  fmtChange,
  hasCaseTable,
  speedBars,
} from '../lib/history';
import type { Comparison, RecordSummaryEntry, RowVerdict } from '../../../src-shared/contract';
import { COMPARISON_HEADLINE, thresholdsChanged } from '../../../src-shared/comparison';

/** Rows drawn at once; the export holds them all. */
const MAX_ROWS = 2000;

/** A threshold as it was given (1.75e-14, not 2e-14): the comparison printed must be true. */
function fmtBar(t: number | null | undefined): string {
  return t == null || !Number.isFinite(t) ? '—' : t.toExponential();
}

function Side({ label, s }: { label: string; s: RecordSummaryEntry | undefined }) {
  return (
    <div className="compare-side">
      <div className="muted small">{label}</div>
      <div className="mono small">{s?.id ?? '—'}</div>
      <div>
        {s?.model ?? '—'} · {s?.device ?? '—'}
      </div>
      <div className="muted small">{s ? new Date(s.createdAt).toLocaleString() : ''}</div>
    </div>
  );
}

/** Two saved runs side by side: the verdict per tensor and batch size, regressions first, and the speeds. */
export function CompareView(props: {
  baseline: string;
  candidate: string;
  records: readonly RecordSummaryEntry[];
  onBack: () => void;
  onOpen: (id: string) => void;
}) {
  const { api, mode } = useApp((s) => ({ api: s.api, mode: s.appInfo?.mode }));
  const [cmp, setCmp] = useState<Comparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);
  const { baseline, candidate } = props;

  useEffect(() => {
    let live = true;
    setCmp(null);
    api.compareRecords({ baseline, candidate }).then(
      (c) => live && setCmp(c),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api, baseline, candidate]);

  const onExport = async (format: 'html' | 'json') => {
    setExporting(true);
    setNote(null);
    try {
      const rep = await api.exportComparison({ baseline, candidate, format });
      if (rep.savedPath) setNote(`Saved to ${rep.savedPath}`);
      else if (mode !== 'electron') {
        download(rep.fileName, rep.content);
        setNote(`${rep.fileName} downloaded`);
      }
    } catch (e) {
      setError(errorText(e));
    } finally {
      setExporting(false);
    }
  };

  const find = (id: string) => props.records.find((r) => r.id === id);
  const bars = cmp ? speedBars(cmp.rows) : [];
  // both rows' thresholds where they changed: they explain a new failure whose NMSE did not change
  const thresholds = cmp ? thresholdsChanged(cmp.rows) : false;
  const shown = cmp ? cmp.rows.slice(0, MAX_ROWS) : [];
  const diagnosed = shown.flatMap((r) =>
    (
      [
        ['baseline', r.baseline],
        ['candidate', r.candidate],
      ] as const
    ).flatMap(([side, x]) =>
      x?.diagnosis
        ? [
            {
              key: `${r.tensor}\u0000${r.m}\u0000${side}`,
              tensor: r.tensor,
              m: r.m,
              side,
              cls: x.diagnosis.class,
              sentence: x.diagnosis.sentence,
            },
          ]
        : [],
    ),
  );
  return (
    <div className="history compare-view" data-testid="compare-view">
      <div className="toolbar history-toolbar">
        <button className="btn" onClick={props.onBack} data-testid="history-back">
          ← History
        </button>
        <div className="spacer" />
        <button
          className="btn"
          disabled={!cmp || exporting}
          onClick={() => void onExport('html')}
          data-testid="compare-export-html"
        >
          Export HTML
        </button>
        <button
          className="btn"
          disabled={!cmp || exporting}
          onClick={() => void onExport('json')}
          data-testid="compare-export-json"
        >
          Export JSON
        </button>
      </div>
      {error && (
        <p className="error-text" role="alert" data-testid="compare-error">
          {error}
        </p>
      )}
      {note && (
        <p className="hint" data-testid="compare-note">
          {note}
        </p>
      )}
      <div className="compare-sides">
        <Side label="Baseline (older)" s={find(baseline)} />
        <span className="compare-arrow">→</span>
        <Side label="Candidate (newer)" s={find(candidate)} />
        <div className="compare-open">
          <button className="btn small" onClick={() => props.onOpen(baseline)}>
            Open baseline
          </button>
          <button className="btn small" onClick={() => props.onOpen(candidate)}>
            Open candidate
          </button>
        </div>
      </div>
      {!cmp && !error && <p className="muted">Comparing…</p>}
      {cmp && (
        <>
          <h2
            className={`compare-verdict ${cmp.verdict === 'regressed' ? 'bad' : cmp.verdict === 'no-regression' ? 'ok' : 'none'}`}
            data-testid="compare-verdict"
            data-verdict={cmp.verdict}
          >
            {COMPARISON_HEADLINE[cmp.verdict]}
          </h2>
          <p className="compare-counts">
            {(Object.keys(VERDICT_LABEL) as RowVerdict[])
              .filter((v) => cmp.counts[v] > 0)
              .map((v) => (
                <span key={v} className={`verdict-pill ${v}`}>
                  {cmp.counts[v]} {VERDICT_LABEL[v]}
                </span>
              ))}
            <span className="muted small">
              {' '}
              speed changes count beyond {(cmp.tolerance * 100).toFixed(0)}% and the runs&apos; own spread
            </span>
          </p>
          {cmp.differences.length > 0 && (
            <div className="hint compare-different" data-testid="compare-different">
              These runs are not of the same work, so they get no verdict (the command line&apos;s{' '}
              <code>compare</code> refuses them without <code>--allow-different</code>); the rows are shown
              for information:
              <ul>
                {cmp.differences.map((d) => (
                  <li key={d} data-testid="compare-difference">
                    {d}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <div className="compare-table-wrap">
            <table className="compare-table" data-testid="compare-table">
              <thead>
                <tr>
                  <th>{hasCaseTable(cmp.kind) ? 'Case' : 'Tensor'}</th>
                  <th>Type</th>
                  <th className="num">m</th>
                  <th>Verdict</th>
                  <th
                    className="num"
                    title="kernel error: NMSE against the reference of the declared arithmetic"
                  >
                    NMSE was
                  </th>
                  <th className="num">NMSE now</th>
                  {thresholds && (
                    <>
                      <th className="num" title="the threshold the baseline's verdict was judged by">
                        Bar was
                      </th>
                      <th className="num" title="the threshold the candidate's verdict was judged by">
                        Bar now
                      </th>
                    </>
                  )}
                  <th
                    className="num"
                    title="arithmetic error: NMSE of the declared arithmetic against exact arithmetic"
                  >
                    Arith. was
                  </th>
                  <th className="num">Arith. now</th>
                  <th className="num">µs was</th>
                  <th className="num">µs now</th>
                  <th className="num">Change</th>
                  <th
                    className="num"
                    title="the change a speed difference had to exceed: the tolerance or the runs' own spread"
                  >
                    Noise ±
                  </th>
                  <th title="the diagnosis of a failing side; a change is shown, never counted">Diagnosis</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr
                    key={`${r.tensor}\u0000${r.m}`}
                    className={REGRESSION_VERDICTS.has(r.verdict) ? 'regression' : ''}
                    data-testid="compare-row"
                    data-verdict={r.verdict}
                  >
                    <td className="mono ellipsis" title={r.tensor}>
                      {r.tensor}
                    </td>
                    <td>{r.type}</td>
                    <td className="num">{r.m}</td>
                    <td>
                      <span className={`verdict-pill ${r.verdict}`}>{VERDICT_LABEL[r.verdict]}</span>
                    </td>
                    <td className="num">{fmtSci(r.baseline?.nmse)}</td>
                    <td className="num">{fmtSci(r.candidate?.nmse)}</td>
                    {thresholds && (
                      <>
                        <td className="num" data-testid="compare-bar-was">
                          {fmtBar(r.baseline?.threshold)}
                        </td>
                        <td className="num" data-testid="compare-bar-now">
                          {fmtBar(r.candidate?.threshold)}
                        </td>
                      </>
                    )}
                    <td className="num">{fmtSci(r.baseline?.arithmeticError)}</td>
                    <td className="num">{fmtSci(r.candidate?.arithmeticError)}</td>
                    <td className="num">{fmtUs(r.baseline?.us)}</td>
                    <td className="num">{fmtUs(r.candidate?.us)}</td>
                    <td className="num">{fmtChange(r.speedRatio)}</td>
                    <td className="num">{r.noise == null ? '—' : `${(r.noise * 100).toFixed(1)}%`}</td>
                    <td
                      className="ellipsis"
                      data-testid="compare-diagnosis"
                      title={[r.baseline?.diagnosis, r.candidate?.diagnosis]
                        .map((d, i) => (d ? `${i ? 'now' : 'was'}: ${d.class}: ${d.sentence}` : ''))
                        .filter(Boolean)
                        .join('\n')}
                    >
                      {diagnosisSummary(r)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {cmp.rows.length > shown.length && (
              <p className="muted small">
                {cmp.rows.length - shown.length} more rows (same or new) are in the exported comparison.
              </p>
            )}
          </div>
          {diagnosed.length > 0 && (
            <div className="card compare-diagnoses" data-testid="compare-diagnoses">
              <div className="card-title">Diagnoses of the failing sides</div>
              <ul>
                {diagnosed.map((d) => (
                  <li key={d.key} data-testid="compare-diagnosis-line">
                    <span className="mono">{d.tensor}</span> m={d.m} · {d.side}: <b>{d.cls}</b> {d.sentence}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {bars.length > 0 && (
            <div className="card compare-chart" data-testid="compare-chart">
              <div className="card-title">Median time per tensor and batch size</div>
              <ResponsiveContainer width="100%" height={Math.max(220, bars.length * 28 + 60)}>
                <BarChart data={bars} layout="vertical" margin={{ top: 8, right: 24, left: 8, bottom: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
                  <XAxis type="number" tick={{ fontSize: 11 }} tickFormatter={(v: number) => fmtUs(v)} />
                  <YAxis type="category" dataKey="label" width={260} tick={{ fontSize: 10 }} interval={0} />
                  <Tooltip formatter={(v) => fmtUs(Number(v))} />
                  <Legend wrapperStyle={{ fontSize: 11 }} />
                  <Bar dataKey="baseline" name="baseline" fill="var(--muted)" isAnimationActive={false} />
                  <Bar dataKey="candidate" name="candidate" fill="var(--accent)" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
          )}
        </>
      )}
    </div>
  );
}
