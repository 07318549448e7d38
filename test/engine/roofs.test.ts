import { describe, it, expect } from 'vitest';
import {
  GPU_PEAKS,
  computeRoofsFor,
  cpuComputeRoofs,
  gpuComputeRoofs,
  gpuPeakRow,
  measureCpuFmaRate,
} from '../../src-main/engine/roofs';
import type { DeviceSummary } from '../../src-shared/contract';

const dev = (
  backend: DeviceSummary['backend'],
  arch: string,
  name: string,
  computeUnits = 132,
): DeviceSummary => ({
  backend,
  index: 0,
  name,
  arch,
  memoryTotal: 0,
  memoryFree: 0,
  computeUnits,
  warpSize: 32,
  peakBandwidthGBs: null,
  copyBandwidthGBs: null,
  peakTflops: null,
  details: {},
});

describe('GPU compute roof table', () => {
  it('finds the product by architecture and name', () => {
    expect(gpuPeakRow(dev('cuda', 'sm_90', 'NVIDIA H200'))?.product).toBe('NVIDIA H200 SXM');
    expect(gpuPeakRow(dev('cuda', 'sm_90', 'NVIDIA H100 80GB HBM3'))?.product).toBe('NVIDIA H100 SXM');
    expect(gpuPeakRow(dev('cuda', 'sm_90', 'NVIDIA H100 PCIe'))?.product).toBe('NVIDIA H100 PCIe');
    expect(gpuPeakRow(dev('cuda', 'sm_90', 'NVIDIA H200 NVL'))?.product).toBe('NVIDIA H100/H200 NVL');
    expect(gpuPeakRow(dev('cuda', 'sm_80', 'NVIDIA A100-SXM4-80GB'))?.product).toBe('NVIDIA A100');
    expect(gpuPeakRow(dev('hip', 'gfx942:sramecc+:xnack-', 'AMD Instinct MI300X'))?.product).toBe(
      'AMD Instinct MI300X',
    );
    expect(gpuPeakRow(dev('hip', 'gfx90a', 'AMD Instinct MI210'))?.product).toBe('AMD Instinct MI210');
    expect(gpuPeakRow(dev('hip', 'gfx1030', 'AMD Radeon RX 6900 XT'))?.product).toBe('AMD Radeon RX 6900 XT');
    // the name alone is not enough: an H100 name on another architecture is not an H100
    expect(gpuPeakRow(dev('cuda', 'sm_89', 'NVIDIA H100'))).toBeNull();
    expect(gpuPeakRow(dev('cuda', 'sm_89', 'NVIDIA GeForce RTX 4090'))).toBeNull();
  });

  it('gives dense figures per runtime device, with their source', () => {
    const h200 = gpuComputeRoofs(dev('cuda', 'sm_90', 'NVIDIA H200'))!;
    expect(h200).toMatchObject({ f32: 67, bf16: 989.5, f16: 989.5, int8: 1979 });
    expect(h200.source).toMatch(/H200 .*datasheet/);
    // an MI250X is two devices to HIP, each with half the product's rate
    const gcd = gpuComputeRoofs(dev('hip', 'gfx90a', 'AMD Instinct MI250X'))!;
    expect(gcd.f32).toBeCloseTo(47.9 / 2);
    expect(gcd.bf16).toBeCloseTo(383 / 2);
    // no matrix units: no matrix roofs
    expect(gpuComputeRoofs(dev('hip', 'gfx1030', 'AMD Radeon RX 6900 XT'))).toMatchObject({
      f32: 23.04,
      bf16: null,
      int8: null,
    });
    expect(gpuComputeRoofs(dev('hip', 'gfx1100', 'AMD Radeon RX 7900 XTX'))).toBeNull();
  });

  it('orders the rows so each device meets its own first', () => {
    for (const row of GPU_PEAKS) {
      expect(row.f32).toBeGreaterThan(0);
      expect(row.source.length).toBeGreaterThan(10);
      if (row.bf16 !== null) expect(row.bf16).toBeGreaterThan(row.f32);
      if (row.int8 !== null && row.bf16 !== null) expect(row.int8).toBeGreaterThanOrEqual(row.bf16);
    }
  });
});

describe('cpu compute roof (measured)', () => {
  it('measures a float32 multiply-add rate in a sane range, once', () => {
    const r = measureCpuFmaRate(4);
    if (!r) {
      console.log('skipped: WebAssembly SIMD is not available in this Node.js');
      return;
    }
    // one thread of any CPU of the last decade: between 0.5 and 500 GFLOP/s of float32 SIMD
    expect(r.perThreadGflops).toBeGreaterThan(0.5);
    expect(r.perThreadGflops).toBeLessThan(500);
    expect(r.tflops).toBeCloseTo((r.perThreadGflops * 4) / 1000);
    // cached: the same figure, scaled to another thread count
    const again = measureCpuFmaRate(2)!;
    expect(again.perThreadGflops).toBe(r.perThreadGflops);
    expect(again.tflops).toBeCloseTo((r.perThreadGflops * 2) / 1000);
    const roofs = cpuComputeRoofs(2)!;
    expect(roofs).toMatchObject({ f32: again.tflops, bf16: null, f16: null, int8: null });
    expect(roofs.source).toMatch(
      /^measured: float32 multiply-add loop \(WebAssembly SIMD\), [\d.]+ GFLOP\/s per thread x 2 worker threads$/,
    );
    expect(computeRoofsFor(dev('cpu', 'x64', 'cpu', 3))?.f32).toBeCloseTo((r.perThreadGflops * 3) / 1000);
  });
});
