import { useCallback, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { defaultRangeExtractor, useVirtualizer, type Range } from '@tanstack/react-virtual';
import { Bar, BarChart, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApp, useAppStore } from '../context';
import { fmtBytes, fmtCount, fmtDuration, fmtRowsCols, fmtShape } from '../lib/format';
import { byteUnit, niceTicks, typeColor } from '../lib/charts';
import {
  nonFiniteLabel,
  clickSelect,
  filterTensors,
  selectionState,
  sortTensors,
  tensorFacets,
  toggleAll,
  type TensorSortKey,
} from '../lib/tensors';
import type { ModelSummary } from '../../../src-shared/contract';
import { SortHeader } from './SortHeader';

const KEY_METADATA = [
  /^general\.(name|architecture|file_type|quantization_version|size_label|basename)$/,
  /\.(context_length|embedding_length|block_count|feed_forward_length|vocab_size)$/,
  /\.attention\.(head_count|head_count_kv)$/,
  /\.rope\.freq_base$/,
];

function ModelInfo({ model }: { model: ModelSummary }) {
  const [showAll, setShowAll] = useState(false);
  const key = model.metadata.filter((m) => KEY_METADATA.some((r) => r.test(m.key)));
  const shown = showAll ? model.metadata : key;
  const supported = model.tensors.filter((t) => t.supported).length;
  return (
    <section className="card model-info" data-testid="model-info">
      <h2 className="card-title" title={model.path}>
        {model.name ?? model.fileName}
      </h2>
      <table className="kv">
        <tbody>
          <tr>
            <td>File</td>
            <td className="mono" title={model.path}>
              {model.fileName}
              {model.files && (
                <span
                  className="muted"
                  data-testid="model-files"
                  title={model.files.map((f) => `${f.fileName} (${fmtBytes(f.size)})`).join('\n')}
                >
                  {' '}
                  and {model.files.length - 1} more file{model.files.length === 2 ? '' : 's'} (split model)
                </span>
              )}
            </td>
          </tr>
          <tr>
            <td>Architecture</td>
            <td data-testid="model-arch">{model.architecture ?? '—'}</td>
          </tr>
          <tr>
            <td>Size</td>
            <td className="num">
              {fmtBytes(model.fileSize)} · GGUF v{model.version} · align {model.alignment}
            </td>
          </tr>
          <tr>
            <td>Tensors</td>
            <td className="num">
              {fmtCount(model.tensors.length)} ({fmtCount(supported)} supported) · opened in{' '}
              {fmtDuration(model.openMs)}
            </td>
          </tr>
          {shown.map((m) => (
            <tr key={m.key}>
              <td className="mono small" title={m.type}>
                {m.key}
              </td>
              <td className="mono small wrap">{m.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {model.metadata.length > key.length && (
        <button className="btn link" onClick={() => setShowAll(!showAll)} data-testid="toggle-metadata">
          {showAll ? 'Show key metadata only' : `Show all ${model.metadata.length} metadata entries`}
        </button>
      )}
      {model.warnings.length > 0 && (
        <div className="warnings" data-testid="model-warnings">
          {model.warnings.map((w, i) => (
            <p key={i} className="warn-text">
              ⚠ {w}
            </p>
          ))}
        </div>
      )}
    </section>
  );
}

function QuantMix({ model }: { model: ModelSummary }) {
  const entries = Object.entries(model.typeBytes);
  // The axis unit follows the largest type's size (KiB for a sample, GiB for a 70B model).
  const { unit, div } = byteUnit(Math.max(0, ...entries.map(([, b]) => b)));
  const data = entries
    .map(([type, bytes]) => ({ type, bytes, v: bytes / div }))
    .sort((a, b) => b.bytes - a.bytes);
  const total = data.reduce((a, d) => a + d.bytes, 0);
  const ticks = niceTicks(data[0]?.v ?? 0, 4);
  return (
    <section className="card quant-mix" data-testid="quant-mix">
      <h2 className="card-title">Quantization mix</h2>
      <div style={{ height: Math.max(90, data.length * 26 + 30) }}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} layout="vertical" margin={{ left: 8, right: 24, top: 4, bottom: 4 }}>
            <XAxis
              type="number"
              domain={ticks.domain}
              ticks={ticks.ticks}
              tickFormatter={(v: number) => `${Number(v.toPrecision(4))} ${unit}`}
              fontSize={11}
            />
            <YAxis type="category" dataKey="type" width={48} fontSize={11} />
            <Tooltip
              formatter={(_v, _n, p) => {
                const bytes = (p.payload as { bytes: number }).bytes;
                return [`${fmtBytes(bytes)} (${((bytes * 100) / total).toFixed(1)} %)`, 'bytes'];
              }}
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }}
            />
            <Bar dataKey="v" isAnimationActive={false}>
              {data.map((d) => (
                <Cell key={d.type} fill={typeColor(d.type)} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
    </section>
  );
}

const COLS: { key: TensorSortKey; label: string; name?: string; cls?: string; title?: string }[] = [
  { key: 'index', label: '#', name: 'Index', cls: 'num' },
  { key: 'name', label: 'Name' },
  { key: 'type', label: 'Type' },
  { key: 'shape', label: 'Shape (n × k)', cls: 'num', title: 'rows n (outputs) × columns k (inputs)' },
  { key: 'nbytes', label: 'Size', cls: 'num' },
  { key: 'layer', label: 'Layer', cls: 'num' },
  { key: 'supported', label: 'Supported' },
];

const ROW_H = 28;

function TensorTable({ model }: { model: ModelSummary }) {
  const s = useApp((s) => ({
    filter: s.filter,
    sort: s.tensorSort,
    selected: s.selected,
    anchor: s.anchor,
    setFilter: s.setFilter,
    setSort: s.setTensorSort,
    setSelected: s.setSelected,
  }));
  const facets = useMemo(() => tensorFacets(model.tensors), [model]);
  const shown = useMemo(
    () => sortTensors(filterTensors(model.tensors, s.filter), s.sort),
    [model, s.filter, s.sort],
  );
  const shownNames = useMemo(() => shown.map((t) => t.name), [shown]);
  const allState = selectionState(s.selected, shown);
  const selectedCount = model.tensors.filter((t) => t.supported && s.selected.has(t.name)).length;

  // The list is one Tab stop (roving focus): the focused row has tabIndex 0, the others and the
  // checkboxes -1; arrow keys, Home/End and PageUp/PageDown move the focus, Space toggles the row.
  const [focusName, setFocusName] = useState<string | null>(null);
  const focusIndex = Math.max(0, focusName === null ? 0 : shownNames.indexOf(focusName));

  const scrollRef = useRef<HTMLDivElement>(null);
  // The focused row stays rendered when it is scrolled out of view, so the list keeps its Tab stop.
  const rangeExtractor = useCallback(
    (range: Range) => {
      const rows = defaultRangeExtractor(range);
      return focusIndex >= range.count || rows.includes(focusIndex)
        ? rows
        : [...rows, focusIndex].sort((a, b) => a - b);
    },
    [focusIndex],
  );
  const virt = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 12,
    rangeExtractor,
  });

  // from the store's current selection, not this render's: keys and clicks that come faster than
  // renders each build on the one before
  const store = useAppStore();
  const toggle = (name: string, shift: boolean) => {
    const cur = store.getState();
    cur.setSelected(clickSelect(cur.selected, shownNames, name, cur.anchor, shift), name);
  };

  const onListKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-testid=tensor-row]');
    const i = row ? shownNames.indexOf(row.dataset.name ?? '') : -1;
    if (!row || i < 0 || e.altKey || e.ctrlKey || e.metaKey) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW_H) / ROW_H) - 1);
    const moves: Record<string, number> = {
      ArrowDown: i + 1,
      ArrowUp: i - 1,
      PageDown: i + page,
      PageUp: i - page,
      Home: 0,
      End: shown.length - 1,
    };
    if (e.key === ' ' && e.target === row) {
      // Space on the row toggles its checkbox (on the checkbox itself, the checkbox does it).
      e.preventDefault();
      if (shown[i].supported) toggle(shown[i].name, e.shiftKey);
      return;
    }
    if (!(e.key in moves)) return;
    e.preventDefault();
    const j = Math.max(0, Math.min(shown.length - 1, moves[e.key]));
    const name = shown[j].name;
    const rowEl = () =>
      scrollRef.current?.querySelector<HTMLElement>(
        `[data-testid=tensor-row][data-name="${CSS.escape(name)}"]`,
      );
    setFocusName(name);
    virt.scrollToIndex(j);
    // A row already rendered takes the focus now, so the next key (pressed before another frame)
    // starts from it; one scrolled in from far away takes it once it is rendered.
    const now = rowEl();
    if (now) now.focus();
    else requestAnimationFrame(() => rowEl()?.focus());
  };

  return (
    <section className="card tensor-card">
      <div className="toolbar">
        <input
          type="search"
          placeholder="Filter: ffn_down, attn_q or blk.*.ffn_*"
          value={s.filter.text}
          onChange={(e) => s.setFilter({ text: e.target.value })}
          data-testid="filter-name"
          title="Comma list, any may match; * and ? are globs over the whole name (as --tensors), other words match anywhere"
          aria-label="Filter by name"
        />
        <select
          value={s.filter.type}
          onChange={(e) => s.setFilter({ type: e.target.value })}
          data-testid="filter-type"
          aria-label="Filter by type"
        >
          <option value="">All types</option>
          <option value="supported">Supported types</option>
          {facets.types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <select
          value={s.filter.layer}
          onChange={(e) => s.setFilter({ layer: e.target.value })}
          data-testid="filter-layer"
          aria-label="Filter by layer"
        >
          <option value="">All layers</option>
          <option value="none">No layer (embeddings, output)</option>
          {facets.layers.map((l) => (
            <option key={l} value={String(l)}>
              Layer {l}
            </option>
          ))}
        </select>
        <span className="muted num" data-testid="tensor-counts">
          {fmtCount(shown.length)} of {fmtCount(model.tensors.length)} shown ·{' '}
          <b data-testid="selected-count">{selectedCount}</b> selected
        </span>
        <div className="spacer" />
        <button
          className="btn small"
          data-testid="select-all-filtered"
          onClick={() => s.setSelected(toggleAll(s.selected, shown))}
        >
          {allState === 'all' ? 'Clear filtered' : 'Select all filtered'}
        </button>
        <button
          className="btn small"
          data-testid="clear-selection"
          disabled={s.selected.size === 0}
          onClick={() => s.setSelected(new Set(), null)}
        >
          Clear all
        </button>
      </div>
      <div
        className="vtable tensor-table"
        role="grid"
        aria-label="Tensors"
        aria-multiselectable="true"
        aria-rowcount={shown.length + 1}
        data-testid="tensor-table"
      >
        <div className="vrow vhead tensor-grid" role="row" aria-rowindex={1}>
          <div role="columnheader">
            <input
              type="checkbox"
              aria-label="Select all filtered"
              data-testid="select-all"
              checked={allState === 'all'}
              ref={(el) => {
                if (el) el.indeterminate = allState === 'some';
              }}
              onChange={() => s.setSelected(toggleAll(s.selected, shown))}
            />
          </div>
          {COLS.map((c) => (
            <SortHeader
              key={c.key}
              label={c.label}
              name={c.name}
              title={c.title}
              cls={c.cls}
              dir={s.sort.key === c.key ? s.sort.dir : null}
              onSort={() => s.setSort(c.key)}
              testId={`tensor-sort-${c.key}`}
            />
          ))}
        </div>
        <div className="vbody" ref={scrollRef} data-testid="tensor-scroll" onKeyDown={onListKey}>
          {shown.length === 0 && <div className="empty-row muted">No tensor matches the filter.</div>}
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {virt.getVirtualItems().map((vi) => {
              const t = shown[vi.index];
              const on = s.selected.has(t.name);
              return (
                <div
                  key={t.name}
                  role="row"
                  aria-rowindex={vi.index + 2}
                  aria-selected={t.supported ? on : undefined}
                  aria-disabled={t.supported ? undefined : true}
                  tabIndex={vi.index === focusIndex ? 0 : -1}
                  className={`vrow tensor-grid${on ? ' selected' : ''}${t.supported ? '' : ' unsupported'}`}
                  style={{ transform: `translateY(${vi.start}px)`, height: ROW_H }}
                  data-testid="tensor-row"
                  data-name={t.name}
                  data-type={t.typeName}
                  data-n={t.n}
                  data-k={t.k}
                  onFocus={() => setFocusName(t.name)}
                  onClick={(e) => {
                    // The whole row is a click target (shift for ranges); the checkbox handles itself.
                    if (!t.supported || (e.target as HTMLElement).tagName === 'INPUT') return;
                    if (e.shiftKey) window.getSelection()?.removeAllRanges();
                    toggle(t.name, e.shiftKey);
                  }}
                >
                  <div role="gridcell">
                    <input
                      type="checkbox"
                      aria-label={`Select ${t.name}`}
                      checked={on}
                      disabled={!t.supported}
                      tabIndex={-1}
                      onChange={() => undefined}
                      onClick={(e) => toggle(t.name, e.shiftKey)}
                      data-testid="tensor-check"
                    />
                  </div>
                  <div role="gridcell" className="num muted">
                    {t.index}
                  </div>
                  <div role="gridcell" className="mono ellipsis" title={t.name}>
                    {t.name}
                  </div>
                  <div role="gridcell">
                    <span className="type-chip" style={{ borderColor: typeColor(t.typeName) }}>
                      {t.typeName}
                    </span>
                  </div>
                  <div
                    role="gridcell"
                    className="num"
                    title={`GGUF dims (innermost first): ${fmtShape(t.dims)}`}
                  >
                    {fmtRowsCols(t)}
                  </div>
                  <div role="gridcell" className="num">
                    {fmtBytes(t.nbytes)}
                  </div>
                  <div role="gridcell" className="num muted">
                    {t.layer ?? '—'}
                  </div>
                  {t.supported && t.nonFiniteBlocks ? (
                    <div
                      role="gridcell"
                      className="warn-text ellipsis"
                      title="blocks whose scales are NaN or infinite: outputs that depend on them are not comparable"
                      data-testid="tensor-nonfinite"
                    >
                      {nonFiniteLabel(t.nonFiniteBlocks)}
                    </div>
                  ) : (
                    <div
                      role="gridcell"
                      className={t.supported ? 'ok-text' : 'muted ellipsis'}
                      title={t.unsupportedReason}
                    >
                      {t.supported ? 'yes' : (t.unsupportedReason ?? 'no')}
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}

export function ModelView() {
  const model = useApp((s) => s.model);
  if (!model) return null;
  return (
    <div className="model-view" data-testid="model-view">
      {/* keyed by the model: another model's metadata and tensors start scrolled to the top */}
      <div className="model-top">
        <ModelInfo key={model.modelId} model={model} />
        <QuantMix model={model} />
      </div>
      <TensorTable key={model.modelId} model={model} />
    </div>
  );
}
