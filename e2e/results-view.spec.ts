/**
 * The results view at work: the heatmap's drag-zoom, the table's cells, its filter and the detail pane
 * that follows the table, after runs on the sample; the outputs and weight rows a not-comparable
 * comparison leaves out, in the heatmap and in a failure's weight map.
 */
import { test, expect } from './fixtures/electron';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openApp, openModelFile, openSample, setBatchSizes, tensorCheck, waitRunEnd } from './ui.helpers';
import type { Page } from '@playwright/test';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'quantscope.cjs');
const NONFINITE = 'nonfinite-scales.gguf';
const NC_TENSOR = 'blk.0.attn_output.weight'; // Q8_0, 512 x 512: 16 blocks of 34 bytes per weight row

/**
 * The sample with NaN or infinite block scales in three weight rows (0, 1 and 100) of NC_TENSOR, in the
 * served models folder: those rows' outputs are left out and its results are NOT COMPARABLE.
 */
function writeNonFiniteModel(): void {
  const dir = process.env.QS_E2E_MODELS;
  if (!dir) throw new Error('QS_E2E_MODELS is not set (e2e/fixtures/global-setup.ts sets it)');
  const sample = path.join(ROOT, 'samples', 'tiny.gguf');
  const info = spawnSync(process.execPath, [CLI, 'inspect', sample, '--json'], { encoding: 'utf8' });
  expect(info.status, info.stderr).toBe(0);
  const t = (JSON.parse(info.stdout) as { tensors: { name: string; offset: number }[] }).tensors.find(
    (x) => x.name === NC_TENSOR,
  )!;
  const file = path.join(dir, NONFINITE);
  copyFileSync(sample, file);
  const fd = openSync(file, 'r+');
  try {
    // the half-float scale at the start of a block: NaN (0x7e00) or +Inf (0x7c00), little-endian
    for (const [row, block, half] of [
      [0, 0, 0x7e00],
      [1, 4, 0x7e00],
      [100, 3, 0x7c00],
    ])
      writeSync(fd, Buffer.from([half & 0xff, half >> 8]), 0, 2, t.offset + row * 16 * 34 + block * 34);
  } finally {
    closeSync(fd);
  }
}

test.describe.configure({ mode: 'serial' });

/** Run `tensors` of the open model on the cpu at `sizes`, untimed; resolves on the Results tab once done. */
async function runUntimed(page: Page, tensors: string[], sizes: number[]): Promise<void> {
  await page.getByTestId('tab-model').click();
  const clear = page.getByTestId('clear-selection');
  if (await clear.isEnabled()) await clear.click();
  for (const t of tensors) await tensorCheck(page, t).click();
  await page.getByTestId('backend-cpu').click();
  await setBatchSizes(page, sizes);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('run-setup-run').click();
  await expect(page.getByTestId('results-view')).toBeVisible();
  expect(await waitRunEnd(page)).toBe('done');
}

test('a heatmap drag released beyond the canvas zooms to its edge', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  await runUntimed(page, ['blk.0.attn_q.weight'], [8]);
  await page.getByTestId('result-row').first().click();
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-draw-ms', /\d/);
  const region = page.getByTestId('heatmap-region');
  const whole = (await region.textContent()) ?? '';
  const m = /cols 0–(\d+) of (\d+) × (\d+)/.exec(whole);
  expect(m, whole).not.toBeNull();
  const lastCol = Number(m![1]);
  const box = (await canvas.boundingBox())!;
  // from the middle of the canvas to beyond its right edge and below it, released out there
  await page.mouse.move(box.x + box.width * 0.5, box.y + 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width + 120, box.y + box.height + 60, { steps: 8 });
  await page.mouse.up();
  await expect(page.getByTestId('heatmap-reset')).toBeEnabled();
  await expect(region).toContainText(new RegExp(`cols \\d+–${lastCol} of `));
  await expect(region).not.toHaveText(whole);
  // the zoom went to the right edge: its first column is about the middle
  const first = Number(/cols (\d+)–/.exec((await region.textContent()) ?? '')![1]);
  expect(first).toBeGreaterThan(lastCol * 0.4);
  expect(first).toBeLessThan(lastCol * 0.6);
});

