/**
 * History in the browser build: two runs of the sample are saved as records (the harness points the
 * server's records folder at e2e/artifacts/records), both show in History newest first, one opens
 * read-only in the results view, the two compare, and the comparison exports as HTML and JSON. The
 * HTML report then opens from disk in Chromium offline, with no console error and nothing fetched.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, expect } from './fixtures/electron';
import { openApp, openSample, setBatchSizes, shot, waitRunEnd } from './ui.helpers';

test.describe.configure({ mode: 'serial' });

let reportFile = '';

async function runSample(page: import('@playwright/test').Page): Promise<void> {
  await page.getByTestId('tab-model').click();
  await page.getByTestId('run').click();
  expect(await waitRunEnd(page)).toBe('done');
}

test('two runs of the sample show in History, open read-only, compare and export', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page, testInfo);

  await page.getByTestId('tab-history').click();
  await expect(page.getByTestId('history')).toBeVisible();
  await expect(page.getByTestId('history-refresh')).toBeEnabled();
  // the records folder outlives a test run: note the newest record there is now
  await expect(page.getByTestId('history-row').first().or(page.getByTestId('history-empty'))).toBeVisible();
  const topBefore = (await page.getByTestId('history-row').count())
    ? await page.getByTestId('history-row').first().getAttribute('data-record-id')
    : null;

  await page.getByTestId('tab-model').click();
  await openSample(page);
  await page.getByTestId('filter-name').fill('attn_q');
  await page.getByTestId('select-all-filtered').click();
  await setBatchSizes(page, [1, 2]);
  await runSample(page);
  await runSample(page);

  // History lists both runs, newest first, with their verdict counts
  await page.getByTestId('tab-history').click();
  const rows = page.getByTestId('history-row');
  const first = rows.nth(0);
  const second = rows.nth(1);
  await expect(second).toBeVisible();
  await expect(first).not.toHaveAttribute('data-record-id', topBefore ?? '');
  await expect(second).not.toHaveAttribute('data-record-id', topBefore ?? '');
  await expect(first).toContainText('tiny.gguf');
  await expect(first).toContainText('cpu:0');
  await expect(first).toContainText('verify');
  const newest = (await first.getAttribute('data-record-id'))!;
  const older = (await second.getAttribute('data-record-id'))!;
  expect(newest > older).toBe(true); // ids start with the time

  // the verdict filter: the sample passes, so "has failures" hides both runs
  await page.getByTestId('history-verdict').selectOption('failures');
  await expect(page.locator(`[data-testid=history-row][data-record-id="${newest}"]`)).toHaveCount(0);
  await page.getByTestId('history-verdict').selectOption('any');
  await page.getByTestId('history-model').selectOption('tiny.gguf');
  await expect(page.locator(`[data-testid=history-row][data-record-id="${newest}"]`)).toHaveCount(1);

  // open the older run: its results as they were, read-only, no heatmap
  await page
    .locator(`[data-testid=history-row][data-record-id="${older}"] [data-testid=history-open]`)
    .click();
  await expect(page.getByTestId('record-view')).toBeVisible();
  const resultRows = page.getByTestId('record-view').getByTestId('result-row');
  await expect(resultRows.first()).toBeVisible();
  const n = await resultRows.count();
  expect(n).toBeGreaterThanOrEqual(2);
  await resultRows.first().click();
  await expect(page.getByTestId('record-view').getByTestId('heatmap-error')).toContainText(
    'outputs are not kept in records',
  );
  await page.getByTestId('record-tab-charts').click();
  await expect(page.getByTestId('record-charts')).toBeVisible();
  await expect(page.getByTestId('record-charts').locator('svg').first()).toBeVisible();
  await shot(page, 'history-record', { docs: false });
  await page.getByTestId('history-back').click();

  // compare the two: the older is the baseline
  await page
    .locator(`[data-testid=history-row][data-record-id="${newest}"] [data-testid=history-select]`)
    .check();
  await page
    .locator(`[data-testid=history-row][data-record-id="${older}"] [data-testid=history-select]`)
    .check();
  await page.getByTestId('history-compare').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-verdict')).toHaveText(/^(REGRESSED|no regression)$/);
  const crow = page.getByTestId('compare-row');
  await expect(crow).toHaveCount(n);
  const verdicts = await crow.evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
  for (const v of verdicts) expect(['same', 'slower', 'faster']).toContain(v);
  await expect(page.getByTestId('compare-chart').locator('svg').first()).toBeVisible();
  await shot(page, 'history-compare', { docs: false });

  // export: the browser downloads both files
  const dir = testInfo.outputPath();
  for (const format of ['json', 'html'] as const) {
    const dl = page.waitForEvent('download', { timeout: 30_000 });
    await page.getByTestId(`compare-export-${format}`).click();
    const file = await dl;
    expect(file.suggestedFilename()).toBe(`quantscope-compare-${older}-vs-${newest}.${format}`);
    const to = path.join(dir, file.suggestedFilename());
    await file.saveAs(to);
    if (format === 'json') {
      const j = JSON.parse(readFileSync(to, 'utf8'));
      expect(j.baseline.id).toBe(older);
      expect(j.candidate.id).toBe(newest);
      expect(j.rows).toHaveLength(n);
    } else reportFile = to;
  }
  expect(pageErrors).toEqual([]);
});

test('the HTML comparison report opens offline from disk with no console error', async ({ browser }) => {
  test.skip(!reportFile, 'the export test did not produce a report');
  const context = await browser.newContext({ offline: true });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(reportFile).href;
  await page.goto(url);
  await expect(page.locator('h1')).toHaveText(/^(REGRESSED|no regression)$/);
  await expect(page.locator('table.facts')).toContainText('tiny.gguf');
  await expect(page.locator('table.rows tbody tr').first()).toBeVisible();
  expect(problems).toEqual([]);
  expect(requests).toEqual([url]);
  await context.close();
});
