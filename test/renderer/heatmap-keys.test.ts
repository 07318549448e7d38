// The heatmap from the keyboard: which keys are the focused map's (and which stay the app's), the
// cursor's moves, the zoom around it and where the cursor lands after a zoom; and the canvas as
// rendered: focusable, labelled, with the keys written under it.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Heatmap } from '../../src-renderer/src/components/Heatmap';
import {
  cellOf,
  cellOutput,
  HEATMAP_MOVE_HELP,
  HEATMAP_ZOOM_HELP,
  heatmapKey,
  moveCursor,
  zoomInAround,
} from '../../src-renderer/src/lib/heatmap-keys';
import { shortcutFor } from '../../src-renderer/src/lib/shortcuts';
import type { TensorResult } from '../../src-shared/contract';
import { textOf } from './render';

const key = (
  k: string,
  mods: Partial<{ shiftKey: boolean; ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {},
) => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

// 8 x 512 outputs in 8 x 128 cells of 1 x 4
const grid = {
  rows: 8,
  cols: 128,
  rowStart: 0,
  rowEnd: 8,
  colStart: 0,
  colEnd: 512,
  cellRows: 1,
  cellCols: 4,
};

describe('heatmap keys', () => {
  it('arrows move, + and − zoom, 0 resets; Escape, ?, the view digits and modified keys stay the app’s', () => {
    expect(heatmapKey(key('ArrowRight'))).toEqual({ do: 'move', rows: 0, cols: 1, big: false });
    expect(heatmapKey(key('ArrowUp', { shiftKey: true }))).toEqual({
      do: 'move',
      rows: -1,
      cols: 0,
      big: true,
    });
    for (const k of ['+', '=']) expect(heatmapKey(key(k))).toEqual({ do: 'zoom-in' });
    for (const k of ['-', '_']) expect(heatmapKey(key(k))).toEqual({ do: 'zoom-out' });
    expect(heatmapKey(key('0'))).toEqual({ do: 'reset' });
    for (const k of ['Escape', '?', '1', '2', '5', 'Enter', 'Tab']) expect(heatmapKey(key(k)), k).toBeNull();
    // Ctrl+0 / Ctrl+− zoom the page, Ctrl+R runs: not the map's
    for (const mods of [{ ctrlKey: true }, { metaKey: true }, { altKey: true }])
      for (const k of ['0', '-', '+', 'ArrowLeft']) expect(heatmapKey(key(k, mods))).toBeNull();
    // so Escape on the focused map (a canvas, no text field) still cancels a run
    expect(
      shortcutFor(
        key('Escape'),
        { tagName: 'CANVAS' },
        { helpOpen: false, pickerOpen: false, runActive: true },
      ),
    ).toEqual({ do: 'cancel-run' });
  });

  it('the cursor starts in the middle, moves a cell (Shift: a sixteenth of the map) and stays inside', () => {
    const first = moveCursor(grid, null, heatmapKey(key('ArrowRight'))!);
    expect(first).toEqual({ row: 3, col: 63 });
    expect(moveCursor(grid, first, heatmapKey(key('ArrowRight'))!)).toEqual({ row: 3, col: 64 });
    expect(moveCursor(grid, first, heatmapKey(key('ArrowDown'))!)).toEqual({ row: 4, col: 63 });
    expect(moveCursor(grid, first, heatmapKey(key('ArrowRight', { shiftKey: true }))!)).toEqual({
      row: 3,
      col: 71,
    });
    expect(moveCursor(grid, { row: 0, col: 0 }, heatmapKey(key('ArrowLeft'))!)).toEqual({ row: 0, col: 0 });
    expect(moveCursor(grid, { row: 7, col: 127 }, heatmapKey(key('ArrowDown', { shiftKey: true }))!)).toEqual(
      {
        row: 7,
        col: 127,
      },
    );
    // a zoom key leaves the cursor where it is (or puts it in the middle)
    expect(moveCursor(grid, { row: 2, col: 9 }, { do: 'zoom-in' })).toEqual({ row: 2, col: 9 });
  });

  it('+ zooms to half the rows and columns around the cursor cell, inside the map; the cursor keeps its output', () => {
    // cell (3, 10) holds outputs row 3, cols 40..43: its middle output is (3, 41)
    expect(cellOutput(grid, { row: 3, col: 10 })).toEqual({ row: 3, col: 41 });
    const z = zoomInAround(grid, { row: 3, col: 10 })!;
    expect(z).toEqual({ rowStart: 2, rowEnd: 6, colStart: 0, colEnd: 256 });
    expect(zoomInAround(grid, { row: 4, col: 64 })).toEqual({
      rowStart: 3,
      rowEnd: 7,
      colStart: 130,
      colEnd: 386,
    });
    expect(zoomInAround(grid, { row: 7, col: 127 })).toEqual({
      rowStart: 4,
      rowEnd: 8,
      colStart: 256,
      colEnd: 512,
    });
    // the zoomed grid (4 x 256 outputs in 4 x 128 cells of 1 x 2): the cursor on the same output
    const zoomed = { ...grid, ...z, rows: 4, cols: 128, cellCols: 2 };
    expect(cellOf(zoomed, { row: 3, col: 41 })).toEqual({ row: 1, col: 20 });
    // and back out: the cell of the whole map that holds it
    expect(cellOf(grid, cellOutput(zoomed, { row: 1, col: 20 }))).toEqual({ row: 3, col: 10 });
    // one output: nothing left to zoom into; one row: only the columns halve
    const one = {
      rows: 1,
      cols: 1,
      rowStart: 5,
      rowEnd: 6,
      colStart: 7,
      colEnd: 8,
      cellRows: 1,
      cellCols: 1,
    };
    expect(zoomInAround(one, { row: 0, col: 0 })).toBeNull();
    const row = { ...grid, rows: 1, rowEnd: 1 };
    expect(zoomInAround(row, { row: 0, col: 0 })).toEqual({
      rowStart: 0,
      rowEnd: 1,
      colStart: 0,
      colEnd: 256,
    });
  });
});

describe('the heatmap canvas', () => {
  const result = (gridAvailable: boolean) =>
    ({ resultId: 'r:1', m: 8, n: 512, gridAvailable }) as unknown as TensorResult;
  const api = { errorGrid: () => new Promise<never>(() => {}) };
  const render = (gridAvailable: boolean) =>
    renderToStaticMarkup(createElement(Heatmap, { result: result(gridAvailable), api }));

  it('is focusable, labelled, and described by the keys written under it', () => {
    const html = render(true);
    const canvas = /<canvas[^>]*>/.exec(html)![0];
    expect(canvas).toContain('tabindex="0"');
    expect(canvas).toContain('aria-label="Error heatmap"');
    const described = /aria-describedby="([^"]+)"/.exec(canvas)![1];
    expect(html).toContain(`id="${described}" data-testid="heatmap-keys"`);
    const help = textOf(html, 'heatmap-keys')!;
    expect(help).toContain(HEATMAP_MOVE_HELP);
    expect(help).toContain(HEATMAP_ZOOM_HELP);
    expect(help).toContain('Esc is not the map');
    // without the full outputs there is no zoom: only the cursor's keys are offered
    const ro = textOf(render(false), 'heatmap-keys')!;
    expect(ro).toContain(HEATMAP_MOVE_HELP);
    expect(ro).not.toContain(HEATMAP_ZOOM_HELP);
  });
});
