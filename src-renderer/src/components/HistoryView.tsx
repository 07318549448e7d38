import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useApp } from '../context';
import { errorText } from '../store';
import {
  EMPTY_HISTORY_FILTER,
  RECORD_KINDS,
  choicesOf,
  comparePair,
  filterRecords,
  localDateTime,
  toggleSelection,
  type HistoryFilter,
} from '../lib/history';
import { RecordView } from './RecordView';
import { CompareView } from './CompareView';
import type { RecordListing, RecordSummaryEntry } from '../../../src-shared/contract';
import '../history.css';

const ROW_H = 30;

type Screen =
  | { kind: 'list' }
  | { kind: 'record'; id: string }
  | { kind: 'compare'; baseline: string; candidate: string };

function Counts({ r }: { r: RecordSummaryEntry }) {
  const c = r.counts;
  return (
    <span className="history-counts" data-testid="history-counts">
      <span className="badge pass">{c.pass}</span>
      {c.fail > 0 && <span className="badge fail">{c.fail}</span>}
      {c.error > 0 && <span className="badge error">{c.error}</span>}
      {c.notComparable > 0 && <span className="badge">{c.notComparable}</span>}
    </span>
  );
}

/**
 * The History tab: every saved run (the engine's records folder), filtered and newest first; open
 * one to see its results as they were, or pick two and compare them.
 */
