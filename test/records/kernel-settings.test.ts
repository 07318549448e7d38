/**
 * A GPU run whose kernels were built or launched with other settings than the defaults
 * (QS_KERNEL_DEFINES, tuning, QS_MMA_I8_TILE ...) is told apart from a default run wherever its
 * figures travel: the record keeps the settings with its device, the bench and correctness reports
 * name them in the device line, and a comparison of the two runs shows them side by side, marked as
 * different. A run with the defaults says nothing extra.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRecord } from '../../src-main/engine/records/build';
import { compareRecords } from '../../src-main/engine/records/compare';
import type { RunRecord } from '../../src-main/engine/records/schema';
import { RecordStore } from '../../src-main/engine/records/store';
import { renderBenchReport } from '../../src-main/engine/report/bench-report';
import { renderComparison } from '../../src-main/engine/report/compare-report';
import { recordReport } from '../../src-main/engine/report/record-report';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-kernel-settings-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An H200 as a GPU session saves it, with the settings it ran with where there are any. */
function h200(kernelSettings?: string[]): Parameters<typeof buildRecord>[0]['device'] {
  return {
    backend: 'cuda',
    index: 0,
    name: 'NVIDIA H200',
    arch: 'sm_90',
    computeUnits: 132,
    memoryTotal: 150e9,
    copyBandwidthGBs: 4170,
    ...(kernelSettings ? { kernelSettings } : {}),
  } as Parameters<typeof buildRecord>[0]['device'];
}

function bench(kernelSettings?: string[]): RunRecord {
  return buildRecord({
    kind: 'bench',
    createdAt: new Date('2026-12-05T06:00:00Z'),
    device: h200(kernelSettings),
    model: null,
    request: {},
    status: 'done',
    results: [],
    bench: {
      shape: { n: 4096, k: 14336 },
      repeats: 20,
      protocols: ['hot'],
      paths: ['int8'],
      peer: null,
      rows: [
        {
          format: 'Q6_K',
          n: 4096,
          k: 14336,
          m: 2,
          protocol: 'hot',
          path: 'fused-small-q8',
          medianUs: kernelSettings ? 18.7 : 18.5,
          iqrUs: 0.1,
          spread: 0.01,
          samples: 20,
          gbps: 2600,
          tflops: 6.3,
          pctPeak: 54,
          pctCopy: 62,
          peerUs: null,
          check: { status: 'pass', nmse: 1e-14 },
        },
      ],
    },
  });
}

describe('kernel settings in records, reports and comparisons', () => {
  const store = new RecordStore(dir);
  const tuned = store.readFile(store.save(bench(['QS_LDHINT=0', 'QS_Q6_P8=1'])));
  const plain = store.readFile(store.save(bench()));

  it('a record keeps them with its device, and a default run has none', () => {
    expect(tuned.device?.kernelSettings).toEqual(['QS_LDHINT=0', 'QS_Q6_P8=1']);
    expect(plain.device && 'kernelSettings' in plain.device).toBe(false);
  });

  it('the bench report and the correctness report name them in the device line', () => {
    expect(renderBenchReport(tuned, 'html')).toContain('kernel settings QS_LDHINT=0, QS_Q6_P8=1');
    // (Markdown escapes the underscores)
    expect(renderBenchReport(tuned, 'md')).toContain('kernel settings QS\\_LDHINT=0, QS\\_Q6\\_P8=1');
    expect(renderBenchReport(plain, 'html')).not.toContain('kernel settings');
    const verify = (kernelSettings?: string[]) =>
      buildRecord({
        kind: 'verify',
        device: h200(kernelSettings),
        model: null,
        request: {},
        status: 'done',
        results: [],
      });
    expect(recordReport(verify(['QS_LDW=16']), 'html').content).toContain('; kernel settings QS_LDW=16)');
    expect(recordReport(verify(), 'html').content).not.toContain('kernel settings');
  });

  it('a comparison shows both side by side, marked as different, and still compares the timings', () => {
    const comparison = compareRecords(plain, tuned);
    expect(comparison.differences).toEqual([]); // another build of the kernels is what an A/B compares
    const html = renderComparison(
      { comparison, baseline: plain, candidate: tuned, createdAt: '2026-12-05T06:10:00Z' },
      'html',
    );
    const row = /<tr><th>Kernel settings<\/th>(.*?)<\/tr>/.exec(html)![1];
    expect(row).toContain('>—</td>');
    expect(row).toContain('>QS_LDHINT=0, QS_Q6_P8=1</td>');
    expect(row).toContain('diff');
  });
});
