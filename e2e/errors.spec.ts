/** A malformed file shows an actionable error where it was opened, and the app keeps working. */
import { test, expect } from './fixtures/electron';
import { listedModels, openApp, openModelFile, openSample, shot } from './ui.helpers';

test('opening a malformed GGUF shows the error; the sample still opens afterwards', async ({
  page,
}, testInfo) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page, testInfo);
  const names = await listedModels(page);
  const broken = names.find((n) => /broken|malformed|bad/i.test(n));
  expect(broken, `a malformed model among ${names.join(', ')}`).toBeTruthy();

  await openModelFile(page, broken!);
  const err = page.getByTestId('open-error');
  await expect(err).toBeVisible();
  await expect(err).toContainText(broken!);
  const text = (await err.textContent()) ?? '';
  expect(text.length).toBeGreaterThan(broken!.length + 10);
  expect(text).not.toMatch(/\n|at .*\(.*:\d+:\d+\)/); // one line, no stack
  await shot(page, 'open-error');
  await expect(page.getByTestId('error-boundary')).toHaveCount(0);

  // The app keeps working: open the sample.
  if (await page.getByTestId('model-picker').isVisible()) await page.getByTestId('picker-close').click();
  await openSample(page);
  await expect(page.getByTestId('model-name')).toBeVisible();

  // And the malformed file again from the picker (Ctrl+O): the error shows in the picker, the model stays.
  await page.keyboard.press('Control+o');
  await expect(page.getByTestId('model-picker')).toBeVisible();
  await page
    .getByTestId('model-picker')
    .locator(`[data-testid=model-file][data-name="${broken}"]`)
    .first()
    .click();
  await expect(page.getByTestId('model-picker').getByTestId('open-error')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('model-picker')).toBeHidden();
  await expect(page.getByTestId('model-view')).toBeVisible();
  expect(pageErrors).toEqual([]);
});
