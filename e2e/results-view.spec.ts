/**
 * The results view at work: the heatmap's drag-zoom, the table's cells, its filter and the detail pane
 * that follows the table, after runs on the sample.
 */
import { test, expect } from './fixtures/electron';
import { openApp, openSample, setBatchSizes, tensorCheck, waitRunEnd } from './ui.helpers';
import type { Page } from '@playwright/test';

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
