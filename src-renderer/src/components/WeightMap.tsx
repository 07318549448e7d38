/**
 * The weight map of a FAIL with identity-probe evidence: the weights as the kernel decoded them
 * against the declared reference, rows (down) by probed elements (across), block lines over it and,
 * zoomed in to a block, its sub-blocks. A click zooms to the clicked block and its neighbours.
 * Weight rows whose outputs were left out of the comparison (non-finite block scales) are left out
 * here too: a cell row of only such rows is grey, and the legend counts them.
 *
 * A saved run's map (History: the record kept `info.grid`) is the record's grid of the whole map,
 * served by the read-only API: no zoom, and the hover names the weight rows and elements of the cell
 * with its largest error (the record keeps no single weight).
 */
import '../kernels.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useApp } from '../context';
import type { ErrorGrid, QuantScopeApi, TensorResult, WeightMapInfo } from '../../../src-shared/contract';
import { cellAt, DEFAULT_LUT, gridScale, notComparedRows, paintGrid, type GridRegion } from '../lib/colormap';
import { locate, mapLines, probedCount, weightCellText, zoomAround } from '../lib/weightmap';
import { fmtSci, fmtVal } from '../lib/format';
import { errorText } from '../store';

export function WeightMap({
  result,
  info,
  api,
}: {
  result: TensorResult;
  info: WeightMapInfo;
  api: Pick<QuantScopeApi, 'weightGrid'>;
}) {
  const [zoom, setZoom] = useState<GridRegion | null>(null);
  const [grid, setGrid] = useState<ErrorGrid | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hover, setHover] = useState<{ x: number; y: number; row: number; col: number } | null>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const cols = probedCount(info.spans);
  // a record's map: its saved grid, whole
  const saved = !!info.grid;

  useEffect(() => {
    let live = true;
    setError(null);
    api
      .weightGrid({
        resultId: result.resultId,
        metric: 'rel',
        maxRows: Math.min(192, info.n),
        maxCols: Math.min(512, cols),
        ...(zoom ?? {}),
      })
      .then(
        (g) => live && setGrid(g),
        (e) => live && setError(errorText(e)),
      );
    return () => {
      live = false;
    };
  }, [api, result.resultId, info.n, cols, zoom]);

  // the grid rows whose weight rows were all left out of the comparison
  const notCompared = useMemo(() => (grid ? notComparedRows(grid) : null), [grid]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid) return;
    canvas.width = grid.cols;
    canvas.height = grid.rows;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(grid.cols, grid.rows);
    paintGrid(grid.values, grid.rows, grid.cols, gridScale(grid), img.data, DEFAULT_LUT, null, notCompared);
    ctx.putImageData(img, 0, 0);
  }, [grid, notCompared]);

  const lines = grid ? mapLines(info, grid.colStart, grid.cellCols, grid.cols) : [];
  const height = grid ? Math.max(96, Math.min(360, grid.rows * 4)) : 120;
  const cell = grid && hover ? hover.row * grid.cols + hover.col : -1;
  const worst = grid && cell >= 0 && !saved ? grid.worst.slice(cell * 4, cell * 4 + 4) : null;
  const where = worst ? locate(info, worst[0], worst[1]) : null;
  // a saved map's cell: the weight rows and elements it covers
  const savedCell = grid && cell >= 0 && saved ? weightCellText(grid, cell, info) : null;
  // weight rows of the hovered cell left out of the comparison: all of them, or how many
  const hoverNotCompared = !!(notCompared && hover && notCompared[hover.row]);
  const hoverLeftOut = grid?.leftOutRows && hover ? grid.leftOutRows[hover.row] : 0;
  // the hover tooltip beside the pointer, kept inside the map
  const tipStyle = hover
    ? {
        left: Math.min(hover.x + 14, (canvasRef.current?.clientWidth ?? 400) - 230),
        top: hover.y + 14 > height - 90 ? Math.max(0, hover.y - 100) : hover.y + 14,
      }
    : undefined;
  // the map's count, from where the probe was made (a record without the grid has it too)
  const leftOut = info.rowsLeftOut ?? 0;

  const pos = (e: React.MouseEvent) => {
    const rect = canvasRef.current!.getBoundingClientRect();
    return { x: e.clientX - rect.left, y: e.clientY - rect.top, w: rect.width, h: rect.height };
  };

  return (
    <section className="weight-map" data-testid="weight-map">
      <div className="toolbar">
        <h3>Weight map</h3>
        {!saved && (
          <button
            className="btn small"
            disabled={!zoom}
            onClick={() => setZoom(null)}
            data-testid="weight-map-reset"
          >
            Whole tensor
          </button>
        )}
        <div className="spacer" />
        {grid && (
          <span className="muted num small" data-testid="weight-map-region">
            rows {grid.rowStart}–{grid.rowEnd - 1} of {info.n} · {grid.colEnd - grid.colStart} of {cols}{' '}
            probed elements · blocks of {info.blockElems}
            {info.subElems < info.blockElems ? `, sub-blocks of ${info.subElems}` : ''}
          </span>
        )}
      </div>
      {error && (
        <p className="error-text" role="alert" data-testid="weight-map-error">
          Weight map unavailable: {error}
        </p>
      )}
      <div className="weight-map-wrap" style={{ height }} onMouseLeave={() => setHover(null)}>
        <canvas
          ref={canvasRef}
          className="heatmap-canvas"
          data-testid="weight-map-canvas"
          style={{ height, cursor: saved ? 'default' : 'zoom-in' }}
          onMouseMove={(e) => {
            if (!grid) return;
            const p = pos(e);
            const c = cellAt(p.x, p.y, p.w, p.h, grid.rows, grid.cols);
            setHover(c ? { x: p.x, y: p.y, ...c } : null);
          }}
          onClick={(e) => {
            if (!grid || saved) return;
            const p = pos(e);
            const c = cellAt(p.x, p.y, p.w, p.h, grid.rows, grid.cols);
            if (!c) return;
            const row = grid.rowStart + Math.floor(c.row * grid.cellRows);
            const col = grid.colStart + Math.floor(c.col * grid.cellCols);
            setZoom(zoomAround(info, row, col));
          }}
        />
        {grid && (
          <svg
            className="weight-map-lines"
            viewBox={`0 0 ${grid.cols} ${grid.rows}`}
            preserveAspectRatio="none"
            aria-hidden
            data-testid="weight-map-lines"
            data-blocks={lines.filter((l) => l.kind === 'block').length}
            data-subs={lines.filter((l) => l.kind === 'sub').length}
          >
            {lines.map((l) => (
              <line
                key={`${l.kind}${l.at}`}
                className={`wm-${l.kind}`}
                x1={l.at}
                x2={l.at}
                y1={0}
                y2={grid.rows}
                vectorEffect="non-scaling-stroke"
              />
            ))}
          </svg>
        )}
        {hover && savedCell && grid && (
          <div className="heatmap-tip" data-testid="weight-map-tooltip" style={tipStyle}>
            <div className="num" data-testid="weight-map-tip-cell">
              {savedCell}
            </div>
            {hoverNotCompared ? (
              <div className="warn-text" data-testid="weight-map-tip-not-compared">
                not compared: non-finite block scales in these rows
              </div>
            ) : (
              <div className="muted small">
                largest relative error{' '}
                <span className="num" data-testid="weight-map-tip-value">
                  {fmtSci(grid.values[cell])}
                </span>
                <LeftOutSuffix rows={hoverLeftOut} />
              </div>
            )}
          </div>
        )}
        {hover && where && worst && (
          <div className="heatmap-tip" data-testid="weight-map-tooltip" style={tipStyle}>
            <div className="num">
              row <b>{where.row}</b> · block <b>{where.block}</b> · sub-block <b>{where.subBlock}</b> ·
              position <b>{where.position}</b>
            </div>
            {hoverNotCompared ? (
              <div className="warn-text" data-testid="weight-map-tip-not-compared">
                not compared: non-finite block scales in this row
              </div>
            ) : (
              <>
                <div>
                  expected <span className="num">{fmtVal(worst[2])}</span> · got{' '}
                  <span className="num">{fmtVal(worst[3])}</span>
                </div>
                <div className="muted small">
                  relative error {fmtSci(grid?.values[cell])}
                  <LeftOutSuffix rows={hoverLeftOut} />
                </div>
              </>
            )}
          </div>
        )}
      </div>
      {saved && grid && (
        <p className="hint small" data-testid="weight-map-saved">
          Saved with the record: the whole map in {grid.rows}×{grid.cols} cells of {grid.cellRows}×
          {grid.cellCols} weights, each the largest error of its weights; zoom is off.
        </p>
      )}
      <p className="muted small">
        rows: weight row ↓ · columns: probed element of the row →, block lines solid, sub-block lines dotted
        {saved ? '' : ' (click to zoom into a block)'}, gaps dashed · colour: |decoded − expected| relative to
        the row
      </p>
      {leftOut > 0 && (
        <p className="muted small weight-map-left-out">
          <span className="swatch not-compared" />{' '}
          <span data-testid="weight-map-not-compared">
            {leftOut} of {info.n} weight rows not compared
            {notCompared
              ? ' (grey)'
              : grid?.leftOutRows
                ? saved
                  ? ' (each in a cell with compared rows)'
                  : ' (each in a cell with compared rows: zoom in to see it grey)'
                : grid && zoom
                  ? ' (none in this region)'
                  : ''}
          </span>{' '}
          · non-finite block scales: their outputs were left out of the verdict
        </p>
      )}
    </section>
  );
}

/** After a cell's error: how many of its weight rows were left out of the comparison (none: nothing). */
function LeftOutSuffix({ rows }: { rows: number }) {
  if (rows <= 0) return null;
  return (
    <span data-testid="weight-map-tip-not-compared">
      {' '}
      ({rows} weight row{rows === 1 ? '' : 's'} not compared)
    </span>
  );
}

export function WeightMapForResult({ result }: { result: TensorResult }) {
  const api = useApp((s) => s.api);
  if (!result.weightMap) return null;
  return <WeightMap result={result} info={result.weightMap} api={api} key={result.resultId} />;
}
