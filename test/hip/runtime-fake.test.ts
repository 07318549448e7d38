// HipRuntime and the HIP backend against a fake libamdhip64 (test/hip/fixtures/fake_hip.c, built
// here with gcc): one "gfx90a" device whose memory is host memory. No AMD GPU is available to the
// project, so this is how the call sequence HipRuntime makes (argument order, out parameters,
// pointer offsets, kernel-parameter marshalling, events, cleanup) is checked end to end. What it
// cannot check is the real runtime's behaviour; that needs ROCm hardware.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHiprtc } from '../../native/hiprtc';
import { createGpuBackend } from '../../src-main/engine/backends/gpu/backend';
import { HipRuntime } from '../../src-main/engine/backends/gpu/hip-runtime';
import { GpuError } from '../../src-main/engine/backends/gpu/runtime';
import { q8Geometry } from '../kernels/q8-geometry';

let hiprtcPresent = false;
try {
  loadHiprtc();
  hiprtcPresent = true;
} catch (e) {
  console.log(`[hip] fake-runtime kernel run skipped: ${(e as Error).message}`);
}

const FIXTURE = fileURLToPath(new URL('./fixtures/fake_hip.c', import.meta.url));
let gcc = true;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  gcc = false;
  console.log('[hip] fake-runtime tests skipped: gcc not found (needed to build the fake libamdhip64)');
}

const dir = mkdtempSync(path.join(tmpdir(), 'qs-fake-hip-'));
const so = path.join(dir, 'libfakehip_r0600.so');
const so5 = path.join(dir, 'libfakehip_r0000.so');
let fake: {
  outstanding: (what: number) => number;
  launches: () => number;
  setFree: (bytes: number) => void;
  lastLaunch: (out: Uint32Array) => void;
};

