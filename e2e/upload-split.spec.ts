/**
 * Uploading a split model in the browser: all its files chosen in the file input (or dropped on the
 * window) go to the server as one set and open as one model; a choice that is not one complete split
 * model is refused before anything is sent, and a set the server refuses or the user cancels leaves
 * nothing behind, with the model that was open still open.
 */
import { test, expect, type Page } from '@playwright/test';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openApp, openModelFile, throttleUploads, uploadedFiles, writeLargeFile } from './ui.helpers';

/** The e2e models folder's split model (e2e/fixtures/make-fixtures.ts), its files renamed for the upload. */
function splitParts(prefix: string) {
  const models = process.env.QS_E2E_MODELS;
  if (!models) throw new Error('QS_E2E_MODELS is not set: run the specs through e2e/run.mjs');
  return [1, 2, 3].map((i) => ({
    name: `${prefix}-0000${i}-of-00003.gguf`,
    mimeType: 'application/octet-stream',
    buffer: readFileSync(path.join(models, 'split', `tiny-split-0000${i}-of-00003.gguf`)),
  }));
}

/** The picker's body: inline on the empty state, else in the dialog. */
async function pickerScope(page: Page) {
  const empty = page.getByTestId('empty-state');
  if (await empty.isVisible()) return empty;
  await page.getByTestId('open-model').click();
  return page.getByTestId('model-picker');
}

/** Counts the upload requests the page sends. */
function countUploads(page: Page): { count: number } {
  const seen = { count: 0 };
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/upload') seen.count++;
  });
  return seen;
}

test.beforeEach(({ page: _page }, testInfo) => {
  test.skip(testInfo.project.name === 'electron', 'uploads are the browser mode’s');
});

test('all the files of a split model chosen together upload and open as one model', async ({
  page,
}, testInfo) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const uploads = countUploads(page);
  await openApp(page, testInfo);
  const scope = await pickerScope(page);
  // chosen in any order
  const [a, b, c] = splitParts('picked-split');
  await scope.getByTestId('upload-input').setInputFiles([c, a, b]);
  await expect(page.getByTestId('model-name')).toHaveText('picked-split-00001-of-00003.gguf');
  await expect(page.getByTestId('model-files')).toHaveText('and 2 more files (split model)');
  await expect(page.locator('[data-testid=tensor-row][data-name="output.weight"]')).toBeVisible();
  expect(uploads.count).toBe(3);
  // listed once, as an upload of three files
  const again = await pickerScope(page);
  await expect(
    again.locator('[data-testid=model-file][data-name="picked-split-00001-of-00003.gguf"]'),
  ).toContainText('(3 files)');
  await expect(
    again.locator('[data-testid=model-file][data-name="picked-split-00002-of-00003.gguf"]'),
  ).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});

test('the files of a split model dropped on the window upload and open as one model', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  const parts = splitParts('dropped-split').map((p) => ({ name: p.name, b64: p.buffer.toString('base64') }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files)
      dt.items.add(new File([Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0))], f.name));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, parts);
  await expect(page.getByTestId('model-name')).toHaveText('dropped-split-00001-of-00003.gguf');
  await expect(page.getByTestId('model-files')).toHaveText('and 2 more files (split model)');
});

test('a split model with a file missing is refused before anything is sent, and the open model stays', async ({
  page,
}, testInfo) => {
  const uploads = countUploads(page);
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  const scope = await pickerScope(page);
  const [a, , c] = splitParts('gap-split');
  await scope.getByTestId('upload-input').setInputFiles([a, c]);
  await expect(scope.getByTestId('open-error')).toHaveText(
    'gap-split-00001-of-00003.gguf is a split model of 3 files, but file 2 (gap-split-00002-of-00003.gguf) is missing: upload all 3 files together',
  );
  expect(uploads.count).toBe(0);
  await scope.getByTestId('picker-close').click();
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
});

test('a split model the server refuses shows its reason, leaves no file, and the open model stays', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  const scope = await pickerScope(page);
  // the second file's bytes under the third's name: the names make a set, the files not one model
  const [a, b, c] = splitParts('bad-split');
  await scope.getByTestId('upload-input').setInputFiles([a, b, { ...c, buffer: b.buffer }]);
  await expect(scope.getByTestId('open-error')).toHaveText(
    "cannot open bad-split-00001-of-00003.gguf: bad-split-00003-of-00003.gguf: its split keys (file 2 of 3) do not make it file 3 of 3 of bad-split-00001-of-00003.gguf's model",
  );
  await expect(scope.getByTestId('uploading')).toHaveCount(0);
  // none of its files is offered: the server removed them all
  await scope.getByTestId('refresh-files').click();
  await expect(scope.getByTestId('model-file').first()).toBeVisible();
  await expect(scope.locator('[data-testid=model-file][data-name^="bad-split-"]')).toHaveCount(0);
  await scope.getByTestId('picker-close').click();
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
});

test('Cancel during a split model’s upload sends none of its other files and leaves none on the server', async ({
  page,
}, testInfo) => {
  const methods: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/upload') methods.push(r.method());
  });
  const before = uploadedFiles();
  // two files of 48 MiB at 8 MiB/s: the first alone takes six seconds
  const files = [1, 2].map((i) =>
    writeLargeFile(testInfo.outputPath(`stop-split-0000${i}-of-00002.gguf`), 48 * 2 ** 20),
  );
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  await throttleUploads(page, 8 * 2 ** 20);
  const scope = await pickerScope(page);
  await scope.getByTestId('upload-input').setInputFiles(files);
  await expect(scope.getByTestId('uploading')).toHaveText(
    /^Uploading 2 files of stop-split-00001-of-00002\.gguf: [\d.]+ MiB of 96\.0 MiB/,
  );
  await expect.poll(() => uploadedFiles().length).toBe(before.length + 1);
  await scope.getByTestId('upload-cancel').click();
  await expect(page.getByTestId('notice').locator('span')).toHaveText('Upload cancelled');
  await expect(scope.getByTestId('upload-progress')).toHaveCount(0);
  await expect.poll(() => uploadedFiles()).toEqual(before);
  // the first file's request, then the end of its set: the second file never went
  expect(methods).toEqual(['PUT', 'DELETE']);
  await scope.getByTestId('picker-close').click();
  await expect(page.getByTestId('model-name')).toHaveText('tiny.gguf');
  for (const f of files) rmSync(f);
});
