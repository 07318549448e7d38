/**
 * Keyboard use: the shortcuts against the focus, sorting, the tensor list, the picker dialog and the
 * heatmap's cursor and zoom.
 */
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures/electron';
import {
  openApp,
  openModelFile,
  openSample,
  progressCount,
  setBatchSizes,
  tensorCheck,
  waitRunEnd,
} from './ui.helpers';

test("Escape in a text field is the field's own; outside text fields it cancels the run", async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  await openApp(page, testInfo);
  await openSample(page);
  await page.getByTestId('filter-type').selectOption('supported');
  await page.getByTestId('select-all-filtered').click();
  await page.getByTestId('filter-type').selectOption('');
  await page.getByTestId('timing-none').click();
  // A long run (large custom batch sizes) that is still going when the keys below are pressed.
  await setBatchSizes(page, [2048, 4096]);
  await page.getByTestId('run-setup-run').click();
  const strip = page.getByTestId('run-progress');
  await expect(strip).toHaveAttribute('data-status', /starting|running/);
  await page.getByTestId('tab-model').click();

  // Escape clears the search field (its native key) and leaves the run going.
  const filter = page.getByTestId('filter-name');
  await filter.fill('attn_q');
  await filter.press('Escape');
  await expect(filter).toHaveValue('');
  // Escape in the seed, threshold and custom batch fields too.
  for (const id of ['seed', 'threshold', 'batch-custom']) await page.getByTestId(id).press('Escape');
  await page.waitForTimeout(300);
  await expect(strip).toHaveAttribute('data-status', /starting|running/);
  expect((await progressCount(page)).done).toBeLessThan((await progressCount(page)).total);

  // From outside a text field (the tab bar), Escape cancels.
  await page.getByTestId('tab-model').focus();
  await page.keyboard.press('Escape');
  expect(await waitRunEnd(page, 60_000)).toBe('cancelled');
});

/** The data-testid (or tag) of the focused element and the testid of the dialog/pane around it. */
async function focusInfo(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      testId: el?.dataset.testid ?? el?.tagName ?? '',
      row: el?.getAttribute('aria-rowindex') ?? null,
      inPicker: !!el?.closest('[data-testid=model-picker]'),
      inRunSetup: !!el?.closest('[data-testid=run-setup]'),
    };
  });
}

test('sortable headers are buttons: Tab reaches them, Enter and Space sort', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  await page.getByTestId('select-all').focus();
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('tensor-sort-index').getByRole('button')).toBeFocused();
  await page.keyboard.press('Tab');
  const name = page.getByTestId('tensor-sort-name');
  await expect(name.getByRole('button')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(name).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('tensor-sort-index')).not.toHaveAttribute('aria-sort');
  const names = () => page.getByTestId('tensor-row').evaluateAll((els) => els.map((e) => e.dataset.name!));
  const asc = await names();
  expect(asc).toEqual([...asc].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })));
  await page.keyboard.press('Space');
  await expect(name).toHaveAttribute('aria-sort', 'descending');
  expect(await names()).toEqual([...asc].reverse());

  // The results table's headers too.
  await page.getByTestId('tensor-row').nth(0).click();
  await page.getByTestId('tensor-row').nth(1).click();
  await setBatchSizes(page, [1]);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  const nmse = page.getByTestId('result-sort-nmse');
  await nmse.getByRole('button').focus();
  await page.keyboard.press('Enter');
  await expect(nmse).toHaveAttribute('aria-sort', 'descending');
  await page.keyboard.press('Space');
  await expect(nmse).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByTestId('result-sort-status')).not.toHaveAttribute('aria-sort');
});