beforeAll(() => {
  if (!gcc) return;
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', FIXTURE, '-o', so]);
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-DFAKE_R0000', FIXTURE, '-o', so5]);
  // the same file koffi/dlopen hands HipRuntime, so the same static state
  const lib = koffi.load(so);
  fake = {
    outstanding: lib.func('int fake_outstanding(int what)'),
    launches: lib.func('int fake_launches()'),
    setFree: lib.func('void fake_set_free(size_t bytes)'),
    lastLaunch: lib.func('void fake_last_launch(_Out_ uint32_t *out)'),
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// an ELF header is all the fake's hipModuleLoadData checks
const IMAGE = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0x40, ...new Array(56).fill(0)]);

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe.skipIf(!gcc)('HipRuntime over a fake libamdhip64', () => {
  it('reports device facts from attributes and hipDeviceProp_tR0600.gcnArchName', () => {
    const rt = new HipRuntime({ hipLibrary: [so] });
    expect(rt.deviceCount()).toBe(1);
    const d = rt.deviceInfo(0);
    expect(d).toMatchObject({
      backend: 'hip',
      index: 0,
      name: 'Fake AMD Instinct MI210',
      arch: 'gfx90a',
      memoryTotal: 64 * 2 ** 30,
      memoryFree: 60 * 2 ** 30,
      computeUnits: 104,
      warpSize: 64,
      copyBandwidthGBs: null,
    });
    expect(d.peakBandwidthGBs).toBeCloseTo(1638.4, 6);
    // 104 CUs x 1.7 GHz x 1024 = 181 TF, MI210's published FP16 matrix peak
    expect(d.peakTflops).toBeCloseTo(181.0, 0);
    expect(d.details).toMatchObject({
      gcnArchName: 'gfx90a:sramecc+:xnack-',
      pciBusId: '0000:c1:00.0',
      runtimeVersion: '6.2.41134',
      memoryClockMHz: '1600',
      memoryBusWidthBits: '4096',
    });
    expect(() => rt.deviceInfo(1)).toThrow(GpuError);
    rt.dispose();
  });

  it('reads gcnArchName from the ROCm 5 layout through plain hipGetDeviceProperties', () => {
    const rt = new HipRuntime({ hipLibrary: [so5] });
    const d = rt.deviceInfo(0);
    expect(d.arch).toBe('gfx1030');
    expect(d.details.gcnArchName).toBe('gfx1030');
    expect(d.name).toBe('Fake AMD Instinct MI210'); // from hipDeviceGetName, not the struct
    rt.dispose();
  });

  it('copies with offsets, sets memory, launches with marshalled arguments, times, and cleans up', () => {
    const rt = new HipRuntime({ hipLibrary: [so] });
    rt.useDevice(0);
    expect(rt.memGetInfo()).toEqual({ free: 60 * 2 ** 30, total: 64 * 2 ** 30 });
    const n = 1000;
    const x = rt.malloc(n * 4);
    const y = rt.malloc(n * 4);
    const xs = Float32Array.from({ length: n }, (_, i) => i);
    // two halves, the second at a byte offset, from a subarray view
    rt.copyToDevice(x, xs.subarray(0, 500));
    rt.copyToDevice(x, xs.subarray(500), 500 * 4);
    rt.memset8(y, 0, n * 4);
    rt.copyDeviceToDevice(y, x, n * 4); // y = x
    const mod = rt.loadModule(IMAGE, 'test');
    expect(mod.source).toBe('test');
    const fn = rt.getFunction(mod, 'fx_axpy');
    const [e0, e1] = [rt.eventCreate(), rt.eventCreate()];
    rt.eventRecord(e0);
    rt.launch(fn, [Math.ceil(n / 64), 1, 1], [64, 1, 1], 0, [{ f32: 2 }, { ptr: x }, { ptr: y }, { i32: n }]);
    rt.eventRecord(e1);
    expect(rt.eventElapsedMs(e0, e1)).toBeGreaterThanOrEqual(0);
    rt.synchronize();
    const out = new Float32Array(n);
    rt.copyFromDevice(out, y);
    expect(Array.from(out.subarray(0, 4))).toEqual([0, 3, 6, 9]);
    expect(out[999]).toBe(2997);
    // read back from an offset into the middle of a larger host buffer
    const part = new Float32Array(8).fill(-1);
    rt.copyFromDevice(part.subarray(2, 4), y, 10 * 4);
    expect(Array.from(part)).toEqual([-1, -1, 30, 33, -1, -1, -1, -1]);
    expect(fake.launches()).toBe(1);

    // HIP errors come back as GpuError(api, code, string)
    const e = catchError(() => rt.getFunction(mod, 'missing_kernel')) as GpuError;
    expect(e).toBeInstanceOf(GpuError);
    expect([e.api, e.code, e.detail]).toEqual([
      'hipModuleGetFunction(missing_kernel)',
      500,
      'hipErrorNotFound: named symbol not found',
    ]);
    const bad = catchError(() => rt.loadModule(new Uint8Array(64), 'junk')) as GpuError;
    expect([bad.api, bad.code]).toEqual(['hipModuleLoadData', 200]);
    expect(() => rt.launch(fn, [0, 1, 1], [64, 1, 1], 0, [])).toThrow(/bad grid\/block dimension 0/);

    expect(fake.outstanding(0)).toBe(2);
    expect(fake.outstanding(1)).toBe(1);
    expect(fake.outstanding(2)).toBe(2);
    rt.free(x);
    rt.free(x); // twice is a no-op
    rt.eventDestroy(e0);
    rt.dispose(); // frees y, the module and e1
    rt.dispose();
    expect([fake.outstanding(0), fake.outstanding(1), fake.outstanding(2)]).toEqual([0, 0, 0]);
    expect(() => rt.malloc(16)).toThrow(/after dispose/);
  });

  it('serves the generic GPU backend: status, open (copy bandwidth), load, close', async () => {
    fake.setFree(64 * 2 ** 20 + 2 * 20 * 2 ** 20); // room for two 20 MiB copy-bandwidth buffers
    try {
      const backend = createGpuBackend('hip', () => new HipRuntime({ hipLibrary: [so] }), {
        cacheDir: null,
        prebuiltDir: null,
      });
      const s = await backend.status();
      expect(s.available).toBe(true);
      expect(s.devices).toHaveLength(1);
      expect(s.devices[0]).toMatchObject({ backend: 'hip', arch: 'gfx90a', warpSize: 64, computeUnits: 104 });
      const session = await backend.open(0);
      expect(session.device.copyBandwidthGBs).toBeGreaterThan(0);
      const w = await session.load({ type: 0, n: 4, k: 8, data: new Uint8Array(4 * 8 * 4), name: 'w' });
      expect(w.bytes).toBeGreaterThanOrEqual(128);
      expect(fake.outstanding(0)).toBeGreaterThan(0);
      await session.close();
      expect([fake.outstanding(0), fake.outstanding(1), fake.outstanding(2)]).toEqual([0, 0, 0]);
      await expect(backend.open(3)).rejects.toThrow(/no device 3/);
    } finally {
      fake.setFree(60 * 2 ** 30);
    }
  });

  // The real run-time path with the backend's own defines: hiprtc compiles kernels/q4_0.cu for the
  // fake gfx90a, the fake loads the code object and finds each entry point's descriptor in it, and
  // records the launch (it does not execute AMDGPU code, so the output values are not checked).
  it.skipIf(!hiprtcPresent)('runs a Q4_0 matmul through hiprtc, module load, lookup and launch', async () => {
    fake.setFree(94 * 2 ** 20); // 30 MiB over the backend margin: too little for the copy-bandwidth probe
    try {
      const backend = createGpuBackend('hip', () => new HipRuntime({ hipLibrary: [so] }), {
        cacheDir: null,
        prebuiltDir: null,
      });
      const session = await backend.open(0);
      const n = 64;
      const k = 256;
      const w = await session.load({ type: 2, n, k, data: new Uint8Array(n * (k / 32) * 18), name: 'w' });
      const before = fake.launches();
      const small = await session.run(w, new Float32Array(k), 1);
      expect(small.path).toBe('fused-small-q8');
      expect(small.detail).toMatch(/^qs_x_q8 \+ qs_q8_m1 .*hiprtc:q4_0\.cu/);
      expect(small.y).toHaveLength(n);
      const launch = new Uint32Array(8);
      fake.lastLaunch(launch);
      // the fake answers qs_q8_geometry with the table a HIP module of kernels/q4_0.h reports: grid =
      // rows / the AMD rows per block, block = warps x the device's wave size (64 on this "gfx90a")
      const g = q8Geometry('q4_0', 'hip');
      const amd = { rows: g.slice(1, 9), warps: g.slice(9, 17), split: g.slice(17, 25).map((x) => x === 1) };
      expect([launch[0], launch[3]]).toEqual([n / amd.rows[0], amd.warps[0] * 64]);
      // m = 2 reads split rows where the header says so: the split copy is made, then qs_q8_m2 runs on it
      expect(amd.split[1]).toBe(true);
      const two = await session.run(w, new Float32Array(2 * k), 2);
      expect(two.detail).toMatch(/^qs_x_q8 \+ qs_q8_m2 \(int8 activations per 32, dp4a; split rows\) /);
      fake.lastLaunch(launch);
      expect([launch[0], launch[3]]).toEqual([n / amd.rows[1], amd.warps[1] * 64]);
      const tiled = await session.run(w, new Float32Array(16 * k), 16);
      expect(tiled.path).toBe('fused-tiled-f32');
      expect(tiled.detail).toMatch(/^qs_tiled_f32 /);
      fake.lastLaunch(launch);
      expect(Array.from(launch.subarray(0, 4))).toEqual([1, 1, 1, 256]);
      expect(fake.launches()).toBeGreaterThanOrEqual(before + 2);
      // the matrix-unit path on request: MFMA on this CDNA target (not the default until it has run on AMD)
      const mfma = await session.run(w, new Float32Array(16 * k), 16, { path: 'mma' });
      expect(mfma.path).toBe('fused-mma-f16');
      expect(mfma.detail).toMatch(
        /^qs_x_bf16 \+ qs_mfma_bf16 \(MFMA 32x32x8 bf16, f32 accumulate\) grid 1x1x1 block 256 .*hiprtc:q4_0\.cu/,
      );
      fake.lastLaunch(launch);
      expect(Array.from(launch.subarray(0, 4))).toEqual([1, 1, 1, 256]);
      // int8 activations at m > 8: the int8 MFMA kernel only with QS_HIP_MFMA_I8=1 (it has not run on AMD)
      await expect(session.run(w, new Float32Array(16 * k), 16, { path: 'int8' })).rejects.toThrow(
        /int8 matrix-unit path \(the AMD int8 MFMA kernel is off until it has run on an AMD GPU; QS_HIP_MFMA_I8=1 turns it on\)/,
      );
      await session.close();
      expect([fake.outstanding(0), fake.outstanding(1), fake.outstanding(2)]).toEqual([0, 0, 0]);
    } finally {
      fake.setFree(60 * 2 ** 30);
    }
  });
});
