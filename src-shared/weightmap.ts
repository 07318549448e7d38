/**
 * A weight map's columns: the probed elements of each weight row, as spans of element indices, so
 * a column is mapped back to its element, and a cell of a map reduced to fewer cells is named by the
 * weight rows and elements it covers (the app's map, a saved map in History, the report's summary of
 * it). Pure functions.
 */

/** How many elements the spans probe (the map's column count). */
export function probedCount(spans: readonly [number, number][]): number {
  return spans.reduce((a, [s, e]) => a + (e - s), 0);
}

/** The element index of probed column c, or -1 outside the spans. */
export function elementAt(spans: readonly [number, number][], c: number): number {
  if (c < 0) return -1;
  let left = c;
  for (const [s, e] of spans) {
    if (left < e - s) return s + left;
    left -= e - s;
  }
  return -1;
}

/** "3" or "3–5": a half-open range of indices [a, b) as the report and the map's hover print it. */
export function rangeText(word: string, words: string, a: number, b: number): string {
  return b - a <= 1 ? `${word} ${a}` : `${words} ${a}–${b - 1}`;
}

/** A map reduced to cells over the whole of its probed weights: m weight rows by n probed columns. */
export interface WeightCells {
  m: number;
  n: number;
  cols: number;
  cellRows: number;
  cellCols: number;
}

/**
 * What a weight map's cell covers: its weight rows and, with the probe's geometry, the elements of
 * the row and their blocks ("weight rows 0–63 × elements 64–67 (block 2)"); else its probed columns.
 * The elements are the first and last the cell covers: a cell across a gap of the probe names both
 * ends.
 */
export function weightCellText(
  g: WeightCells,
  cell: number,
  info: { spans: [number, number][]; blockElems: number } | null | undefined,
): string {
  const r = ((cell / g.cols) | 0) * g.cellRows;
  const c = (cell % g.cols) * g.cellCols;
  const c1 = Math.min(g.n, c + g.cellCols);
  const rows = rangeText('weight row', 'weight rows', r, Math.min(g.m, r + g.cellRows));
  if (!info || probedCount(info.spans) !== g.n)
    return `${rows} × ${rangeText('probed column', 'probed columns', c, c1)}`;
  const e0 = elementAt(info.spans, c);
  const e1 = elementAt(info.spans, c1 - 1) + 1;
  const b0 = Math.floor(e0 / info.blockElems);
  const b1 = Math.floor((e1 - 1) / info.blockElems) + 1;
  const blocks = info.blockElems > 1 ? ` (${rangeText('block', 'blocks', b0, b1)})` : '';
  return `${rows} × ${rangeText('element', 'elements', e0, e1)}${blocks}`;
}
