import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { createElement } from 'react';
import type { TensorResult } from '../../src-shared/contract';
import { deviceAnalysisOf, devicesFromResults } from '../../src-renderer/src/lib/devices';
import { DevicesPanel } from '../../src-renderer/src/components/DevicesPanel';

function result(
  slot: number | undefined,
  hash: string,
  status: TensorResult['status'] = 'pass',
  us = 10,
): TensorResult {
  return {
    resultId: `r:${slot}`,
    runId: 'r',
    tensor: 'blk.0.ffn_down.weight',
    type: 'Q8_0',
    n: 4,
    k: 32,
    m: 1,
    backend: 'hip',
    device: `hip:${slot ?? 0} AMD Instinct MI300X`,
    path: 'custom',
    status,
    threshold: 1e-8,
    metrics: null,
    timing: {
      protocol: 'hot',
      medianUs: us,
      minUs: us,
      maxUs: us,
      spread: 0,
      samples: 3,
      weightCopies: 1,
      gbps: 1,
      tflops: 1,
      pctPeak: null,
      pctCopy: null,
    },
    unfused: null,
    weightBytes: 136,
    gridAvailable: false,
    elapsedMs: 1,
    outputHash: hash,
    ...(slot === undefined ? {} : { slot, deviceIndex: slot }),
  };
}

describe('devices side by side', () => {
  it('derives the devices of a run from its results; a one-device run has none', () => {
    const rs = [result(1, 'a'), result(0, 'a')];
    expect(devicesFromResults(rs)).toEqual([
      { slot: 0, backend: 'hip', index: 0, name: 'AMD Instinct MI300X', arch: null, status: 'done' },
      { slot: 1, backend: 'hip', index: 1, name: 'AMD Instinct MI300X', arch: null, status: 'done' },
    ]);
    expect(deviceAnalysisOf([result(undefined, 'a')])).toBeNull();
  });

  it('shows a verdict and speed per device and names the twin that differs', () => {
    const rs = [result(0, 'a', 'pass', 10), result(1, 'b', 'pass', 12), result(2, 'a', 'fail', 11)];
    const html = renderToStaticMarkup(createElement(DevicesPanel, { results: rs }));
    expect(html).toContain('data-testid="devices-panel"');
    expect(html).toMatch(/device-row-2.*FAIL/);
    expect(html).toContain('1.200×');
    expect(html).toContain('speed spread 20.0%');
    expect(html).toMatch(/slot 1 \(index 1\) wrote <span class="mono">b<\/span>, its twins \(slots 0, 2\)/);
    expect(renderToStaticMarkup(createElement(DevicesPanel, { results: [result(undefined, 'a')] }))).toBe('');
  });

  it('a device of the saved run that produced nothing is listed with its error', () => {
    const html = renderToStaticMarkup(
      createElement(DevicesPanel, {
        results: [result(0, 'a')],
        devices: [
          { slot: 0, backend: 'hip', index: 0, name: 'AMD Instinct MI300X', arch: 'gfx942', status: 'done' },
          {
            slot: 1,
            backend: 'hip',
            index: 1,
            name: null,
            arch: null,
            status: 'failed',
            error: 'hipSetDevice failed',
          },
        ],
      }),
    );
    expect(html).toContain('ERROR: hipSetDevice failed');
  });
});
