/**
 * Helpers for the UI specs (e2e/*.spec.ts).
 *
 * data-testid attributes the UI carries (src-renderer/src/components):
 *   app (data-view=model|results|charts|history), tab-model, tab-results, tab-charts, tab-history, open-model, model-name,
 *   theme-toggle, help-toggle, shortcuts-help, notice, error-boundary,
 *   connection-lost, reconnect, reauth, reauth-input, reauth-go, reauth-error,
 *   empty-state, open-sample, model-picker, picker-close, model-file-list, model-file (data-name: the path
 *   inside its folder), refresh-files, files-loading, files-none, browse-model (Electron), open-error,
 *   path-field, path-input, path-open, path-error, path-completions, path-completion (data-kind=folder|file,
 *   data-name), upload-button, upload-input (browser mode), uploading, upload-progress, upload-bar,
 *   upload-cancel,
 *   model-view, model-info, model-arch, toggle-metadata, model-warnings, quant-mix,
 *   filter-name, filter-type, filter-layer, tensor-counts, selected-count, select-all-filtered, clear-selection,
 *   tensor-table, tensor-sort-<key>, tensor-scroll, select-all, tensor-row (data-name, data-type, data-n, data-k;
 *   one Tab stop: arrows, Home/End and PageUp/PageDown move the focus, Space toggles), tensor-check,
 *   run-setup, backend-cpu|cuda|hip, backend-reason-<backend>, device-select, device-facts, batch-chips,
 *   batch-<m> (aria-pressed), batch-remove-<m> (custom sizes), batch-custom, batch-custom-add, timing-none|hot|cold (cpu: none|hot, labelled Timed), timing-hint,
 *   repeats, path-auto|f32|int8|mma|unfused, seed,
 *   threshold, compare-unfused, config-error, run-setup-run, run (top bar), cancel-run (top bar),
 *   export-format, export-report,
 *   run-progress (data-status=starting|running|cancelling|done|cancelled|failed|interrupted), run-status, progress-bar,
 *   progress-count ("done / total"), eta, current-job, run-summary, run-error, toggle-tensor-progress,
 *   tensor-progress,
 *   results-view, results-empty, results-owner, results-other-model, results-counts, no-timing-hint, results-table, result-sort-<key>,
 *   results-filter-all|problems|fail|error, select-failing, result-row (data-tensor, data-m, data-status, data-result-id;
 *   ArrowUp/ArrowDown move the selection), result-status, result-error,
 *   result-detail (data-result-id), result-detail-empty, detail-verdict, detail-metrics, detail-timing,
 *   detail-unfused, detail-error, detail-spread, detail-samples, spread-warning, spread-warn (table),
 *   heatmap, heatmap-abs, heatmap-rel, heatmap-detail, heatmap-back, heatmap-reset, heatmap-region,
 *   heatmap-error, heatmap-canvas (data-draw-ms after each draw; focusable: arrows move a cursor cell,
 *   + / − zoom, 0 resets), heatmap-cursor (the keyboard's cell), heatmap-keys (the keys' help), heatmap-tooltip,
 *   tip-row, tip-col, tip-ref, tip-got, tip-err, heatmap-legend, error-histogram, error-histogram-extra,
 *   charts-view, charts-owner, bandwidth-legend, charts-empty, charts-no-timing, chart-bandwidth, bandwidth-m (batch size shown), chart-batch-gbps, chart-batch-tflops,
 *   chart-roofline, chart-fused, fused-hint,
 *   history, history-model, history-device, history-verdict, history-from, history-to, history-refresh,
 *   history-compare, history-error, history-off, history-skipped, history-table, history-empty,
 *   history-row (data-record-id), history-select, history-open, history-counts, history-back,
 *   record-view, record-tab-results|charts, record-results|charts, record-error,
 *   record-export-format, record-export, record-export-note, record-export-error,
 *   compare-view, compare-verdict (data-verdict), compare-different, compare-difference, compare-table,
 *   compare-row (data-verdict), compare-bar-was, compare-bar-now,
 *   compare-chart, compare-export-html|json, compare-note, compare-error.
 */
import { expect, type Page, type TestInfo } from '@playwright/test';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

/** Open the app at the harness's URL (it carries the access token, so keep its query). */
export async function openApp(page: Page, testInfo: TestInfo): Promise<void> {
  const base = testInfo.project.use.baseURL ?? process.env.QS_E2E_URL;
  if (base) await page.goto(base);
  await expect(page.getByTestId('app')).toBeVisible();
}

/** Open a model file from the picker (or the empty state's list) by file name. */
export async function openModelFile(page: Page, name: string): Promise<void> {
  const empty = page.getByTestId('empty-state');
  if (!(await empty.isVisible())) await page.getByTestId('open-model').click();
  const scope = (await empty.isVisible()) ? empty : page.getByTestId('model-picker');
  await scope.locator(`[data-testid=model-file][data-name="${name}"]`).first().click();
}

/** The file names the picker offers, with sizes, as listed. */
export async function listedModels(page: Page): Promise<string[]> {
  const empty = page.getByTestId('empty-state');
  if (!(await empty.isVisible())) await page.getByTestId('open-model').click();
  await expect(page.getByTestId('model-file').first()).toBeVisible();
  const names = await page
    .getByTestId('model-file')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
  if (!(await empty.isVisible())) await page.getByTestId('picker-close').click();
  return [...new Set(names)];
}

