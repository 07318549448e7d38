import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useApp } from '../context';
import type { ErrorGrid, ErrorGridRequest, QuantScopeApi, TensorResult } from '../../../src-shared/contract';
import {
  cellAt,
  DEFAULT_LUT,
  dragRegion,
  errorHistogram,
  legendGradient,
  gridScale,
  legendTicks,
  notComparedColumns,
  paintGrid,
  type GridRegion,
  type LogScale,
} from '../lib/colormap';
import { fmtSci, fmtVal } from '../lib/format';
import {
  cellOf,
  cellOutput,
  HEATMAP_MOVE_HELP,
  HEATMAP_ZOOM_HELP,
  heatmapKey,
  moveCursor,
  zoomInAround,
  type Cell,
} from '../lib/heatmap-keys';
import { errorText } from '../store';

const DETAIL = [512, 1024, 2048, 4096];

export interface HeatmapProps {
  result: TensorResult;
  api: Pick<QuantScopeApi, 'errorGrid'>;
}

/**
 * The last few grids fetched, so returning to a result (tab switch, zoom back, metric toggle) does
 * not fetch megabytes again. Failed requests and very large grids are not kept.
 */
const GRID_CACHE_SIZE = 6;
const MAX_CACHED_CELLS = 300_000;
const gridCache = new Map<string, Promise<ErrorGrid>>();
export function cachedGrid(api: Pick<QuantScopeApi, 'errorGrid'>, req: ErrorGridRequest): Promise<ErrorGrid> {
  const key = JSON.stringify(req);
  const hit = gridCache.get(key);
  if (hit) {
    gridCache.delete(key);
    gridCache.set(key, hit);
    return hit;
  }
  const p = api.errorGrid(req);
  gridCache.set(key, p);
  // Big grids (a full 512 x 4096 is ~80 MB as JS arrays) are not kept: memory over convenience.
  p.then(
    (g) => {
      if (g.rows * g.cols > MAX_CACHED_CELLS) gridCache.delete(key);
    },
    () => gridCache.delete(key),
  );
  while (gridCache.size > GRID_CACHE_SIZE) gridCache.delete(gridCache.keys().next().value!);
  return p;
}

/** The readout at a cell for the keyboard cursor: placed as if the mouse were at the cell's middle. */
function keyHover(canvas: HTMLCanvasElement, grid: { rows: number; cols: number }, c: Cell) {
  const rect = canvas.getBoundingClientRect();
  const x = ((c.col + 0.5) / grid.cols) * rect.width;
  const y = ((c.row + 0.5) / grid.rows) * rect.height;
  return { x, y, row: c.row, col: c.col, via: 'key' as const };
}

/** Display height in CSS px for a grid of `rows` rows. */
function displayHeight(rows: number): number {
  return Math.max(72, Math.min(420, rows * 6));
}

