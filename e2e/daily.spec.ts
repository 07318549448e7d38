/**
 * The app as a daily tool: layouts from 800 px up without overlap, the name filter's syntax, state
 * that must not go stale (another model opened, a run refused on a hidden tab), and losing the engine
 * (killed mid-run, restarted with a new token).
 */
import { test, expect, type Page } from '@playwright/test';
import { listedModels, openApp, openModelFile, setBatchSizes, waitRunEnd } from './ui.helpers';
import { startOwnServer } from './fixtures/own-server';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

type Box = { name: string; x: number; y: number; width: number; height: number };

/** Bounding boxes of the visible elements matching each test id (in page coordinates). */
async function boxes(page: Page, ids: string[]): Promise<Box[]> {
  return page.evaluate((ids) => {
    const out: Box[] = [];
    for (const id of ids)
      document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`).forEach((el, i) => {
        const r = el.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && el.offsetParent !== null)
          out.push({ name: `${id}#${i}`, x: r.x, y: r.y + scrollY, width: r.width, height: r.height });
      });
    return out;
  }, ids);
}

function overlaps(a: Box, b: Box): boolean {
  const eps = 0.5;
  return (
    a.x + a.width > b.x + eps &&
    b.x + b.width > a.x + eps &&
    a.y + a.height > b.y + eps &&
    b.y + b.height > a.y + eps
  );
}

function expectNoOverlap(list: Box[], where: string): void {
  const bad: string[] = [];
  for (let i = 0; i < list.length; i++)
    for (let j = i + 1; j < list.length; j++)
      if (overlaps(list[i], list[j])) bad.push(`${list[i].name} × ${list[j].name}`);
  expect(bad, `overlapping elements ${where}`).toEqual([]);
}

/** Nothing sticks out of the window sideways (the page itself never scrolls horizontally). */
async function expectNoPageOverflow(page: Page, where: string): Promise<void> {
  const [sw, cw] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  expect(sw, `page wider than the window ${where}`).toBeLessThanOrEqual(cw);
}

test.describe('layout without overlap', () => {
  for (const width of [800, 1024, 1280, 1920]) {
    test(`at ${width} px the cards and controls do not overlap`, async ({ page }, testInfo) => {
      await page.setViewportSize({ width, height: 900 });
      await openApp(page, testInfo);
      await openModelFile(page, 'tiny.gguf');
      await expect(page.getByTestId('tensor-row').first()).toBeVisible();
      const where = `on the model view at ${width} px`;
      expectNoOverlap(await boxes(page, ['model-info', 'quant-mix', 'tensor-table', 'run-setup']), where);
      // The select-all box is clickable (not under the batch chips), and so is Run.
      await page.getByTestId('select-all').click({ trial: true, timeout: 3000 });
      await page.getByTestId('run-setup-run').click({ trial: true, timeout: 3000 });
      // Top bar controls side by side, inside the window.
      const bar = await boxes(page, [
        'open-model',
        'tab-model',
        'tab-results',
        'tab-charts',
        'run',
        'export-report',
        'theme-toggle',
        'help-toggle',
      ]);
      expectNoOverlap(bar, `in the top bar at ${width} px`);
      for (const b of bar) expect(b.x + b.width, `${b.name} inside the window`).toBeLessThanOrEqual(width);
      await expectNoPageOverflow(page, where);

      await page.getByTestId('select-all').click();
      await page.getByTestId('timing-hot').click();
      await page.getByTestId('run-setup-run').click();
      expect(await waitRunEnd(page)).toBe('done');
      await page.getByTestId('result-row').first().click();
      const rwhere = `on the results view at ${width} px`;
      expectNoOverlap(await boxes(page, ['results-table', 'result-detail']), rwhere);
      expectNoOverlap(await boxes(page, ['detail-metrics', 'detail-timing']), rwhere);
      await expectNoPageOverflow(page, rwhere);
      // Header and rows scroll sideways together: their left edges stay aligned after a scroll.
      const table = page.getByTestId('results-table');
      await table.evaluate((el) => (el.scrollLeft = 200));
      const [head, row] = await table.evaluate((el) => [
        el.querySelector('.vhead')!.getBoundingClientRect().x,
        el.querySelector('[data-testid=result-row]')!.getBoundingClientRect().x,
      ]);
      expect(Math.abs(head - row), 'header and rows scrolled together').toBeLessThan(1);

      // The heatmap legend's tick labels stay on one line ("1e-6", not "1e-" over "6").
      await expect(page.getByTestId('heatmap-legend')).toBeVisible();
      const tickHeights = await page
        .getByTestId('heatmap-legend')
        .locator('.legend-tick')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
      for (const h of tickHeights) expect(h, 'legend tick on one line').toBeLessThan(20);

      await page.getByTestId('tab-charts').click();
      await expect(page.getByTestId('chart-bandwidth')).toBeVisible();
      // The first bar's rotated label is inside the card, not cut at its left edge.
      const [cardLeft, labelLeft] = await page.getByTestId('chart-bandwidth').evaluate((card) => {
        const lefts = [...card.querySelectorAll('.recharts-cartesian-axis-tick-value')].map(
          (t) => t.getBoundingClientRect().left,
        );
        return [card.getBoundingClientRect().left, lefts.length ? Math.min(...lefts) : NaN];
      });
      expect(labelLeft, 'every axis label (the first bar label too) inside the card').toBeGreaterThanOrEqual(
        cardLeft,
      );
      await expect(page.getByTestId('bandwidth-legend')).toContainText('Q4_K');
      expectNoOverlap(
        await boxes(page, ['chart-bandwidth', 'chart-batch-gbps', 'chart-batch-tflops', 'chart-roofline']),
        `on the charts at ${width} px`,
      );
      await expectNoPageOverflow(page, `on the charts at ${width} px`);
    });
  }
});