/**
 * Open the sample model, tiny.gguf, from the list: the harness's server is given a models folder
 * that holds a copy of it (with --models the samples folder itself is not served, and the empty
 * state offers no "Open sample model" button).
 */
export async function openSample(page: Page): Promise<void> {
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-view')).toBeVisible();
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
}

export function tensorCheck(page: Page, name: string) {
  return page.locator(`[data-testid=tensor-row][data-name="${name}"] [data-testid=tensor-check]`);
}

/** Batch chips: make exactly `sizes` selected (sizes without a chip are added as custom ones). */
export async function setBatchSizes(page: Page, sizes: number[]): Promise<void> {
  const chips = page.getByTestId('batch-chips').locator('button[aria-pressed]');
  const shown = (await chips.allTextContents()).map(Number);
  const missing = sizes.filter((m) => !shown.includes(m));
  if (missing.length > 0) {
    await page.getByTestId('batch-custom').fill(missing.join(' '));
    await page.getByTestId('batch-custom-add').click();
    for (const m of missing) await expect(page.getByTestId(`batch-${m}`)).toBeVisible();
  }
  // by batch size, not position (custom chips follow the fixed ones)
  for (const m of [...new Set([...shown, ...missing])]) {
    const chip = page.getByTestId(`batch-${m}`);
    const on = (await chip.getAttribute('aria-pressed')) === 'true';
    if (on !== sizes.includes(m)) await chip.click();
  }
}

export async function waitRunEnd(page: Page, timeout = 120_000): Promise<string> {
  const strip = page.getByTestId('run-progress');
  await expect(strip).toHaveAttribute('data-status', /^(done|cancelled|failed)$/, { timeout });
  return (await strip.getAttribute('data-status')) ?? '';
}

/** "a / b" from the progress counter. */
export async function progressCount(page: Page): Promise<{ done: number; total: number }> {
  const t = (await page.getByTestId('progress-count').textContent()) ?? '';
  const m = /(\d+)\s*\/\s*(\d+)/.exec(t);
  if (!m) throw new Error(`progress count unreadable: "${t}"`);
  return { done: Number(m[1]), total: Number(m[2]) };
}

/** "N pass · N fail · N error · N total" from the results header. */
export async function resultCounts(
  page: Page,
): Promise<{ pass: number; fail: number; error: number; total: number }> {
  const t = (await page.getByTestId('results-counts').textContent()) ?? '';
  const get = (re: RegExp) => Number(re.exec(t)?.[1] ?? NaN);
  return {
    pass: get(/(\d+) pass/),
    fail: get(/(\d+) fail/),
    error: get(/(\d+) error/),
    total: get(/(\d+) total/),
  };
}

/** Record a measured number: console + the test's annotations (shown in the report). */
export function measure(testInfo: TestInfo, name: string, value: number, unit: string): void {
  const text = `${value.toFixed(1)} ${unit}`;
  console.log(`[measure] ${name}: ${text}`);
  testInfo.annotations.push({ type: `measure: ${name}`, description: text });
}

/** Screenshot to e2e/artifacts/ (and docs/screenshots/ unless docs is false) as <name>-<theme>.png. */
export async function shot(page: Page, name: string, opts: { docs?: boolean } = {}): Promise<void> {
  const theme = (await page.evaluate(() => document.documentElement.dataset.theme)) ?? 'light';
  const dirs = [path.join(ROOT, 'e2e', 'artifacts')];
  // The README's screenshots are refreshed on purpose (QS_UPDATE_SCREENSHOTS=1 npm run e2e), not by
  // every test run.
  if (opts.docs !== false && process.env.QS_UPDATE_SCREENSHOTS === '1')
    dirs.push(path.join(ROOT, 'docs', 'screenshots'));
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, `${name}-${theme}.png`) });
  }
}

export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  const cur = await page.evaluate(() => document.documentElement.dataset.theme);
  if (cur !== theme) await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

/** Writes `bytes` to `file`: `head` first, zeros after it (a large upload made on disk, not in memory; the spec removes it). */
export function writeLargeFile(file: string, bytes: number, head: Buffer = Buffer.alloc(0)): string {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head);
    const zeros = Buffer.alloc(4 * 2 ** 20);
    for (let at = head.length; at < bytes; at += zeros.length)
      writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - at));
  } finally {
    closeSync(fd);
  }
  return file;
}

/**
 * The files in the shared server's upload folder: `quantscope serve` makes it in the system's
 * temporary folder, named quantscope-uploads-<its pid>-... (global-setup writes the pid).
 */
export function uploadedFiles(): string[] {
  const { pid } = JSON.parse(readFileSync(path.resolve(__dirname, 'artifacts', 'server.json'), 'utf8')) as {
    pid: number;
  };
  const dirs = readdirSync(tmpdir())
    .filter((d) => d.startsWith(`quantscope-uploads-${pid}-`))
    .map((d) => path.join(tmpdir(), d));
  expect(dirs).toHaveLength(1);
  return readdirSync(dirs[0], { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Slows the page's uploads to `bytesPerSecond` (DevTools network emulation), so one lasts a while. */
export async function throttleUploads(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
}
