import { useEffect, useMemo, useState } from 'react';
import { StoreProvider, useApp } from '../context';
import { createAppStore, errorText } from '../store';
import {
  benchTable,
  copyBandwidthText,
  hasCaseTable,
  readOnlyApi,
  recordResults,
  selftestTable,
  type CaseTable,
} from '../lib/history';
import { ResultsView } from './ResultsView';
import { ChartsView } from './ChartsView';
import { BenchChart } from './BenchChart';
import { ErrorBoundary } from './ErrorBoundary';
import { peerSourceLine } from '../../../src-shared/bench-chart';
import { computeUnitsText, KEPT_FOR_APP_WHY, kernelSettingsText } from '../../../src-shared/devices';
import { download } from '../lib/download';
import type { RunRecordData } from '../../../src-shared/contract';

/** A bench's timings or a selftest's cases, read-only. */
function CaseTableView({ table, label }: { table: CaseTable; label: string }) {
  return (
    <div className="compare-table-wrap">
      <table className="compare-table record-cases" aria-label={label} data-testid="record-cases">
        <thead>
          <tr>
            {table.columns.map((c, i) => (
              <th key={c} className={table.numeric[i] ? 'num' : undefined}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((r) => (
            <tr
              key={r.key}
              className={r.status === 'pass' ? '' : 'regression'}
              data-testid="record-case"
              data-status={r.status}
            >
              {r.cells.map((c, i) => (
                <td key={i} className={table.numeric[i] ? 'num' : undefined}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {table.rows.length === 0 && <p className="muted">This record holds no rows.</p>}
    </div>
  );
}

/**
 * One saved run, shown with the same results and charts views as a live run: a store of its own,
 * holding the record's rows, read-only. Bench and selftest records have no tensor results: their
 * timings or cases show as a table.
 */
export function RecordView({ id, onBack }: { id: string; onBack: () => void }) {
  const api = useApp((s) => s.api);
  const [rec, setRec] = useState<RunRecordData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<'results' | 'charts'>('results');
  const mode = useApp((s) => s.appInfo?.mode);
  const [format, setFormat] = useState<'html' | 'md' | 'json'>('html');
  const [exporting, setExporting] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);

  // a saved run's report, made by the engine from the record as the run's own Export makes it
  const onExport = async () => {
    setExporting(true);
    setNote(null);
    setExportError(null);
    try {
      const rep = await api.exportRecordReport({ id, format });
      if (rep.savedPath) setNote(`Report saved to ${rep.savedPath}`);
      else if (mode !== 'electron') {
        download(rep.fileName, rep.content);
        setNote(`${rep.fileName} downloaded`);
      }
    } catch (e) {
      setExportError(`Export failed: ${errorText(e)}`);
    } finally {
      setExporting(false);
    }
  };

  useEffect(() => {
    let live = true;
    api.openRecord(id).then(
      (r) => live && setRec(r),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [api, id]);

  const store = useMemo(() => {
    if (!rec || hasCaseTable(rec.kind)) return null;
    const s = createAppStore(readOnlyApi(api, rec));
    const results = recordResults(rec);
    // no result chosen: the results view shows its table's first row, as for a live run
    s.setState({ results, selectedResultId: null, view: 'results' });
    return s;
  }, [api, rec]);

  // the charts' "open its result" switches the saved run's own store to its results view
  useEffect(
    () =>
      store?.subscribe((s, prev) => {
        if (s.view !== prev.view && (s.view === 'results' || s.view === 'charts')) setTab(s.view);
      }),
    [store],
  );

  return (
    <div className="history record-view" data-testid="record-view">
      <div className="toolbar history-toolbar">
        <button className="btn" onClick={onBack} data-testid="history-back">
          ← History
        </button>
        {rec && (
          <span className="record-facts">
            <b>{rec.model?.fileName ?? (hasCaseTable(rec.kind) ? 'synthetic weights' : '—')}</b>
            <span className="muted"> · </span>
            {rec.device ? `${rec.device.backend}:${rec.device.index} ${rec.device.name}` : 'no device'}
            <span className="muted"> · </span>
            {new Date(rec.createdAt).toLocaleString()}
            <span className="muted">
              {' '}
              · {rec.kind} · {rec.status} · QuantScope {rec.app.version}
            </span>
            {rec.device?.backend === 'cpu' && typeof rec.device.computeUnits === 'number' && (
              // the app runs one worker thread fewer than the CLI: its cpu timings are told apart here
              <span
                className="muted"
                data-testid="record-threads"
                title={rec.device.threadsKeptForApp ? KEPT_FOR_APP_WHY : undefined}
              >
                {' '}
                · {computeUnitsText('cpu', rec.device.computeUnits, rec.device.threadsKeptForApp)}
              </span>
            )}
            {rec.device && (
              <span className="muted" data-testid="record-copy">
                {' '}
                · copy bandwidth{' '}
                {copyBandwidthText(rec.device.copyBandwidth, rec.device.copyBandwidthGBs) ?? 'not measured'}
              </span>
            )}
            {rec.device?.kernelSettings?.length ? (
              // kernels built with other settings than the defaults: their figures are that build's
              <span
                className="mono"
                data-testid="record-kernel-settings"
                title="the kernels of this run were built or launched with these settings instead of the defaults"
              >
                {' '}
                · {kernelSettingsText(rec.device.kernelSettings)}
              </span>
            ) : null}
          </span>
        )}
        <div className="spacer" />
        <span className="badge" title="a saved run: nothing here runs again">
          read-only
        </span>
        {rec && rec.kind !== 'selftest' && (
          <>
            <select
              value={format}
              onChange={(e) => setFormat(e.target.value as typeof format)}
              aria-label="Report format"
              data-testid="record-export-format"
            >
              <option value="html">HTML</option>
              <option value="md">Markdown</option>
              <option value="json">JSON</option>
            </select>
            <button
              className="btn"
              disabled={exporting}
              onClick={() => void onExport()}
              title={
                rec.kind === 'bench'
                  ? 'Export this bench record as a bench report'
                  : "Export this saved run's report, as the run's own Export writes it"
              }
              data-testid="record-export"
            >
              {exporting ? 'Exporting…' : 'Export report'}
            </button>
          </>
        )}
        {store && (
          <nav className="tabs" role="tablist">
            {(['results', 'charts'] as const).map((t) => (
              <button
                key={t}
                role="tab"
                aria-selected={tab === t}
                className={tab === t ? 'tab active' : 'tab'}
                onClick={() => setTab(t)}
                data-testid={`record-tab-${t}`}
              >
                {t === 'results' ? 'Results' : 'Charts'}
              </button>
            ))}
          </nav>
        )}
      </div>
      {error && (
        <p className="error-text" role="alert" data-testid="record-error">
          {error}
        </p>
      )}
      {exportError && (
        <p className="error-text" role="alert" data-testid="record-export-error">
          {exportError}
        </p>
      )}
      {note && (
        <p className="hint" data-testid="record-export-note">
          {note}
        </p>
      )}
      {rec?.error && <p className="error-text">The run ended with: {rec.error}</p>}
      {rec?.kind === 'bench' && rec.bench && (
        <>
          <p className="muted small" data-testid="record-bench-facts">
            {rec.bench.shape ? `shape n=${rec.bench.shape.n} k=${rec.bench.shape.k}` : ''}
            {rec.bench.repeats != null ? ` · ${rec.bench.repeats} samples per row` : ''}
            {rec.bench.peer ? ` · peer: ${peerSourceLine(rec.bench.peer)}` : ' · no peer times'}
          </p>
          <CaseTableView table={benchTable(rec)} label="Bench timings" />
          <BenchChart bench={rec.bench} />
        </>
      )}
      {rec?.kind === 'selftest' && rec.selftest && (
        <CaseTableView table={selftestTable(rec)} label="Selftest cases" />
      )}
      {store && (
        <StoreProvider store={store}>
          <ErrorBoundary area="Saved run">
            <div className="pane record-pane" data-testid={`record-${tab}`}>
              {tab === 'results' ? <ResultsView /> : <ChartsView />}
            </div>
          </ErrorBoundary>
        </StoreProvider>
      )}
    </div>
  );
}
