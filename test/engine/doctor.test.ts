import { describe, expect, it } from 'vitest';
import {
  cudaVersionString,
  doctor,
  formatDoctor,
  hipVersionString,
  type DoctorProbe,
  type Runtimes,
} from '../../src-main/engine/doctor';

const missing = { ok: false as const, reason: 'not found' };
const NONE: Runtimes = { cudaDriver: missing, nvrtc: missing, hipRuntime: missing, hiprtc: missing };

/** A machine described by its files, access rights, groups and libraries. */
function machine(opts: {
  files?: string[];
  denied?: string[];
  groups?: string[];
  systemGroups?: string[];
  runtimes?: Partial<Runtimes>;
  devices?: { cuda?: number; hip?: number };
}): DoctorProbe {
  const files = new Set(opts.files ?? []);
  return {
    exists: (p) => files.has(p) || [...files].some((f) => f.startsWith(p + '/')),
    canReadWrite: (p) => files.has(p) && !(opts.denied ?? []).includes(p),
    list: (dir) =>
      [...files].filter((f) => f.startsWith(dir + '/')).map((f) => f.slice(dir.length + 1).split('/')[0]),
    groups: () => opts.groups ?? [],
    groupExists: (g) => (opts.systemGroups ?? ['render', 'video']).includes(g),
    runtimes: () => ({ ...NONE, ...opts.runtimes }),
    deviceCount: (b) => ({ count: opts.devices?.[b] ?? 0 }),
  };
}

const HIP_OK = {
  hipRuntime: { ok: true as const, version: '6.2.41133', from: 'libamdhip64.so.6' },
  hiprtc: { ok: true as const, version: '6.2', from: 'libhiprtc.so.6' },
};
const AMD_NODES = ['/dev/kfd', '/dev/dri/renderD128', '/dev/dri/card0'];

describe('quantscope doctor', () => {
  it('a bare machine: nothing ready, each missing piece named with its fix', () => {
    const r = doctor(machine({}));
    expect(r.ready).toEqual([]);
    const text = formatDoctor(r);
    expect(text).toMatch(/FAIL {2}\/dev\/kfd: missing/);
    expect(text).toMatch(/FAIL {2}NVIDIA device nodes/);
    expect(text).toMatch(/fix: install ROCm \(the hip-runtime-amd package/);
    expect(text).toMatch(/fix: libcuda\.so\.1 comes with the NVIDIA driver/);
    expect(text).toContain('No GPU backend is ready');
  });

  it('ROCm installed but /dev/kfd not accessible: tells which groups to join', () => {
    const r = doctor(
      machine({
        files: AMD_NODES,
        denied: ['/dev/kfd'],
        groups: ['users', 'video'],
        runtimes: HIP_OK,
        devices: { hip: 1 },
      }),
    );
    expect(r.ready).toEqual([]);
    const kfd = r.checks.find((c) => c.what === '/dev/kfd')!;
    expect(kfd.level).toBe('fail');
    expect(kfd.fix).toMatch(/^add yourself to the render group: sudo usermod -aG render /);
  });

  it('render node not accessible, neither group on the system: asks for an administrator', () => {
    const r = doctor(
      machine({
        files: AMD_NODES,
        denied: ['/dev/dri/renderD128'],
        systemGroups: [],
        runtimes: HIP_OK,
        devices: { hip: 1 },
      }),
    );
    const c = r.checks.find((x) => x.what === 'render nodes')!;
    expect(c.level).toBe('fail');
    expect(c.detail).toContain('/dev/dri/renderD128');
    expect(c.fix).toMatch(/administrator/);
    expect(r.ready).toEqual([]);
  });

  it('a working ROCm machine is ready for hip; a missing hiprtc is only a warning', () => {
    const r = doctor(
      machine({ files: AMD_NODES, runtimes: { hipRuntime: HIP_OK.hipRuntime }, devices: { hip: 2 } }),
    );
    expect(r.ready).toEqual(['hip']);
    expect(r.checks.find((c) => c.what === 'hiprtc')!.level).toBe('warn');
    expect(r.checks.find((c) => c.what === 'HIP devices')!.detail).toBe('2 device(s)');
    expect(formatDoctor(r)).toContain('Ready: hip');
  });

  it('an NVIDIA machine with driver and NVRTC is ready for cuda', () => {
    const r = doctor(
      machine({
        files: ['/dev/nvidiactl', '/dev/nvidia0', '/dev/nvidia-uvm'],
        runtimes: {
          cudaDriver: { ok: true, version: '13.0', from: 'libcuda.so.1' },
          nvrtc: { ok: true, version: '13.0', from: 'libnvrtc.so' },
        },
        devices: { cuda: 1 },
      }),
    );
    expect(r.ready).toEqual(['cuda']);
    expect(r.checks.filter((c) => c.area === 'CUDA').every((c) => c.level === 'ok')).toBe(true);
  });

  it('driver present but no device: a FAIL with the reason', () => {
    const r = doctor(
      machine({
        files: ['/dev/nvidiactl', '/dev/nvidia0'],
        runtimes: { cudaDriver: { ok: true, version: '12.4', from: 'libcuda.so.1' } },
      }),
    );
    expect(r.ready).toEqual([]);
    expect(r.checks.find((c) => c.what === 'CUDA devices')!.level).toBe('fail');
  });

  it('formats the vendors version integers', () => {
    expect(cudaVersionString(13000)).toBe('13.0');
    expect(cudaVersionString(12040)).toBe('12.4');
    expect(hipVersionString(50222261)).toBe('5.2.22261');
    expect(hipVersionString(60241133)).toBe('6.2.41133');
  });
});
