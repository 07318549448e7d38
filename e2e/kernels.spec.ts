/**
 * Kernel work from the app, in the browser mode: a run with LLM-like outlier activations on the cpu
 * (the report names them), a check pair whose output is deliberately wrong (FAIL, the diagnosis
 * sentence and the weight map over the probed weights, zoomable to sub-blocks), and the selftest
 * panel on the cpu (progress, per format/path results, cancel).
 */
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApp, openModelFile, setBatchSizes, tensorCheck, waitRunEnd } from './ui.helpers';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'quantscope.cjs');
const TENSOR = 'blk.0.ffn_up.weight'; // Q4_K, K×N 512×1024

test('a run with outlier activations on the cpu passes and its report names them', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await tensorCheck(page, TENSOR).check();
  await setBatchSizes(page, [1, 8]);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('activations-outliers').click();
  await expect(page.getByTestId('activations-outliers')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('activations-hint')).toContainText(/twenty times larger.*seed \d+/);
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');
  await expect(page.getByTestId('result-row')).toHaveCount(2);
  await expect(page.locator('[data-testid=result-row] .status.pass')).toHaveCount(2);

  await page.getByTestId('export-format').selectOption('md');
  const dl = page.waitForEvent('download', { timeout: 30_000 });
  await page.getByTestId('export-report').click();
  const file = await dl;
  const to = testInfo.outputPath(file.suggestedFilename());
  await file.saveAs(to);
  expect(readFileSync(to, 'utf8')).toMatch(/activations gaussian with channels \d+ \\\+ 128i x20, seed \d+/);
});

test('a check pair with a wrong output: FAIL, the diagnosis sentence and the weight map', async ({
  page,
}, testInfo) => {
  // the weights as dequantized (CLI), then an identity output with elements moved within each block
  const dir = path.join(process.env.QS_E2E_MODELS ?? test.info().outputDir, `pairs-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const wPath = path.join(dir, 'w.f32');
  const dq = spawnSync(
    process.execPath,
    [CLI, 'dequant', path.join(ROOT, 'samples', 'tiny.gguf'), TENSOR, '--out', wPath, '--force'],
    {
      encoding: 'utf8',
    },
  );
  expect(dq.status, dq.stderr).toBe(0);
  const buf = readFileSync(wPath);
  const w = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const n = 1024;
  const k = 512;
  expect(w.length).toBe(n * k);
  const y = new Float32Array(k * n); // identity output: y[r][j] = weight j, element r
  for (let j = 0; j < n; j++)
    for (let r = 0; r < k; r++) {
      // the low and high halves of every 64 elements exchanged
      const src = r % 64 < 32 ? r + 32 : r - 32;
      y[r * n + j] = w[j * k + src];
    }
  const wrong = path.join(dir, 'wrong.f32');
  writeFileSync(wrong, new Uint8Array(y.buffer));

  await openApp(page, testInfo);
  await openModelFile(page, 'tiny.gguf');
  await expect(page.getByTestId('tensor-row').first()).toBeVisible();
  await page.getByTestId('tab-kernels').click();
  const panel = page.getByTestId('check-pair-panel');
  await panel.getByTestId('check-tensor').selectOption(TENSOR);
  await panel.getByTestId('check-identity').click();
  await panel.getByTestId('check-output').fill(wrong);
  await panel.getByTestId('check-run').click();
  const res = panel.getByTestId('check-result');
  await expect(res.getByTestId('detail-verdict')).toContainText(/NMSE \S+ > 1e-8/, { timeout: 60_000 });
  await expect(res.locator('.status.fail')).toBeVisible();
  const sentence = (await res.getByTestId('weight-map-sentence').textContent()) ?? '';
  expect(sentence.length).toBeGreaterThan(20);
  await expect(res.getByTestId('detail-diagnosis')).toContainText(sentence);
  await expect(res.getByTestId('detail-diagnosis')).toContainText(
    /row \d+, block \d+, sub-block \d+, position \d+/,
  );
  // the output heatmap and the weight map side by side at this width
  const heat = await res.getByTestId('heatmap').boundingBox();
  const map = res.getByTestId('weight-map');
  await expect(map.getByTestId('weight-map-region')).toContainText('rows 0–1023 of 1024', {
    timeout: 60_000,
  });
  const mapBox = await map.boundingBox();
  expect(heat && mapBox && mapBox.x >= heat.x + heat.width - 1).toBe(true);
  // the whole tensor: the block line between the two blocks of 256; a click zooms to rows around it
  const lines = map.getByTestId('weight-map-lines');
  await expect(lines).toHaveAttribute('data-blocks', '1');
  const canvas = map.getByTestId('weight-map-canvas');
  const cb = (await canvas.boundingBox())!;
  await canvas.click({ position: { x: cb.width * 0.3, y: cb.height * 0.5 } });
  await expect(map.getByTestId('weight-map-region')).not.toContainText('rows 0–1023');
  await expect(map.getByTestId('weight-map-region')).toContainText(/rows \d+–\d+ of 1024/);
  // two blocks of 256 in view at one element per cell: seven sub-block lines in each
  await expect(lines).toHaveAttribute('data-subs', '14');
  const zb = (await canvas.boundingBox())!;
  await canvas.hover({ position: { x: zb.width * 0.5, y: zb.height * 0.5 } });
  await expect(map.getByTestId('weight-map-tooltip')).toContainText(
    /block \d+ · sub-block \d+ · position \d+/,
  );
  await map.screenshot({ path: testInfo.outputPath('weight-map.png') });
});

test('the selftest panel on the cpu: progress, per format and path results, and cancel', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  await openApp(page, testInfo);
  await page.getByTestId('tab-kernels').click();
  const panel = page.getByTestId('selftest-panel');
  await expect(panel.getByTestId('selftest-backend-cpu')).toHaveAttribute('aria-checked', 'true');
  await panel.getByTestId('selftest-formats').fill('Q4_0 Q8_0');
  await panel.getByTestId('selftest-start').click();
  await expect(panel.getByTestId('selftest-status')).toHaveAttribute('data-status', 'done', {
    timeout: 180_000,
  });
  await expect(panel.getByTestId('selftest-status')).toContainText(/(\d+)\/\1 cases · \1 passed, 0 failed/);
  const rows = panel.getByTestId('selftest-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toHaveAttribute('data-result', 'pass');
  await expect(rows.first()).toContainText(/Q4_0\s*cpu-f32/);

  // every format, not quick: cancel after the first cases
  await panel.getByTestId('selftest-quick').uncheck();
  await panel.getByTestId('selftest-formats').fill('');
  await panel.getByTestId('selftest-start').click();
  await expect(panel.getByTestId('selftest-status')).toContainText(/[1-9]\d*\/\d+ cases/, {
    timeout: 60_000,
  });
  const t0 = Date.now();
  await panel.getByTestId('selftest-cancel').click();
  await expect(panel.getByTestId('selftest-status')).toHaveAttribute('data-status', 'cancelled', {
    timeout: 30_000,
  });
  testInfo.annotations.push({ type: 'measure: selftest cancel', description: `${Date.now() - t0} ms` });
  await expect(panel.getByTestId('selftest-start')).toBeEnabled();
});