test("a not-comparable result's heatmap marks the outputs left out and counts them apart", async ({
  page,
}, testInfo) => {
  writeNonFiniteModel();
  await openApp(page, testInfo);
  await openModelFile(page, NONFINITE);
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await runUntimed(page, [NC_TENSOR], [8]);
  const row = page.locator('[data-testid=result-row][data-status=not-comparable]');
  await expect(row).toHaveCount(1);
  await row.click();
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-draw-ms', /\d/);
  // 8 x 512 outputs in 8 x 512 cells: 3 features x 8 rows left out, and the others judged
  await expect(page.getByTestId('error-histogram-extra')).toHaveText(/^4096 cells · 24 not compared/);
  await expect(page.getByTestId('error-histogram-extra')).not.toContainText('NaN/Inf');
  await expect(page.getByTestId('heatmap-not-compared')).toBeVisible();
  // output feature 100 (weight row 100, an infinite scale): not compared, in grey
  const box = (await canvas.boundingBox())!;
  const x = ((100 + 0.5) / 512) * box.width;
  await page.mouse.move(box.x + x, box.y + box.height * 0.5);
  await expect(page.getByTestId('heatmap-tooltip')).toBeVisible();
  await expect(page.getByTestId('tip-col')).toHaveText('100');
  await expect(page.getByTestId('tip-not-compared')).toContainText('not compared');
  const rgb = await canvas.evaluate((c: HTMLCanvasElement) => [
    ...c.getContext('2d')!.getImageData(100, 3, 1, 1).data,
  ]);
  expect(rgb).toEqual([128, 128, 128, 255]);
  // a compared feature next to it has an error
  await page.mouse.move(box.x + ((102 + 0.5) / 512) * box.width, box.y + box.height * 0.5);
  await expect(page.getByTestId('tip-col')).toHaveText('102');
  await expect(page.getByTestId('tip-err')).toBeVisible();
});

test("a failure's weight map greys the weight rows whose outputs were left out, and counts them", async ({
  page,
}, testInfo) => {
  writeNonFiniteModel();
  const dir = process.env.QS_E2E_MODELS!;
  // the weights as dequantized, then an identity output with the halves of every block of 32
  // exchanged: wrong in every compared row, and the rows of non-finite scales left out
  const wPath = path.join(dir, 'nonfinite-w.f32');
  const dq = spawnSync(
    process.execPath,
    [CLI, 'dequant', path.join(dir, NONFINITE), NC_TENSOR, '--out', wPath, '--force'],
    { encoding: 'utf8' },
  );
  expect(dq.status, dq.stderr).toBe(0);
  const buf = readFileSync(wPath);
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const n = 512;
  const k = 512;
  expect(w.length).toBe(n * k);
  const y = new Float32Array(k * n); // y[r][j] = weight j, element r
  for (let j = 0; j < n; j++)
    for (let r = 0; r < k; r++) y[r * n + j] = w[j * k + (r % 32 < 16 ? r + 16 : r - 16)];
  const wrong = path.join(dir, 'nonfinite-wrong.f32');
  writeFileSync(wrong, new Uint8Array(y.buffer));

  await openApp(page, testInfo);
  await openModelFile(page, NONFINITE);
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await page.getByTestId('tab-kernels').click();
  const panel = page.getByTestId('check-pair-panel');
  await panel.getByTestId('check-tensor').selectOption(NC_TENSOR);
  await panel.getByTestId('check-identity').click();
  await panel.getByTestId('check-output').fill(wrong);
  await panel.getByTestId('check-run').click();
  const res = panel.getByTestId('check-result');
  await expect(res.locator('.status.fail')).toBeVisible({ timeout: 60_000 });
  // the diagnosis rests on the compared rows and says which were not
  await expect(res.getByTestId('detail-diagnosis')).toContainText('3 weight rows not compared');
  const map = res.getByTestId('weight-map');
  const region = map.getByTestId('weight-map-region');
  await expect(region).toContainText('rows 0–511 of 512', { timeout: 60_000 });
  // the whole tensor in cells of 3 weight rows: rows 0, 1 and 100 each share a cell with a compared row
  const count = map.getByTestId('weight-map-not-compared');
  await expect(count).toHaveText(
    '3 of 512 weight rows not compared (each in a cell with compared rows: zoom in to see it grey)',
  );
  // a click on weight row 100 zooms to the rows around it, one weight row a cell: row 100 is grey
  const canvas = map.getByTestId('weight-map-canvas');
  const cb = (await canvas.boundingBox())!;
  await canvas.click({ position: { x: cb.width * 0.3, y: cb.height * (100.5 / 512) } });
  // the zoomed grid has arrived once the count says grey (the whole tensor's region, rows 0–511,
  // would also match the region's pattern, so its text is read only after that)
  await expect(count).toHaveText('3 of 512 weight rows not compared (grey)');
  await expect(region).not.toContainText('rows 0–511 of 512');
  const [first, last] = /rows (\d+)–(\d+)/
    .exec((await region.textContent()) ?? '')!
    .slice(1)
    .map(Number);
  expect(first).toBeLessThan(100);
  expect(last).toBeGreaterThan(100);
  const at = 100 - first;
  // the canvas is painted by an effect that runs after the render showing the zoom's text: poll its pixel
  await expect
    .poll(() =>
      canvas.evaluate(
        (c: HTMLCanvasElement, row) => [...c.getContext('2d')!.getImageData(0, row, 1, 1).data],
        at,
      ),
    )
    .toEqual([128, 128, 128, 255]);
  const zb = (await canvas.boundingBox())!;
  const rows = await canvas.evaluate((c: HTMLCanvasElement) => c.height);
  await canvas.hover({ position: { x: zb.width * 0.5, y: zb.height * ((at + 0.5) / rows) } });
  const tip = map.getByTestId('weight-map-tooltip');
  await expect(tip).toContainText('row 100 ·');
  await expect(map.getByTestId('weight-map-tip-not-compared')).toContainText('not compared');
  // a compared row beside it: its error
  await canvas.hover({ position: { x: zb.width * 0.5, y: zb.height * ((at - 1.5) / rows) } });
  await expect(tip).toContainText('row 98 ·');
  await expect(tip).toContainText('relative error');
  await expect(map.getByTestId('weight-map-tip-not-compared')).toHaveCount(0);
  await map.screenshot({ path: testInfo.outputPath('weight-map-not-compared.png') });
});

