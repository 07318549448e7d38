import { describe, it, expect } from 'vitest';
import { peakFor, roofKindOf, roofLines, withRunCopyBandwidth } from '../../src-renderer/src/lib/roofs';
import type { DeviceSummary, TensorResult, TimingSummary } from '../../src-shared/contract';

const device = (over: Partial<DeviceSummary> = {}): DeviceSummary => ({
  backend: 'cuda',
  index: 0,
  name: 'NVIDIA H200',
  arch: 'sm_90',
  memoryTotal: 0,
  memoryFree: 0,
  computeUnits: 132,
  warpSize: 32,
  peakBandwidthGBs: 4800,
  copyBandwidthGBs: 4000,
  peakTflops: 500,
  details: {},
  computeRoofs: { f32: 67, bf16: 989.5, f16: 989.5, int8: 1979, source: 'datasheet' },
  ...over,
});
const timing = { medianUs: 10 } as unknown as TimingSummary;
const result = (arithmetic: string | undefined, path: TensorResult['path'], timed = true) =>
  ({ arithmetic, path, timing: timed ? timing : null }) as Pick<
    TensorResult,
    'arithmetic' | 'path' | 'timing'
  >;

describe('roofline roofs', () => {
  it('takes the roof kind from the declared arithmetic, then the path', () => {
    expect(roofKindOf(result('f32', 'cpu-f32'))).toBe('f32');
    expect(roofKindOf(result('bf16', 'fused-mma-f16'))).toBe('bf16');
    expect(roofKindOf(result('qs8-mma', 'fused-mma-i8'))).toBe('int8');
    // 8-bit activations on the vector units (dp4a): no tabulated peak
    expect(roofKindOf(result('qs8', 'fused-small-q8'))).toBeNull();
    expect(roofKindOf(result(undefined, 'fused-tiled-f32'))).toBe('f32');
    expect(roofKindOf(result(undefined, 'fused-mma-i8'))).toBe('int8');
    expect(roofKindOf(result(undefined, 'custom'))).toBeNull();
  });

  it('draws the float32 roof for float32 results, capped at the peak, with its label', () => {
    const lines = roofLines([result('f32', 'fused-small-f32')], device(), 4000, 1, 8);
    expect(lines.map((l) => l.label)).toEqual(['float32 FMA roof 67.0 TFLOP/s']);
    const roof = lines[0].data;
    expect(Math.max(...roof.map((p) => p.roof))).toBeCloseTo(67);
    // the slanted part is bandwidth x intensity
    expect(roof[0].roof).toBeCloseTo((4000 * roof[0].ai) / 1000);
    // the grid reaches past the ridge point (67 TFLOP/s / 4 TB/s = 16.75 FLOP/B) to show the flat part
    expect(roof[roof.length - 1].ai).toBeGreaterThan(16.75);
  });

  it('draws one roof per kind of arithmetic among the timed results', () => {
    const lines = roofLines(
      [
        result('f32', 'fused-small-f32'),
        result('qs8-mma', 'fused-mma-i8'),
        result('bf16', 'fused-mma-f16', false),
      ],
      device(),
      4000,
      1,
      500,
    );
    expect(lines.map((l) => [l.kind, l.label])).toEqual([
      ['f32', 'float32 FMA roof 67.0 TFLOP/s'],
      ['int8', 'int8 matrix roof 1979 TOP/s'],
    ]);
  });

  it('measured cpu roof; memory roof alone where no peak is known; none without bandwidth', () => {
    const cpu = device({
      backend: 'cpu',
      peakTflops: null,
      computeRoofs: { f32: 0.07, bf16: null, f16: null, int8: null, source: 'measured' },
    });
    expect(roofLines([result('f32', 'cpu-f32')], cpu, 20, 1, 8)[0].label).toBe(
      'float32 FMA roof 0.070 TFLOP/s',
    );
    const unknown = device({ computeRoofs: null, peakTflops: null });
    expect(roofLines([result('f32', 'fused-small-f32')], unknown, 4000, 1, 8).map((l) => l.label)).toEqual([
      'memory roof',
    ]);
    expect(roofLines([result('f32', 'fused-small-f32')], device(), null, 1, 8)).toEqual([]);
    // the 16-bit matrix estimate from the clock stands in where the table has no row
    expect(peakFor(device({ computeRoofs: null }), 'bf16')).toBe(500);
    expect(peakFor(device({ computeRoofs: null }), 'f32')).toBeNull();
  });

  it('takes the copy bandwidth the run measured where the device list has none yet', () => {
    const cpu = device({ backend: 'cpu', copyBandwidthGBs: null });
    const timed = { timing: { gbps: 5, pctCopy: 25 } as TimingSummary };
    expect(withRunCopyBandwidth(cpu, [{ timing: null }, timed])?.copyBandwidthGBs).toBe(20);
    expect(withRunCopyBandwidth(device({ copyBandwidthGBs: 7 }), [timed])?.copyBandwidthGBs).toBe(7);
    expect(withRunCopyBandwidth(cpu, [{ timing: null }])?.copyBandwidthGBs).toBeNull();
  });
});
