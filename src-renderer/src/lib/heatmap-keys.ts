/**
 * The heatmap from the keyboard: with the canvas focused, the arrow keys move a cursor cell (the
 * mouse's hover readout follows it), + and − zoom in around it and back out, 0 resets the zoom.
 * Escape is not the heatmap's: it stays the app's (close a dialog, else cancel the run; lib/shortcuts.ts).
 * Pure functions over the grid's geometry, so the component only wires them to its state.
 */

import type { GridGeometry, GridRegion } from './colormap';

export type HeatmapKey =
  | { do: 'move'; rows: number; cols: number; big: boolean }
  | { do: 'zoom-in' }
  | { do: 'zoom-out' }
  | { do: 'reset' };

/** The keys, as the help under the heatmap and the shortcuts dialog list them: moving, and zooming. */
export const HEATMAP_MOVE_HELP = '←↑↓→ move the cursor cell (Shift: bigger steps)';
export const HEATMAP_ZOOM_HELP = '+ / − zoom in around it / back out · 0 reset the zoom';

export interface KeyLike {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

/** What a key pressed on the focused heatmap does; null: not the heatmap's (it goes on to the app). */
export function heatmapKey(e: KeyLike): HeatmapKey | null {
  // Ctrl/Cmd and Alt combinations are the app's and the browser's (Ctrl+0 and Ctrl+− zoom the page)
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'ArrowLeft':
      return { do: 'move', rows: 0, cols: -1, big: e.shiftKey };
    case 'ArrowRight':
      return { do: 'move', rows: 0, cols: 1, big: e.shiftKey };
    case 'ArrowUp':
      return { do: 'move', rows: -1, cols: 0, big: e.shiftKey };
    case 'ArrowDown':
      return { do: 'move', rows: 1, cols: 0, big: e.shiftKey };
    case '+':
    case '=':
      return { do: 'zoom-in' };
    case '-':
    case '_':
      return { do: 'zoom-out' };
    case '0':
      return { do: 'reset' };
    default:
      return null;
  }
}

export interface Cell {
  row: number;
  col: number;
}

/** A big step: a sixteenth of the grid's side (at least one cell). */
const bigStep = (size: number) => Math.max(1, Math.ceil(size / 16));
/** A cell index kept inside 0 .. n - 1. */
const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));

/**
 * The cursor after a move, kept inside the grid. Without a cursor yet, the first key puts it on the
 * middle cell.
 */
export function moveCursor(g: Pick<GridGeometry, 'rows' | 'cols'>, at: Cell | null, k: HeatmapKey): Cell {
  if (!at || k.do !== 'move')
    return at ?? { row: Math.floor((g.rows - 1) / 2), col: Math.floor((g.cols - 1) / 2) };
  return {
    row: clamp(at.row + k.rows * (k.big ? bigStep(g.rows) : 1), g.rows),
    col: clamp(at.col + k.cols * (k.big ? bigStep(g.cols) : 1), g.cols),
  };
}

/** The output element (row, column) in the middle of a cell: where a zoom keeps the cursor. */
export function cellOutput(g: GridGeometry, c: Cell): { row: number; col: number } {
  const r0 = g.rowStart + c.row * g.cellRows;
  const c0 = g.colStart + c.col * g.cellCols;
  const r1 = Math.min(g.rowEnd, r0 + g.cellRows);
  const c1 = Math.min(g.colEnd, c0 + g.cellCols);
  return { row: Math.floor((r0 + r1 - 1) / 2), col: Math.floor((c0 + c1 - 1) / 2) };
}

/** The cell of a grid that holds an output element (the nearest one when it lies outside). */
export function cellOf(g: GridGeometry, out: { row: number; col: number }): Cell {
  return {
    row: clamp(Math.floor((out.row - g.rowStart) / g.cellRows), g.rows),
    col: clamp(Math.floor((out.col - g.colStart) / g.cellCols), g.cols),
  };
}

/**
 * The region a zoom-in around a cell asks for: half the grid's rows and columns of outputs (at
 * least one), centred on the cell's middle output and kept inside the grid's region; null when the
 * region is a single output already (nothing to zoom into).
 */
export function zoomInAround(g: GridGeometry, c: Cell): GridRegion | null {
  const mid = cellOutput(g, c);
  const span = (start: number, end: number, at: number) => {
    const size = end - start;
    const half = Math.max(1, Math.ceil(size / 2));
    const s = Math.max(start, Math.min(end - half, at - Math.floor((half - 1) / 2)));
    return [s, s + half] as const;
  };
  const [rowStart, rowEnd] = span(g.rowStart, g.rowEnd, mid.row);
  const [colStart, colEnd] = span(g.colStart, g.colEnd, mid.col);
  if (rowEnd - rowStart === g.rowEnd - g.rowStart && colEnd - colStart === g.colEnd - g.colStart) return null;
  return { rowStart, rowEnd, colStart, colEnd };
}