test('results table cells fit their values, and the "not the open model" warning is whole', async ({
  page,
}, testInfo) => {
  writeNonFiniteModel();
  await openApp(page, testInfo);
  await openModelFile(page, NONFINITE);
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await page.getByTestId('tab-model').click();
  for (const t of [NC_TENSOR, 'blk.1.attn_output.weight']) await tensorCheck(page, t).click();
  await page.getByTestId('backend-cpu').click();
  await setBatchSizes(page, [1, 8]);
  await page.getByTestId('timing-hot').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.locator('[data-testid=result-row][data-status=not-comparable]')).toHaveCount(2);
  const overflow = await page.getByTestId('result-row').evaluateAll((rows) =>
    rows.flatMap((row) =>
      [...row.children].flatMap((c, i) => {
        const cell = c as HTMLElement;
        // ellipsis cells (tensor, path) cut long names on purpose; every other cell must fit
        if (cell.classList.contains('ellipsis')) return [];
        const r = cell.getBoundingClientRect();
        const kids = [...cell.querySelectorAll('*')].map((k) => k.getBoundingClientRect());
        const inside = kids.every((k) => k.left >= r.left - 0.5 && k.right <= r.right + 0.5);
        return cell.scrollWidth > cell.clientWidth || cell.scrollHeight > row.clientHeight || !inside
          ? [`column ${i}: "${cell.textContent}" ${cell.scrollWidth}/${cell.clientWidth} px`]
          : [];
      }),
    ),
  );
  expect(overflow).toEqual([]);
  // the Time column holds the widest time the table writes (two decimals up to 1 s) on one line
  const fits = await page.evaluate(() => {
    const cell = document.querySelector('[data-testid=result-row] > div:nth-child(8)') as HTMLElement;
    const probe = cell.cloneNode(false) as HTMLElement;
    probe.textContent = '⚠ 999.99 ms';
    cell.replaceWith(probe);
    const ok =
      probe.scrollWidth <= probe.clientWidth && probe.scrollHeight <= probe.parentElement!.clientHeight;
    probe.replaceWith(cell);
    return ok;
  });
  expect(fits).toBe(true);

  // another model open: the results header says so, in full, whatever the owner's length
  await openModelFile(page, 'tiny.gguf');
  await page.getByTestId('tab-results').click();
  const warn = page.getByTestId('results-other-model');
  await expect(warn).toHaveText('(not the open model)');
  const clipped = await warn.evaluate((el) => {
    const r = el.getBoundingClientRect();
    for (let a = el.parentElement; a && !a.classList.contains('results-card'); a = a.parentElement) {
      if (getComputedStyle(a).overflow === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (r.left < b.left - 0.5 || r.right > b.right + 0.5) return true;
    }
    return r.width === 0;
  });
  expect(clipped).toBe(false);
});

