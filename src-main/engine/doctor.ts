/**
 * `quantscope doctor` and `quantscope --version`: what this machine has for each GPU backend, and what
 * to do about what is missing. Every probe is a value (never a throw), so one broken runtime cannot
 * hide the state of the others. The machine access (device nodes, groups, the vendor libraries) goes
 * through `DoctorProbe`, so the rules are tested with fakes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadCudaDriver } from '../../native/cuda';
import { loadNvrtc } from '../../native/nvrtc';
import { loadHip } from '../../native/hip';
import { loadHiprtc } from '../../native/hiprtc';
import { oneLine } from '../../src-shared/contract';

/** A runtime library: its version and where it was loaded from, or why it could not be. */
export type Found = { ok: true; version: string; from: string } | { ok: false; reason: string };

export interface Runtimes {
  cudaDriver: Found;
  nvrtc: Found;
  hipRuntime: Found;
  hiprtc: Found;
}

export interface DoctorProbe {
  exists(p: string): boolean;
  /** read + write access for this user */
  canReadWrite(p: string): boolean;
  list(dir: string): string[];
  /** names of the groups this user is in */
  groups(): string[];
  /** whether this system has a group of that name (/etc/group) */
  groupExists(name: string): boolean;
  runtimes(): Runtimes;
  /** device count per backend, or why none */
  deviceCount(backend: 'cuda' | 'hip'): { count: number } | { reason: string };
}

export type Level = 'ok' | 'warn' | 'fail';
export interface Check {
  area: 'CUDA' | 'ROCm';
  what: string;
  level: Level;
  detail: string;
  /** how to fix it, for warn and fail */
  fix?: string;
}

export interface DoctorReport {
  checks: Check[];
  /** the backends that can run kernels now */
  ready: ('cuda' | 'hip')[];
}