test('a focused checkbox leaves the view digits and ? to the shortcuts', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  await page.getByTestId('select-all').focus();
  await page.keyboard.press('2');
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'results');
  await page.getByTestId('tab-model').click();
  // focus() acts on the element as it is: wait until the view switch has shown it (a hidden one
  // does not take the focus, which would stay on the tab)
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'model');
  await expect(page.getByTestId('select-all')).toBeVisible();
  await page.getByTestId('select-all').focus();
  await expect(page.getByTestId('select-all')).toBeFocused();
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-help')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts-help')).toBeHidden();
  await expect(page.getByTestId('select-all')).toBeFocused();
  // In a text field they are text.
  await page.getByTestId('filter-name').fill('');
  await page.getByTestId('filter-name').press('3');
  await expect(page.getByTestId('filter-name')).toHaveValue('3');
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'model');
});

test('Ctrl+O opens a modal picker: focus moves in, stays in, and returns on Escape', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  const opener = page.getByTestId('theme-toggle');
  await opener.focus();
  await page.keyboard.press('Control+o');
  const picker = page.getByTestId('model-picker');
  await expect(picker).toBeVisible();
  await expect(picker).toHaveAttribute('role', 'dialog');
  await expect(picker).toHaveAttribute('aria-modal', 'true');
  await expect(picker).toHaveAccessibleName('Open a GGUF model');
  // The focus starts on the first model file.
  await expect(picker.getByTestId('model-file').first()).toBeFocused();
  for (const key of ['Tab', 'Shift+Tab']) {
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press(key);
      const f = await focusInfo(page);
      expect(f.inPicker, `${key} #${i + 1} left the picker for ${f.testId}`).toBe(true);
    }
  }
  // The view digits do not act behind the dialog.
  await picker.getByTestId('picker-close').focus();
  await page.keyboard.press('2');
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'model');
  await page.keyboard.press('Escape');
  await expect(picker).toBeHidden();
  await expect(opener).toBeFocused();
});

test('the tensor list is one Tab stop: arrows move, Space selects', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  const rows = page.getByTestId('tensor-row');
  await page.getByTestId('tensor-sort-supported').getByRole('button').focus();
  await page.keyboard.press('Tab');
  await expect(rows.nth(0)).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(rows.nth(1)).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.getByTestId('selected-count')).toHaveText('1');
  await expect(rows.nth(1).getByTestId('tensor-check')).toBeChecked();
  // Shift+Space selects the range from the last toggled row.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Shift+Space');
  await expect(page.getByTestId('selected-count')).toHaveText('3');
  await page.keyboard.press('Space');
  await expect(page.getByTestId('selected-count')).toHaveText('2');
  // One Tab leaves the list for the run setup; Shift+Tab comes back to the same row.
  await page.keyboard.press('Tab');
  expect((await focusInfo(page)).inRunSetup).toBe(true);
  await page.keyboard.press('Shift+Tab');
  await expect(rows.nth(3)).toBeFocused();
});

test('a long tensor list keeps its one Tab stop when the focused row scrolls away', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'large-llama-405b-shape.gguf');
  await expect(page.getByTestId('tensor-counts')).toContainText('1,137 of 1,137');
  await page.getByTestId('tensor-row').first().focus();
  await page.keyboard.press('End');
  await expect.poll(async () => (await focusInfo(page)).row).toBe('1138');
  await page.keyboard.press('ArrowUp');
  await expect.poll(async () => (await focusInfo(page)).row).toBe('1137');
  // Scroll the list back to the top: the focused row stays the list's Tab stop.
  await page.getByTestId('tensor-scroll').evaluate((el) => (el.scrollTop = 0));
  await expect(page.locator('[data-testid=tensor-row][aria-rowindex="2"]')).toBeVisible();
  await page.getByTestId('tensor-sort-supported').getByRole('button').focus();
  await page.keyboard.press('Tab');
  expect((await focusInfo(page)).row).toBe('1137');
  await page.keyboard.press('Tab');
  expect((await focusInfo(page)).inRunSetup).toBe(true);
});

