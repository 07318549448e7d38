import { useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useApp } from '../context';
import { fmtPct, fmtRate, fmtSci, fmtUs } from '../lib/format';
import {
  countResults,
  shownResult,
  statusLabel,
  verdictText,
  visibleResults,
  type ResultSortKey,
  type StatusFilter,
} from '../lib/results';
import { DevicesPanel } from './DevicesPanel';
import { isActive } from '../lib/runState';
import { bandwidthShare, shareHeader, spreadWarning, timedChoices, timingTitle } from '../lib/timing';
import { ResultDetail } from './ResultDetail';
import { SortHeader } from './SortHeader';
import type { TensorResult } from '../../../src-shared/contract';

const COLS: { key: ResultSortKey; label: string; cls?: string; title?: string }[] = [
  { key: 'tensor', label: 'Tensor' },
  { key: 'type', label: 'Type' },
  { key: 'm', label: 'm', cls: 'num', title: 'batch size (activation rows)' },
  { key: 'status', label: 'Result' },
  { key: 'nmse', label: 'NMSE', cls: 'num', title: 'normalised mean squared error vs the float64 reference' },
  { key: 'maxAbs', label: 'Max abs err', cls: 'num' },
  {
    key: 'maxRel',
    label: 'Max rel err',
    cls: 'num',
    title: 'max |error| / max |reference| of that output row',
  },
  { key: 'time', label: 'Time', cls: 'num', title: 'median kernel time (⚠: spread above 5 %)' },
  { key: 'gbps', label: 'GB/s', cls: 'num', title: 'weight bytes / median time' },
  {
    key: 'pctPeak',
    label: '% of peak',
    cls: 'num',
    title: 'of the datasheet peak bandwidth (GPUs), else of the measured device copy bandwidth',
  },
  { key: 'path', label: 'Path' },
];

const ROW_H = 28;

function ResultRow({ r }: { r: TensorResult }) {
  // Without a datasheet peak the column shows the share of the measured copy bandwidth, and says so.
  const share = bandwidthShare(r.timing);
  const warn = r.timing ? spreadWarning(r.timing) : null;
  return (
    <>
      <div role="cell" className="mono ellipsis" title={r.tensor}>
        {r.tensor}
      </div>
      <div role="cell">{r.type}</div>
      <div role="cell" className="num">
        {r.m}
      </div>
      <div role="cell">
        <span className={`status ${r.status}`} data-testid="result-status" title={r.notComparable}>
          {statusLabel(r.status)}
        </span>
      </div>
      {r.status === 'error' ? (
        <div role="cell" className="error-cell ellipsis" title={r.error} data-testid="result-error">
          {r.error ?? 'failed without a message'}
        </div>
      ) : (
        <>
          <div role="cell" className="num" title={verdictText(r)}>
            {fmtSci(r.metrics?.nmse)}
          </div>
          <div role="cell" className="num">
            {fmtSci(r.metrics?.maxAbsErr)}
          </div>
          <div role="cell" className="num">
            {fmtSci(r.metrics?.maxRelErr)}
          </div>
          <div role="cell" className="num" title={r.timing ? (warn ?? timingTitle(r.timing)) : undefined}>
            {warn && (
              <span className="warn-text" data-testid="spread-warn">
                ⚠{' '}
              </span>
            )}
            {fmtUs(r.timing?.medianUs)}
          </div>
          <div role="cell" className="num">
            {fmtRate(r.timing?.gbps)}
          </div>
          <div role="cell" className="num">
            {fmtPct(share?.pct)}
            {share?.of === 'copy' && (
              <span className="muted small" title="of the measured device copy bandwidth (no datasheet peak)">
                {' '}
                copy
              </span>
            )}
          </div>
        </>
      )}
      <div role="cell" className="mono small ellipsis" title={r.pathDetail}>
        {r.path ?? '—'}
      </div>
    </>
  );
}

