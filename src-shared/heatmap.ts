/**
 * What the error heatmaps share, live (the app's canvas) and saved (History, the HTML report's
 * images): which grid columns hold only outputs left out of the comparison, so every view marks the
 * same columns in the same grey. Pure functions over plain data.
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
