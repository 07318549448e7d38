// Runs scripts/build-kernels.mjs with the real toolchains: nvcc (sm_80, sm_90 cubin + compute_90 PTX)
// and hipcc (gfx90a, gfx1030 HSACO), on a tiny fixture and on a real kernel (all of them with
// QS_TEST_FULL=1, or `npm run build:kernels`). A missing compiler skips its tests with the reason
// printed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src-main/engine/formats/registry';
import { findTool } from './tools';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/build-kernels.mjs');
const FIXTURE = 'test/kernels/fixtures/ok';
// every compile takes seconds on a shared machine: one real kernel by default, all with QS_TEST_FULL=1
const REAL = (
  process.env.QS_TEST_FULL === '1' && existsSync(path.join(ROOT, 'kernels'))
    ? readdirSync(path.join(ROOT, 'kernels')).filter((f) => f.endsWith('.cu'))
    : ['q4_0.cu']
).filter((f) => existsSync(path.join(ROOT, 'kernels', f)));
const STEMS = ['axpy', ...REAL.map((f) => path.basename(f, '.cu'))];

const work = mkdtempSync(path.join(tmpdir(), 'qs-build-kernels-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// Build from a snapshot: the kernel sources are edited by others while this runs.
const snap = path.join(work, 'src');
mkdirSync(snap);
for (const f of readdirSync(path.join(ROOT, FIXTURE)))
  copyFileSync(path.join(ROOT, FIXTURE, f), path.join(snap, f));
if (REAL.length) {
  for (const f of readdirSync(path.join(ROOT, 'kernels')).filter(
    (x) => /\.(h|cuh)$/.test(x) || REAL.includes(x),
  )) {
    copyFileSync(path.join(ROOT, 'kernels', f), path.join(snap, f));
  }
}
const SOURCES = [path.join(snap, 'axpy.cu'), ...REAL.map((f) => path.join(snap, f))];

const nvcc = findTool('nvcc', ['/usr/local/cuda/bin']);
const hipcc = findTool('hipcc', ['/opt/rocm/bin']);
if (!nvcc) console.log('[kernels] nvcc tests skipped: nvcc not found on PATH or in /usr/local/cuda/bin');
if (!hipcc) console.log('[kernels] hipcc tests skipped: hipcc not found on PATH or in /opt/rocm/bin');
if (!REAL.length) console.log('[kernels] kernels/*.cu not present: only the fixture is compiled');

function build(args: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Entry {
  file: string;
  source: string;
  sourceSha256: string;
  arch: string;
  kind: string;
  compiler: string;
  compilerVersion: string;
  bytes: number;
  sha256: string;
}
function manifest(dir: string): { entries: Entry[]; skipped: { toolchain: string; reason: string }[] } {
  return JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
}

function elf(buf: Buffer): { machine: number; flags: number } {
  expect(Array.from(buf.subarray(0, 4))).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  expect(buf[4]).toBe(2); // ELFCLASS64
  return { machine: buf.readUInt16LE(18), flags: buf.readUInt32LE(48) };
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('build-kernels with nvcc', () => {
  it.skipIf(!nvcc)(
    'builds sm_80 and sm_90 cubins and compute_90 PTX for every source',
    () => {
      const out = path.join(work, 'cuda');
      const r = build([
        '--only',
        'cuda',
        '--arch',
        'sm_80,sm_90,compute_90',
        '--src',
        SOURCES.join(','),
        '--out',
        out,
        '--require',
        '--jobs',
        '2',
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const m = manifest(out);
      for (const stem of STEMS) {
        for (const arch of ['sm_80', 'sm_90']) {
          const f = path.join(out, `${stem}.${arch}.cubin`);
          const buf = readFileSync(f);
          expect(buf.length).toBeGreaterThan(500);
          expect(elf(buf).machine).toBe(190); // EM_CUDA
          const e = m.entries.find((x) => x.file === `${stem}.${arch}.cubin`)!;
          expect(e).toBeDefined();
          expect(e).toMatchObject({
            arch,
            kind: 'cubin',
            compiler: 'nvcc',
            bytes: buf.length,
            sha256: sha(f),
          });
          expect(e.compilerVersion).toMatch(/^nvcc \d+\.\d+/);
          expect(e.sourceSha256).toBe(sha(path.join(ROOT, e.source)));
        }
        const ptx = readFileSync(path.join(out, `${stem}.compute_90.ptx`), 'utf8');
        expect(ptx).toMatch(/^\.target sm_90/m);
        expect(ptx).toMatch(/\.entry /);
      }
      // a second run finds everything up to date
      const again = build([
        '--only',
        'cuda',
        '--arch',
        'sm_80,sm_90,compute_90',
        '--src',
        SOURCES.join(','),
        '--out',
        out,
      ]);
      expect(again.code).toBe(0);
      expect(again.out).toMatch(new RegExp(`0 built, ${STEMS.length * 3} up to date, 0 failed`));
    },
    900_000,
  );
});

describe('build-kernels with hipcc', () => {
  it.skipIf(!hipcc)(
    'builds gfx90a and gfx1030 code objects (plain AMDGPU ELF, not offload bundles) for every source',
    () => {
      const out = path.join(work, 'hip');
      const r = build([
        '--only',
        'hip',
        '--arch',
        'gfx90a,gfx1030',
        '--src',
        SOURCES.join(','),
        '--out',
        out,
        '--require',
        '--jobs',
        '2',
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const m = manifest(out);
      // e_flags low byte: EF_AMDGPU_MACH_AMDGCN_GFX90A = 0x3f, GFX1030 = 0x36
      for (const [arch, mach] of [
        ['gfx90a', 0x3f],
        ['gfx1030', 0x36],
      ] as const) {
        for (const stem of STEMS) {
          const f = path.join(out, `${stem}.${arch}.hsaco`);
          const buf = readFileSync(f);
          expect(buf.length).toBeGreaterThan(500);
          const { machine, flags } = elf(buf);
          expect(machine).toBe(224); // EM_AMDGPU
          expect(flags & 0xff).toBe(mach);
          const e = m.entries.find((x) => x.file === `${stem}.${arch}.hsaco`)!;
          expect(e).toMatchObject({
            arch,
            kind: 'hsaco',
            compiler: 'hipcc',
            bytes: buf.length,
            sha256: sha(f),
          });
          expect(e.compilerVersion).toMatch(/^hipcc \d/);
          // the int8 MFMA kernel (qs_mfma_i8.h) is in the CDNA object of a format with int8 matrix-unit
          // traits, and only there
          if (stem !== 'axpy')
            expect(buf.includes('qs_mfma_i8.kd'), `${stem}.${arch}: qs_mfma_i8`).toBe(
              arch === 'gfx90a' &&
                !!FORMATS.find((f) => f.gpu?.stem === stem)?.gpu?.paths.includes('int8-mma'),
            );
        }
      }
    },
    900_000,
  );

  it.skipIf(!hipcc)(
    'reports a compile error in one line naming the file and the target, and exits 1',
    () => {
      const r = build([
        '--only',
        'hip',
        '--arch',
        'gfx90a',
        '--src',
        'test/kernels/fixtures/broken',
        '--out',
        path.join(work, 'broken'),
      ]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /^build-kernels: error: hipcc failed on test\/kernels\/fixtures\/broken\/broken\.cu for gfx90a: .*undeclared identifier/m,
      );
      expect(existsSync(path.join(work, 'broken', 'broken.gfx90a.hsaco'))).toBe(false);
    },
    300_000,
  );
});

// The AMD int8 MFMA kernel beyond the default targets: gfx94x's 16x16x32 form with hipcc, and the CUDA
// build with the instruction emulated (QS_MFMA_I8_EMULATE=1: the gfx90a form, 2: gfx94x), which the
// selftest runs on an NVIDIA GPU (QS_KERNEL_DEFINES=QS_MFMA_I8_EMULATE=1).
describe('the AMD int8 MFMA kernel (qs_mfma_i8) for gfx940 and emulated for sm_90', () => {
  const src = path.join(snap, 'q4_0.cu');
  const run = (cmd: string, args: string[], env = process.env) =>
    spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 600_000, env });

  it.skipIf(!hipcc || !existsSync(src))(
    'hipcc builds it for gfx940 on v_mfma_i32_16x16x32_i8',
    () => {
      const out = path.join(work, 'q4_0.gfx940.s');
      const r = run(
        hipcc!,
        [
          '-S',
          '--cuda-device-only',
          '--offload-arch=gfx940',
          '-O3',
          '-std=c++17',
          '-x',
          'hip',
          src,
          '-o',
          out,
        ],
        { ...process.env, HIP_PLATFORM: 'amd' },
      );
      if (/invalid target ID|unsupported|unknown target/i.test(r.stderr)) {
        console.log(
          `[kernels] gfx940 skipped: this hipcc does not know the target (${r.stderr.split('\n')[0]})`,
        );
        return;
      }
      expect(r.status, r.stderr).toBe(0);
      const asm = readFileSync(out, 'utf8');
      const body = asm.slice(
        asm.indexOf('qs_mfma_i8:'),
        asm.indexOf('.Lfunc_end', asm.indexOf('qs_mfma_i8:')),
      );
      // 4 k-steps' 16 tiles unrolled, one instruction per tile and k-step; none of gfx90a's 16x16x16
      expect(body.match(/v_mfma_i32_16x16x32_i8/g)?.length ?? 0).toBeGreaterThanOrEqual(16);
      expect(body).not.toMatch(/v_mfma_i32_16x16x16i8/);
    },
    600_000,
  );

  it.skipIf(!nvcc || !existsSync(src))(
    'nvcc builds it for sm_90 with QS_MFMA_I8_EMULATE=1 and 2, and refuses another value in one line',
    () => {
      for (const form of [1, 2]) {
        const out = path.join(work, `q4_0.emulate${form}.cubin`);
        const r = run(nvcc!, [
          '-cubin',
          '-arch=sm_90',
          '-O3',
          '-std=c++17',
          `-DQS_MFMA_I8_EMULATE=${form}`,
          '-o',
          out,
          src,
        ]);
        expect(r.status, r.stderr).toBe(0);
        const cubin = readFileSync(out);
        expect(cubin.includes('qs_mfma_i8_geometry')).toBe(true);
        expect(cubin.includes('qs_mma_i8')).toBe(true); // the CUDA kernel stays beside it
      }
      const bad = run(nvcc!, [
        '-cubin',
        '-arch=sm_90',
        '-DQS_MFMA_I8_EMULATE=3',
        '-o',
        path.join(work, 'bad.cubin'),
        src,
      ]);
      expect(bad.status).not.toBe(0);
      expect(bad.stdout + bad.stderr).toMatch(
        /QS_MFMA_I8_EMULATE must be 1 \(the gfx90a instruction, 16x16x16\) or 2/,
      );
    },
    600_000,
  );
});

// Hopper's warpgroup kernel (kernels/qs_wgmma_i8.h) exists only in sm_90a code (wgmma is an
// architecture-specific instruction), only for formats with one scale per 32 elements, and only with
// QS_WGMMA_I8=1 (the backend asks for it when QS_MMA_I8_TILE=wgmma).
describe('the warpgroup int8 kernel (qs_wgmma_i8) for sm_90a', () => {
  const build = (stem: string, arch: string, on: boolean) => {
    const out = path.join(work, `${stem}.wg${on ? 1 : 0}.${arch}.cubin`);
    const src = path.join(ROOT, 'kernels', `${stem}.cu`);
    const flags = on ? ['-DQS_WGMMA_I8=1'] : [];
    const r = spawnSync(nvcc!, ['-cubin', `-arch=${arch}`, '-O3', '-std=c++17', ...flags, '-o', out, src], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(out);
  };

  it.skipIf(!nvcc)(
    'is in the sm_90a build of Q4_0 asked for it, with its launch facts; not without the define, for sm_90, or for Q6_K',
    () => {
      const q40 = build('q4_0', 'sm_90a', true);
      expect(q40.includes('qs_wgmma_i8_geometry')).toBe(true);
      expect(q40.includes('qs_mma_i8_16x256')).toBe(true); // the mma.sync tiles stay beside it
      expect(build('q4_0', 'sm_90a', false).includes('qs_wgmma_i8')).toBe(false);
      expect(build('q4_0', 'sm_90', true).includes('qs_wgmma_i8')).toBe(false);
      const q6k = build('q6_k', 'sm_90a', true);
      expect(q6k.includes('qs_wgmma_i8')).toBe(false);
      expect(q6k.includes('qs_mma_i8_geometry')).toBe(true);
    },
    600_000,
  );
});

// Hopper's bfloat16 warpgroup kernels (kernels/qs_wgmma_bf16.h): in every quantized format's sm_90a build,
// absent from other targets and with QS_WGMMA_BF16=0. ptxas warns (C7513) when it has to serialize the
// asynchronous matrix operations, which a branch between them causes; that would cost most of their speed,
// so the warning, or a spill, fails the build here.
describe('the bfloat16 warpgroup kernels (qs_wgmma_bf16, _256, and their _tma forms) for sm_90a', () => {
  // the matmul kernels: the row-copy tiles (128, 256 rows) and the tensor-copy ones (128, 256, 64, 32)
  const WB_KERNELS = [
    'qs_wgmma_bf16',
    'qs_wgmma_bf16_256',
    'qs_wgmma_bf16_tma',
    'qs_wgmma_bf16_256_tma',
    'qs_wgmma_bf16_64_tma',
    'qs_wgmma_bf16_32_tma',
  ];
  const build = (stem: string, arch: string, flags: string[] = []) => {
    const out = path.join(work, `${stem}.wb${flags.length}.${arch}.cubin`);
    const src = path.join(ROOT, 'kernels', `${stem}.cu`);
    const r = spawnSync(
      nvcc!,
      ['-cubin', `-arch=${arch}`, '-O3', '-std=c++17', '-Xptxas', '-v', ...flags, '-o', out, src],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    // ptxas -v: one "Compiling entry function 'NAME'" section per kernel
    const sections = new Map<string, string>();
    for (const part of r.stderr.split(/Compiling entry function '/).slice(1)) {
      const name = part.slice(0, part.indexOf("'"));
      sections.set(name, part);
    }
    return { bin: readFileSync(out), stderr: r.stderr, sections };
  };

  it.skipIf(!nvcc)(
    'are in the sm_90a builds (Q4_0, Q4_K, Q6_K, Q3_K, Q2_K) without serialized matrix operations or spills; not for sm_90 or with QS_WGMMA_BF16=0; QS_WB_TMA=0 leaves the tensor-copy forms out',
    () => {
      // Q4_0: the per-step decode; the K-quants: their slice decodes (Q2_K's 128-row kernel is at 255 registers)
      for (const stem of ['q4_0', 'q4_k', 'q6_k', 'q3_k', 'q2_k']) {
        const { bin, stderr, sections } = build(stem, 'sm_90a');
        for (const name of [...WB_KERNELS, 'qs_x_bf16w']) {
          expect(bin.includes(`${name}\0`), `${stem}: ${name}`).toBe(true);
          expect(sections.has(name), `${stem}: ptxas compiled ${name}`).toBe(true);
        }
        expect(stderr, stem).not.toMatch(/C7513|wgmma[^\n]*serialized/);
        for (const name of WB_KERNELS)
          expect(sections.get(name), `${stem}: ${name}`).toMatch(
            /\b0 bytes spill stores, 0 bytes spill loads/,
          );
      }
      expect(build('q4_0', 'sm_90').bin.includes('qs_wgmma_bf16')).toBe(false);
      const off = build('q4_0', 'sm_90a', ['-DQS_WGMMA_BF16=0']).bin;
      expect(off.includes('qs_wgmma_bf16')).toBe(false);
      expect(off.includes('qs_mma_f16')).toBe(true); // the mma.sync bfloat16 kernel stays
      // QS_WB_TMA=0: the row-copy kernels only
      const rows = build('q4_0', 'sm_90a', ['-DQS_WB_TMA=0']).bin;
      expect(rows.includes('qs_wgmma_bf16\0')).toBe(true);
      expect(rows.includes('qs_wgmma_bf16_tma')).toBe(false);
    },
    900_000,
  );
});

// The small-batch int8 kernels (kernels/qs_small_q8.h): where a format's table loads one batch ahead
// (QS_Q8_PT), a thread holds two batches of raw weights, and a spill would put them in local memory and
// undo the point of it. Every qs_q8_m<M> of those formats must build for Hopper without spilling.
describe('the small-batch int8 kernels (qs_q8_m1 .. qs_q8_m8) for sm_90a', () => {
  it.skipIf(!nvcc)(
    'build without spills in the formats whose table loads a batch ahead (Q4_0, Q4_1, Q5_0, Q5_1)',
    () => {
      for (const stem of ['q4_0', 'q4_1', 'q5_0', 'q5_1']) {
        const header = readFileSync(path.join(ROOT, 'kernels', `${stem}.h`), 'utf8');
        expect(header, stem).toMatch(/#define QS_Q8_PT [01, ]*1/);
        const out = path.join(work, `${stem}.q8.sm_90a.cubin`);
        const r = spawnSync(
          nvcc!,
          [
            '-cubin',
            '-arch=sm_90a',
            '-O3',
            '-std=c++17',
            '-Xptxas',
            '-v',
            '-o',
            out,
            path.join(ROOT, 'kernels', `${stem}.cu`),
          ],
          { cwd: ROOT, encoding: 'utf8', timeout: 600_000 },
        );
        expect(r.status, r.stderr).toBe(0);
        const sections = new Map<string, string>();
        for (const part of r.stderr.split(/Compiling entry function '/).slice(1))
          sections.set(part.slice(0, part.indexOf("'")), part);
        for (let m = 1; m <= 8; m++) {
          const name = `qs_q8_m${m}`;
          expect(sections.has(name), `${stem}: ptxas compiled ${name}`).toBe(true);
          expect(sections.get(name), `${stem}: ${name}`).toMatch(
            /\b0 bytes spill stores, 0 bytes spill loads/,
          );
        }
      }
    },
    900_000,
  );
});

// The small-batch int8 kernels on AMD: HIP builds take the AMD rows per block (QS_Q8_RT_AMD) and leave
// out the Hopper register caps (QS_Q8_BT, which HIP's __launch_bounds__ would read as waves per SIMD:
// Q4_0's m = 3 and 4 kernels would be held to 64 VGPRs on gfx90a and spill). hipcc's resource-usage
// remarks give each kernel's VGPR spills.
describe('the small-batch int8 kernels (qs_q8_m1 .. qs_q8_m8) for gfx90a and gfx1030', () => {
  const STEMS12 = [
    'q4_0',
    'q4_1',
    'q5_0',
    'q5_1',
    'q8_0',
    'q2_k',
    'q3_k',
    'q4_k',
    'q5_k',
    'q6_k',
    'iq4_nl',
    'iq4_xs',
  ];
  it.skipIf(!hipcc)(
    'build without VGPR spills for every format and m',
    () => {
      for (const stem of ['q4_0', 'q6_k'])
        expect(readFileSync(path.join(ROOT, 'kernels', `${stem}.h`), 'utf8'), stem).toMatch(
          /#define QS_Q8_BT [0-9, ]*[2-9]/,
        );
      for (const arch of ['gfx90a', 'gfx1030']) {
        for (const stem of STEMS12) {
          const r = spawnSync(
            hipcc!,
            [
              '--genco',
              `--offload-arch=${arch}`,
              '-O3',
              '-std=c++17',
              '-Rpass-analysis=kernel-resource-usage',
              '-o',
              path.join(work, `${stem}.q8.${arch}.hsaco`),
              path.join(ROOT, 'kernels', `${stem}.cu`),
            ],
            { cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, HIP_PLATFORM: 'amd' } },
          );
          expect(r.status, r.stderr.slice(-2000)).toBe(0);
          const spills = new Map<string, number>();
          let fn = '';
          for (const line of r.stderr.split('\n')) {
            const name = /remark: Function Name: (\S+)/.exec(line);
            if (name) fn = name[1];
            const spill = /remark:\s+VGPRs Spill: (\d+)/.exec(line);
            if (spill) spills.set(fn, Number(spill[1]));
          }
          for (let m = 1; m <= 8; m++)
            expect(spills.get(`qs_q8_m${m}`), `${stem} ${arch}: qs_q8_m${m}'s VGPR spills`).toBe(0);
        }
      }
    },
    1_800_000,
  );
});

// The small kernels' weight loads (qs_ldg4/8/16 behind qs_q8_load, kernels/qs_port.h) carry the L1
// eviction priority the format header declares: evict_first for Q5_0, Q5_1, IQ4_NL, Q5_K, Q6_K and Q8_0
// (QS_LDL1=2), none for Q4_0; QS_LDL1 from QS_KERNEL_DEFINES overrides it (0: the plain loads, 1: no_allocate).
describe("the L1 eviction priority of the small kernels' weight loads (QS_LDL1)", () => {
  const ptx = (stem: string, flags: string[] = []) => {
    const out = path.join(work, `${stem}.ldl1${flags.join('')}.ptx`);
    const r = spawnSync(
      nvcc!,
      [
        '-ptx',
        '-arch=sm_90',
        '-O3',
        '-std=c++17',
        ...flags,
        '-o',
        out,
        path.join(ROOT, 'kernels', `${stem}.cu`),
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 600_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    return (re: RegExp) => (text.match(re) ?? []).length;
  };
  it.skipIf(!nvcc)(
    "is evict_first in the Q5_K, Q6_K and Q8_0 builds, absent from Q4_0's, and follows QS_LDL1",
    () => {
      for (const stem of ['q5_0', 'q5_1', 'iq4_nl', 'q5_k', 'q6_k', 'q8_0']) {
        const count = ptx(stem);
        expect(count(/ld\.global\.nc\.L1::evict_first/g), stem).toBeGreaterThan(0);
        expect(count(/L1::no_allocate/g), stem).toBe(0);
        const plain = ptx(stem, ['-DQS_LDL1=0']);
        expect(plain(/L1::evict_first|L1::no_allocate/g), `${stem} QS_LDL1=0`).toBe(0);
      }
      expect(ptx('q4_0')(/L1::evict_first|L1::no_allocate/g)).toBe(0);
      const na = ptx('q4_0', ['-DQS_LDL1=1']);
      expect(na(/ld\.global\.nc\.L1::no_allocate\.u32/g)).toBeGreaterThan(0);
    },
    900_000,
  );
});

describe('build-kernels without a compiler, and bad usage', () => {
  it('notes a missing compiler and exits 0, or exits 1 with --require', () => {
    const out = path.join(work, 'missing');
    const args = [
      '--src',
      FIXTURE,
      '--out',
      out,
      '--nvcc',
      '/nonexistent/nvcc',
      '--hipcc',
      '/nonexistent/hipcc',
    ];
    const r = build(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/note: nvcc not found at \/nonexistent\/nvcc; skipping CUDA/);
    expect(r.out).toMatch(/note: hipcc not found at \/nonexistent\/hipcc; skipping HIP/);
    expect(manifest(out).skipped.map((s) => s.toolchain)).toEqual(['cuda', 'hip']);
    expect(manifest(out).entries).toEqual([]);
    const req = build([...args, '--require']);
    expect(req.code).toBe(1);
    expect(req.err).toMatch(/^build-kernels: error: --require: nvcc not found at \/nonexistent\/nvcc/);
  });

  it('rejects bad options with a one-line usage error (exit 2)', () => {
    for (const [args, msg] of [
      [['--only', 'rocm'], /--only must be cuda or hip, got 'rocm'/],
      [['--arch', 'sm_90,volta'], /unknown architecture 'volta'/],
      [['--src', 'no/such/dir'], /source no\/such\/dir does not exist/],
      [['--jobs', '0'], /--jobs must be an integer/],
      [['--bogus'], /unknown option '--bogus'/],
    ] as const) {
      const r = build([...args]);
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(msg);
    }
  });
});
