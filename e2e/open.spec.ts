/**
 * Opening models that are not in the list: uploading a local file in the browser (streamed to the
 * server, parsed there, run on the cpu, its roofline drawn with the cpu's measured compute roof), a
 * malformed upload, and the path field's completion under the served folders.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  openApp,
  openModelFile,
  setBatchSizes,
  throttleUploads,
  uploadedFiles,
  waitRunEnd,
  writeLargeFile,
} from './ui.helpers';

const SAMPLE = readFileSync(path.resolve(__dirname, '..', 'samples', 'tiny.gguf'));

/** The picker's body: inline on the empty state, else in the dialog. */
async function pickerScope(page: Page) {
  const empty = page.getByTestId('empty-state');
  if (await empty.isVisible()) return empty;
  await page.getByTestId('open-model').click();
  return page.getByTestId('model-picker');
}

test('upload the sample through the file input and run it on cpu', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page, testInfo);
  const scope = await pickerScope(page);
  await expect(scope.getByTestId('upload-button')).toBeVisible();
  await scope.getByTestId('upload-input').setInputFiles({
    name: 'uploaded-sample.gguf',
    mimeType: 'application/octet-stream',
    buffer: SAMPLE,
  });
  await expect(page.getByTestId('model-name')).toHaveText('uploaded-sample.gguf');
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();

  // run a few tensors on the cpu, timed
  await page.getByTestId('backend-cpu').click();
  await page.getByTestId('filter-name').fill('attn_q');
  await page.getByTestId('select-all-filtered').click();
  await setBatchSizes(page, [1, 8]);
  await page.getByTestId('timing-hot').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.getByTestId('results-owner')).toContainText('uploaded-sample.gguf');

  // the roofline draws the cpu's measured float32 roof, labelled
  await page.getByTestId('tab-charts').click();
  const roofline = page.getByTestId('chart-roofline');
  await expect(roofline).toContainText(/float32 FMA roof [\d.]+ TFLOP\/s/);
  await expect(roofline).toContainText(/compute roofs: measured: float32 multiply-add loop/);
  // the line itself, named by its label (a flat roof has no height, so it is checked by its path)
  await expect(roofline.locator('path.recharts-line-curve[name^="float32 FMA roof"]')).toHaveAttribute(
    'd',
    /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){10,}/,
  );

  await roofline.screenshot({ path: testInfo.outputPath('roofline.png') });

  // the upload is listed as such for opening again
  const again = await (async () => {
    await page.getByTestId('open-model').click();
    return page.getByTestId('model-picker');
  })();
  await expect(again.locator('[data-testid=model-file][data-name="uploaded-sample.gguf"]')).toBeVisible();
  expect(pageErrors).toEqual([]);
});

test('an upload shows its bytes, percent and progress bar while it goes, then opens', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'uploads are the browser mode’s');
  // the sample with zeros after it (it still opens): 64 MiB at 16 MiB/s, about 4 s
  const file = writeLargeFile(testInfo.outputPath('padded-upload.gguf'), 64 * 2 ** 20, SAMPLE);
  await openApp(page, testInfo);
  await throttleUploads(page, 16 * 2 ** 20);
  const scope = await pickerScope(page);
  await scope.getByTestId('upload-input').setInputFiles(file);
  const bar = scope.getByRole('progressbar', { name: 'Upload progress' });
  await expect(bar).toBeVisible();
  await expect(scope.getByTestId('uploading')).toHaveText(
    /^Uploading padded-upload\.gguf: [\d.]+ MiB of 64\.0 MiB \(\d+%\)/,
  );
  expect(Number(await bar.getAttribute('max'))).toBe(64 * 2 ** 20);
  await expect.poll(async () => Number(await bar.getAttribute('value'))).toBeGreaterThan(0);
  await expect(scope.getByTestId('upload-cancel')).toBeEnabled();
  // after a few seconds: the rate and the time left
  await expect(scope.getByTestId('uploading')).toHaveText(/ MiB\/s, about [\d\w ]+ left$/, {
    timeout: 10_000,
  });
  await expect(page.getByTestId('model-name')).toHaveText('padded-upload.gguf', { timeout: 30_000 });
  await expect(page.getByTestId('upload-progress')).toHaveCount(0);
  rmSync(file);
});

test('Cancel stops a large upload: the server keeps nothing, the open model stays, the app goes on', async ({
  page,
}, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'uploads are the browser mode’s');
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const before = uploadedFiles();
  // 256 MiB at 8 MiB/s: half a minute, ample time to cancel
  const file = writeLargeFile(testInfo.outputPath('cancel-me.gguf'), 256 * 2 ** 20);
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  await throttleUploads(page, 8 * 2 ** 20);
  const scope = await pickerScope(page);
  await scope.getByTestId('upload-input').setInputFiles(file);
  await expect(scope.getByTestId('uploading')).toHaveText(
    /^Uploading cancel-me\.gguf: [\d.]+ MiB of 256 MiB/,
  );
  // the server is receiving it
  await expect.poll(() => uploadedFiles().length).toBe(before.length + 1);
  // with the picker closed the upload goes on, its percent in the top bar; a click on it brings the
  // picker back, with the upload's line and Cancel
  await expect(page.getByTestId('upload-indicator')).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('model-picker')).toHaveCount(0);
  const indicator = page.getByTestId('upload-indicator');
  await expect(indicator).toHaveText(/^Uploading \d+%$/);
  await expect(indicator).toHaveAttribute(
    'title',
    /^Uploading cancel-me\.gguf: .*open the model picker to cancel it/,
  );
  await indicator.click();
  await expect(page.getByTestId('model-picker')).toBeVisible();
  await expect(indicator).toHaveCount(0);
  await expect(scope.getByTestId('uploading')).toHaveText(/^Uploading cancel-me\.gguf/);
  await scope.getByTestId('upload-cancel').click();
  await expect(page.getByTestId('notice').locator('span')).toHaveText('Upload cancelled');
  await expect(page.getByTestId('notice')).toHaveClass(/\binfo\b/);
  await expect(scope.getByTestId('upload-progress')).toHaveCount(0);
  await expect(scope.getByTestId('open-error')).toHaveCount(0);
  // the focus stays in the dialog, on Upload…, usable again
  await expect(scope.getByTestId('upload-button')).toBeFocused();
  await expect(scope.getByTestId('upload-button')).toBeEnabled();
  // the server removed the partial file
  await expect.poll(() => uploadedFiles().length).toBe(before.length);
  expect(uploadedFiles()).toEqual(before);
  // the model that was open stays open, and the app goes on: Escape closes the dialog, a model opens
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('model-picker')).toHaveCount(0);
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  await page.getByTestId('open-model').click();
  await expect(
    page.getByTestId('model-picker').locator('[data-testid=model-file][data-name="cancel-me.gguf"]'),
  ).toHaveCount(0);
  await page.getByTestId('picker-close').click();
  expect(pageErrors).toEqual([]);
  rmSync(file);
});