export function Heatmap({ result, api }: HeatmapProps) {
  const [metric, setMetric] = useState<'abs' | 'rel'>('abs');
  const [detail, setDetail] = useState(1024);
  const [zoom, setZoom] = useState<GridRegion[]>([]);
  const [grid, setGrid] = useState<ErrorGrid | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [drawMs, setDrawMs] = useState<number | null>(null);
  // the cell the readout shows: the mouse's, or the keyboard cursor's (via 'key', drawn as a box)
  const [hover, setHover] = useState<{
    x: number;
    y: number;
    row: number;
    col: number;
    via?: 'key';
  } | null>(null);
  // a keyboard zoom keeps the cursor on the output it was on, once the new grid is here
  const keepAt = useRef<{ row: number; col: number } | null>(null);
  const helpId = useId();
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const region = zoom.length ? zoom[zoom.length - 1] : null;

  // Fetch the grid; only the latest request may land.
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    cachedGrid(api, {
      resultId: result.resultId,
      metric,
      // Finer column detail gets full row detail too; the default keeps the transfer small.
      maxRows: Math.min(detail >= 2048 ? 512 : 256, result.m),
      maxCols: Math.min(detail, result.n),
      ...(region ?? {}),
    }).then(
      (g) => {
        if (!live) return;
        setGrid(g);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [api, result.resultId, result.m, result.n, metric, detail, region]);

  const [scale, setScale] = useState<LogScale | null>(null);
  // the grid columns whose outputs were all left out of the comparison (non-finite block scales)
  const notCompared = useMemo(() => (grid ? notComparedColumns(grid) : null), [grid]);

  // Draw: log range, ImageData + precomputed LUT, one putImageData; the time lands in data-draw-ms.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid) return;
    const t0 = performance.now();
    const sc = gridScale(grid);
    canvas.width = grid.cols;
    canvas.height = grid.rows;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(grid.cols, grid.rows);
    const t1 = performance.now();
    paintGrid(grid.values, grid.rows, grid.cols, sc, img.data, DEFAULT_LUT, notCompared);
    const t2 = performance.now();
    ctx.putImageData(img, 0, 0);
    const t3 = performance.now();
    const ms = t3 - t0;
    canvas.dataset.drawDetail = `setup ${(t1 - t0).toFixed(1)} paint ${(t2 - t1).toFixed(1)} put ${(t3 - t2).toFixed(1)}`;
    canvas.dataset.drawMs = ms.toFixed(2);
    setScale(sc);
    setDrawMs(ms);
  }, [grid, notCompared]);

  // The keyboard cursor: lands on the cell that holds the output the last keyboard zoom kept.
  useEffect(() => {
    const out = keepAt.current;
    if (!grid || !out || !canvasRef.current) return;
    keepAt.current = null;
    setHover(keyHover(canvasRef.current, grid, cellOf(grid, out)));
  }, [grid]);

  const showKeyCell = (c: Cell) => {
    if (grid && canvasRef.current) setHover(keyHover(canvasRef.current, grid, c));
  };

  /**
   * Keys on the focused canvas (lib/heatmap-keys.ts): arrows move the cursor cell, + and − zoom in
   * around it and back out, 0 resets. Escape is left to the app (close a dialog, else cancel the run).
   */
  const onKey = (e: React.KeyboardEvent) => {
    if (!grid) return;
    const k = heatmapKey(e);
    if (!k) return;
    // the key is the heatmap's: no page scroll, and no app shortcut acts on it
    e.preventDefault();
    e.stopPropagation();
    const at =
      hover && hover.row < grid.rows && hover.col < grid.cols ? { row: hover.row, col: hover.col } : null;
    if (k.do === 'move') {
      showKeyCell(moveCursor(grid, at, k));
      return;
    }
    const cur = moveCursor(grid, at, k);
    let next: GridRegion[] | null = null;
    if (k.do === 'zoom-in') {
      const r = result.gridAvailable ? zoomInAround(grid, cur) : null;
      if (r) next = [...zoom, r];
    } else if (zoom.length) next = k.do === 'zoom-out' ? zoom.slice(0, -1) : [];
    if (!next) {
      showKeyCell(cur);
      return;
    }
    keepAt.current = cellOutput(grid, cur);
    setHover(null);
    setZoom(next);
  };

  const local = (e: { clientX: number; clientY: number }) => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top, w: rect.width, h: rect.height };
  };
  const onMove = (e: React.MouseEvent) => {
    if (!grid) return;
    const p = local(e);
    const c = cellAt(p.x, p.y, p.w, p.h, grid.rows, grid.cols);
    setHover(c ? { x: p.x, y: p.y, ...c } : null);
  };
  const onDown = (e: React.MouseEvent) => {
    if (!grid || !result.gridAvailable || e.button !== 0) return;
    const p = local(e);
    setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
  };
  /** The drag ends where the mouse is released, on the canvas or beyond it (clamped to the edge). */
  const endDrag = (e: MouseEvent) => {
    if (!drag || !grid || !canvasRef.current) return;
    const p = local(e);
    setDrag(null);
    const r = dragRegion(grid, drag.x0, drag.y0, p.x, p.y, p.w, p.h);
    if (r) setZoom([...zoom, r]);
  };
  const endDragRef = useRef(endDrag);
  endDragRef.current = endDrag;
  // While dragging, the window follows the mouse: a release outside the canvas still ends the drag.
  const dragging = drag !== null;
  useEffect(() => {
    if (!dragging) return;
    const move = (e: MouseEvent) => {
      if (!canvasRef.current) return;
      const p = local(e);
      const x1 = Math.max(0, Math.min(p.w, p.x));
      const y1 = Math.max(0, Math.min(p.h, p.y));
      setDrag((d) => (d ? { ...d, x1, y1 } : d));
    };
    const up = (e: MouseEvent) => endDragRef.current(e);
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    return () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
  }, [dragging]);

  const cell = grid && hover ? hover.row * grid.cols + hover.col : -1;
  const worst = grid && cell >= 0 ? grid.worst.slice(cell * 4, cell * 4 + 4) : null;
  const value = grid && cell >= 0 ? grid.values[cell] : null;
  // outputs of the hovered cell left out of the comparison: all of them, or how many
  const hoverLeftOut = grid?.leftOutCols && hover ? grid.leftOutCols[hover.col] : 0;
  const hoverNotCompared = !!(notCompared && hover && notCompared[hover.col]);
  const height = grid ? displayHeight(grid.rows) : 120;

  return (
    <section className="heatmap" data-testid="heatmap">
      <div className="toolbar">
        <h3>Error heatmap</h3>
        <div className="seg small" role="radiogroup" aria-label="Error metric">
          <button
            role="radio"
            aria-checked={metric === 'abs'}
            className={metric === 'abs' ? 'on' : ''}
            onClick={() => setMetric('abs')}
            data-testid="heatmap-abs"
          >
            |error|
          </button>
          <button
            role="radio"
            aria-checked={metric === 'rel'}
            className={metric === 'rel' ? 'on' : ''}
            onClick={() => setMetric('rel')}
            data-testid="heatmap-rel"
          >
            relative
          </button>
        </div>
        <label className="inline muted">
          cells
          <select
            value={detail}
            onChange={(e) => setDetail(Number(e.target.value))}
            data-testid="heatmap-detail"
          >
            {DETAIL.map((d) => (
              <option key={d} value={d}>
                ≤ {d} columns
              </option>
            ))}
          </select>
        </label>
        <button
          className="btn small"
          disabled={!zoom.length}
          onClick={() => setZoom(zoom.slice(0, -1))}
          data-testid="heatmap-back"
        >
          Back
        </button>
        <button
          className="btn small"
          disabled={!zoom.length}
          onClick={() => setZoom([])}
          data-testid="heatmap-reset"
        >
          Reset zoom
        </button>
        {loading && <span className="spinner" aria-label="loading" />}
        <div className="spacer" />
        {grid && (
          <span className="muted num small" data-testid="heatmap-region">
            rows {grid.rowStart}–{grid.rowEnd - 1} × cols {grid.colStart}–{grid.colEnd - 1} of {grid.m} ×{' '}
            {grid.n} · {grid.rows}×{grid.cols} cells ({grid.cellRows}×{grid.cellCols} outputs each, max)
            {drawMs != null && ` · drawn in ${drawMs.toFixed(1)} ms`}
          </span>
        )}
      </div>
      {error && (
        <p className="error-text" role="alert" data-testid="heatmap-error">
          Heatmap unavailable: {error}
        </p>
      )}
      {!result.gridAvailable && (
        <p className="hint">
          Full outputs were not kept for this result: zoom is off, the grid is the engine&apos;s summary.
        </p>
      )}
      <div className="heatmap-row">
        <div
          className="heatmap-wrap"
          style={{ height }}
          onMouseLeave={() => setHover((h) => (h?.via === 'key' ? h : null))}
        >
          <canvas
            ref={canvasRef}
            className="heatmap-canvas"
            data-testid="heatmap-canvas"
            style={{ height, cursor: result.gridAvailable ? 'crosshair' : 'default' }}
            tabIndex={0}
            role="application"
            aria-roledescription="heatmap"
            aria-label={
              grid
                ? `Error heatmap (${metric === 'abs' ? '|error|' : 'relative error'}): rows ${grid.rowStart}–${grid.rowEnd - 1} × cols ${grid.colStart}–${grid.colEnd - 1} of ${grid.m} × ${grid.n}, ${grid.rows} × ${grid.cols} cells`
                : 'Error heatmap'
            }
            aria-describedby={helpId}
            onMouseMove={onMove}
            onMouseDown={onDown}
            onKeyDown={onKey}
            onBlur={() => setHover((h) => (h?.via === 'key' ? null : h))}
          />
          {grid && hover?.via === 'key' && (
            <div
              className="heatmap-cursor"
              data-testid="heatmap-cursor"
              style={{
                left: `${(hover.col / grid.cols) * 100}%`,
                top: `${(hover.row / grid.rows) * 100}%`,
                width: `${100 / grid.cols}%`,
                height: `${100 / grid.rows}%`,
              }}
            />
          )}
          {drag && (
            <div
              className="zoom-rect"
              style={{
                left: Math.min(drag.x0, drag.x1),
                top: Math.min(drag.y0, drag.y1),
                width: Math.abs(drag.x1 - drag.x0),
                height: Math.abs(drag.y1 - drag.y0),
              }}
            />
          )}
          {grid && hover && worst && (
            <div
              className="heatmap-tip"
              data-testid="heatmap-tooltip"
              aria-live={hover.via === 'key' ? 'polite' : undefined}
              style={{
                left: Math.min(hover.x + 14, (canvasRef.current?.clientWidth ?? 400) - 230),
                top: hover.y + 14 > height - 90 ? Math.max(0, hover.y - 100) : hover.y + 14,
              }}
            >
              <div>
                row{' '}
                <b className="num" data-testid="tip-row">
                  {worst[0]}
                </b>{' '}
                · col{' '}
                <b className="num" data-testid="tip-col">
                  {worst[1]}
                </b>
              </div>
              <div>
                ref{' '}
                <span className="num" data-testid="tip-ref">
                  {fmtVal(worst[2])}
                </span>
              </div>
              <div>
                got{' '}
                <span className="num" data-testid="tip-got">
                  {fmtVal(worst[3])}
                </span>
              </div>
              {hoverNotCompared ? (
                <div className="warn-text" data-testid="tip-not-compared">
                  not compared: non-finite block scales
                </div>
              ) : (
                <div>
                  {metric === 'abs' ? '|error|' : 'rel error'}{' '}
                  <span className="num" data-testid="tip-err">
                    {fmtSci(value)}
                  </span>
                  {hoverLeftOut > 0 && (
                    <span className="muted small" data-testid="tip-not-compared">
                      {' '}
                      ({hoverLeftOut} column{hoverLeftOut === 1 ? '' : 's'} not compared)
                    </span>
                  )}
                </div>
              )}
              {(grid.cellRows > 1 || grid.cellCols > 1) && (
                <div className="muted small">
                  worst of rows {grid.rowStart + Math.floor(hover.row * grid.cellRows)}–
                  {Math.min(grid.rowEnd, grid.rowStart + Math.ceil((hover.row + 1) * grid.cellRows)) - 1},
                  cols {grid.colStart + Math.floor(hover.col * grid.cellCols)}–
                  {Math.min(grid.colEnd, grid.colStart + Math.ceil((hover.col + 1) * grid.cellCols)) - 1}
                </div>
              )}
            </div>
          )}
        </div>
        {grid && <ErrorHistogramChart grid={grid} scale={scale} metric={metric} notCompared={notCompared} />}
      </div>
      <div className="legend" data-testid="heatmap-legend">
        <span className="muted small">{metric === 'abs' ? '|error|' : 'relative error'} (log)</span>
        <div className="legend-bar-wrap">
          <div className="legend-bar" style={{ background: legendGradient() }} />
          {scale &&
            legendTicks(scale).map((t) => (
              <span key={t.label} className="legend-tick num" style={{ left: `${t.pos * 100}%` }}>
                {t.label}
              </span>
            ))}
        </div>
        <span className="num small">
          {scale
            ? `${fmtSci(10 ** scale.lo)} … ${fmtSci(10 ** scale.hi)}`
            : grid
              ? 'all zero: exact match'
              : ''}
        </span>
        <span className="swatch zero" /> <span className="small">0</span>
        <span className="swatch nan" /> <span className="small">NaN/Inf</span>
        {grid?.leftOutCols && (
          <>
            <span className="swatch not-compared" />{' '}
            <span className="small" data-testid="heatmap-not-compared">
              not compared (non-finite block scales)
            </span>
          </>
        )}
        <div className="spacer" />
        <span className="muted small">
          rows: batch row (m) ↓ · columns: output feature (n) →{result.gridAvailable ? ' · drag to zoom' : ''}
        </span>
      </div>
      <p className="hint small" id={helpId} data-testid="heatmap-keys">
        Keyboard, on the focused map (click it or Tab to it): {HEATMAP_MOVE_HELP}
        {result.gridAvailable ? ` · ${HEATMAP_ZOOM_HELP}` : ''}. Esc is not the map&apos;s: it still cancels a
        run.
      </p>
    </section>
  );
}

