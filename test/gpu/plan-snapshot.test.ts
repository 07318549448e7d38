// The launches the GPU backend plans, for a grid of formats, batch sizes, shapes, path choices,
// devices and kernel-tuning environments, recorded through a fake runtime and compared with
// plan-snapshot.txt: every kernel, grid, block, shared size, argument, scratch allocation and the
// path detail the user sees. The file holds one sha256 per (environment, device, format, shape)
// group, and one group (Q4_K 4096x14336, default environment, sm_90 and gfx90a) in full for
// reading; a changed group fails with its recorded text. QS_UPDATE_PLAN_SNAPSHOT=1 rewrites it,
// QS_PLAN_DUMP=<file> writes every group in full.
import { afterAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGpuBackend } from '../../src-main/engine/backends/gpu/backend';
import {
  GpuError,
  type DevicePtr,
  type GpuRuntime,
  type KernelArg,
  type LaunchOptions,
  type TensorMap2d,
} from '../../src-main/engine/backends/gpu/runtime';
import type { DeviceInfo, PathChoice } from '../../src-main/engine/backends/types';
import { GgmlType, rowBytes, typeName } from '../../src-main/engine/ggml-types';
import { q8Geometry } from '../kernels/q8-geometry';

interface Device {
  kind: 'cuda' | 'hip';
  arch: string;
  computeUnits: number;
  warpSize: number;
}

const DEVICES: Device[] = [
  { kind: 'cuda', arch: 'sm_90', computeUnits: 132, warpSize: 32 },
  { kind: 'cuda', arch: 'sm_80', computeUnits: 108, warpSize: 32 },
  { kind: 'cuda', arch: 'sm_75', computeUnits: 40, warpSize: 32 },
  { kind: 'hip', arch: 'gfx90a:sramecc+:xnack-', computeUnits: 104, warpSize: 64 },
  { kind: 'hip', arch: 'gfx1100', computeUnits: 48, warpSize: 32 },
];
const FORMATS = [
  GgmlType.Q4_0,
  GgmlType.Q4_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.Q8_0,
  GgmlType.F32,
  GgmlType.F16,
  GgmlType.BF16,
];
const MS = [1, 2, 3, 5, 8, 9, 64, 512];
const SHAPES = [
  { n: 100, k: 768 },
  { n: 4096, k: 14336 },
];
const PATHS: PathChoice[] = ['auto', 'f32', 'int8', 'mma', 'unfused'];
/** environments a session reads when it opens */
const ENVS: Record<string, Record<string, string>> = {
  default: {},
  tuned: {
    QS_GPU_TUNING: '4,8,4,8,1,2',
    QS_KERNEL_DEFINES: 'QS_MFMA_EMULATE=1,QS_MFMA_I8_EMULATE=2,QS_Q8_R=2,QS_Q8_W=4',
    QS_PDL_CHAIN: '0',
    QS_HIP_MFMA_I8: '1',
  },
};