test('the name filter takes comma lists, substrings and the --tensors globs', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  const filter = page.getByTestId('filter-name');
  const shown = async () =>
    page.getByTestId('tensor-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
  // The placeholder's own example finds its tensors.
  const placeholder = (await filter.getAttribute('placeholder')) ?? '';
  const example = /Filter: (.*) or /.exec(placeholder)?.[1] ?? '';
  expect(example).toBe('ffn_down, attn_q');
  await filter.fill(example);
  await expect
    .poll(shown)
    .toEqual([
      'blk.0.attn_q.weight',
      'blk.0.ffn_down.weight',
      'blk.1.attn_q.weight',
      'blk.1.ffn_down.weight',
    ]);
  await filter.fill('blk.*.ffn_*');
  await expect.poll(async () => (await shown()).length).toBe(8); // gate, up, down, norm × 2 layers
  expect((await shown()).every((n) => /^blk\.\d+\.ffn_/.test(n))).toBe(true);
  await filter.fill('');
});

test('a run refused on the Results tab says why there, and results keep their model after another opens', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  // A freshly opened model has nothing selected.
  await expect(page.getByTestId('selected-count')).toHaveText('0');
  await page.getByTestId('tab-results').click();
  await page.getByTestId('run').click();
  await expect(page.getByTestId('notice')).toContainText('Select at least one');

  await page.getByTestId('tab-model').click();
  await page
    .locator('[data-testid=tensor-row][data-name="blk.0.attn_q.weight"] [data-testid=tensor-check]')
    .check();
  await page.getByTestId('timing-none').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.getByTestId('results-owner')).toContainText('tiny.gguf');
  await expect(page.getByTestId('results-owner')).toContainText('cpu:0');
  // Another model: the results still name the one they came from, and say it is not the open one.
  const other = (await listedModels(page)).find((n) => n !== 'tiny.gguf' && !/broken|bad|trunc/i.test(n));
  expect(other, 'a second model in the e2e folder').toBeTruthy();
  await openModelFile(page, other!);
  await expect(page.getByTestId('model-name')).toHaveText(other!);
  await page.getByTestId('tab-results').click();
  await expect(page.getByTestId('results-owner')).toContainText('tiny.gguf');
  await expect(page.getByTestId('results-other-model')).toBeVisible();
});

