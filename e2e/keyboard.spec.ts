/** Keyboard use: Escape and the view shortcuts against the focus. */
import { test, expect } from './fixtures/electron';
import { openApp, openSample, progressCount, setBatchSizes, waitRunEnd } from './ui.helpers';

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