export function HeatmapForResult({ result }: { result: TensorResult }) {
  const api = useApp((s) => s.api);
  return <Heatmap result={result} api={api} key={result.resultId} />;
}

/** How the cells' errors spread over the heatmap's log scale (the same grid, so the two agree). */
function ErrorHistogramChart({
  grid,
  scale,
  metric,
  notCompared,
}: {
  grid: ErrorGrid;
  scale: LogScale | null;
  metric: 'abs' | 'rel';
  notCompared: Uint8Array | null;
}) {
  const h = useMemo(() => errorHistogram(grid.values, scale, 16, notCompared), [grid, scale, notCompared]);
  const W = 220;
  const H = 120;
  const max = Math.max(1, ...h.bins);
  const bw = h.bins.length ? W / h.bins.length : W;
  return (
    <figure className="error-hist" data-testid="error-histogram" data-total={h.total}>
      <figcaption className="muted small">
        cells by max {metric === 'abs' ? '|error|' : 'rel error'} (log bins)
      </figcaption>
      <svg width={W} height={H + 16} role="img" aria-label="Error histogram">
        {h.bins.map((c, i) => {
          const bh = (c / max) * H;
          return (
            <rect
              key={i}
              className="hist-bar"
              x={i * bw + 1}
              y={H - bh}
              width={Math.max(1, bw - 2)}
              height={bh}
            >
              <title>
                {`${fmtSci(10 ** h.edges[i])} … ${fmtSci(10 ** h.edges[i + 1])}: ${c} cell${c === 1 ? '' : 's'}`}
              </title>
            </rect>
          );
        })}
        <line x1={0} x2={W} y1={H + 0.5} y2={H + 0.5} stroke="var(--border)" />
        {h.edges.length > 0 && (
          <>
            <text x={0} y={H + 13} fontSize={10} fill="var(--muted)">
              {fmtSci(10 ** h.edges[0], 1)}
            </text>
            <text x={W} y={H + 13} fontSize={10} fill="var(--muted)" textAnchor="end">
              {fmtSci(10 ** h.edges[h.edges.length - 1], 1)}
            </text>
          </>
        )}
      </svg>
      <p className="small muted num" data-testid="error-histogram-extra">
        {h.total} cells{h.notCompared ? ` · ${h.notCompared} not compared` : ''}
        {h.zero ? ` · ${h.zero} exactly 0` : ''}
        {h.below ? ` · ${h.below} below the scale` : ''}
        {h.nonFinite ? ` · ${h.nonFinite} NaN/Inf` : ''}
      </p>
    </figure>
  );
}