test('the heatmap from the keyboard: Tab to it, arrows move the readout, + − 0 zoom', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  await tensorCheck(page, 'blk.0.attn_q.weight').click();
  await page.getByTestId('backend-cpu').click();
  await setBatchSizes(page, [8]);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await page.getByTestId('result-row').first().click();
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-draw-ms', /\d/);
  const region = page.getByTestId('heatmap-region');
  // the region the map shows, without its draw time (which changes with every draw)
  const shown = async () => ((await region.textContent()) ?? '').replace(/ · drawn in .*$/, '');
  const whole = await shown();
  const [, lastRow, lastCol] = /rows 0–(\d+) × cols 0–(\d+) of/.exec(whole)!.map(Number);
  await expect(canvas).toHaveAccessibleName(
    new RegExp(`^Error heatmap \\(\\|error\\|\\): rows 0–${lastRow} × cols 0–${lastCol}`),
  );
  await expect(page.getByTestId('heatmap-keys')).toContainText('+ / − zoom');

  // Tab reaches the map (Back and Reset are disabled while not zoomed), with a visible focus ring
  await page.getByTestId('heatmap-detail').focus();
  await page.keyboard.press('Tab');
  await expect(canvas).toBeFocused();
  expect(await canvas.evaluate((c) => getComputedStyle(c).outlineStyle)).toBe('solid');

  // the first arrow puts the cursor on the middle cell, the next ones move it: the readout follows
  const tip = page.getByTestId('heatmap-tooltip');
  const col = page.getByTestId('tip-col');
  const row = page.getByTestId('tip-row');
  await page.keyboard.press('ArrowRight');
  await expect(tip).toBeVisible();
  await expect(page.getByTestId('heatmap-cursor')).toBeVisible();
  const mid = Math.floor(lastCol / 2);
  await expect(col).toHaveText(String(mid));
  await page.keyboard.press('ArrowRight');
  await expect(col).toHaveText(String(mid + 1));
  await page.keyboard.press('ArrowDown');
  await expect(row).toHaveText(String(Math.floor(lastRow / 2) + 1));
  await expect(page.getByTestId('tip-err')).toBeVisible();

  // + zooms in around the cursor (half the columns), the cursor stays on its output
  await page.keyboard.type('+');
  await expect.poll(shown).not.toBe(whole);
  await expect(page.getByTestId('heatmap-reset')).toBeEnabled();
  await expect(col).toHaveText(String(mid + 1));
  const once = await shown();
  const zoomed = /cols (\d+)–(\d+) of/.exec(once)!.map(Number);
  expect(zoomed[2] - zoomed[1] + 1).toBe(Math.ceil((lastCol + 1) / 2));
  expect(zoomed[1]).toBeLessThanOrEqual(mid + 1);
  expect(zoomed[2]).toBeGreaterThanOrEqual(mid + 1);
  await expect(canvas).toBeFocused();
  // again, then − backs out one level, and 0 resets
  await page.keyboard.type('+');
  await expect.poll(shown).not.toBe(once);
  await page.keyboard.type('-');
  await expect.poll(shown).toBe(once);
  await page.keyboard.type('+');
  await expect.poll(shown).not.toBe(once);
  await page.keyboard.type('0');
  await expect.poll(shown).toBe(whole);
  await expect(page.getByTestId('heatmap-reset')).toBeDisabled();
  await expect(col).toHaveText(String(mid + 1));

  // the focus leaves the map: the keyboard cursor goes with it
  await page.keyboard.press('Shift+Tab');
  await expect(canvas).not.toBeFocused();
  await expect(page.getByTestId('heatmap-cursor')).toHaveCount(0);
  // the app's keys still work from the focused map: ? opens the help (it lists the map's keys), Escape
  // closes it and the focus comes back to the map
  await canvas.focus();
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-help')).toContainText('(heatmap focused)');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts-help')).toBeHidden();
  await expect(canvas).toBeFocused();
  // and so do the view digits
  await page.keyboard.press('3');
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'charts');
});
