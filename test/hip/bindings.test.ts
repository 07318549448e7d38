import { encodeKernelParams, NativeParamCache } from '../../native/params';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GCN_ARCH_NAME_OFFSET, hipErrorNoDevice, loadHip } from '../../native/hip';
import { loadHiprtc } from '../../native/hiprtc';
import { hipBackend } from '../../src-main/engine/backends/hip';
import {
  findGcnArchName,
  formatHipVersion,
  HipRuntime,
  hiprtcCompile,
  packKernelArgs,
  peakBandwidthGBs,
  peakHalfTflops,
} from '../../src-main/engine/backends/gpu/hip-runtime';
import { GpuError, GpuUnavailableError } from '../../src-main/engine/backends/gpu/runtime';

function tryLoad(): string | null {
  try {
    return loadHip().libraryPath;
  } catch (e) {
    return (e as Error).message;
  }
}
const hipLoadResult = tryLoad();
const hipPresent =
  hipLoadResult !== null && /amdhip64/.test(hipLoadResult) && !/not found/.test(hipLoadResult);
if (!hipPresent) console.log(`[hip] HIP runtime tests skipped: ${hipLoadResult}`);

function gpuPresent(): boolean {
  try {
    return new HipRuntime().deviceCount() > 0;
  } catch {
    return false;
  }
}
const hasGpu = hipPresent && gpuPresent();
if (hasGpu) console.log('[hip] an AMD GPU is present: the no-device expectations are skipped');

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('pure helpers', () => {
  function propBuffer(offset: number, s: string, size = 4096): Uint8Array {
    const b = new Uint8Array(size);
    b.set(new TextEncoder().encode('AMD Instinct MI210'), 0); // name at offset 0, as in every layout
    b.set(new TextEncoder().encode(s), offset);
    return b;
  }

  it('finds gcnArchName at the ROCm 5 and ROCm 6/7 offsets', () => {
    expect(findGcnArchName(propBuffer(396, 'gfx90a:sramecc+:xnack-'), GCN_ARCH_NAME_OFFSET.R0000)).toBe(
      'gfx90a:sramecc+:xnack-',
    );
    expect(findGcnArchName(propBuffer(1160, 'gfx942:sramecc+:xnack-'), GCN_ARCH_NAME_OFFSET.R0600)).toBe(
      'gfx942:sramecc+:xnack-',
    );
    expect(findGcnArchName(propBuffer(396, 'gfx1030'), GCN_ARCH_NAME_OFFSET.R0000)).toBe('gfx1030');
  });

  it('falls back to scanning when the layout is unknown, and says null when there is no target', () => {
    expect(findGcnArchName(propBuffer(2000, 'gfx1100'), GCN_ARCH_NAME_OFFSET.R0600)).toBe('gfx1100');
    expect(findGcnArchName(propBuffer(2000, 'gfxzzz'), GCN_ARCH_NAME_OFFSET.R0600)).toBeNull();
    expect(findGcnArchName(new Uint8Array(4096))).toBeNull();
  });

  it('formats HIP versions and peak bandwidth', () => {
    expect(formatHipVersion(50221153)).toBe('5.2.21153');
    expect(formatHipVersion(60241134)).toBe('6.2.41134');
    // MI250X GCD: 1.6 GHz HBM2e, 4096-bit
    expect(peakBandwidthGBs(1_600_000, 4096)).toBeCloseTo(1638.4, 6);
    expect(peakBandwidthGBs(0, 4096)).toBeNull();
    // published FP16 matrix peaks: MI300X 1307 TF, MI100 184.6 TF, RX 6900 XT 46 TF (packed)
    expect(peakHalfTflops('gfx942', 304, 2_100_000)).toBeCloseTo(1307.4, 0);
    expect(peakHalfTflops('gfx908', 120, 1_502_000)).toBeCloseTo(184.5, 0);
    expect(peakHalfTflops('gfx1030', 80, 2_250_000)).toBeCloseTo(46.1, 0);
    expect(peakHalfTflops('gfx803', 64, 1_000_000)).toBeNull();
  });

  it('packs kernel arguments as one typed array per value', () => {
    const packed = packKernelArgs([{ ptr: 0x1234n }, { i32: -5 }, { u32: 7 }, { f32: 1.5 }, { u64: 9 }]);
    expect(packed.map((p) => p.constructor.name)).toEqual([
      'BigUint64Array',
      'Int32Array',
      'Uint32Array',
      'Float32Array',
      'BigUint64Array',
    ]);
    expect((packed[0] as BigUint64Array)[0]).toBe(0x1234n);
    expect((packed[1] as Int32Array)[0]).toBe(-5);
    expect(() => packKernelArgs([{ i32: 2 ** 31 }])).toThrow(/kernel argument 0/);
  });
});