/** CUDA's integer version (12040) as "12.4". */
export function cudaVersionString(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

/** HIP's integer version (50222261 = 5.2.22261) as "5.2.22261". */
export function hipVersionString(v: number): string {
  return `${Math.floor(v / 10_000_000)}.${Math.floor((v / 100_000) % 100)}.${v % 100_000}`;
}

function found(fn: () => { version: string; from: string }): Found {
  try {
    return { ok: true, ...fn() };
  } catch (e) {
    return { ok: false, reason: oneLine(e) };
  }
}

/** Loads each vendor library (once per process; the loaders cache) and reads its version. */
export function probeRuntimes(): Runtimes {
  return {
    cudaDriver: found(() => {
      const d = loadCudaDriver();
      const v: [number] = [0];
      if (d.cuDriverGetVersion(v) !== 0) throw new Error('cuDriverGetVersion failed');
      return { version: cudaVersionString(v[0]), from: d.libraryPath };
    }),
    nvrtc: found(() => {
      const n = loadNvrtc();
      const ma: [number] = [0];
      const mi: [number] = [0];
      if (n.nvrtcVersion(ma, mi) !== 0) throw new Error('nvrtcVersion failed');
      return { version: `${ma[0]}.${mi[0]}`, from: n.libraryPath };
    }),
    hipRuntime: found(() => {
      const h = loadHip();
      const v: [number] = [0];
      if (h.hipRuntimeGetVersion(v) !== 0) throw new Error('hipRuntimeGetVersion failed');
      return { version: hipVersionString(v[0]), from: h.libraryPath };
    }),
    hiprtc: found(() => {
      const r = loadHiprtc();
      const ma: [number] = [0];
      const mi: [number] = [0];
      if (r.hiprtcVersion(ma, mi) !== 0) throw new Error('hiprtcVersion failed');
      return { version: `${ma[0]}.${mi[0]}`, from: r.libraryPath };
    }),
  };
}

export function systemProbe(): DoctorProbe {
  let runtimes: Runtimes | undefined;
  return {
    exists: (p) => fs.existsSync(p),
    canReadWrite: (p) => {
      try {
        fs.accessSync(p, fs.constants.R_OK | fs.constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    list: (dir) => {
      try {
        return fs.readdirSync(dir);
      } catch {
        return [];
      }
    },
    groups: () => {
      try {
        return execFileSync('id', ['-Gn'], { encoding: 'utf8', timeout: 5000 }).trim().split(/\s+/);
      } catch {
        return [];
      }
    },
    groupExists: (name) => {
      try {
        return fs
          .readFileSync('/etc/group', 'utf8')
          .split('\n')
          .some((l) => l.split(':')[0] === name);
      } catch {
        return false;
      }
    },
    runtimes: () => (runtimes ??= probeRuntimes()),
    deviceCount: (backend) => {
      try {
        if (backend === 'cuda') {
          const d = loadCudaDriver();
          const init = d.cuInit(0);
          if (init !== 0) return { reason: `cuInit returned ${init}` };
          const n: [number] = [0];
          const rc = d.cuDeviceGetCount(n);
          return rc === 0 ? { count: n[0] } : { reason: `cuDeviceGetCount returned ${rc}` };
        }
        const h = loadHip();
        const n: [number] = [0];
        const rc = h.hipGetDeviceCount(n);
        return rc === 0 ? { count: n[0] } : { reason: `hipGetDeviceCount returned ${rc}` };
      } catch (e) {
        return { reason: oneLine(e) };
      }
    },
  };
}

const USER = os.userInfo().username;

function cudaChecks(p: DoctorProbe, checks: Check[]): boolean {
  const push = (c: Omit<Check, 'area'>) => checks.push({ area: 'CUDA', ...c });
  const rt = p.runtimes();
  const nodes = p.list('/dev').filter((f) => /^nvidia\d+$/.test(f));
  if (!p.exists('/dev/nvidiactl') || nodes.length === 0) {
    push({
      what: 'NVIDIA device nodes',
      level: 'fail',
      detail: 'no /dev/nvidiactl or /dev/nvidia<N>: the NVIDIA kernel driver is not loaded',
      fix: 'install the NVIDIA driver (nvidia-smi must list the GPU); in a container, start it with --gpus all',
    });
  } else {
    const denied = ['/dev/nvidiactl', ...nodes.map((n) => `/dev/${n}`)].filter((n) => !p.canReadWrite(n));
    push(
      denied.length === 0
        ? { what: 'NVIDIA device nodes', level: 'ok', detail: `${nodes.length} GPU node(s), read/write` }
        : {
            what: 'NVIDIA device nodes',
            level: 'fail',
            detail: `no read/write access to ${denied.join(', ')}`,
            fix: 'ask an administrator to make the nodes usable (the driver package sets mode 0666 by default)',
          },
    );
  }
  push(
    rt.cudaDriver.ok
      ? { what: 'CUDA driver', level: 'ok', detail: `CUDA ${rt.cudaDriver.version} (${rt.cudaDriver.from})` }
      : {
          what: 'CUDA driver',
          level: 'fail',
          detail: rt.cudaDriver.reason,
          fix: 'libcuda.so.1 comes with the NVIDIA driver: install the driver (not only the CUDA toolkit)',
        },
  );
  push(
    rt.nvrtc.ok
      ? { what: 'NVRTC', level: 'ok', detail: `${rt.nvrtc.version} (${rt.nvrtc.from})` }
      : {
          what: 'NVRTC',
          level: 'warn',
          detail: rt.nvrtc.reason,
          fix:
            'install the CUDA toolkit (or its nvrtc package) or set CUDA_PATH; without it only prebuilt ' +
            'kernels (npm run build:kernels) can run',
        },
  );
  if (!rt.cudaDriver.ok) return false;
  const n = p.deviceCount('cuda');
  if ('count' in n && n.count > 0) {
    push({ what: 'CUDA devices', level: 'ok', detail: `${n.count} device(s)` });
    return true;
  }
  push({
    what: 'CUDA devices',
    level: 'fail',
    detail: 'count' in n ? 'the driver sees no device' : n.reason,
    fix: 'check nvidia-smi; a driver older than the GPU or a mismatched kernel module shows up there',
  });
  return false;
}

function hipChecks(p: DoctorProbe, checks: Check[]): boolean {
  const push = (c: Omit<Check, 'area'>) => checks.push({ area: 'ROCm', ...c });
  const rt = p.runtimes();
  const groupFix = () => {
    const want = ['render', 'video'].filter((g) => p.groupExists(g));
    const missing = want.filter((g) => !p.groups().includes(g));
    return missing.length > 0
      ? `add yourself to the ${missing.join(' and ')} group${missing.length > 1 ? 's' : ''}: ` +
          `sudo usermod -aG ${missing.join(',')} ${USER}, then log out and in again`
      : 'ask an administrator to grant read/write access to /dev/kfd and /dev/dri/renderD*';
  };
  let nodesOk = false;
  if (!p.exists('/dev/kfd')) {
    push({
      what: '/dev/kfd',
      level: 'fail',
      detail: 'missing: the amdgpu kernel driver with KFD (the ROCm compute interface) is not loaded',
      fix: "install ROCm's amdgpu driver (amdgpu-dkms) or a kernel with amdgpu, then reboot; in a container pass --device /dev/kfd --device /dev/dri",
    });
  } else if (!p.canReadWrite('/dev/kfd')) {
    push({ what: '/dev/kfd', level: 'fail', detail: 'no read/write access', fix: groupFix() });
  } else {
    push({ what: '/dev/kfd', level: 'ok', detail: 'read/write' });
    nodesOk = true;
  }
  const render = p.list('/dev/dri').filter((f) => /^renderD\d+$/.test(f));
  if (p.exists('/dev/kfd')) {
    const denied = render.filter((r) => !p.canReadWrite(`/dev/dri/${r}`));
    if (render.length === 0) {
      push({
        what: 'render nodes',
        level: 'fail',
        detail: 'no /dev/dri/renderD*: no GPU exposed to this system',
        fix: 'check that the GPU is seen (rocm-smi, lspci) and the amdgpu driver bound to it',
      });
      nodesOk = false;
    } else if (denied.length > 0) {
      push({
        what: 'render nodes',
        level: 'fail',
        detail: `no read/write access to ${denied.map((d) => `/dev/dri/${d}`).join(', ')}`,
        fix: groupFix(),
      });
      nodesOk = false;
    } else push({ what: 'render nodes', level: 'ok', detail: `${render.length} node(s), read/write` });
  }
  push(
    rt.hipRuntime.ok
      ? { what: 'HIP runtime', level: 'ok', detail: `${rt.hipRuntime.version} (${rt.hipRuntime.from})` }
      : {
          what: 'HIP runtime',
          level: 'fail',
          detail: rt.hipRuntime.reason,
          fix:
            'install ROCm (the hip-runtime-amd package: libamdhip64.so), or set ROCM_PATH or ' +
            'QUANTSCOPE_HIP_LIBRARY to its location',
        },
  );
  push(
    rt.hiprtc.ok
      ? { what: 'hiprtc', level: 'ok', detail: `${rt.hiprtc.version} (${rt.hiprtc.from})` }
      : {
          what: 'hiprtc',
          level: 'warn',
          detail: rt.hiprtc.reason,
          fix:
            'install ROCm with hiprtc (libhiprtc.so) or set QUANTSCOPE_HIPRTC_LIBRARY; without it only ' +
            'prebuilt kernels (npm run build:kernels, needs hipcc) can run',
        },
  );
  if (!rt.hipRuntime.ok || !nodesOk) return false;
  const n = p.deviceCount('hip');
  if ('count' in n && n.count > 0) {
    push({ what: 'HIP devices', level: 'ok', detail: `${n.count} device(s)` });
    return true;
  }
  push({
    what: 'HIP devices',
    level: 'fail',
    detail: 'count' in n ? 'the runtime sees no device' : n.reason,
    fix: 'check rocm-smi; a GPU that ROCm does not support needs HSA_OVERRIDE_GFX_VERSION or a newer ROCm',
  });
  return false;
}

export function doctor(p: DoctorProbe = systemProbe()): DoctorReport {
  const checks: Check[] = [];
  const ready: DoctorReport['ready'] = [];
  if (hipChecks(p, checks)) ready.push('hip');
  if (cudaChecks(p, checks)) ready.push('cuda');
  return { checks, ready };
}

const MARK: Record<Level, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' };

/** The report as one screen of text. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  for (const area of ['ROCm', 'CUDA'] as const) {
    lines.push(`${area}:`);
    for (const c of r.checks.filter((x) => x.area === area)) {
      lines.push(`  ${MARK[c.level]}  ${c.what}: ${c.detail}`);
      if (c.fix && c.level !== 'ok') lines.push(`        fix: ${c.fix}`);
    }
  }
  lines.push(
    r.ready.length > 0
      ? `Ready: ${r.ready.join(', ')} (quantscope selftest --backend ${r.ready[0]} checks the kernels on it)`
      : 'No GPU backend is ready: the cpu backend still runs every command (--backend cpu).',
  );
  return lines.join('\n') + '\n';
}

/** `--version`'s runtime lines. */
export function formatRuntimes(rt: Runtimes): string[] {
  const line = (name: string, f: Found) => `${name}: ${f.ok ? `${f.version} (${f.from})` : 'not found'}`;
  return [
    line('CUDA driver', rt.cudaDriver),
    line('NVRTC', rt.nvrtc),
    line('HIP runtime', rt.hipRuntime),
    line('hiprtc', rt.hiprtc),
  ];
}

export function nodeLine(): string {
  return `Node.js ${process.version} (${process.platform}-${process.arch}), ${path.basename(process.execPath)}`;
}