/** Records every allocation and launch; pointers print as the allocation they point into. */
class RecordingRuntime implements GpuRuntime {
  readonly log: string[] = [];
  private next = 0x10000n;
  private allocs: { base: bigint; size: number; label: string }[] = [];
  private inRun = 0;
  /** the label of the next allocation instead of a<i> (the weights: 'w') */
  nextLabel: string | null = null;
  /** CUDA: tensor maps (a CUDA 12+ driver); each is logged and prints as its label in launches */
  readonly tensorMap2d?: (t: TensorMap2d) => Uint8Array;
  private maps = new Map<Uint8Array, string>();
  /** the format header of the module whose qs_q8_geometry ran last */
  private q8Header = '';
  constructor(
    readonly kind: 'cuda' | 'hip',
    private dev: Device,
  ) {
    if (kind === 'cuda')
      this.tensorMap2d = (t) => {
        const label = `map${this.maps.size}`;
        const b = new Uint8Array(128);
        this.maps.set(b, label);
        this.log.push(
          `tensormap ${label} of ${this.name(t.ptr)}: ${t.rows} rows of ${t.rowBytes} bytes, box ${t.boxRows} x ${t.boxBytes}`,
        );
        return b;
      };
  }
  startRun(): void {
    this.inRun = 0;
    this.maps.clear();
    this.log.length = 0;
  }
  private name(p: DevicePtr): string {
    const a = p as bigint;
    const hit = this.allocs.find((x) => a >= x.base && a < x.base + BigInt(x.size + 1));
    if (!hit) return `?${a.toString(16)}`;
    const off = Number(a - hit.base);
    return off ? `${hit.label}+${off}` : hit.label;
  }
  deviceCount() {
    return 1;
  }
  deviceInfo(index: number): DeviceInfo {
    return {
      backend: this.kind,
      index,
      name: `Fake ${this.dev.arch}`,
      arch: this.dev.arch,
      memoryTotal: 2 ** 40,
      memoryFree: 0,
      computeUnits: this.dev.computeUnits,
      warpSize: this.dev.warpSize,
      peakBandwidthGBs: 1000,
      copyBandwidthGBs: null,
      peakTflops: null,
      details: { l2CacheBytes: String(50 << 20) },
    };
  }
  useDevice() {}
  memGetInfo() {
    return { free: 2 ** 40, total: 2 ** 40 };
  }
  malloc(bytes: number): DevicePtr {
    const p = this.next;
    this.next += BigInt(bytes + 65536);
    const label = this.nextLabel ?? `a${this.inRun++}`;
    this.nextLabel = null;
    this.allocs.push({ base: p, size: bytes, label });
    this.log.push(`alloc ${label} ${bytes}`);
    return p as DevicePtr;
  }
  free(ptr: DevicePtr) {
    this.allocs = this.allocs.filter((x) => x.base !== (ptr as bigint));
  }
  copyToDevice() {}
  copyFromDevice(dst: ArrayBufferView) {
    // qs_q8_geometry: the format header's launch table, as the compiled module reports it
    if (this.log.at(-1)?.startsWith('launch qs_q8_geometry') && dst instanceof Int32Array && this.q8Header)
      dst.set(q8Geometry(this.q8Header, this.kind));
    const i8 = /^launch qs_mma_i8(?:_(\d+)x(\d+))?_geometry /.exec(this.log.at(-1) ?? '');
    if (i8 && dst instanceof Int32Array)
      dst.set([65536, 2, Number(i8[1] ?? 128), Number(i8[2] ?? 128), 128, 256]);
    if (this.log.at(-1)?.startsWith('launch qs_mfma_i8_geometry') && dst instanceof Int32Array)
      dst.set([37888, 1, 128, 128, 128, 256]);
    // Hopper's bfloat16 warpgroup kernels, as built for Q4_K
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_geometry') && dst instanceof Int32Array)
      dst.set([221368, 1, 128, 256, 128, 256]);
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_256_geometry') && dst instanceof Int32Array)
      dst.set([172208, 1, 256, 128, 128, 256]);
    // their tensor-copy forms add the box width
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_tma_geometry') && dst instanceof Int32Array)
      dst.set([221368, 1, 128, 256, 128, 256, 160]);
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_256_tma_geometry') && dst instanceof Int32Array)
      dst.set([172208, 1, 256, 128, 128, 256, 160]);
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_64_tma_geometry') && dst instanceof Int32Array)
      dst.set([229568, 1, 64, 256, 128, 256, 160]);
    if (this.log.at(-1)?.startsWith('launch qs_wgmma_bf16_32_tma_geometry') && dst instanceof Int32Array)
      dst.set([196800, 1, 32, 256, 128, 256, 160]);
  }
  copyDeviceToDevice() {}
  memset8() {}
  // the module remembers its target: only sm_90a code has the warpgroup (wgmma) kernels
  compile(_src: string, _file: string, opts: { arch: string }): Uint8Array {
    return new Uint8Array([opts.arch === 'sm_90a' ? 90 : 1]);
  }
  compilerVersion() {
    return 'fake';
  }
  // (and only for the quantized formats: the float formats' modules have none)
  loadModule(image: Uint8Array, source: string) {
    // source: where the module came from ('nvrtc:q4_k.cu (...)'), so the format's header is q4_k.h
    const header = /(\w+)\.cu\b/.exec(source)?.[1] ?? '';
    return { source, header, wgmma: image[0] === 90 && !/^b?f(16|32)$/.test(header) };
  }
  getFunction(m: unknown, name: string) {
    if (name.startsWith('qs_wgmma') && !(m as { wgmma: boolean }).wgmma)
      throw new GpuError('cuModuleGetFunction', 500, 'CUDA_ERROR_NOT_FOUND');
    return { name, header: (m as { header: string }).header };
  }
  launch(
    fn: { name: string },
    grid: [number, number, number],
    block: [number, number, number],
    shared: number,
    args: KernelArg[],
    options?: LaunchOptions,
  ) {
    const a = args.map((x) => {
      if ('ptr' in x) return this.name(x.ptr);
      if ('bytes' in x) return this.maps.get(x.bytes) ?? `bytes:${x.bytes.length}`;
      const [k, v] = Object.entries(x)[0];
      return `${k}:${String(v)}`;
    });
    if (fn.name === 'qs_q8_geometry') this.q8Header = (fn as { header?: string }).header ?? '';
    this.log.push(
      `launch ${fn.name} grid ${grid.join('x')} block ${block.join('x')} shared ${shared}` +
        ` (${a.join(', ')})${options?.overlapPrevious ? ' overlap' : ''}`,
    );
  }
  eventCreate() {
    return {};
  }
  eventRecord() {}
  eventElapsedMs() {
    return 1;
  }
  eventDestroy() {}
  synchronize() {}
  resetAfterFault() {}
  dispose() {}
}

