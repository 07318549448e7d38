import {
  fmtBytes,
  fmtDuration,
  fmtFlop,
  fmtNum,
  fmtPct,
  fmtRate,
  fmtSci,
  fmtUs,
  fmtVal,
} from '../lib/format';
import { flops, intensity } from '../lib/charts';
import { outputSource, statusLabel, verdictText } from '../lib/results';
import { fmtNmse, fmtThreshold } from '../../../src-shared/threshold';
import { protocolLabel, spreadWarning } from '../lib/timing';
import { HeatmapForResult } from './Heatmap';
import { WeightMapForResult } from './WeightMap';
import { ErrorBoundary } from './ErrorBoundary';
import type { BackendKind, Metrics, TensorResult, TimingSummary } from '../../../src-shared/contract';

function MetricsTable({ m, threshold }: { m: Metrics; threshold: number }) {
  return (
    <table className="kv" data-testid="detail-metrics">
      <tbody>
        <tr>
          <td>NMSE</td>
          <td className="num">
            {fmtNmse(m.nmse, threshold, 3)}{' '}
            <span className="muted">(threshold {fmtThreshold(threshold)})</span>
          </td>
        </tr>
        <tr>
          <td>Max abs error</td>
          <td className="num">{fmtSci(m.maxAbsErr, 3)}</td>
        </tr>
        <tr>
          <td>Max rel error</td>
          <td className="num">{fmtSci(m.maxRelErr, 3)}</td>
        </tr>
        <tr>
          <td>NaN / Inf mismatches</td>
          <td className="num">
            {m.nanMismatches} / {m.infMismatches}
          </td>
        </tr>
        <tr>
          <td>Outputs compared</td>
          <td className="num">{m.count.toLocaleString('en-US')}</td>
        </tr>
        {m.worst && (
          <tr>
            <td>Worst element</td>
            <td className="num">
              [{m.worst.row}, {m.worst.col}] ref {fmtVal(m.worst.ref)} got {fmtVal(m.worst.got)}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}

function TimingTable({ t, backend }: { t: TimingSummary; backend: BackendKind }) {
  const warn = spreadWarning(t);
  return (
    <table className="kv" data-testid="detail-timing">
      <tbody>
        <tr>
          <td>Median</td>
          <td className="num">
            {fmtUs(t.medianUs)} <span className="muted">({protocolLabel(t, backend)})</span>
          </td>
        </tr>
        <tr>
          <td>Spread</td>
          <td className="num" data-testid="detail-spread">
            {fmtPct(t.spread * 100)} <span className="muted">(p90 − p10) / median</span> · min / max{' '}
            {fmtUs(t.minUs)} / {fmtUs(t.maxUs)}
          </td>
        </tr>
        <tr>
          <td>Samples</td>
          <td className="num" data-testid="detail-samples">
            {t.samples}
          </td>
        </tr>
        {warn && (
          <tr>
            <td />
            <td className="warn-text" data-testid="spread-warning">
              ⚠ {warn}
            </td>
          </tr>
        )}
        <tr>
          <td>Bandwidth</td>
          <td className="num">
            {fmtRate(t.gbps)} GB/s
            {t.pctPeak != null && <> · {fmtPct(t.pctPeak)} of the datasheet peak</>}
            {t.pctCopy != null && <> · {fmtPct(t.pctCopy)} of the measured device copy bandwidth</>}
          </td>
        </tr>
        <tr>
          <td>Compute</td>
          <td className="num">{fmtRate(t.tflops)} TFLOP/s</td>
        </tr>
      </tbody>
    </table>
  );
}

/** The detail pane of the results view: `r` in full, or `empty` when there is none to show. */
export function ResultDetail({ r, empty }: { r: TensorResult | null; empty: string }) {
  if (!r) {
    return (
      <div className="card detail empty-detail muted" data-testid="result-detail-empty">
        {empty}
      </div>
    );
  }
  return <ResultDetailView r={r} />;
}

/** Why a FAIL has no weight map: the diagnosis rests on the output alone. */
function outputOnlyNote(r: TensorResult): string {
  if (r.path === 'custom' && r.pathDetail?.startsWith('input '))
    return 'Only output-space evidence: this pair was not made with identity activations, so the weights themselves were not probed. Judge an identity-input pair to map the wrong weights.';
  return 'Only output-space evidence: no identity probe of the weights is kept for this result, so the diagnosis rests on the output alone.';
}

/** One result in full: verdict, diagnosis, metrics, timing, path, the output heatmap and the weight map. */
export function ResultDetailView({ r }: { r: TensorResult }) {
  const source = outputSource(r);
  return (
    <div className="card detail" data-testid="result-detail" data-result-id={r.resultId}>
      <div className="detail-head">
        <h2 className="card-title mono">{r.tensor}</h2>
        <span className={`status ${r.status}`}>{statusLabel(r.status)}</span>
        <span className="muted num">
          {r.type} · m={r.m} · n={r.n} · k={r.k} · {fmtBytes(r.weightBytes)} weights · {fmtFlop(flops(r))} ·
          AI {fmtNum(intensity(r), 2)} FLOP/B
        </span>
      </div>
      <p
        className={
          r.status === 'pass'
            ? 'pass-text'
            : r.status === 'fail'
              ? 'fail-text'
              : r.status === 'not-comparable'
                ? 'warn-text'
                : 'error-text'
        }
        data-testid="detail-verdict"
      >
        {verdictText(r)}
      </p>
      {r.diagnosis && (
        <div className="fail-text" data-testid="detail-diagnosis">
          <p>
            Diagnosis: <b>{r.diagnosis.class}</b>: {r.diagnosis.sentence}
          </p>
          <ul className="small">
            {r.diagnosis.evidence.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="detail-grid">
        <div>
          <h3>Accuracy</h3>
          {r.metrics ? (
            <MetricsTable m={r.metrics} threshold={r.threshold} />
          ) : (
            <p className="muted">No metrics.</p>
          )}
        </div>
        <div>
          <h3>Timing</h3>
          {r.timing ? (
            <TimingTable t={r.timing} backend={r.backend} />
          ) : (
            <p className="hint">Not timed (timing protocol &quot;none&quot; or the backend does not time).</p>
          )}
          {r.unfused && (
            <>
              <h3>Unfused baseline</h3>
              {r.unfused.error ? (
                <p className="error-text">{r.unfused.error}</p>
              ) : (
                <p className="num" data-testid="detail-unfused">
                  {fmtUs(r.unfused.timing?.medianUs)}
                  {r.unfused.timing && r.timing && (
                    <> · fused is {fmtNum(r.unfused.timing.medianUs / r.timing.medianUs, 2)}× faster</>
                  )}
                  {r.unfused.metrics && <> · NMSE {fmtSci(r.unfused.metrics.nmse)}</>}
                </p>
              )}
            </>
          )}
        </div>
        <div>
          <h3>Path</h3>
          <table className="kv">
            <tbody>
              <tr>
                <td>Kernel</td>
                <td className="mono">{r.path ?? '—'}</td>
              </tr>
              {r.arithmetic && r.arithmetic !== 'f32' && (
                <tr>
                  <td>Arithmetic</td>
                  <td className="mono" data-testid="detail-arithmetic">
                    {r.arithmetic}{' '}
                    <span className="muted">
                      (rounding costs NMSE {fmtSci(r.arithmeticNmse, 2)} against exact float32 inputs)
                    </span>
                  </td>
                </tr>
              )}
              {r.pathDetail && (
                <tr>
                  <td>Detail</td>
                  <td className="mono small wrap">{r.pathDetail}</td>
                </tr>
              )}
              <tr data-testid="detail-source">
                <td>{source.label}</td>
                <td>{source.text}</td>
              </tr>
              <tr>
                <td>Job time</td>
                <td className="num">{fmtDuration(r.elapsedMs)}</td>
              </tr>
            </tbody>
          </table>
        </div>
      </div>
      {r.status === 'error' ? (
        <p className="error-text" data-testid="detail-error">
          {r.error}
        </p>
      ) : (
        <div className={r.status === 'fail' ? 'maps two' : 'maps'}>
          <ErrorBoundary area="Heatmap">
            <HeatmapForResult result={r} />
          </ErrorBoundary>
          {r.status === 'fail' &&
            (r.weightMap ? (
              <ErrorBoundary area="Weight map">
                <div>
                  {r.diagnosis && (
                    <p className="fail-text small" data-testid="weight-map-sentence">
                      {r.diagnosis.sentence}
                    </p>
                  )}
                  <WeightMapForResult result={r} />
                </div>
              </ErrorBoundary>
            ) : (
              <p className="hint" data-testid="weight-map-none">
                {outputOnlyNote(r)}
              </p>
            ))}
        </div>
      )}
    </div>
  );
}
