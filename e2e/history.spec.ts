/**
 * History in the browser build: two runs of the sample are saved as records (the harness points the
 * server's records folder at e2e/artifacts/records), both show in History newest first, one opens
 * read-only in the results view, the two compare, and the comparison exports as HTML and JSON. The
 * HTML report then opens from disk in Chromium offline, with no console error and nothing fetched.
 * Bench and selftest records made by the CLI in the same folder list with their kind, filter by
 * kind, open as tables (a bench record with its chart, beside the peer's times when a --peer file gave
 * them), compare with their own kind and are refused against another.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  // the run setup's cpu thread count: the app keeps a core for its UI where there are two or more,
  // and says so (the CLI runs one more)
  const threads = (await page.getByTestId('device-threads').textContent()) ?? '';
  expect(threads).toMatch(/^\d+ worker threads?( \(one core kept for the app\))?$/);
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

  // open the older run: its results as they were, read-only, with the heatmap its record kept
  await page
    .locator(`[data-testid=history-row][data-record-id="${older}"] [data-testid=history-open]`)
    .click();
  await expect(page.getByTestId('record-view')).toBeVisible();
  const resultRows = page.getByTestId('record-view').getByTestId('result-row');
  await expect(resultRows.first()).toBeVisible();
  // the record says the thread count the run had, as the run setup said it
  await expect(page.getByTestId('record-threads')).toContainText(`· ${threads}`);
  const n = await resultRows.count();
  expect(n).toBeGreaterThanOrEqual(2);
  await resultRows.first().click();
  const heat = page.getByTestId('record-view').getByTestId('heatmap');
  await expect(heat.locator('canvas').first()).toBeVisible();
  await expect(heat).toContainText('zoom is off');
  await expect(page.getByTestId('record-view').getByTestId('heatmap-error')).toHaveCount(0);
  await page.getByTestId('record-tab-charts').click();
  await expect(page.getByTestId('record-charts')).toBeVisible();
  await expect(page.getByTestId('record-charts').locator('svg').first()).toBeVisible();
  await shot(page, 'history-record', { docs: false });
  // the saved run exports its report, as the live run's Export does
  await page.getByTestId('record-export-format').selectOption('md');
  const saved = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByTestId('record-export').click();
  const md = await saved;
  expect(md.suggestedFilename()).toMatch(/^quantscope-tiny-cpu-.*\.md$/);
  const mdFile = testInfo.outputPath(md.suggestedFilename());
  await md.saveAs(mdFile);
  const mdText = readFileSync(mdFile, 'utf8');
  expect(mdText).toMatch(/^# QuantScope correctness report — PASS\n/);
  expect(mdText).toContain(`- Run ${older},`);
  expect(mdText.split('\n').filter((l) => l.startsWith('| blk.'))).toHaveLength(n);
  await expect(page.getByTestId('record-export-note')).toHaveText(`${md.suggestedFilename()} downloaded`);
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
  // in a window too short for the table and the chart together, the view scrolls as a whole: the
  // table keeps its full height (or its 50vh cap, with its own scroll), it is not squashed by the chart
  const size = page.viewportSize();
  await page.setViewportSize({ width: 1440, height: 560 });
  const tableFits = () =>
    page.getByTestId('compare-table').evaluate((t) => {
      const wrap = t.parentElement!.getBoundingClientRect().height;
      const full = t.getBoundingClientRect().height;
      return { wrap: Math.round(wrap), full: Math.round(Math.min(full, window.innerHeight / 2)) };
    });
  await expect
    .poll(async () => {
      const f = await tableFits();
      return f.full > 0 && f.wrap >= f.full - 1;
    })
    .toBe(true);
  expect((await tableFits()).wrap).toBeGreaterThan(60);
  if (size) await page.setViewportSize(size);
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

test('runs that are not of the same work compare with no verdict, each difference named', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await openApp(page, testInfo);
  await openSample(page);
  await page.getByTestId('filter-name').fill('attn_q');
  await page.getByTestId('select-all-filtered').click();
  await setBatchSizes(page, [1]);
  await runSample(page);
  // the same tensors of the same file, judged by another threshold
  await page.getByTestId('tab-model').click();
  await page.getByTestId('threshold').fill('1.75e-14');
  await runSample(page);

  await page.getByTestId('tab-history').click();
  const rows = page.getByTestId('history-row');
  await expect(rows.nth(1)).toBeVisible();
  await rows.nth(0).getByTestId('history-select').check();
  await rows.nth(1).getByTestId('history-select').check();
  await page.getByTestId('history-compare').click();
  await expect(page.getByTestId('compare-verdict')).toHaveText('not the same work: no verdict');
  await expect(page.getByTestId('compare-verdict')).toHaveAttribute('data-verdict', 'not-same-work');
  // the one difference, named: not "the weights differ"
  await expect(page.getByTestId('compare-difference')).toHaveText([
    'the thresholds differ (per path vs 1.75e-14)',
  ]);
  // the notice and the table show (not squashed), with each side's threshold as given
  expect((await page.getByTestId('compare-different').boundingBox())!.height).toBeGreaterThan(30);
  await expect(page.getByTestId('compare-row').first()).toBeVisible();
  await expect(page.getByTestId('compare-bar-now').first()).toHaveText('1.75e-14');
  await shot(page, 'history-compare-different-work', { docs: false });
});

/** Runs the built CLI with the server's records folder; returns the id of the record it saved. */
function cliRecord(args: string[]): string {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'dist', 'quantscope.cjs'),
      ...args,
      '--records',
      path.join(root, 'e2e', 'artifacts', 'records'),
    ],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  const m = /record saved: .*[/\\]([^/\\]+)\.json\n/.exec(r.stderr);
  expect(m, r.stderr).not.toBeNull();
  return m![1];
}