const SNAPSHOT = path.join(__dirname, 'plan-snapshot.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-plan-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** recorded lines by group: `${env} ${arch} ${format} n=${n} k=${k}` */
async function planGroups(): Promise<Map<string, string[]>> {
  const groups = new Map<string, string[]>();
  const xs = new Map<number, Float32Array>();
  const xFor = (len: number) => {
    let x = xs.get(len);
    if (!x) xs.set(len, (x = new Float32Array(len)));
    return x;
  };
  for (const [envName, env] of Object.entries(ENVS))
    for (const dev of DEVICES) {
      // the environment holds for the whole session, as in a process
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      const rt = new RecordingRuntime(dev.kind, dev);
      const session = await createGpuBackend(dev.kind, () => rt, { cacheDir: null, prebuiltDir: null }).open(
        0,
      );
      for (const type of FORMATS)
        for (const { n, k } of SHAPES) {
          const data = new Uint8Array(rowBytes(type, k) * n);
          const lines: string[] = [];
          groups.set(`${envName} ${dev.arch} ${typeName(type)} n=${n} k=${k}`, lines);
          rt.nextLabel = 'w';
          const lw = await session.load({ type, n, k, data, name: 't' });
          for (const m of MS)
            for (const choice of PATHS) {
              rt.startRun();
              const head = `${envName} ${dev.arch} ${typeName(type)} n=${n} k=${k} m=${m} ${choice}:`;
              try {
                const r = await session.run(lw, xFor(m * k), m, { path: choice });
                lines.push(`${head} ${r.path} | ${r.detail}`);
                for (const l of rt.log) lines.push(`  ${l}`);
              } catch (e) {
                lines.push(`${head} error ${(e as Error).message}`);
              }
            }
          lw.dispose();
        }
      await session.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  // a user's code object, with its geometry variables
  const lines: string[] = [];
  groups.set('custom sm_90 Q4_K n=100 k=768', lines);
  const custom = path.join(tmp, 'k.cubin');
  fs.writeFileSync(custom, 'CUBIN');
  const env = {
    Q4_K_MATMUL_CUBIN: custom,
    QS_CUSTOM_GRID: 'n/4,m',
    QS_CUSTOM_BLOCK: '128',
    QS_CUSTOM_SHARED: '1024',
  };
  Object.assign(process.env, env);
  try {
    const rt = new RecordingRuntime('cuda', DEVICES[0]);
    const s = await createGpuBackend('cuda', () => rt, { cacheDir: null, prebuiltDir: null }).open(0);
    rt.nextLabel = 'w';
    const lw = await s.load({
      type: GgmlType.Q4_K,
      n: 100,
      k: 768,
      data: new Uint8Array(rowBytes(GgmlType.Q4_K, 768) * 100),
      name: 't',
    });
    for (const m of [1, 9]) {
      rt.startRun();
      const r = await s.run(lw, xFor(m * 768), m);
      lines.push(
        `custom sm_90 Q4_K n=100 k=768 m=${m} auto: ${r.path} | ${(r.detail ?? '').replace(tmp, '<tmp>')}`,
      );
      for (const l of rt.log) lines.push(`  ${l}`);
    }
    await s.close();
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
  return groups;
}

const hash = (lines: string[]) =>
  crypto.createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 24);
const SHOWN = new Set([
  'default sm_90 Q4_K n=4096 k=14336',
  'default gfx90a:sramecc+:xnack- Q4_K n=4096 k=14336',
]);

function snapshotText(groups: Map<string, string[]>): string {
  const out: string[] = [];
  for (const [g, lines] of groups) out.push(`${g}: ${hash(lines)}`);
  for (const g of SHOWN) out.push('', `== ${g}`, ...groups.get(g)!);
  return out.join('\n') + '\n';
}

describe('GPU path planning', () => {
  it('plans exactly the launches recorded in plan-snapshot.txt', async () => {
    const groups = await planGroups();
    // QS_PLAN_DUMP=<file>: every group in full, to compare two versions of the planner line by line
    if (process.env.QS_PLAN_DUMP)
      fs.writeFileSync(
        process.env.QS_PLAN_DUMP,
        [...groups].map(([g, l]) => [`== ${g}`, ...l].join('\n')).join('\n'),
      );
    if (process.env.QS_UPDATE_PLAN_SNAPSHOT === '1' || !fs.existsSync(SNAPSHOT)) {
      fs.writeFileSync(SNAPSHOT, snapshotText(groups));
      console.log(`wrote ${SNAPSHOT}`);
    }
    const want = new Map<string, string>();
    for (const line of fs.readFileSync(SNAPSHOT, 'utf8').split('\n')) {
      const mt = /^(.+): ([0-9a-f]{24})$/.exec(line);
      if (mt) want.set(mt[1], mt[2]);
    }
    expect([...groups.keys()]).toEqual([...want.keys()]);
    for (const [g, lines] of groups)
      if (hash(lines) !== want.get(g)) expect(`${g}\n${lines.join('\n')}`).toBe(`${g}: ${want.get(g)}`);
    expect(snapshotText(groups)).toBe(fs.readFileSync(SNAPSHOT, 'utf8'));
  }, 120_000);
});