test('a malformed upload shows the parse error and the app keeps working', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  const scope = await pickerScope(page);
  await scope.getByTestId('upload-input').setInputFiles({
    name: 'bad-upload.gguf',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff', 'latin1'),
  });
  await expect(page.getByTestId('open-error')).toContainText(/cannot open bad-upload\.gguf: /);
  // still usable: the sample opens from the same picker
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  // the malformed file was removed, so it is not offered
  await page.getByTestId('open-model').click();
  await expect(page.getByTestId('model-file').first()).toBeVisible();
  await expect(page.locator('[data-testid=model-file][data-name="bad-upload.gguf"]')).toHaveCount(0);
});

test('the path field completes under the served folders and opens a file', async ({ page }, testInfo) => {
  await openApp(page, testInfo);
  const scope = await pickerScope(page);
  const input = scope.getByTestId('path-input');
  await input.focus();
  // an empty field offers the folders themselves
  const roots = scope.locator('[data-testid=path-completion][data-kind=folder]');
  await expect(roots.first()).toBeVisible();
  const folders = await roots.evaluateAll((els) => els.map((e) => e.getAttribute('title') ?? ''));
  const models = folders.find((f) => /e2e-run-/.test(f)) ?? folders[0];
  await input.fill(`${models}tin`);
  const tiny = scope.locator('[data-testid=path-completion][data-kind=file]');
  await expect(tiny).toHaveCount(1);
  await expect(tiny).toHaveAttribute('data-name', /\/tiny\.gguf$/);
  await input.press('Tab');
  await expect(input).toHaveValue(`${models}tiny.gguf`);
  await input.press('Enter');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');

  // outside the folders: one refusal, whether the path exists or not
  await page.getByTestId('open-model').click();
  const dialog = page.getByTestId('model-picker');
  const field = dialog.getByTestId('path-input');
  await field.fill('/etc/');
  await expect(dialog.getByTestId('path-error')).toHaveText(
    '/etc/ is outside the model folders this server may open',
  );
  await field.fill('/no-such-folder-here/');
  await expect(dialog.getByTestId('path-error')).toHaveText(
    '/no-such-folder-here/ is outside the model folders this server may open',
  );
});

test('the picker controls do not overlap from 800 px to 1920 px', async ({ page }, testInfo) => {
  for (const width of [800, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    await openApp(page, testInfo);
    const scope = await pickerScope(page);
    const ids = ['refresh-files', 'upload-button', 'path-input', 'path-open', 'model-file-list'];
    const boxes = [];
    for (const id of ids) {
      const b = await scope.getByTestId(id).boundingBox();
      expect(b, `${id} shown at ${width} px`).not.toBeNull();
      boxes.push({ id, ...b! });
      expect(b!.x + b!.width, `${id} inside the window at ${width} px`).toBeLessThanOrEqual(width);
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const hit =
          a.x + a.width > b.x + 0.5 &&
          b.x + b.width > a.x + 0.5 &&
          a.y + a.height > b.y + 0.5 &&
          b.y + b.height > a.y + 0.5;
        expect(hit, `${a.id} overlaps ${b.id} at ${width} px`).toBe(false);
      }
  }
});

test('a split model opens whole from the list and runs tensors from its first and last files', async ({
  page,
}, testInfo) => {
  test.setTimeout(120_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await openApp(page, testInfo);
  const scope = await pickerScope(page);
  // listed once, by its first file, with its count of files
  const item = scope.locator('[data-testid=model-file][data-name="split/tiny-split-00001-of-00003.gguf"]');
  await expect(item).toContainText('(3 files)');
  await expect(
    scope.locator('[data-testid=model-file][data-name="split/tiny-split-00002-of-00003.gguf"]'),
  ).toHaveCount(0);
  await item.click();
  await expect(page.getByTestId('model-name')).toHaveText('tiny-split-00001-of-00003.gguf');
  await expect(page.getByTestId('model-files')).toHaveText('and 2 more files (split model)');
  // token_embd.weight is in the first file, output.weight in the last
  await page.getByTestId('backend-cpu').click();
  for (const name of ['token_embd.weight', 'output.weight'])
    await page.locator(`[data-testid=tensor-row][data-name="${name}"] [data-testid=tensor-check]`).check();
  await setBatchSizes(page, [1]);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.getByTestId('results-counts')).toContainText('2 pass');
  expect(pageErrors).toEqual([]);
});
