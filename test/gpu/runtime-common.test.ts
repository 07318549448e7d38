// The argument checks and device figures the CUDA and HIP runtimes share (runtime-common.ts).
import { describe, expect, it } from 'vitest';
import {
  checkAllocSize,
  checkBytes,
  checkDeviceIndex,
  checkLaunch,
  cString,
  detailsRecord,
  l2CacheBytes,
  nativePointer,
  packKernelArgs,
  peakBandwidthGBs,
  peakHalfTflops,
} from '../../src-main/engine/backends/gpu/runtime-common';

describe('GPU runtime checks', () => {
  it('refuses bad sizes, indices, launch dimensions, pointers and arguments in one line', () => {
    expect(checkBytes('bytes', 0)).toBe(0);
    expect(() => checkBytes('bytes', -1)).toThrow('bytes must be a non-negative integer, got -1');
    expect(() => checkBytes('srcOffsetBytes', 1.5)).toThrow(/srcOffsetBytes/);
    expect(() => checkAllocSize('CUDA', 0)).toThrow('CUDA malloc: invalid size 0');
    expect(checkAllocSize('HIP', 64)).toBe(64);
    expect(() => checkDeviceIndex('CUDA', -1)).toThrow('CUDA: invalid device index -1');
    expect(() => checkLaunch('CUDA', 'k', [0, 1, 1], [64, 1, 1], 0)).toThrow(
      'CUDA launch k: bad grid/block dimension 0',
    );
    expect(() => checkLaunch('HIP', 'k', [1, 1, 1], [64, 1, 1], -4)).toThrow(/sharedBytes/);
    expect(() => checkLaunch('HIP', 'k', [2 ** 31, 1, 1], [64, 1, 1], 0)).toThrow(/dimension/);
    expect(nativePointer('CUDA', 0x1000 as never)).toBe(0x1000n);
    expect(() => nativePointer('CUDA', -1 as never)).toThrow('not a CUDA device pointer: -1');
    expect(() => packKernelArgs([{ i32: 2 ** 31 }])).toThrow('kernel argument 0: 2147483648 is out of range');
    expect(() => packKernelArgs([{ u32: -1 }])).toThrow(/kernel argument 0/);
    const [p, i] = packKernelArgs([{ ptr: 0x10n as never }, { i32: -5 }]);
    expect((p as BigUint64Array)[0]).toBe(0x10n);
    expect((i as Int32Array)[0]).toBe(-5);
  });

  it('computes peak figures for NVIDIA and AMD targets alike', () => {
    expect(peakBandwidthGBs(2_619_000, 5120)).toBeCloseTo(3352.3, 1); // H100 SXM
    expect(peakBandwidthGBs(0, 5120)).toBeNull();
    // tensor cores: Hopper 4096 flops per SM per clock, Ampere 2048, Turing 1024, Pascal none
    expect(peakHalfTflops('sm_90', 132, 1_980_000)).toBeCloseTo(1070.5, 0);
    expect(peakHalfTflops('sm_80', 108, 1_410_000)).toBeCloseTo(311.9, 0);
    expect(peakHalfTflops('sm_75', 40, 1_770_000)).toBeCloseTo(72.5, 0);
    expect(peakHalfTflops('sm_61', 20, 1_500_000)).toBeNull();
    expect(peakHalfTflops('sm_100', 148, 1_965_000)).toBeCloseTo(1191.2, 0);
    expect(peakHalfTflops('gfx942', 304, 2_100_000)).toBeCloseTo(1307.4, 0);
  });

  it('reads C strings and device details', () => {
    expect(cString(new Uint8Array([0x48, 0x31, 0, 0x7a]))).toBe('H1');
    expect(cString(new Uint8Array([0x7a, 0x48, 0x31, 0]), 1)).toBe('H1');
    const d = detailsRecord({ library: 'libcuda.so.1', l2CacheBytes: '52428800', driver: undefined });
    expect(d).toEqual({ library: 'libcuda.so.1', l2CacheBytes: '52428800' });
    expect(l2CacheBytes(d)).toBe(52428800);
    expect(l2CacheBytes({})).toBeNull();
  });
});