// koffi must hand the packed values to C as `void **kernelParams` (an array of pointers to values).
describe('kernel parameter marshalling through koffi', () => {
  let gcc: string | null = null;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    gcc = 'gcc';
  } catch {
    console.log('[hip] marshalling test skipped: gcc not found');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'qs-hip-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!gcc)('a C function reading void** sees every argument value', async () => {
    const src = path.join(dir, 'probe.c');
    const so = path.join(dir, 'probe.so');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      src,
      '#include <string.h>\n' +
        'int qs_probe(void **params, const int *sizes, int n, unsigned char *out) {\n' +
        '  int off = 0;\n' +
        '  for (int i = 0; i < n; i++) { memcpy(out + off, params[i], sizes[i]); off += sizes[i]; }\n' +
        '  return off;\n}\n',
    );
    execFileSync(gcc!, ['-shared', '-fPIC', '-O2', src, '-o', so]);
    const lib = koffi.load(so);
    // the same parameter type as hipModuleLaunchKernel's kernelParams in native/hip.ts
    const probe = lib.func('int qs_probe(void **params, const int *sizes, int n, _Out_ uint8_t *out)');
    const params = packKernelArgs([{ ptr: 0x1122334455667788n }, { i32: -5 }, { f32: 1.5 }, { u32: 7 }]);
    const out = new Uint8Array(64);
    const n = probe(params, Int32Array.from(params.map((p) => p.byteLength)), params.length, out);
    expect(n).toBe(20);
    expect(Buffer.from(out.subarray(0, n)).toString('hex')).toBe('8877665544332211fbffffff0000c03f07000000');
    // what the CUDA and HIP runtimes pass now: the same values encoded once in native memory
    const table = encodeKernelParams(params);
    const out2 = new Uint8Array(64);
    expect(probe(table.table, Int32Array.from(params.map((p) => p.byteLength)), params.length, out2)).toBe(
      20,
    );
    expect(Buffer.from(out2.subarray(0, 20)).toString('hex')).toBe(
      '8877665544332211fbffffff0000c03f07000000',
    );
    table.free();
    table.free(); // idempotent
    // a cache hands out one table per argument list and frees them all on clear()
    const cache = new NativeParamCache<object>();
    const key = {};
    let encodes = 0;
    const enc = () => (encodes++, params);
    expect(cache.get(key, enc)).toBe(cache.get(key, enc));
    expect(encodes).toBe(1);
    cache.clear();
    expect(cache.get(key, enc)).toBeDefined();
    expect(encodes).toBe(2);
    cache.clear();
    // a by-value struct (a CUDA tensor map: 128 bytes) between scalars keeps its bytes, 64-byte aligned
    const map = Uint8Array.from({ length: 128 }, (_, i) => (i * 7 + 3) & 255);
    const withMap = packKernelArgs([{ i32: 9 }, { bytes: map }, { u32: 0xdeadbeef }]);
    const t3 = encodeKernelParams(withMap);
    const out3 = new Uint8Array(160);
    expect(probe(t3.table, Int32Array.from(withMap.map((p) => p.byteLength)), 3, out3)).toBe(136);
    expect(Array.from(out3.subarray(0, 4))).toEqual([9, 0, 0, 0]);
    expect(Buffer.from(out3.subarray(4, 132)).equals(Buffer.from(map))).toBe(true);
    expect(Array.from(out3.subarray(132, 136))).toEqual([0xef, 0xbe, 0xad, 0xde]);
    const slot1 = koffi.decode(t3.table, 8, 'uint64_t') as bigint | number;
    expect(BigInt(slot1) % 64n).toBe(0n);
    t3.free();
    expect(() => encodeKernelParams([new Uint8Array(129)])).toThrow(
      /kernel argument 0: 129 bytes \(at most 128\)/,
    );
    lib.unload();
  });
});

