/** Narrow windows: the top bar keeps the model name and Run / Cancel in view, and the page does not scroll sideways. */
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures/electron';
import { openApp, openModelFile, openSample, setBatchSizes, tensorCheck, waitRunEnd } from './ui.helpers';

const LONG_NAME = 'large-llama-405b-shape.gguf';

/**
 * How much of an element shows: its box clipped by the window and by every clipping ancestor, and
 * whether it is the element on top at the centre of that.
 */
function shownBox(page: Page, testId: string) {
  return page.getByTestId(testId).evaluate((el) => {
    const r = el.getBoundingClientRect();
    let [left, right, top, bottom] = [r.left, r.right, r.top, r.bottom];
    for (let p = el.parentElement; p; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
      const b = p.getBoundingClientRect();
      left = Math.max(left, b.left + p.clientLeft + parseFloat(cs.paddingLeft));
      right = Math.min(right, b.left + p.clientLeft + p.clientWidth - parseFloat(cs.paddingRight));
      top = Math.max(top, b.top);
      bottom = Math.min(bottom, b.bottom);
    }
    left = Math.max(left, 0);
    right = Math.min(right, document.documentElement.clientWidth);
    const cx = (left + right) / 2;
    const cy = (top + bottom) / 2;
    const hit = document.elementFromPoint(cx, cy);
    return {
      width: Math.max(0, right - left),
      // not clipped by the window or an ancestor, nor cut short by its own ellipsis
      whole: right - left >= r.width - 0.5 && el.scrollWidth <= el.clientWidth,
      onTop: !!hit && (hit === el || el.contains(hit)),
    };
  });
}

async function expectTopBarFits(page: Page, width: number, runId: 'run' | 'cancel-run') {
  const name = await shownBox(page, 'model-name');
  // the whole name, or enough of it to recognise (it ends in an ellipsis)
  expect(name.whole || name.width >= 60, `model name shown at ${width} px (${name.width} px)`).toBe(true);
  const run = await shownBox(page, runId);
  expect(run.whole && run.onTop, `${runId} whole and on top at ${width} px`).toBe(true);
  for (const id of ['help-toggle', 'theme-toggle', 'export-report', 'tab-kernels']) {
    const b = await shownBox(page, id);
    expect(b.whole && b.onTop, `${id} whole and on top at ${width} px`).toBe(true);
  }
  const over = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(over, `sideways scroll at ${width} px`).toBeLessThanOrEqual(0);
}

test('the top bar keeps the model name and Run / Cancel in view at 1024, 800 and 480 px', async ({
  page,
}, testInfo) => {
  await openApp(page, testInfo);
  await openSample(page);
  // Results with a failure, so the Results tab carries badges (the widest tab bar).
  await tensorCheck(page, 'blk.0.attn_q.weight').click();
  await setBatchSizes(page, [1]);
  await page.getByTestId('timing-none').click();
  await page.getByTestId('threshold').fill('1e-30');
  await page.getByTestId('run-setup-run').click();
  expect(await waitRunEnd(page)).toBe('done');

  // A running run at 480 px: Cancel stays in view.
  await page.setViewportSize({ width: 480, height: 800 });
  await page.getByTestId('tab-model').click();
  await setBatchSizes(page, [4096]);
  await page.getByTestId('run-setup-run').click();
  await expect(page.getByTestId('cancel-run')).toBeVisible();
  await expectTopBarFits(page, 480, 'cancel-run');
  await page.getByTestId('cancel-run').click();
  expect(await waitRunEnd(page)).toBe('cancelled');

  // A model with a long file name.
  await page.setViewportSize({ width: 1440, height: 900 });
  await openModelFile(page, LONG_NAME);
  await expect(page.getByTestId('model-name')).toHaveText(LONG_NAME);
  for (const width of [1024, 800, 480]) {
    await page.setViewportSize({ width, height: 800 });
    for (const view of ['model', 'results'] as const) {
      await page.getByTestId(`tab-${view}`).click();
      await expect(page.getByTestId(`pane-${view}`)).toBeVisible();
      await expectTopBarFits(page, width, 'run');
    }
  }
});
