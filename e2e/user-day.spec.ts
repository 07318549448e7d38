/**
 * A user's day in the browser build: open the sample, filter and select, run on the cpu backend,
 * read every result, inspect the heatmap, look at the charts, export, switch theme.
 */
import { test, expect } from './fixtures/electron';
import {
  measure,
  openApp,
  openSample,
  progressCount,
  resultCounts,
  setBatchSizes,
  setTheme,
  shot,
  tensorCheck,
  waitRunEnd,
} from './ui.helpers';

test.describe.configure({ mode: 'serial' });

test('open the sample, filter, select, run on cpu and inspect the results', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page, testInfo);

  // First start: the empty state offers the sample.
  await expect(page.getByTestId('empty-state')).toBeVisible();
  await setTheme(page, 'light');
  await shot(page, 'empty');
  await openSample(page);
  await expect(page.getByTestId('model-arch')).toHaveText('llama');
  await expect(page.getByTestId('quant-mix').locator('svg').first()).toBeVisible();
  const totalRows = await page.getByTestId('tensor-row').count();
  expect(totalRows).toBeGreaterThan(5);
  await shot(page, 'model');

  // Filter by name: every row shown matches.
  await page.getByTestId('filter-name').fill('attn_q');
  const qNames = await page
    .getByTestId('tensor-row')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-name')!));
  expect(qNames.length).toBeGreaterThan(0);
  for (const n of qNames) expect(n).toContain('attn_q');
  await page.getByTestId('select-all-filtered').click();
  await expect(page.getByTestId('selected-count')).toHaveText(String(qNames.length));

  // Filter by layer, then shift-click a range of three rows.
  await page.getByTestId('filter-name').fill('');
  await page.getByTestId('filter-layer').selectOption('1');
  const layerRows = await page
    .locator('[data-testid=tensor-row]:has([data-testid=tensor-check]:not([disabled]))')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-name')!));
  expect(layerRows.length).toBeGreaterThanOrEqual(4);
  const notQ = layerRows.filter((n) => !qNames.includes(n));
  const a = layerRows.indexOf(notQ[0]);
  await tensorCheck(page, layerRows[a]).click();
  await tensorCheck(page, layerRows[a + 2]).click({ modifiers: ['Shift'] });
  const rangeSelected = new Set([...qNames, ...layerRows.slice(a, a + 3)]);
  await expect(page.getByTestId('selected-count')).toHaveText(String(rangeSelected.size));
  for (const n of layerRows.slice(a, a + 3)) await expect(tensorCheck(page, n)).toBeChecked();
  // A click on the row (not only its checkbox) toggles it too.
  const rowName = page.locator(`[data-testid=tensor-row][data-name="${layerRows[a]}"] .mono`);
  await rowName.click();
  await expect(tensorCheck(page, layerRows[a])).not.toBeChecked();
  await rowName.click();
  await expect(tensorCheck(page, layerRows[a])).toBeChecked();
  await page.getByTestId('filter-layer').selectOption('');

  // Filter by type.
  await page.getByTestId('filter-type').selectOption('Q6_K');
  const types = await page
    .getByTestId('tensor-row')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
  expect(types.length).toBeGreaterThan(0);
  expect(new Set(types)).toEqual(new Set(['Q6_K']));
  await page.getByTestId('filter-type').selectOption('');

  // Run on the cpu backend: two batch sizes, hot timing.
  await expect(page.getByTestId('backend-cpu')).toBeEnabled();
  await page.getByTestId('backend-cpu').click();
  await setBatchSizes(page, [1, 4]);
  await page.getByTestId('timing-hot').click();
  const expected = rangeSelected.size * 2;
  await page.getByTestId('run-setup-run').click();
  await expect(page.getByTestId('results-view')).toBeVisible();
  expect(await waitRunEnd(page)).toBe('done');
  expect(await progressCount(page)).toEqual({ done: expected, total: expected });
  const counts = await resultCounts(page);
  expect(counts.total).toBe(expected);
  expect(counts.pass + counts.fail + counts.error).toBe(expected);
  await expect(page.getByTestId('run-summary')).toContainText(`${counts.pass} passed`);

  // Every (tensor, m) pair has a row: scroll the virtualized table through.
  const seen = new Set<string>();
  const body = page.getByTestId('results-table').locator('.vbody');
  for (let i = 0; i < 50 && seen.size < expected; i++) {
    const rows = await page
      .getByTestId('result-row')
      .evaluateAll((els) => els.map((e) => `${e.getAttribute('data-tensor')}@${e.getAttribute('data-m')}`));
    rows.forEach((r) => seen.add(r));
    await body.evaluate((el) => el.scrollBy(0, el.clientHeight - 30));
  }
  for (const t of rangeSelected)
    for (const m of [1, 4]) expect(seen.has(`${t}@${m}`), `${t} m=${m}`).toBe(true);
  await body.evaluate((el) => el.scrollTo(0, 0));

  // Show only problems: every row shown is a failure or an error; then all again.
  await page.getByTestId('results-filter-problems').click();
  const problemStatuses = await page
    .getByTestId('result-row')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  if (counts.fail + counts.error === 0) expect(problemStatuses).toEqual([]);
  else expect(problemStatuses.length).toBeGreaterThan(0);
  for (const st of problemStatuses) expect(st).not.toBe('pass');
  await page.getByTestId('results-filter-all').click();

  // Keyboard: ArrowDown moves the selection to the next row.
  await page.getByTestId('result-row').first().click();
  const firstId = await page.getByTestId('result-detail').getAttribute('data-result-id');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByTestId('result-detail')).not.toHaveAttribute('data-result-id', firstId ?? '');

  // Sort by NMSE, open a passing row's detail with its heatmap.
  await page.getByTestId('result-sort-nmse').click();
  const row = page.locator('[data-testid=result-row][data-m="4"]:not([data-status=error])').first();
  await row.click();
  await expect(page.getByTestId('result-detail')).toBeVisible();
  await expect(page.getByTestId('detail-metrics')).toContainText('NMSE');
  await expect(page.getByTestId('detail-timing')).toContainText('GB/s');
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-draw-ms', /\d/);
  measure(testInfo, 'heatmap draw (sample tensor)', Number(await canvas.getAttribute('data-draw-ms')), 'ms');

  // Hover a cell: the tooltip names row, column, reference, got and error.
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.37, box.y + box.height * 0.5);
  const tip = page.getByTestId('heatmap-tooltip');
  await expect(tip).toBeVisible();
  await expect(page.getByTestId('tip-row')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('tip-col')).toHaveText(/^\d+$/);
  await expect(page.getByTestId('tip-ref')).toHaveText(/\d/);
  await expect(page.getByTestId('tip-got')).toHaveText(/\d/);
  await expect(tip).toContainText('ref');
  await expect(tip).toContainText('got');
  await shot(page, 'results');

  // Relative metric, then zoom into a region by dragging and reset.
  await page.getByTestId('heatmap-rel').click();
  await expect(page.getByTestId('heatmap-rel')).toHaveAttribute('aria-checked', 'true');
  const before = await page.getByTestId('heatmap-region').textContent();
  await page.mouse.move(box.x + box.width * 0.1, box.y + 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height - 2, { steps: 5 });
  await page.mouse.up();
  await expect(page.getByTestId('heatmap-region')).not.toHaveText(before ?? '');
  await expect(page.getByTestId('heatmap-reset')).toBeEnabled();
  await page.getByTestId('heatmap-reset').click();
  await expect(page.getByTestId('heatmap-reset')).toBeDisabled();
  await page.getByTestId('heatmap-abs').click();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await expect(tip).toBeVisible();
  await page.getByTestId('heatmap').scrollIntoViewIfNeeded();
  await shot(page, 'heatmap');

  // Charts: the bandwidth chart draws bars for the timed results.
  await page.getByTestId('tab-charts').click();
  const bw = page.getByTestId('chart-bandwidth');
  await expect(bw).toBeVisible();
  await expect(bw.locator('.recharts-bar-rectangle').first()).toBeVisible();
  await expect(page.getByTestId('chart-roofline')).toBeVisible();
  await shot(page, 'charts');
  // A bar opens its result.
  await bw.locator('.recharts-bar-rectangle').first().click();
  await expect(page.getByTestId('app')).toHaveAttribute('data-view', 'results');
  await expect(page.getByTestId('result-detail')).toBeVisible();
  await page.getByTestId('tab-charts').click();

  // Export a report: the browser gets a download; the desktop app saves it and says where.
  await page.getByTestId('export-format').selectOption('md');
  if (testInfo.project.name === 'electron') {
    await page.getByTestId('export-report').click();
    await expect(page.getByTestId('notice')).toContainText(/\.md/);
  } else {
    const downloadP = page.waitForEvent('download', { timeout: 30_000 });
    await page.getByTestId('export-report').click();
    const dl = await downloadP;
    expect(dl.suggestedFilename()).toMatch(/\.md$/);
  }

  // Dark theme, persisted across a reload; screenshots of the main screens in dark.
  await setTheme(page, 'dark');
  await shot(page, 'charts');
  await page.getByTestId('tab-results').click();
  await page.locator('[data-testid=result-row]:not([data-status=error])').first().click();
  await expect(page.getByTestId('heatmap-canvas')).toHaveAttribute('data-draw-ms', /\d/);
  await shot(page, 'results');
  await page.getByTestId('heatmap').scrollIntoViewIfNeeded();
  await shot(page, 'heatmap');
  await page.getByTestId('tab-model').click();
  await shot(page, 'model');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');

  // Shortcuts help.
  await page.keyboard.press('?');
  await expect(page.getByTestId('shortcuts-help')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('shortcuts-help')).toBeHidden();
  await setTheme(page, 'light');
  expect(pageErrors).toEqual([]);
});

test('timing "none" explains why there is no bandwidth chart', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  const first = await page
    .locator('[data-testid=tensor-row]:has([data-testid=tensor-check]:not([disabled]))')
    .first()
    .getAttribute('data-name');
  await tensorCheck(page, first!).click();
  await setBatchSizes(page, [1]);
  await page.getByTestId('timing-none').click();
  await page.keyboard.press('Control+Enter');
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.getByTestId('no-timing-hint')).toBeVisible();
  await page.getByTestId('tab-charts').click();
  await expect(page.getByTestId('charts-no-timing')).toContainText('none');
  await page.getByTestId('tab-model').click();
  await page.getByTestId('timing-hot').click();
});
