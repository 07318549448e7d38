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
import { openApp, openModelFile, openSample, setBatchSizes, shot, waitRunEnd } from './ui.helpers';

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

test('a failing check opened from History draws the weight map its record kept, and its report has it', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // the weights as dequantized, then an identity output with the halves of every 64 elements exchanged
  const root = path.resolve(__dirname, '..');
  const tensor = 'blk.0.ffn_up.weight'; // Q4_K, k 512, n 1024
  const [n, k] = [1024, 512];
  const dir = path.join(process.env.QS_E2E_MODELS ?? testInfo.outputDir, `history-pairs-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const wPath = path.join(dir, 'w.f32');
  const dq = spawnSync(
    process.execPath,
    [
      path.join(root, 'dist', 'quantscope.cjs'),
      'dequant',
      path.join(root, 'samples', 'tiny.gguf'),
      tensor,
      '--out',
      wPath,
      '--force',
    ],
    { encoding: 'utf8' },
  );
  expect(dq.status, dq.stderr).toBe(0);
  const buf = readFileSync(wPath);
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  expect(w.length).toBe(n * k);
  const y = new Float32Array(k * n); // y[r][j] = weight j, element r
  for (let j = 0; j < n; j++)
    for (let r = 0; r < k; r++) y[r * n + j] = w[j * k + (r % 64 < 32 ? r + 32 : r - 32)];
  const wrong = path.join(dir, 'wrong.f32');
  writeFileSync(wrong, new Uint8Array(y.buffer));

  // the check, in the app: FAIL, with its live weight map
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await page.getByTestId('tab-kernels').click();
  const panel = page.getByTestId('check-pair-panel');
  await panel.getByTestId('check-tensor').selectOption(tensor);
  await panel.getByTestId('check-identity').click();
  await panel.getByTestId('check-output').fill(wrong);
  await panel.getByTestId('check-run').click();
  const res = panel.getByTestId('check-result');
  await expect(res.locator('.status.fail')).toBeVisible({ timeout: 60_000 });
  await expect(res.getByTestId('weight-map-region')).toContainText('rows 0–1023 of 1024', {
    timeout: 60_000,
  });

  // History: the check's record, newest of its kind, opens with the map drawn from the record
  await page.getByTestId('tab-history').click();
  await page.getByTestId('history-refresh').click();
  await page.getByTestId('history-kind').selectOption('check');
  const row = page.getByTestId('history-row').first();
  await expect(row.getByTestId('history-kind-cell')).toHaveText('check');
  await row.getByTestId('history-open').click();
  const view = page.getByTestId('record-view');
  await expect(view).toBeVisible();
  await view.getByTestId('result-row').first().click();
  const map = view.getByTestId('weight-map');
  await expect(map).toBeVisible();
  await expect(map.getByTestId('weight-map-error')).toHaveCount(0);
  // the same caption as the live map, and what the record kept: 16 x 128 cells of 64 rows x 4 elements
  await expect(map.getByTestId('weight-map-region')).toHaveText(
    'rows 0–1023 of 1024 · 512 of 512 probed elements · blocks of 256, sub-blocks of 32',
  );
  await expect(map.getByTestId('weight-map-saved')).toContainText('16×128 cells of 64×4 weights');
  await expect(map.getByTestId('weight-map-reset')).toHaveCount(0);
  const canvas = map.getByTestId('weight-map-canvas');
  await expect(canvas).toBeVisible();
  expect(await canvas.evaluate((c: HTMLCanvasElement) => [c.width, c.height])).toEqual([128, 16]);
  // something is drawn: the wrong weights are coloured, not left blank
  const painted = await canvas.evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  });
  expect(painted).toBeGreaterThan(0);
  // the block line between the two blocks of 256
  await expect(map.getByTestId('weight-map-lines')).toHaveAttribute('data-blocks', '1');
  // hover: the cell's weight rows and elements, and its largest error
  const cb = (await canvas.boundingBox())!;
  await canvas.hover({ position: { x: cb.width * (2.5 / 128), y: cb.height * (1.5 / 16) } });
  const tip = map.getByTestId('weight-map-tooltip');
  await expect(tip).toContainText('weight rows 64–127 × elements 8–11 (block 0)');
  await expect(tip).toContainText('largest relative error');
  await expect(map.getByTestId('weight-map-tip-value')).toHaveText(/\d/);
  await map.screenshot({ path: testInfo.outputPath('history-weight-map.png') });

  // the report made from the record: the weight map's image, and its row in the Markdown table
  await page.getByTestId('record-export-format').selectOption('md');
  const dl = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByTestId('record-export').click();
  const mdFile = testInfo.outputPath((await dl).suggestedFilename());
  await (await dl).saveAs(mdFile);
  expect(readFileSync(mdFile, 'utf8')).toMatch(
    /^\| weights \| blk\.0\.ffn\\_up\.weight m=512 \| 16×128 of 64×4 \(1024×512\) \| /m,
  );
  await page.getByTestId('record-export-format').selectOption('html');
  const dl2 = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByTestId('record-export').click();
  const htmlFile = testInfo.outputPath((await dl2).suggestedFilename());
  await (await dl2).saveAs(htmlFile);
  expect(readFileSync(htmlFile, 'utf8')).toContain('<img class="map" alt="weight map');
  expect(pageErrors).toEqual([]);
});