export function HistoryView() {
  const { api, view, runStatus } = useApp((s) => ({ api: s.api, view: s.view, runStatus: s.run.status }));
  const [listing, setListing] = useState<RecordListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [filter, setFilter] = useState<HistoryFilter>(EMPTY_HISTORY_FILTER);
  const [selected, setSelected] = useState<string[]>([]);
  const [screen, setScreen] = useState<Screen>({ kind: 'list' });

  const refresh = useCallback(async () => {
    setLoading(true);
    try {
      setListing(await api.listRecords());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [api]);

  // the list is read when the tab is shown and after each run (a finished run is a new record)
  useEffect(() => {
    if (view === 'history') void refresh();
  }, [view, runStatus, refresh]);

  const records = useMemo(() => listing?.records ?? [], [listing]);
  const rows = useMemo(() => filterRecords(records, filter), [records, filter]);
  const models = useMemo(() => choicesOf(records, 'model'), [records]);
  const devices = useMemo(() => choicesOf(records, 'device'), [records]);
  const pair = comparePair(selected, records);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 10,
  });

  if (screen.kind === 'record')
    return <RecordView id={screen.id} onBack={() => setScreen({ kind: 'list' })} />;
  if (screen.kind === 'compare')
    return (
      <CompareView
        baseline={screen.baseline}
        candidate={screen.candidate}
        records={records}
        onBack={() => setScreen({ kind: 'list' })}
        onOpen={(id) => setScreen({ kind: 'record', id })}
      />
    );

  const set = (p: Partial<HistoryFilter>) => setFilter((f) => ({ ...f, ...p }));
  return (
    <div className="history" data-testid="history">
      <div className="toolbar history-toolbar">
        <label>
          Kind{' '}
          <select
            value={filter.kind}
            onChange={(e) => set({ kind: e.target.value as HistoryFilter['kind'] })}
            data-testid="history-kind"
          >
            <option value="">any</option>
            {RECORD_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model{' '}
          <select
            value={filter.model}
            onChange={(e) => set({ model: e.target.value })}
            data-testid="history-model"
          >
            <option value="">any</option>
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Device{' '}
          <select
            value={filter.device}
            onChange={(e) => set({ device: e.target.value })}
            data-testid="history-device"
          >
            <option value="">any</option>
            {devices.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <label>
          Verdict{' '}
          <select
            value={filter.verdict}
            onChange={(e) => set({ verdict: e.target.value as HistoryFilter['verdict'] })}
            data-testid="history-verdict"
          >
            <option value="any">any</option>
            <option value="failures">has failures</option>
            <option value="clean">all passed</option>
          </select>
        </label>
        <label>
          From{' '}
          <input
            type="date"
            value={filter.from}
            onChange={(e) => set({ from: e.target.value })}
            data-testid="history-from"
          />
        </label>
        <label>
          To{' '}
          <input
            type="date"
            value={filter.to}
            onChange={(e) => set({ to: e.target.value })}
            data-testid="history-to"
          />
        </label>
        <button
          className="btn"
          onClick={() => setFilter(EMPTY_HISTORY_FILTER)}
          disabled={filter === EMPTY_HISTORY_FILTER}
        >
          Clear
        </button>
        <div className="spacer" />
        <button
          className="btn"
          onClick={() => void refresh()}
          disabled={loading}
          data-testid="history-refresh"
        >
          {loading ? 'Reading…' : 'Refresh'}
        </button>
        <button
          className="btn primary"
          disabled={!pair}
          onClick={() => pair && setScreen({ kind: 'compare', ...pair })}
          data-testid="history-compare"
          title="Compare the two selected runs: the older is the baseline"
        >
          Compare{selected.length > 0 ? ` (${selected.length}/2)` : ''}
        </button>
      </div>
      {error && (
        <p className="error-text" role="alert" data-testid="history-error">
          {error}
        </p>
      )}
      {listing && !listing.recording && (
        <p className="hint" data-testid="history-off">
          {listing.note ?? 'Runs are not recorded.'}
        </p>
      )}
      {listing && listing.skipped.length > 0 && (
        <details className="hint history-skipped" data-testid="history-skipped">
          <summary>
            {listing.skipped.length} file{listing.skipped.length === 1 ? '' : 's'} in the records folder could
            not be read
          </summary>
          <ul>
            {listing.skipped.map((s) => (
              <li key={s.file} className="mono small">
                {s.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
      <div className="vtable" role="table" aria-label="Saved runs" data-testid="history-table">
        <div className="vrow vhead history-grid" role="row">
          <div role="columnheader" aria-label="select" />
          <div role="columnheader">Date</div>
          <div role="columnheader">Model</div>
          <div role="columnheader">Device</div>
          <div role="columnheader">Verdicts</div>
          <div role="columnheader">Kind</div>
          <div role="columnheader">Status</div>
          <div role="columnheader" />
        </div>
        <div className="vbody" ref={scrollRef}>
          {listing && rows.length === 0 && (
            <p className="empty-row muted" data-testid="history-empty">
              {records.length === 0
                ? 'No saved runs yet: every finished run is saved here.'
                : 'No run matches the filter.'}
            </p>
          )}
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {virt.getVirtualItems().map((vi) => {
              const r = rows[vi.index];
              const sel = selected.includes(r.id);
              return (
                <div
                  key={r.id}
                  role="row"
                  aria-selected={sel}
                  className={`vrow history-grid${sel ? ' selected' : ''}`}
                  style={{ transform: `translateY(${vi.start}px)`, height: ROW_H }}
                  data-testid="history-row"
                  data-record-id={r.id}
                >
                  <div role="cell">
                    <input
                      type="checkbox"
                      checked={sel}
                      aria-label={`select ${r.id} for comparison`}
                      onChange={() => setSelected((s) => toggleSelection(s, r.id))}
                      data-testid="history-select"
                    />
                  </div>
                  <div role="cell" className="num" title={r.createdAt}>
                    {localDateTime(r.createdAt)}
                  </div>
                  <div role="cell" className="ellipsis" title={r.model ?? ''}>
                    {r.model ?? '—'}
                  </div>
                  <div role="cell" className="ellipsis" title={r.device ?? ''}>
                    {r.device ?? '—'}
                  </div>
                  <div role="cell">
                    <Counts r={r} />
                  </div>
                  <div role="cell" data-testid="history-kind-cell">
                    {r.kind}
                  </div>
                  <div role="cell">{r.status}</div>
                  <div role="cell">
                    <button
                      className="btn small"
                      onClick={() => setScreen({ kind: 'record', id: r.id })}
                      data-testid="history-open"
                    >
                      Open
                    </button>
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
