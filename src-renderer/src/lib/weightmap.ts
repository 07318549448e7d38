/**
 * The weight map's geometry: its columns are the probed elements of each weight row (spans of
 * element indices), so a column is mapped back to an element, and the block and sub-block lines of
 * the format are placed between cells. Pure functions, unit-tested.
 */
import type { WeightMapInfo } from '../../../src-shared/contract';
import { elementAt, probedCount, weightCellText } from '../../../src-shared/weightmap';

export { elementAt, probedCount, weightCellText };

/** Where a weight lies: (row, block, sub-block, position in block), as the diagnosis names it. */
export function locate(
  info: Pick<WeightMapInfo, 'blockElems' | 'subElems' | 'spans'>,
  row: number,
  col: number,
): { row: number; element: number; block: number; subBlock: number; position: number } | null {
  const element = elementAt(info.spans, col);
  if (element < 0) return null;
  const position = element % info.blockElems;
  return {
    row,
    element,
    block: Math.floor(element / info.blockElems),
    subBlock: Math.floor(position / info.subElems),
    position,
  };
}

export interface MapLine {
  /** the cell boundary, 0..cols, in cell units */
  at: number;
  kind: 'block' | 'sub' | 'gap';
}

/**
 * The vertical lines of a grid over probed columns [colStart, colEnd) reduced cellCols at a time:
 * a block line where a cell starts a block, a sub-block line where it starts a sub-block (only when
 * a cell is no wider than a sub-block, i.e. zoomed in enough to see them), a gap line where the
 * probed elements jump (the middle of a long row is not probed). Lines closer than minCells apart
 * are dropped (a block line every cell would paint the map over).
 */
export function mapLines(
  info: Pick<WeightMapInfo, 'blockElems' | 'subElems' | 'spans'>,
  colStart: number,
  cellCols: number,
  cols: number,
  minCells = 3,
): MapLine[] {
  const out: MapLine[] = [];
  const showSub = info.subElems < info.blockElems && cellCols <= info.subElems;
  const showBlock = info.blockElems > 1 && cellCols <= info.blockElems;
  let last = -Infinity;
  for (let j = 1; j < cols; j++) {
    const e = elementAt(info.spans, colStart + j * cellCols);
    const prev = elementAt(info.spans, colStart + j * cellCols - 1);
    if (e < 0) continue;
    let kind: MapLine['kind'] | null = null;
    if (prev >= 0 && e !== prev + 1) kind = 'gap';
    else if (showBlock && e % info.blockElems === 0) kind = 'block';
    else if (showSub && e % info.subElems === 0) kind = 'sub';
    if (!kind) continue;
    if (kind !== 'gap' && j - last < minCells) continue;
    out.push({ at: j, kind });
    last = j;
  }
  return out;
}

/**
 * The region a click zooms to: rows around the clicked one, and the block holding the clicked column
 * with one block either side, in probed-column units (so a block's sub-blocks are visible).
 */
export function zoomAround(
  info: Pick<WeightMapInfo, 'blockElems' | 'spans' | 'n'>,
  row: number,
  col: number,
  rowsAround = 16,
): { rowStart: number; rowEnd: number; colStart: number; colEnd: number } {
  const cols = probedCount(info.spans);
  const e = elementAt(info.spans, col);
  const inBlock = e < 0 ? 0 : e % info.blockElems;
  const start = Math.max(0, col - inBlock - info.blockElems);
  const end = Math.min(cols, col - inBlock + 2 * info.blockElems);
  return {
    rowStart: Math.max(0, row - rowsAround),
    rowEnd: Math.min(info.n, row + rowsAround + 1),
    colStart: start,
    colEnd: Math.max(start + 1, end),
  };
}