test('engine lost mid-run: interrupted at once, Run enabled; restarted with a new token: a page asks for it', async ({
  page,
}) => {
  let server = await startOwnServer();
  try {
    await page.goto(server.url);
    await page.getByTestId('open-sample').click();
    await expect(page.getByTestId('tensor-row').first()).toBeVisible();
    await page.getByTestId('select-all').click();
    await setBatchSizes(page, [1, 2, 3, 4, 5, 8, 16, 64, 512]);
    await page.getByTestId('timing-hot').click();
    await page.getByTestId('run-setup-run').click();
    await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'running', {
      timeout: 30_000,
    });
    const before = await page.getByTestId('result-row').count();
    await server.kill();
    const t0 = Date.now();
    await expect(page.getByTestId('run-progress')).toHaveAttribute('data-status', 'interrupted', {
      timeout: 5000,
    });
    const ms = Date.now() - t0;
    console.log(`[engine lost] interrupted shown ${ms} ms after the kill`);
    expect(ms).toBeLessThan(3000);
    await expect(page.getByTestId('connection-lost')).toBeVisible();
    await expect(page.getByTestId('run')).toBeEnabled();
    // Run while the engine is down: the results on screen stay.
    await page.getByTestId('run').click();
    await expect(page.getByTestId('notice')).toContainText(/did not start|connection lost/);
    expect(await page.getByTestId('result-row').count()).toBeGreaterThanOrEqual(Math.min(before, 1));

    // Restart on the same port with a new token: the page asks for it instead of failing every call.
    server = await startOwnServer({ port: server.port });
    await expect(page.getByTestId('reauth')).toBeVisible({ timeout: 10_000 });
    await page.getByTestId('reauth-input').fill(server.url);
    await page.getByTestId('reauth-go').click();
    await expect(page.getByTestId('empty-state').or(page.getByTestId('model-view')).first()).toBeVisible();
    await expect(page.getByTestId('reauth')).toHaveCount(0);

    // A page load with an old token gets a page that says what to do, not raw JSON.
    const res = await page.goto(`http://127.0.0.1:${server.port}/?token=an-old-token-000`);
    expect(res?.status()).toBe(401);
    await expect(page.locator('h1')).toHaveText('Access token needed');
    await page.locator('input[name=token]').fill(server.token);
    await page.locator('button[type=submit]').click();
    await expect(page.getByTestId('app')).toBeVisible();
  } finally {
    await server.kill();
  }
});

test('the picker names files by their path in the folder, lists links, and forgets deleted files', async ({
  page,
}) => {
  const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'qs-e2e-picker-')));
  mkdirSync(path.join(dir, 'llama', 'q4'), { recursive: true });
  const sample = path.join(__dirname, '..', 'samples', 'tiny.gguf');
  copyFileSync(sample, path.join(dir, 'llama', 'q4', 'nested.gguf'));
  copyFileSync(sample, path.join(dir, 'gone.gguf'));
  symlinkSync(path.join(dir, 'llama', 'q4', 'nested.gguf'), path.join(dir, 'link.gguf'));
  const server = await startOwnServer({ modelsDir: dir });
  try {
    await page.goto(server.url);
    const names = () =>
      page
        .getByTestId('empty-state')
        .getByTestId('model-file')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
    // the folder's files and nothing else: with --models the samples folder is not served
    await expect.poll(names).toEqual(['gone.gguf', 'link.gguf', 'llama/q4/nested.gguf']);
    rmSync(path.join(dir, 'gone.gguf'));
    await page.getByTestId('empty-state').getByTestId('refresh-files').click();
    await expect.poll(names).not.toContain('gone.gguf');
    await page.locator('[data-testid=model-file][data-name="llama/q4/nested.gguf"]').first().click();
    await expect(page.getByTestId('model-name')).toHaveText('nested.gguf');
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a custom batch size keeps its chip when switched off, until its × removes it', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('run-setup')).toBeVisible();
  await page.getByTestId('batch-custom').fill('7 33');
  await page.getByTestId('batch-custom').press('Enter');
  const chip = page.getByTestId('batch-7');
  await expect(chip).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('batch-33')).toHaveAttribute('aria-pressed', 'true');
  await chip.click();
  await expect(chip).toBeVisible();
  await expect(chip).toHaveAttribute('aria-pressed', 'false');
  await chip.click();
  await expect(chip).toHaveAttribute('aria-pressed', 'true');
  await chip.click();
  await page.getByTestId('batch-remove-7').click();
  await expect(chip).toHaveCount(0);
  await expect(page.getByTestId('batch-33')).toHaveAttribute('aria-pressed', 'true');
  // The fixed sizes have no ×.
  await expect(page.getByTestId('batch-remove-8')).toHaveCount(0);
});
