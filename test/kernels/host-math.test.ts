// The kernels' own device functions, compiled for the CPU (g++ -DQS_HOST, kernels/qs_host.h) and run
// without a GPU: the exact block decoder (qs_dq8, behind the float32 and bfloat16 paths) must equal the
// reference dequantization bit for bit, and the int8 path's arithmetic (qs_x_q8's quantization, then
// qs_q8_load / qs_q8_unpack / qs_q8_dot for every unit) must be exact up to float32 accumulation when x
// is representable in int8 per 32, and for any x the quantizer must be the declared 'qs8' arithmetic bit
// for bit and the dots its float64 reference up to float32 rounding. Random bytes (every nibble, scale and sign pattern) and quantizer
// output both go through. Skips with the reason printed when there is no g++.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dequantize, quantize } from '../../src-main/engine/formats';
import { f32ToFp16 } from '../../src-main/engine/formats/half';
import {
  GgmlType,
  SUPPORTED_TYPES,
  isSupported,
  rowBytes,
  typeInfo,
  typeName,
} from '../../src-main/engine/ggml-types';
import { kernelSourceFor } from '../../src-main/engine/backends/gpu/kernel-sources';
import { parseQ8Geometry } from '../../src-main/engine/backends/gpu/backend';
import { gpuHasPath } from '../../src-main/engine/formats/registry';
import { Rng } from '../../src-main/engine/rng';
import { quantizeInt8 } from '../../src-main/engine/arithmetic/activations';
import { KERNEL_BAR, SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { compareOutputs, judge } from '../../src-main/engine/compare';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const probe = spawnSync('g++', ['--version'], { encoding: 'utf8' });
const GXX = probe.status === 0;
if (!GXX) console.log(`host kernel math skipped: g++ not found (${probe.error?.message ?? probe.stderr})`);

const work = mkdtempSync(path.join(tmpdir(), 'qs-host-math-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** byte offsets of the float16 scale fields of one block (set to finite values in random blocks) */
const HALVES: Record<number, number[]> = {
  [GgmlType.Q4_0]: [0],
  [GgmlType.Q4_1]: [0, 2],
  [GgmlType.Q5_0]: [0],
  [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0],
  [GgmlType.Q2_K]: [80, 82],
  [GgmlType.Q3_K]: [108],
  [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2],
  [GgmlType.Q6_K]: [208],
  [GgmlType.IQ4_NL]: [0],
  [GgmlType.IQ4_XS]: [0],
};
/** the formats whose header has a slice decode for Hopper's bfloat16 warpgroup kernel (QS_WB_SLICE) */
const WB_SLICE = new Set<number>([GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]);
/** the formats test/kernels/host/reference.cpp dequantizes too (an independent scalar reference) */
const CPP_REFERENCE = new Set<number>([
  GgmlType.Q4_0,
  GgmlType.Q4_1,
  GgmlType.Q5_0,
  GgmlType.Q5_1,
  GgmlType.Q8_0,
  GgmlType.Q2_K,
  GgmlType.Q3_K,
  GgmlType.IQ4_NL,
  GgmlType.IQ4_XS,
]);
const block = (type: number): [number, number] => {
  const t = typeInfo(type)!;
  return [t.blockElems, t.blockBytes];
};

let referenceExe: string | null = null;
/** the scalar C++ reference dequantization (test/kernels/host/reference.cpp) */
function cppReference(type: number, w: Uint8Array, n: number, k: number): Float32Array {
  if (!referenceExe) {
    const exe = path.join(work, 'reference');
    const r = spawnSync(
      'g++',
      [
        '-std=c++17',
        '-O1',
        '-ffp-contract=off',
        path.join(ROOT, 'test/kernels/host/reference.cpp'),
        '-o',
        exe,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`g++ failed for reference.cpp:\n${r.stderr}`);
    referenceExe = exe;
  }
  const inp = path.join(work, `ref-in-${type}.bin`);
  const out = path.join(work, `ref-out-${type}.bin`);
  writeFileSync(inp, Buffer.concat([Buffer.from(new Int32Array([n, k, 0]).buffer), Buffer.from(w)]));
  const r = spawnSync(referenceExe, [String(type), inp, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference exited ${r.status}: ${r.stderr}`);
  const buf = readFileSync(out);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
}

/** the harness's "kernel IN OUT" mode: the quantizer and the small kernel themselves on the CPU */
function runKernel(exe: string, input: string, name: string): Float32Array {
  const out = path.join(work, name);
  const r = spawnSync(exe, ['kernel', input, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`harness kernel exited ${r.status}: ${r.stderr}`);
  const buf = readFileSync(out);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

/** the small kernel's launch geometry of a harness build of `type` (qs_q8_geometry on the CPU) */
function q8Geometry(exe: string, type: number) {
  const r = spawnSync(exe, ['geometry'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`harness geometry exited ${r.status}: ${r.stderr}`);
  return parseQ8Geometry(new Int32Array(r.stdout.trim().split(/\s+/).map(Number)), type);
}

function harness(type: number, defines: string[] = []): string {
  const exe = path.join(work, `harness-${type}${defines.join('')}`);
  const r = spawnSync(
    'g++',
    [
      '-std=c++17',
      '-O1',
      '-ffp-contract=off',
      '-Wno-unknown-pragmas',
      '-DQS_HOST',
      '-include',
      `${kernelSourceFor(type)!.stem}.h`,
      ...defines.map((d) => `-D${d}`),
      '-I',
      path.join(ROOT, 'kernels'),
      path.join(ROOT, 'test/kernels/host/harness.cpp'),
      '-o',
      exe,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`g++ failed for ${typeName(type)}:\n${r.stderr}`);
  return exe;
}

/**
 * n rows: the first half from the quantizer (where the TypeScript codec exists), the rest random bytes
 * with finite scales
 */
function weights(type: number, n: number, k: number, rng: Rng): Uint8Array {
  const rb = rowBytes(type, k);
  const half = isSupported(type) ? Math.ceil(n / 2) : 0;
  const v = new Float32Array(half * k).map(() => rng.normal());
  const data = new Uint8Array(n * rb);
  if (half) data.set(quantize(type, v, half, k));
  const [, bb] = block(type);
  for (let i = half * rb; i < n * rb; i++) data[i] = rng.u32() & 0xff;
  for (let b = half * rb; b < n * rb; b += bb)
    for (const o of HALVES[type]) {
      const h = f32ToFp16((rng.next() * 2 - 1) * 2 ** (rng.next() * 8 - 6));
      data[b + o] = h & 0xff;
      data[b + o + 1] = h >> 8;
    }
  return data;
}

// The kernel's outputs against the unit-by-unit sums: not all zero, and each within float32 summation order
// (1e-5 of the largest). label names the case in a failure.
function expectUnitSums(got: Float32Array, want: Float32Array, label: string): void {
  const scale = Math.max(...want.map(Math.abs));
  expect(scale, `${label}: the outputs are not all zero`).toBeGreaterThan(0);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i] - want[i]), `${label}, output ${i}`).toBeLessThanOrEqual(1e-5 * scale);
}

function run(type: number, exe: string, w: Uint8Array, x: Float32Array, n: number, k: number, m: number) {
  const inp = path.join(work, `in-${type}.bin`);
  const out = path.join(work, `out-${type}.bin`);
  const hdr = new Int32Array([n, k, m]);
  writeFileSync(inp, Buffer.concat([Buffer.from(hdr.buffer), Buffer.from(w), Buffer.from(x.buffer)]));
  const r = spawnSync(exe, [inp, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`harness exited ${r.status}: ${r.stderr}`);
  const buf = readFileSync(out);
  const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  // after dq and y: the quantized activations (int8 [m][k]) and their (d, sum) pairs, then the optional
  // sections the harness names on stdout: the int8 matrix-unit decoding of the weights (i8), Hopper's
  // bfloat16 slice decode (wb-slice)
  const sections = r.stdout.split('\n').filter(Boolean);
  const o = n * k + m * n;
  const e = o + (m * k) / 4 + (m * k) / 16;
  return {
    /** the input file, for the harness's other modes */
    input: inp,
    dq: f.slice(0, n * k),
    y: f.slice(n * k, o),
    xq: new Int8Array(buf.buffer, buf.byteOffset + 4 * o, m * k).slice(),
    xd: f.slice(o + (m * k) / 4, e),
    i8: sections.includes('i8') ? f.slice(e, e + n * k) : null,
    wbSlice: sections.includes('wb-slice')
      ? f.slice(e + (sections.includes('i8') ? n * k : 0), f.length)
      : null,
  };
}

// The kernels of m = 1..8 in the harness build `built` on the weights w (n x k) and fresh activations: each
// output has m * n values, the unit-by-unit sums that the harness build `exe` computes for the same input.
function expectKernelsEveryM(
  type: number,
  exe: string,
  built: string,
  w: Uint8Array,
  n: number,
  k: number,
  rng: Rng,
  outName: string,
): void {
  for (let m = 1; m <= 8; m++) {
    const x = new Float32Array(m * k).map(() => rng.normal());
    const { y: want, input } = run(type, exe, w, x, n, k, m);
    const got = runKernel(built, input, outName);
    expect(got.length).toBe(m * n);
    expectUnitSums(got, want, `m=${m}`);
  }
}

function reference(dq: Float32Array, x: Float32Array, n: number, k: number, m: number) {
  const y = new Float64Array(m * n);
  const mag = new Float64Array(m * n);
  for (let mi = 0; mi < m; mi++)
    for (let r = 0; r < n; r++) {
      let s = 0;
      let a = 0;
      for (let e = 0; e < k; e++) {
        const p = x[mi * k + e] * dq[r * k + e];
        s += p;
        a += Math.abs(p);
      }
      y[mi * n + r] = s;
      mag[mi * n + r] = a;
    }
  return { y, mag };
}

describe("the int8 small kernel's launch geometry (qs_q8_geometry on the CPU)", () => {
  it.skipIf(!GXX)("is the format's table, with the tuning defines it was compiled with", () => {
    // the table as kernels/q4_k.h writes it (QS_Q8_RT, QS_Q8_WT: m = 1 .. 8)
    const header = readFileSync(path.join(ROOT, 'kernels', 'q4_k.h'), 'utf8');
    const table = (name: string) =>
      new RegExp(`#define ${name} ([0-9, ]+)`)
        .exec(header)![1]
        .split(',')
        .map((v) => Number(v.trim()));
    const q4k = q8Geometry(harness(GgmlType.Q4_K), GgmlType.Q4_K);
    expect(table('QS_Q8_RT')).toHaveLength(8);
    expect(q4k.rows).toEqual(table('QS_Q8_RT'));
    expect(q4k.warps).toEqual(table('QS_Q8_WT'));
    expect(new Set(q4k.warps).size, 'the table varies with m').toBeGreaterThan(1);
    const tuned = q8Geometry(harness(GgmlType.Q4_K, ['QS_Q8_R=3', 'QS_Q8_W=5']), GgmlType.Q4_K);
    expect(tuned.rows).toEqual(new Array(8).fill(3));
    expect(tuned.warps).toEqual(new Array(8).fill(5));
    // a module of another format is refused
    const v = new Int32Array(26).fill(2);
    v[0] = GgmlType.Q6_K;
    v.fill(0, 17, 25);
    v[25] = 16;
    expect(() => parseQ8Geometry(v, GgmlType.Q4_K)).toThrow(
      /qs_q8_geometry of the Q4_K module returned 14,2,/,
    );
    // as is a split flag other than 0 or 1, or a row alignment that is not a power of two
    v[0] = GgmlType.Q4_K;
    expect(parseQ8Geometry(v, GgmlType.Q4_K).splitAlign).toBe(16);
    expect(() =>
      parseQ8Geometry(
        v.map((x, i) => (i === 17 ? 2 : x)),
        GgmlType.Q4_K,
      ),
    ).toThrow(/returned/);
    expect(() =>
      parseQ8Geometry(
        v.map((x, i) => (i === 25 ? 12 : x)),
        GgmlType.Q4_K,
      ),
    ).toThrow(/returned/);
  });

  it.skipIf(!GXX)(
    "names the batch sizes that read split rows: the format's QS_Q8_ST, QS_Q8_SPLIT for every m",
    () => {
      const table = (stem: string) =>
        /#define QS_Q8_ST ([0-9, ]+)/
          .exec(readFileSync(path.join(ROOT, 'kernels', `${stem}.h`), 'utf8'))![1]
          .split(',')
          .map((v) => Number(v.trim()) === 1);
      // Q4_0's table mixes the two (GGUF rows at m = 1)
      const q40 = q8Geometry(harness(GgmlType.Q4_0), GgmlType.Q4_0);
      expect(q40.split).toEqual(table('q4_0'));
      expect(q40.split).toContain(true);
      expect(q40.split).toContain(false);
      expect(q40.splitAlign).toBe(16);
      expect(q8Geometry(harness(GgmlType.Q6_K), GgmlType.Q6_K).split).toEqual(table('q6_k'));
      expect(q8Geometry(harness(GgmlType.Q8_0), GgmlType.Q8_0).split).toEqual(table('q8_0'));
      expect(q8Geometry(harness(GgmlType.Q6_K, ['QS_Q8_SPLIT=0']), GgmlType.Q6_K).split).toEqual(
        new Array(8).fill(false),
      );
      expect(q8Geometry(harness(GgmlType.Q6_K, ['QS_Q8_SPLIT=1']), GgmlType.Q6_K).split).toEqual(
        new Array(8).fill(true),
      );
      // a format without split rows never reads them
      expect(q8Geometry(harness(GgmlType.Q4_K, ['QS_Q8_SPLIT=1']), GgmlType.Q4_K).split).toEqual(
        new Array(8).fill(false),
      );
    },
  );
});

describe('split rows (qs_q8_split on the CPU)', () => {
  // each format's layout as kernels/<format>.h documents it: [offset in the block, length] of each piece,
  // in the order the pieces follow one another in a split row
  const LAYOUT: [string, number, [number, number][]][] = [
    [
      'Q4_0',
      GgmlType.Q4_0,
      [
        [2, 16],
        [0, 2],
      ],
    ],
    [
      'Q8_0',
      GgmlType.Q8_0,
      [
        [2, 32],
        [0, 2],
      ],
    ],
    [
      'Q6_K',
      GgmlType.Q6_K,
      [
        [0, 128],
        [128, 64],
        [192, 16],
        [208, 2],
      ],
    ],
    [
      'IQ4_NL',
      GgmlType.IQ4_NL,
      [
        [2, 16],
        [0, 2],
      ],
    ],
    [
      'Q4_1',
      GgmlType.Q4_1,
      [
        [4, 16],
        [0, 4],
      ],
    ],
    [
      'Q5_0',
      GgmlType.Q5_0,
      [
        [6, 16],
        [2, 4],
        [0, 2],
      ],
    ],
    [
      'Q5_1',
      GgmlType.Q5_1,
      [
        [8, 16],
        [0, 8],
      ],
    ],
  ];
  it.skipIf(!GXX).each(LAYOUT)(
    "%s: each row holds its blocks' pieces one run after another, rows 16-byte aligned, padding untouched",
    (_name, type, pieces) => {
      const exe = harness(type);
      const [qk, bb] = block(type);
      const rng = new Rng(41 + type);
      // 7 rows of 9 blocks: 9 * 34 and 9 * 210 bytes are not multiples of 16, so every split row is padded
      const n = 7;
      const k = 9 * qk;
      const w = weights(type, n, k, rng);
      const { input } = run(type, exe, w, new Float32Array(k), n, k, 1);
      const out = path.join(work, `split-${type}.bin`);
      const r = spawnSync(exe, ['split', input, out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const got = new Uint8Array(readFileSync(out));
      const nb = k / qk;
      const stride = Math.ceil((nb * bb) / 16) * 16;
      expect(stride).toBeGreaterThan(nb * bb);
      expect(got.length).toBe(n * stride);
      const want = new Uint8Array(n * stride).fill(0xa5);
      for (let row = 0; row < n; row++) {
        let at = row * stride;
        for (const [off, len] of pieces) {
          for (let b = 0; b < nb; b++)
            want.set(
              w.subarray(row * nb * bb + b * bb + off, row * nb * bb + b * bb + off + len),
              at + b * len,
            );
          at += nb * len;
        }
        expect(at - row * stride, 'the pieces cover the block').toBe(nb * bb);
      }
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
    },
  );

  // QS_Q6_QLX=1: piece 0 (ql) holds, for each 8-part unit p, its two 8-byte spans ql[64 hf + l0 ..] and
  // ql[64 hf + 32 + l0 ..] (hf = p / 4, l0 = 8 (p % 4)) one after the other; the other pieces as before
  it.skipIf(!GXX)("Q6_K with interleaved ql: each unit's two ql spans side by side", () => {
    const type = GgmlType.Q6_K;
    const exe = harness(type, ['QS_Q6_QLX=1']);
    const n = 3;
    const nb = 5;
    const k = nb * 256;
    const w = weights(type, n, k, new Rng(61));
    const { input } = run(type, exe, w, new Float32Array(k), n, k, 1);
    const out = path.join(work, 'split-qlx.bin');
    const r = spawnSync(exe, ['split', input, out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const got = new Uint8Array(readFileSync(out));
    const stride = Math.ceil((nb * 210) / 16) * 16;
    expect(got.length).toBe(n * stride);
    for (let row = 0; row < n; row++)
      for (let b = 0; b < nb; b++) {
        const blk = w.subarray((row * nb + b) * 210, (row * nb + b + 1) * 210);
        const ql = got.subarray(row * stride + b * 128, row * stride + b * 128 + 128);
        for (let p = 0; p < 8; p++) {
          const at = 64 * (p >> 2) + 8 * (p & 3);
          expect([...ql.subarray(16 * p, 16 * p + 16)], `row ${row}, block ${b}, unit ${p}`).toEqual([
            ...blk.subarray(at, at + 8),
            ...blk.subarray(at + 32, at + 40),
          ]);
        }
        // qh, scales and d in place, as without the interleave
        const qh = row * stride + nb * 128 + b * 64;
        expect([...got.subarray(qh, qh + 64)]).toEqual([...blk.subarray(128, 192)]);
        const d = row * stride + nb * 208 + b * 2;
        expect([...got.subarray(d, d + 2)]).toEqual([...blk.subarray(208, 210)]);
      }
  });

  it.skipIf(!GXX)('a format without split rows has no qs_q8_split', () => {
    const exe = harness(GgmlType.Q4_K);
    const { input } = run(
      GgmlType.Q4_K,
      exe,
      weights(GgmlType.Q4_K, 2, 256, new Rng(3)),
      new Float32Array(256),
      2,
      256,
      1,
    );
    const r = spawnSync(exe, ['split', input, path.join(work, 'split-none.bin')], { encoding: 'utf8' });
    expect(r.status).toBe(7);
    expect(r.stderr).toMatch(/no split rows/);
  });
});

describe('the int8 small kernels themselves on the CPU (qs_x_q8, qs_q8_m1 .. m8, blocks run by block_runner.h)', () => {
  // every quantized format (those weights() can make)
  const formats = Object.keys(HALVES).map((t) => [typeName(Number(t)), Number(t)] as const);
  it.skipIf(!GXX).each(formats)(
    '%s at m = 1..8: the quantizer writes x_q8.h bit for bit, every output is the unit-by-unit sum up to float32 order',
    (_name, type) => {
      const exe = harness(type);
      const rng = new Rng(11 + type);
      const [qk] = block(type);
      // 37 rows: no row-group size of the launch tables divides them, so every m has a last, partial group;
      // 67 super-blocks of 256 per row: more units than one step of any table's threads takes (at most 8
      // warps with 2 units of 32 per batch, or 8 warps with 1 unit of 64), so every thread's loop runs past
      // its first step and the last step is partial
      const n = 37;
      const k = 67 * 256;
      expect(k / 32).toBeGreaterThan(8 * 32 * 2);
      expect(k / 64).toBeGreaterThan(8 * 32);
      expect(k % qk).toBe(0);
      const w = weights(type, n, k, rng);
      expectKernelsEveryM(type, exe, exe, w, n, k, rng, `kernel-out-${type}.bin`);
    },
  );

  // the K-quants' unit decodings forced on every unit (QS_KQ_HDR, QS_KQ_NIB: 1 each sub-block's scales alone
  // and shifted fifth bits, 2 scale pairs and rotated fifth bits; the default build mixes them, Q5_K's 4-part
  // unit taking 1), in the kernels of every m with the format's table (8- and 4-part units): the same
  // unit-by-unit sums
  it.skipIf(!GXX).each([
    ['Q4_K (QS_KQ_HDR=1)', GgmlType.Q4_K, ['QS_KQ_HDR=1']],
    ['Q5_K (QS_KQ_HDR=1 QS_KQ_NIB=1)', GgmlType.Q5_K, ['QS_KQ_HDR=1', 'QS_KQ_NIB=1']],
    ['Q5_K (QS_KQ_HDR=2 QS_KQ_NIB=2)', GgmlType.Q5_K, ['QS_KQ_HDR=2', 'QS_KQ_NIB=2']],
  ] as const)('%s at m = 1..8: the unit-by-unit sums', (_name, type, defines) => {
    const exe = harness(type);
    const built = harness(type, [...defines]);
    const rng = new Rng(29 + type);
    const n = 37;
    const k = 3 * 256;
    const w = weights(type, n, k, rng);
    expectKernelsEveryM(type, exe, built, w, n, k, rng, `decode-out-${type}.bin`);
  });

  // the same kernels reading split rows at every m (QS_Q8_SPLIT=1) and GGUF rows at every m (0): both must
  // give the unit-by-unit sums, at a k whose rows are not 16-byte multiples (split rows padded). Q6_K also
  // with its 4-part units (QS_Q6_P8=0; the default build has 8 parts at every m).
  it.skipIf(!GXX).each([
    ['Q4_0', GgmlType.Q4_0, []],
    ['Q8_0', GgmlType.Q8_0, []],
    ['Q6_K', GgmlType.Q6_K, []],
    ['Q6_K (4 parts)', GgmlType.Q6_K, ['QS_Q6_P8=0']],
    ['Q6_K (interleaved ql)', GgmlType.Q6_K, ['QS_Q6_QLX=1']],
    ['Q6_K (interleaved ql, 4 parts)', GgmlType.Q6_K, ['QS_Q6_QLX=1', 'QS_Q6_P8=0']],
    ['IQ4_NL', GgmlType.IQ4_NL, []],
    ['Q4_1', GgmlType.Q4_1, []],
    ['Q5_0', GgmlType.Q5_0, []],
    ['Q5_1', GgmlType.Q5_1, []],
  ] as const)(
    '%s at m = 1..8 from split rows and from GGUF rows: the unit-by-unit sums',
    (_name, type, defines) => {
      const exe = harness(type, [...defines]);
      const [qk, bb] = block(type);
      const rng = new Rng(53 + type);
      const n = 37;
      const k = (type === GgmlType.Q6_K ? 3 : 9) * qk;
      expect(((k / qk) * bb) % 16).not.toBe(0);
      const w = weights(type, n, k, rng);
      for (const split of [0, 1]) {
        const built = harness(type, [...defines, `QS_Q8_SPLIT=${split}`]);
        expect(q8Geometry(built, type).split).toEqual(new Array(8).fill(split === 1));
        for (let m = 1; m <= 8; m++) {
          const x = new Float32Array(m * k).map(() => rng.normal());
          const { y: want, input } = run(type, exe, w, x, n, k, m);
          const got = runKernel(built, input, `split${split}-out-${type}.bin`);
          expectUnitSums(got, want, `split=${split} m=${m}`);
        }
      }
    },
  );

  // the launch geometry a tuning sweep overrides for every m (QS_Q8_R rows and QS_Q8_W warps per block,
  // QS_Q8_D units per batch, QS_Q8_PIPE loading a batch ahead, QS_Q8_STAGM the staggered start up to that
  // m, QS_Q8_KP parts per block): the kernels of every m give the unit-by-unit sums, so a variant a sweep
  // times computes what the table's does. The rows (37) are no multiple of the row groups, and each row has
  // more units than one step of the block's threads takes (units per batch x threads), the last step partial.
  it.skipIf(!GXX).each([
    // name, type, defines, rows and warps the build must report (0: the table's), parts per block,
    // the most units a thread takes per step, blocks per row
    [
      'Q8_0 (3 rows x 2 warps, 2 units per batch)',
      GgmlType.Q8_0,
      ['QS_Q8_R=3', 'QS_Q8_W=2', 'QS_Q8_D=2'],
      3,
      2,
      1,
      2,
      301,
    ],
    [
      'Q8_0 (2 rows x 4 warps, loading ahead, staggered start to m = 4)',
      GgmlType.Q8_0,
      ['QS_Q8_R=2', 'QS_Q8_W=4', 'QS_Q8_PIPE=1', 'QS_Q8_STAGM=4'],
      2,
      4,
      1,
      2,
      301,
    ],
    [
      'Q6_K (8 rows x 4 warps, 2 units per batch, interleaved ql)',
      GgmlType.Q6_K,
      ['QS_Q8_R=8', 'QS_Q8_W=4', 'QS_Q8_D=2', 'QS_Q6_QLX=1'],
      8,
      4,
      8,
      2,
      41,
    ],
    [
      'Q6_K (4 parts, 3 units per batch, interleaved ql)',
      GgmlType.Q6_K,
      ['QS_Q8_KP=4', 'QS_Q8_D=3', 'QS_Q6_QLX=1'],
      0,
      0,
      4,
      3,
      199,
    ],
  ] as const)(
    '%s at m = 1..8: the unit-by-unit sums',
    (_name, type, defines, rows, warps, parts, batch, blocks) => {
      const exe = harness(type);
      const built = harness(type, [...defines]);
      const g = q8Geometry(built, type);
      if (rows) expect(g.rows).toEqual(new Array(8).fill(rows));
      if (warps) expect(g.warps).toEqual(new Array(8).fill(warps));
      expect(blocks * parts, 'more units per row than one step takes').toBeGreaterThan(
        batch * 32 * Math.max(...g.warps),
      );
      const [qk] = block(type);
      const rng = new Rng(71 + type);
      const n = 37;
      const k = blocks * qk;
      const w = weights(type, n, k, rng);
      expectKernelsEveryM(type, exe, built, w, n, k, rng, `geometry-out-${type}.bin`);
    },
  );

  // QS_Q8_HOTW=1 (a timing diagnostic: the weights stay on chip) gives every block the first R rows, so
  // output row i is row i mod R's; the rest of the kernel is the same
  it.skipIf(!GXX).each([
    ['Q4_0', GgmlType.Q4_0],
    ['Q6_K', GgmlType.Q6_K],
  ] as const)("%s with QS_Q8_HOTW=1: every row group computes the first group's rows", (_name, type) => {
    const exe = harness(type);
    const hot = harness(type, ['QS_Q8_HOTW=1']);
    const rows = q8Geometry(hot, type).rows;
    const rng = new Rng(29 + type);
    const n = 37;
    const k = 512;
    const w = weights(type, n, k, rng);
    for (const m of [1, 3]) {
      const x = new Float32Array(m * k).map(() => rng.normal());
      const { y: want, input } = run(type, exe, w, x, n, k, m);
      const got = runKernel(hot, input, `hotw-out-${type}.bin`);
      const R = rows[m - 1];
      expect(R, `m=${m}: more than one row group`).toBeLessThan(n);
      const scale = Math.max(...want.map(Math.abs));
      for (let mi = 0; mi < m; mi++)
        for (let i = 0; i < n; i++) {
          const o = mi * n + i;
          expect(Math.abs(got[o] - want[mi * n + (i % R)]), `m=${m}, output ${o}`).toBeLessThanOrEqual(
            1e-5 * scale,
          );
        }
      // and it differs from the true product where the rows differ
      expect(got.some((v, o) => Math.abs(v - want[o]) > 1e-3 * scale)).toBe(true);
    }
  });
});

describe('kernel device functions on the CPU (g++ -DQS_HOST)', () => {
  const cases: [number, string[]][] = [
    [GgmlType.Q4_0, []],
    [GgmlType.Q4_1, []],
    [GgmlType.Q5_0, []],
    [GgmlType.Q5_1, []],
    [GgmlType.Q8_0, []],
    [GgmlType.Q2_K, []],
    [GgmlType.Q3_K, []],
    [GgmlType.Q4_K, []],
    [GgmlType.Q5_K, []],
    [GgmlType.Q6_K, []],
    [GgmlType.IQ4_NL, []],
    [GgmlType.IQ4_XS, []],
    // the K-quants' 64-element units (QS_Q8_KP=4)
    [GgmlType.Q4_K, ['QS_Q8_KP=4']],
    [GgmlType.Q5_K, ['QS_Q8_KP=4']],
    [GgmlType.Q2_K, ['QS_Q8_KP=4']],
    [GgmlType.Q3_K, ['QS_Q8_KP=4']],
    // the K-quants' unit decodings forced (QS_KQ_HDR: 1 each sub-block's scales alone, 2 scale pairs;
    // QS_KQ_NIB: 1 shifted, 2 rotated fifth bits). By default the 8-part units (m = 3 here) take 2 and 2,
    // the 4-part ones (QS_Q8_KP=4) Q4_K 2, Q5_K 1 and 1; these give each unit the other decodings
    [GgmlType.Q4_K, ['QS_KQ_HDR=1']],
    [GgmlType.Q5_K, ['QS_KQ_HDR=1']],
    [GgmlType.Q4_K, ['QS_KQ_HDR=1', 'QS_Q8_KP=4']],
    [GgmlType.Q5_K, ['QS_KQ_HDR=2', 'QS_Q8_KP=4']],
    [GgmlType.Q5_K, ['QS_KQ_NIB=1']],
    [GgmlType.Q5_K, ['QS_KQ_NIB=2', 'QS_KQ_HDR=2', 'QS_Q8_KP=4']],
    // the 8- and 16-byte loads behind qs_ldwords (QS_LDW), at every 2-byte offset: k = 544 and 768
    // give rows that are not 16-byte aligned, so the blocks start at every even offset mod 16
    ...[8, 16].flatMap((w) =>
      [
        GgmlType.Q4_0,
        GgmlType.Q4_1,
        GgmlType.Q5_0,
        GgmlType.Q5_1,
        GgmlType.Q8_0,
        GgmlType.Q3_K,
        GgmlType.Q6_K,
        GgmlType.IQ4_NL,
      ].map((t): [number, string[]] => [t, [`QS_LDW=${w}`]]),
    ),
    // Q6_K's 4-part units (QS_Q6_P8=0 gives them to every m), with 4- and 8-byte loads; the default build
    // above runs the 8-part unit of every m
    [GgmlType.Q6_K, ['QS_Q6_P8=0']],
    [GgmlType.Q6_K, ['QS_Q6_P8=0', 'QS_LDW=8']],
    // the conversion instruction instead of the exact add forms of qs_sumf / qs_u23f / qs_i8f (QS_I2F=1),
    // one format per form: the dp4a sums, Q2_K's and Q3_K's scaled sums, the K-quant scales, Q6_K's signed
    // scales, IQ4_XS's scale - 32
    ...[GgmlType.Q4_0, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.IQ4_XS].map(
      (t): [number, string[]] => [t, ['QS_I2F=1']],
    ),
  ];
  for (const [type, defines] of cases) {
    it.skipIf(!GXX)(
      `${typeName(type)}${defines.length ? ` (${defines.join(' ')})` : ''}: qs_dq8 (and the int8 matrix-unit decoding, where the format has it) is the reference bit for bit; the int8 dot is exact on int8 x`,
      () => {
        const rng = new Rng(7 + type);
        const [qk] = block(type);
        const n = 9;
        const k = qk === 32 ? 544 : 768; // 544: a partial last slice of 128 for the int8 matrix-unit decoding
        const m = 3;
        const w = weights(type, n, k, rng);
        const exe = harness(type, defines);

        // x exactly representable per 32: integers up to 127 (one of them +-127) times a power of two
        const x = new Float32Array(m * k);
        for (let b = 0; b < (m * k) / 32; b++) {
          const s = 2 ** (Math.floor(rng.next() * 7) - 3);
          for (let i = 0; i < 32; i++) x[b * 32 + i] = (Math.floor(rng.next() * 255) - 127) * s;
          x[b * 32 + Math.floor(rng.next() * 32)] = (rng.next() < 0.5 ? -127 : 127) * s;
        }
        const { dq, y } = run(type, exe, w, x, n, k, m);
        const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
        // the TypeScript codec where this build has it, and the scalar C++ reference where it has one
        const refs: Float32Array[] = [];
        if (isSupported(type)) refs.push(dequantize(type, w, n, k));
        if (CPP_REFERENCE.has(type)) refs.push(cppReference(type, w, n, k));
        expect(refs.length).toBeGreaterThan(0);
        for (const r of refs) expect(bits(dq)).toEqual(bits(r));
        const ref = refs[0];
        // the int8 matrix-unit kernel's view of the weights (its slots, scales and fragments) is the same
        const out = run(type, exe, w, x, n, k, m);
        expect(out.i8 !== null).toBe(gpuHasPath(type, 'int8-mma'));
        if (out.i8) expect(bits(out.i8)).toEqual(bits(dq));
        // so is the bfloat16 warpgroup kernel's slice decode, for the formats that have one
        expect(out.wbSlice !== null).toBe(WB_SLICE.has(type));
        if (out.wbSlice) {
          expect(out.wbSlice.length).toBe(n * k);
          expect(bits(out.wbSlice)).toEqual(bits(dq));
        }
        const exact = reference(ref, x, n, k, m);
        for (let i = 0; i < m * n; i++) {
          // float32 accumulation of k products: well inside k * 2^-24 of the sum of magnitudes
          expect(Math.abs(y[i] - exact.y[i]), `output ${i}`).toBeLessThanOrEqual(
            exact.mag[i] * k * 2 ** -24 + 1e-30,
          );
        }

        // general x (gaussian, and with outlier channels): the quantizer equals the declared 'qs8'
        // arithmetic bit for bit (q, d and the float32 sums), and the int8 dots equal its float64
        // reference up to float32 rounding
        for (const outlier of [1, 20, 100]) {
          const xg = new Float32Array(m * k).map(() => rng.normal());
          for (let i = 5; i < m * k; i += 128) xg[i] *= outlier;
          const g = run(type, exe, w, xg, n, k, m);
          const p = quantizeInt8(SCHEMES.qs8.activations, xg, m, k);
          expect(g.xq).toEqual(p.q);
          for (let b = 0; b < (m * k) / 32; b++) {
            expect(g.xd[2 * b], `d of group ${b}`).toBe(p.d[b]);
            expect(g.xd[2 * b + 1], `sum of group ${b}`).toBe(p.sums[b]);
          }
          const decl = referenceMatmulSync(type, w, n, k, xg, m, SCHEMES.qs8);
          const mag = reference(ref, xg, n, k, m).mag;
          for (let i = 0; i < m * n; i++) {
            expect(Math.abs(g.y[i] - decl[i]), `output ${i} (outliers x${outlier})`).toBeLessThanOrEqual(
              mag[i] * k * 2 ** -24 + 1e-30,
            );
          }
          const met = compareOutputs(decl, g.y, m, n);
          expect(judge(met, KERNEL_BAR)).toBe('pass');
          expect(met.nmse).toBeLessThan(1e-11);
        }
      },
      60_000,
    );
  }
});

/** test/kernels/host/mfma_i8.cpp for a format, with the instruction form QS_MFMA_I8_EMULATE = `form` */
function mfmaHarness(type: number, form: 1 | 2): string {
  const exe = path.join(work, `mfma-i8-${type}-${form}`);
  const r = spawnSync(
    'g++',
    [
      '-std=c++17',
      '-O1',
      '-ffp-contract=off',
      '-Wno-unknown-pragmas',
      '-DQS_HOST',
      `-DQS_MFMA_I8_EMULATE=${form}`,
      '-include',
      `${kernelSourceFor(type)!.stem}.h`,
      '-I',
      path.join(ROOT, 'kernels'),
      path.join(ROOT, 'test/kernels/host/mfma_i8.cpp'),
      '-o',
      exe,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`g++ failed for ${typeName(type)} (qs_mfma_i8):\n${r.stderr}`);
  return exe;
}

function runMfma(exe: string, w: Uint8Array, x: Float32Array, n: number, k: number, m: number, per: number) {
  const inp = path.join(work, 'mfma-in.bin');
  const out = path.join(work, 'mfma-out.bin');
  const hdr = new Int32Array([n, k, m, per]);
  writeFileSync(inp, Buffer.concat([Buffer.from(hdr.buffer), Buffer.from(w), Buffer.from(x.buffer)]));
  const r = spawnSync(exe, [inp, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mfma_i8 harness exited ${r.status}: ${r.stderr}`);
  const buf = readFileSync(out);
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4).slice();
}

describe('the AMD int8 MFMA kernel qs_mfma_i8 on the CPU (the instruction emulated from its lane layout)', () => {
  // Each case runs the kernel's 256 threads per block as coroutines on the CPU (seconds per case). By
  // default one format of each kind of weight decoding and scaling (32-element blocks with q - 8, with an
  // offset term, signed bytes; the K-quants' offset term; Q6_K's two scales per 32; the IQ4 value table)
  // on the gfx90a form (two 16x16x16 per k-step) and three of them on the gfx94x form (one 16x16x32);
  // QS_TEST_FULL=1: every format on both. (Every format's fragments are checked bit for bit above.)
  const FULL = process.env.QS_TEST_FULL === '1';
  const types: number[] = [
    GgmlType.Q4_0,
    GgmlType.Q4_1,
    GgmlType.Q5_0,
    GgmlType.Q5_1,
    GgmlType.Q8_0,
    GgmlType.Q3_K,
    GgmlType.Q4_K,
    GgmlType.Q5_K,
    GgmlType.Q6_K,
    GgmlType.IQ4_NL,
    GgmlType.IQ4_XS,
  ];
  const pick = (list: number[]) => types.filter((t) => FULL || list.includes(t));
  const cases: [number, 1 | 2][] = [
    ...pick([
      GgmlType.Q4_0,
      GgmlType.Q4_1,
      GgmlType.Q8_0,
      GgmlType.Q3_K,
      GgmlType.Q4_K,
      GgmlType.Q6_K,
      GgmlType.IQ4_XS,
    ]).map((t): [number, 1 | 2] => [t, 1]),
    ...pick([GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K]).map((t): [number, 1 | 2] => [t, 2]),
  ];

  it('covers every format with the int8 matrix-unit path', () => {
    expect(types).toEqual(SUPPORTED_TYPES.map((t) => t.id).filter((t) => gpuHasPath(t, 'int8-mma')));
  });

  it.skipIf(!GXX)('qs_mfma_i8_geometry reports its shared bytes, one block per CU and its tiles', () => {
    const r = spawnSync(mfmaHarness(GgmlType.Q6_K, 1), ['geometry'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // Q6_K: 128 x 176 weight bytes + 128 x 136 x bytes + 4 KiB (d, sum) + 4 KiB of two scales per 32,
    // and the emulation's 4 KiB operand exchange
    expect(r.stdout.trim().split(/\s+/).map(Number)).toEqual([
      128 * 176 + 128 * 136 + 4096 + 4096 + 4096,
      1,
      128,
      128,
      128,
      256,
    ]);
  });

  for (const [type, form] of cases) {
    it.skipIf(!GXX)(
      `${typeName(type)}, ${form === 1 ? 'gfx90a 16x16x16' : 'gfx94x 16x16x32'}: the declared qs8-mma arithmetic up to float32 summation order, split-K and partial tiles included`,
      () => {
        const rng = new Rng(31 + type);
        const [qk] = block(type);
        // 70 rows (the second wave row of the tile partly live), 150 columns (a partial second tile),
        // k with a partial last slice for the 32-element formats; 2 slices per split: 3 splits
        const n = 150;
        const m = 70;
        const k = qk === 32 ? 544 : 768;
        const w = weights(type, n, k, rng);
        const exe = mfmaHarness(type, form);
        const dq = dequantize(type, w, n, k);
        // gaussian x over 3 splits of 2 slices; x with outlier channels (x100) in one split (the kernel
        // writes y itself)
        for (const [outlier, per] of [
          [1, 2],
          [100, 1000],
        ]) {
          const x = new Float32Array(m * k).map(() => rng.normal());
          for (let i = 5; i < m * k; i += 128) x[i] *= outlier;
          const y = runMfma(exe, w, x, n, k, m, per);
          const decl = referenceMatmulSync(type, w, n, k, x, m, SCHEMES['qs8-mma']);
          const mag = reference(dq, x, n, k, m).mag;
          for (let i = 0; i < m * n; i++)
            expect(Math.abs(y[i] - decl[i]), `output ${i} (outliers x${outlier})`).toBeLessThanOrEqual(
              mag[i] * k * 2 ** -24 + 1e-30,
            );
          const met = compareOutputs(decl, y, m, n);
          expect(judge(met, KERNEL_BAR)).toBe('pass');
          expect(met.nmse).toBeLessThan(1e-11);
        }
      },
      120_000,
    );
  }
});