describe('HIP runtime library', () => {
  it('names the missing library when libamdhip64 cannot be loaded', () => {
    const e = catchError(
      () => new HipRuntime({ hipLibrary: ['libamdhip64.so.99', '/nonexistent/libamdhip64.so'] }),
    );
    expect(e).toBeInstanceOf(GpuUnavailableError);
    expect(e.message).toMatch(/^libamdhip64\.so not found \(tried libamdhip64\.so\.99, \/nonexistent/);
    expect(e.message).not.toMatch(/\n/);
  });

  it.skipIf(!hipPresent)('loads libamdhip64 and hiprtc (inside libamdhip64 on ROCm 5)', () => {
    const hip = loadHip();
    expect(hip.libraryPath).toMatch(/amdhip64/);
    const v: [number] = [0];
    expect(hip.hipRuntimeGetVersion(v)).toBe(0);
    expect(v[0]).toBeGreaterThan(50_000_000);
    const rtc = loadHiprtc();
    expect(rtc.libraryPath).toMatch(/hiprtc|amdhip64/);
    const maj: [number] = [0];
    const min: [number] = [0];
    expect(rtc.hiprtcVersion(maj, min)).toBe(0);
    expect(maj[0]).toBeGreaterThan(0);
  });

  it.skipIf(!hipPresent || hasGpu)('without a GPU, HipRuntime says no device, naming the HIP error', () => {
    const e = catchError(() => new HipRuntime());
    expect(e).toBeInstanceOf(GpuUnavailableError);
    expect(e.message).toMatch(/^no AMD GPU found: hipGetDeviceCount returned hipErrorNoDevice \(100\)/);
    expect(hipErrorNoDevice).toBe(100);
  });

  it.skipIf(!hipPresent || hasGpu)('maps a failing call to GpuError(api, code, hipGetErrorString)', () => {
    const rt = new HipRuntime({ requireDevice: false });
    expect(rt.deviceCount()).toBe(0);
    const e = catchError(() => rt.useDevice(0));
    expect(e).toBeInstanceOf(GpuError);
    const g = e as GpuError;
    expect(g.api).toBe('hipSetDevice');
    expect(g.code).toBe(101);
    expect(g.detail).toMatch(/hipErrorInvalidDevice/);
    expect(g.message).toBe(`hipSetDevice failed: ${g.detail} (101)`);
    // device-bound calls refuse before touching HIP when no device was selected
    expect(() => rt.malloc(16)).toThrow(/useDevice\(\) has not been called/);
    expect(rt.compilerVersion()).toMatch(/^hiprtc \d+\.\d+ .*HIP runtime \d+\.\d+\.\d+/);
    rt.dispose();
    rt.dispose();
  });
});

describe('hiprtc compilation (no GPU needed)', () => {
  const kernel =
    '#include "common.h"\n' +
    'extern "C" __global__ void qs_axpy(float a, const float *x, float *y, int n) {\n' +
    '  int i = blockIdx.x * blockDim.x + threadIdx.x;\n' +
    '  if (i < n) y[i] = a * x[i] + y[i] + OFFSET + SCALE;\n' +
    '}\n';
  const headers = { 'common.h': '#define OFFSET 1.0f\n' };

  for (const arch of ['gfx90a', 'gfx1030']) {
    it.skipIf(!hipPresent)(
      `compiles a kernel with a header and a define to an ELF code object for ${arch}`,
      () => {
        const code = hiprtcCompile(kernel, 'axpy.cu', { arch, headers, defines: { SCALE: '2.0f' } });
        expect(code.length).toBeGreaterThan(1000);
        expect(Array.from(code.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
        expect(Buffer.from(code).includes('qs_axpy')).toBe(true);
        // e_machine EM_AMDGPU (224)
        expect(code[18] | (code[19] << 8)).toBe(224);
      },
    );
  }

  it.skipIf(!hipPresent)('reports a compile error as GpuError with the compiler log', () => {
    const e = catchError(() => hiprtcCompile(kernel, 'axpy.cu', { arch: 'gfx90a', headers }));
    expect(e).toBeInstanceOf(GpuError);
    expect((e as GpuError).api).toBe('hiprtcCompileProgram');
    expect(e.message.split('\n')[0]).toMatch(
      /^hiprtcCompileProgram failed: HIPRTC_ERROR_COMPILATION: axpy\.cu for gfx90a: .*error: .*SCALE/,
    );
  });

  it('refuses a non-AMD target before calling hiprtc (which would abort the process)', () => {
    expect(() => hiprtcCompile(kernel, 'axpy.cu', { arch: 'sm_90' })).toThrow(
      /'sm_90' is not an AMD GPU target/,
    );
    expect(() => hiprtcCompile(kernel, 'axpy.cu', { arch: 'gfx90a', defines: { 'A B': 1 } })).toThrow(
      /invalid macro name/,
    );
  });
});

const savedEnv = process.env.QUANTSCOPE_HIP_LIBRARY;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.QUANTSCOPE_HIP_LIBRARY;
  else process.env.QUANTSCOPE_HIP_LIBRARY = savedEnv;
});

describe('hipBackend', () => {
  it('is the hip kind', () => {
    expect(hipBackend.kind).toBe('hip');
  });

  it.skipIf(!hipPresent || hasGpu)('status() reports no device without throwing', async () => {
    const s = await hipBackend.status();
    expect(s.backend).toBe('hip');
    expect(s.available).toBe(false);
    expect(s.devices).toEqual([]);
    expect(s.reason).toMatch(/^no AMD GPU found: hipGetDeviceCount returned hipErrorNoDevice \(100\)/);
    expect(s.reason).toMatch(/hipInit/);
  });

  it.skipIf(!hipPresent || hasGpu)('open() rejects with the same reason', async () => {
    await expect(hipBackend.open(0)).rejects.toThrow(/^hip unavailable: no AMD GPU found/);
  });

  it('status() names the missing library when libamdhip64 cannot be found', async () => {
    process.env.QUANTSCOPE_HIP_LIBRARY = '/nonexistent/libamdhip64.so.6';
    const s = await hipBackend.status();
    expect(s.available).toBe(false);
    expect(s.reason).toMatch(/^libamdhip64\.so not found \(tried \/nonexistent\/libamdhip64\.so\.6\)/);
  });
});