/** The table of `rows` (filtered and sorted by ResultsView); `shownId` is the row the detail pane shows. */
function ResultsTable({ rows, shownId }: { rows: TensorResult[]; shownId: string | null }) {
  const s = useApp((s) => ({
    results: s.results,
    sort: s.resultSort,
    setSort: s.setResultSort,
    select: s.selectResult,
  }));
  const shareLabel = useMemo(() => shareHeader(s.results), [s.results]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 10,
  });
  return (
    <div className="vtable results-table" role="table" aria-label="Results" data-testid="results-table">
      <div className="vrow vhead result-grid" role="row">
        {COLS.map((c) => (
          <SortHeader
            key={c.key}
            label={c.key === 'pctPeak' ? shareLabel : c.label}
            title={c.title}
            cls={c.cls}
            dir={s.sort.key === c.key ? s.sort.dir : null}
            onSort={() => s.setSort(c.key)}
            testId={`result-sort-${c.key}`}
          />
        ))}
      </div>
      <div
        className="vbody"
        ref={scrollRef}
        onKeyDown={(e) => {
          if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
          e.preventDefault();
          const i = rows.findIndex((r) => r.resultId === shownId);
          const j = Math.max(0, Math.min(rows.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
          if (!rows[j]) return;
          s.select(rows[j].resultId);
          virt.scrollToIndex(j);
          requestAnimationFrame(() =>
            scrollRef.current?.querySelector<HTMLElement>(`[data-result-id="${rows[j].resultId}"]`)?.focus(),
          );
        }}
      >
        {rows.length === 0 && s.results.length > 0 && (
          <div className="empty-row muted" data-testid="results-none-match">
            No result matches the filter.
          </div>
        )}
        <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
          {virt.getVirtualItems().map((vi) => {
            const r = rows[vi.index];
            const sel = r.resultId === shownId;
            return (
              <div
                key={r.resultId}
                role="row"
                tabIndex={0}
                aria-selected={sel}
                className={`vrow result-grid clickable ${r.status}${sel ? ' selected' : ''}`}
                style={{ transform: `translateY(${vi.start}px)`, height: ROW_H }}
                onClick={() => s.select(r.resultId)}
                onKeyDown={(e) => e.key === 'Enter' && s.select(r.resultId)}
                data-testid="result-row"
                data-result-id={r.resultId}
                data-tensor={r.tensor}
                data-m={r.m}
                data-status={r.status}
              >
                <ResultRow r={r} />
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function ResultsView() {
  const s = useApp((s) => ({
    results: s.results,
    status: s.run.status,
    model: s.model,
    owner: s.resultsFor,
    setView: s.setView,
    hasTiming: s.results.some((r) => r.timing),
    timingChoice: s.run.request?.timing,
    runBackend: s.run.request?.backend,
    setSelected: s.setSelected,
    sort: s.resultSort,
    selectedId: s.selectedResultId,
  }));
  const counts = countResults(s.results);
  /** Select the failing tensors in the model view, ready to run again (after a kernel fix). */
  const selectFailing = () => {
    const names = new Set(s.results.filter((r) => r.status !== 'pass').map((r) => r.tensor));
    const known = new Set(s.model?.tensors.map((t) => t.name) ?? []);
    s.setSelected(new Set([...names].filter((n) => known.has(n))), null);
    s.setView('model');
  };
  const [filter, setFilter] = useState<StatusFilter>('all');
  // the table's rows, and the one result the detail pane shows: always a row the table shows
  const rows = useMemo(() => visibleResults(s.results, filter, s.sort), [s.results, filter, s.sort]);
  const shown = shownResult(rows, s.selectedId);
  const ownModel = !s.owner?.modelPath || s.owner.modelPath === s.model?.path;
  if (s.status === 'idle' && s.results.length === 0) {
    return (
      <div className="empty" data-testid="results-empty">
        <h2>No results yet</h2>
        <p className="muted">
          {s.model
            ? 'Select tensors in the Model view and press Run (Ctrl+R).'
            : 'Open a model first (Ctrl+O).'}
        </p>
        <button className="btn" onClick={() => s.setView('model')}>
          Go to the model
        </button>
      </div>
    );
  }
  return (
    <div className="results-view" data-testid="results-view">
      <div className="card results-card">
        <div className="toolbar">
          <h2 className="card-title">Results</h2>
          {s.owner && (
            <span className="results-owner ellipsis" data-testid="results-owner" title={s.owner.modelPath}>
              <span className="mono">{s.owner.modelName}</span> · {s.owner.device}
            </span>
          )}
          {/* beside the owner, not in it: a long model name or device is cut short, this never is */}
          {s.owner && s.model && s.owner.modelPath && s.model.path !== s.owner.modelPath && (
            <span className="warn-text results-other" data-testid="results-other-model">
              (not the open model)
            </span>
          )}
          <span className="num" data-testid="results-counts">
            <span className="pass-text">{counts.pass} pass</span> ·{' '}
            <span className="fail-text">{counts.fail} fail</span> ·{' '}
            <span className="error-text-inline">{counts.error} error</span> ·{' '}
            {counts['not-comparable'] > 0 && (
              <>
                <span className="warn-text">{counts['not-comparable']} not comparable</span> ·{' '}
              </>
            )}
            {counts.total} total
          </span>
          <div className="seg small" role="radiogroup" aria-label="Show results">
            {(
              [
                ['all', 'All'],
                ['problems', 'Fail + error'],
                ['fail', 'Fail'],
                ['error', 'Error'],
              ] as const
            ).map(([v, label]) => (
              <button
                key={v}
                role="radio"
                aria-checked={filter === v}
                className={filter === v ? 'on' : ''}
                onClick={() => setFilter(v)}
                data-testid={`results-filter-${v}`}
              >
                {label}
              </button>
            ))}
          </div>
          {isActive(s.status) && <span className="muted">streaming…</span>}
          {!isActive(s.status) && counts.fail + counts.error > 0 && s.model && ownModel && (
            <button
              className="btn small"
              onClick={selectFailing}
              data-testid="select-failing"
              title="Select the tensors that failed or errored, to run them again"
            >
              Select failing tensors
            </button>
          )}
          {!s.hasTiming && counts.total > 0 && (
            <span className="hint" data-testid="no-timing-hint">
              {s.timingChoice === 'none'
                ? `Timing was off (protocol "none"): choose ${timedChoices(s.runBackend)} to measure time and GB/s.`
                : 'No timing in these results.'}
            </span>
          )}
        </div>
        <ResultsTable rows={rows} shownId={shown?.resultId ?? null} />
      </div>
      <DevicesPanel results={s.results} />
      <ResultDetail
        r={shown}
        empty={
          s.results.length > 0
            ? 'No result matches the filter: choose All to see the others.'
            : 'Results appear here as they arrive.'
        }
      />
    </div>
  );
}