test("after a run the detail pane shows the table's first row; a filter that hides every row says so", async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  await runUntimed(page, ['blk.0.attn_q.weight', 'blk.0.ffn_down.weight', 'blk.1.attn_k.weight'], [1, 8]);
  const rows = page.getByTestId('result-row');
  await expect(rows).toHaveCount(6);
  const detail = page.getByTestId('result-detail');
  const firstRowId = async () => (await rows.first().getAttribute('data-result-id')) ?? '';
  // the worst result, first in the table, highlighted: whatever arrived first
  await expect(detail).toHaveAttribute('data-result-id', await firstRowId());
  await expect(rows.first()).toHaveAttribute('aria-selected', 'true');
  // nothing chosen: a new sort order brings its own first row
  await page.getByTestId('result-sort-nmse').click();
  await page.getByTestId('result-sort-nmse').click();
  await expect(page.getByTestId('result-sort-nmse')).toHaveAttribute('aria-sort', 'ascending');
  await expect(detail).toHaveAttribute('data-result-id', await firstRowId());

  // a row chosen, then a filter that shows nothing (the sample has no failure): the table says so and
  // the pane shows no hidden result
  const chosen = (await rows.nth(2).getAttribute('data-result-id')) ?? '';
  await rows.nth(2).click();
  await expect(detail).toHaveAttribute('data-result-id', chosen);
  await page.getByTestId('results-filter-fail').click();
  await expect(rows).toHaveCount(0);
  await expect(page.getByTestId('results-none-match')).toHaveText('No result matches the filter.');
  await expect(detail).toHaveCount(0);
  await expect(page.getByTestId('result-detail-empty')).toContainText('No result matches the filter');
  // all again: the chosen row is back in the pane
  await page.getByTestId('results-filter-all').click();
  await expect(detail).toHaveAttribute('data-result-id', chosen);
  await expect(page.getByTestId('results-none-match')).toHaveCount(0);
});

test('another model opens scrolled to its top, and the Check-a-pair verdict of the last one is gone', async ({
  page,
}, testInfo) => {
  const dir = process.env.QS_E2E_MODELS!;
  // a second model with a long tensor table (the Llama 3 8B shapes, header only)
  const other = 'scroll-llama-shape.gguf';
  const made = spawnSync(
    process.execPath,
    [
      CLI,
      'make-model',
      '--preset',
      'llama-3-8b',
      '--fill',
      'sparse',
      '--force',
      '--out',
      path.join(dir, other),
    ],
    { encoding: 'utf8' },
  );
  expect(made.status, made.stderr).toBe(0);
  // a pair for the sample's blk.0.attn_q.weight (k = n = 512): one zero row in, zeros out (a PASS)
  writeFileSync(path.join(dir, 'pair-x.f32'), new Uint8Array(512 * 4));
  writeFileSync(path.join(dir, 'pair-y.f32'), new Uint8Array(512 * 4));

  await openApp(page, testInfo);
  await openModelFile(page, 'large-llama-405b-shape.gguf');
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await page.getByTestId('toggle-metadata').click();
  const info = page.getByTestId('model-info');
  const table = page.getByTestId('tensor-scroll');
  await info.evaluate((el) => (el.scrollTop = 150));
  await table.evaluate((el) => (el.scrollTop = 3000));
  await expect.poll(() => table.evaluate((el) => el.scrollTop)).toBeGreaterThan(2000);
  expect(await info.evaluate((el) => el.scrollTop)).toBeGreaterThan(100);

  await openModelFile(page, other);
  await expect(page.getByTestId('model-name')).toHaveText(other);
  await expect(page.locator('[data-testid=tensor-row][data-name="token_embd.weight"]')).toBeVisible();
  expect(await table.evaluate((el) => el.scrollTop)).toBe(0);
  expect(await info.evaluate((el) => el.scrollTop)).toBe(0);

  // Kernels › Check a pair on the sample, then another model: its verdict does not stay
  await openModelFile(page, 'tiny.gguf');
  await page.getByTestId('tab-kernels').click();
  const panel = page.getByTestId('check-pair-panel');
  await panel.getByTestId('check-tensor').selectOption('blk.0.attn_q.weight');
  await panel.getByTestId('check-input-file').click();
  await panel.getByTestId('check-input').fill(path.join(dir, 'pair-x.f32'));
  await panel.getByTestId('check-m').fill('1');
  await panel.getByTestId('check-output').fill(path.join(dir, 'pair-y.f32'));
  await panel.getByTestId('check-run').click();
  await expect(panel.getByTestId('check-result').getByTestId('detail-verdict')).toContainText(
    'NMSE 0 ≤ 1e-8',
  );
  await openModelFile(page, other);
  await page.getByTestId('tab-kernels').click();
  await expect(panel.getByTestId('check-tensor')).toBeVisible();
  await expect(panel.getByTestId('check-result')).toHaveCount(0);
});
