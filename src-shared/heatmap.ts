/**
 * What the error heatmaps and weight maps share, live (the app's canvas) and saved (History, the HTML
 * report's images): which grid columns of an output's heatmap hold only outputs left out of the
 * comparison, and which grid rows of a weight map hold only weight rows left out (the rows that feed
 * those outputs), so every view marks the same cells in the same grey. Pure functions over plain data.
 */

/** The grey of a column whose outputs were all left out (the app's NOT_COMPARED_RGBA, the report's PNG). */
export const NOT_COMPARED_RGB: readonly [number, number, number] = [128, 128, 128];

/**
 * The grid columns whose output features were all left out of the comparison (1 = every output of
 * the column's cells was left out), from the engine's per-column count; null when none was.
 * A saved heatmap (the whole output) is the grid with colStart 0 and colEnd n.
 */
export function notComparedColumns(g: {
  cols: number;
  colStart: number;
  colEnd: number;
  cellCols: number;
  leftOutCols?: number[];
}): Uint8Array | null {
  if (!g.leftOutCols) return null;
  const mask = new Uint8Array(g.cols);
  let any = false;
  for (let c = 0; c < g.cols; c++) {
    const first = g.colStart + c * g.cellCols;
    const width = Math.min(g.colEnd, first + g.cellCols) - first;
    if (g.leftOutCols[c] >= width) {
      mask[c] = 1;
      any = true;
    }
  }
  return any ? mask : null;
}

/** How many output features of a grid were left out of the comparison (0 without a count). */
export function leftOutCount(g: { leftOutCols?: number[] }): number {
  let n = 0;
  for (const c of g.leftOutCols ?? []) n += c;
  return n;
}

/**
 * The grid rows whose rows were all left out of the comparison (1 = every row of the grid row was),
 * from the engine's per-row count; null when none was. A weight map's rows are weight rows: those of
 * a non-finite block scale, whose outputs the verdict left out. A saved map is the grid with rowStart
 * 0 and rowEnd m.
 */
export function notComparedRows(g: {
  rows: number;
  rowStart: number;
  rowEnd: number;
  cellRows: number;
  leftOutRows?: number[];
}): Uint8Array | null {
  if (!g.leftOutRows) return null;
  const mask = new Uint8Array(g.rows);
  let any = false;
  for (let r = 0; r < g.rows; r++) {
    const first = g.rowStart + r * g.cellRows;
    const height = Math.min(g.rowEnd, first + g.cellRows) - first;
    if (g.leftOutRows[r] >= height) {
      mask[r] = 1;
      any = true;
    }
  }
  return any ? mask : null;
}

/** How many rows of a grid were left out of the comparison (0 without a count). */
export function leftOutRowCount(g: { leftOutRows?: number[] }): number {
  let n = 0;
  for (const c of g.leftOutRows ?? []) n += c;
  return n;
}