test('bench and selftest records list by kind, open as tables, compare, and refuse mixed kinds', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const bench = ['bench', '--backend', 'cpu', '--formats', 'q4_0', '--m', '1', '--n', '64', '--k', '256'];
  const selftestId = cliRecord(['selftest', '--backend', 'cpu', '--quick', '--formats', 'q4_0']);
  const benchOld = cliRecord([...bench, '--repeats', '3']);
  // llama.cpp's SQL output for the same case (ggml's m is our n, its n our m): the peer's figures
  const peerFile = path.resolve(__dirname, 'artifacts', 'peer-perf.sql');
  mkdirSync(path.dirname(peerFile), { recursive: true });
  writeFileSync(
    peerFile,
    "INSERT INTO test_backend_ops (test_time, build_commit, op_name, op_params, test_mode, time_us, device_description) VALUES ('2026-12-03T10:00:00Z', 'd99724f', 'MUL_MAT', 'type_a=q4_0,type_b=f32,m=64,n=1,k=256,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1', 'perf', '3.25', 'NVIDIA H200');\n",
  );
  const benchNew = cliRecord([...bench, '--repeats', '3', '--peer', peerFile]);
  // the older bench as a run of kernels built with another setting (as a GPU run with
  // QS_KERNEL_DEFINES=QS_LDW=16 saves it): History names the setting beside the device
  const oldFile = path.resolve(__dirname, 'artifacts', 'records', `${benchOld}.json`);
  const oldRec = JSON.parse(readFileSync(oldFile, 'utf8'));
  oldRec.device.kernelSettings = ['QS_LDW=16'];
  writeFileSync(oldFile, JSON.stringify(oldRec, null, 2) + '\n');
  const row = (id: string) => page.locator(`[data-testid=history-row][data-record-id="${id}"]`);

  await openApp(page, testInfo);
  await page.getByTestId('tab-history').click();
  await page.getByTestId('history-refresh').click();
  await expect(row(benchNew)).toBeVisible();
  await expect(row(benchNew).getByTestId('history-kind-cell')).toHaveText('bench');
  await expect(row(selftestId).getByTestId('history-kind-cell')).toHaveText('selftest');

  // the kind filter
  await page.getByTestId('history-kind').selectOption('bench');
  await expect(row(benchOld)).toBeVisible();
  await expect(row(selftestId)).toHaveCount(0);
  const kinds = await page
    .getByTestId('history-kind-cell')
    .evaluateAll((els) => [...new Set(els.map((e) => e.textContent))]);
  expect(kinds).toEqual(['bench']);

  // a bench record opens as its table, with the copy bandwidth the run measured
  await row(benchNew).getByTestId('history-open').click();
  await expect(page.getByTestId('record-cases')).toBeVisible();
  await expect(page.getByTestId('record-case')).toHaveCount(1);
  await expect(page.getByTestId('record-case').first()).toContainText('Q4_0');
  await expect(page.getByTestId('record-case').first()).toHaveAttribute('data-status', 'pass');
  await expect(page.getByTestId('record-copy')).toContainText(/\d GB\/s · 16 MiB × 5 · measured /);
  await expect(page.getByTestId('record-bench-facts')).toContainText('shape n=64 k=256');
  await expect(page.getByTestId('record-tab-results')).toHaveCount(0);
  await expect(page.getByTestId('record-kernel-settings')).toHaveCount(0);
  // its chart: our time beside the peer's, the peer named in the legend and its source below
  const chart = page.getByTestId('bench-chart');
  await expect(chart.getByTestId('bench-chart-ours')).toHaveText('QuantScope hot');
  await expect(chart.getByTestId('bench-chart-peer')).toContainText('llama.cpp');
  await expect(chart.getByTestId('bench-chart-peer-source')).toContainText(
    /device NVIDIA H200 · build d99724f · measured 2026-12-03T10:00:00Z · source: --peer .*peer-perf\.sql$/,
  );
  await expect(chart.locator('.recharts-bar-rectangle')).toHaveCount(2);
  await shot(page, 'history-bench-record', { docs: false });
  await page.getByTestId('history-back').click();

  // a bench record without peer figures: our bars only, no peer label
  await row(benchOld).getByTestId('history-open').click();
  await expect(page.getByTestId('bench-chart-no-peer')).toBeVisible();
  await expect(page.getByTestId('record-kernel-settings')).toHaveText(/^\s*· kernel settings QS_LDW=16$/);
  await expect(page.getByTestId('bench-chart-peer')).toHaveCount(0);
  await expect(page.getByTestId('bench-chart').locator('.recharts-bar-rectangle')).toHaveCount(1);
  await page.getByTestId('history-back').click();

  // a selftest record: every case, all passed
  await page.getByTestId('history-kind').selectOption('selftest');
  await row(selftestId).getByTestId('history-open').click();
  const cases = page.getByTestId('record-case');
  await expect(cases.first()).toBeVisible();
  const statuses = await cases.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(['pass']));
  await page.getByTestId('history-back').click();

  // two bench records compare per case
  await page.getByTestId('history-kind').selectOption({ label: 'any' });
  for (const id of [benchOld, benchNew]) await row(id).getByTestId('history-select').check();
  await page.getByTestId('history-compare').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  await expect(page.getByTestId('compare-row')).toHaveCount(1);
  await expect(page.getByTestId('compare-table').locator('th').first()).toHaveText('Case');
  await expect(page.getByTestId('compare-row').first()).toContainText('Q4_0 64×256 hot cpu-f32');
  await page.getByTestId('history-back').click();

  // a bench and a selftest record: refused with one line
  await row(benchOld).getByTestId('history-select').uncheck();
  await row(selftestId).getByTestId('history-select').check();
  await page.getByTestId('history-compare').click();
  await expect(page.getByTestId('compare-error')).toContainText(
    /cannot compare a (bench|selftest) record with a (bench|selftest) record: compare two records of the same kind/,
  );
  expect(pageErrors).toEqual([]);
});
