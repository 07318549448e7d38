// GPU faults over the fake libamdhip64 (test/hip/fixtures/fake_hip.c, built here with gcc), whose
// hipMemGetInfo reports its free memory less the bytes allocated and not freed: a tensor too large for
// the free memory, a code object that is not one, a code object without the kernel's symbol, and a
// launch that fails (how the runtime reports a kernel that wrote out of bounds). Each is an error for
// its tensor with one line naming it, the run goes on to the next tensor, and the device memory in
// use comes back to where it was before the fault, in the session and after the run. What this
// cannot show is the real runtime's behaviour after a real fault; that needs the GPU machine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../cli/helpers';
import { createGpuBackend } from '../../src-main/engine/backends/gpu/backend';
import { HipRuntime } from '../../src-main/engine/backends/gpu/hip-runtime';
import { GgufFile } from '../../src-main/engine/gguf';
import { codeObject } from './fixtures/code-object';

const FIXTURE = fileURLToPath(new URL('./fixtures/fake_hip.c', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../samples/tiny.gguf', import.meta.url));
let gcc = true;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  gcc = false;
  console.log('[hip] GPU fault tests skipped: gcc not found (needed to build the fake libamdhip64)');
}

const dir = mkdtempSync(path.join(tmpdir(), 'qs-faults-'));
const so = path.join(dir, 'libfakehip.so');
const good = path.join(dir, 'q8_0.hsaco');
const junk = path.join(dir, 'junk.hsaco');
const noSymbol = path.join(dir, 'other.hsaco');
// the sample's three Q8_0 tensors: 69,632, 278,528 and 557,056 bytes
const Q8 = ['blk.1.attn_k.weight', 'blk.0.attn_output.weight', 'blk.1.ffn_down.weight'];
const MARGIN = 64 * 2 ** 20; // the backend keeps this much free beyond what it allocates

let fake: {
  outstanding: (what: number) => number;
  used: () => number;
  setFree: (bytes: number) => void;
  resetQ8Launches: () => void;
};
const saved: Record<string, string | undefined> = {};
const VARS = [
  'QUANTSCOPE_HIP_LIBRARY',
  'Q8_0_MATMUL_HSACO',
  'QS_KERNEL_CACHE',
  'FAKE_HIP_FAIL_LAUNCH',
  'FAKE_HIP_LOSE_CONTEXT',
  'FAKE_HIP_LOSE_ONCE',
  'FAKE_HIP_RESET_FAILS',
  'QS_ISOLATE',
];

beforeAll(() => {
  if (!gcc) return;
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', FIXTURE, '-o', so]);
  writeFileSync(good, codeObject('q8_0_matmul_kernel'));
  writeFileSync(noSymbol, codeObject('some_other_kernel'));
  writeFileSync(junk, Buffer.from('this is not a code object'.repeat(20)));
  const lib = koffi.load(so);
  fake = {
    outstanding: lib.func('int fake_outstanding(int what)'),
    used: lib.func('size_t fake_used_bytes()'),
    setFree: lib.func('void fake_set_free(size_t bytes)'),
    resetQ8Launches: lib.func('void fake_reset_q8_launches()'),
  };
  for (const k of VARS) saved[k] = process.env[k];
  process.env.QUANTSCOPE_HIP_LIBRARY = so;
  process.env.QS_KERNEL_CACHE = path.join(dir, 'cache');
  // in the engine's process, where this file reads the fake's counters (a device process has its own
  // copy of the fake: the last test of the run covers it)
  process.env.QS_ISOLATE = '0';
});
afterEach(() => {
  if (!gcc) return;
  fake.setFree(60 * 2 ** 30);
  delete process.env.FAKE_HIP_FAIL_LAUNCH;
  delete process.env.FAKE_HIP_LOSE_CONTEXT;
  delete process.env.FAKE_HIP_LOSE_ONCE;
  delete process.env.FAKE_HIP_RESET_FAILS;
  delete process.env.Q8_0_MATMUL_HSACO;
  process.env.QS_ISOLATE = '0';
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing left on the fake device: no allocation, module or event, no byte in use. */
function expectClean(): void {
  expect([fake.outstanding(0), fake.outstanding(1), fake.outstanding(2), fake.used()]).toEqual([0, 0, 0, 0]);
}

async function verify(...extra: string[]) {
  return cli(
    'verify',
    SAMPLE,
    '--backend',
    'hip',
    '--tensors',
    Q8.join(','),
    '--batch',
    '1',
    '--timing',
    'none',
    '--no-record',
    ...extra,
  );
}

describe.skipIf(!gcc)(
  'GPU faults in a run: an error for that tensor, the run goes on, memory returns',
  () => {
    it('a tensor too large for the free memory', async () => {
      process.env.Q8_0_MATMUL_HSACO = good;
      fake.setFree(MARGIN + 400 * 1024); // the two smaller tensors fit, ffn_down does not
      const r = await verify();
      expect(r.code).toBe(1);
      const line = (name: string) => r.out.split('\n').find((l) => l.includes(name)) ?? '';
      expect(line('attn_k')).toMatch(/PASS/);
      expect(line('attn_output')).toMatch(/PASS/);
      expect(r.out).toMatch(/blk\.1\.ffn_down\.weight.*needs 0\.5 MiB on hip:0, only \d+\.\d MiB free/);
      expectClean();
    });

    it('a code object that is not one, and one without the kernel symbol', async () => {
      for (const [file, why] of [
        [junk, /invalid|not a code object|image/i],
        [noSymbol, /q8_0_matmul_kernel/],
      ] as const) {
        process.env.Q8_0_MATMUL_HSACO = file;
        const r = await verify();
        expect(r.code).toBe(1);
        const errors = r.out.split('\n').filter((l) => /ERROR/.test(l));
        // every tensor was tried and has its own error: the run went on
        expect(errors).toHaveLength(Q8.length);
        expect(r.out).toMatch(why);
        expectClean();
      }
    });

    it('a launch that fails (an out-of-bounds write, as the runtime reports it)', async () => {
      process.env.Q8_0_MATMUL_HSACO = good;
      process.env.FAKE_HIP_FAIL_LAUNCH = '0';
      const r = await verify();
      expect(r.code).toBe(1);
      expect(r.out.split('\n').filter((l) => /ERROR/.test(l))).toHaveLength(Q8.length);
      expect(r.out).toMatch(/launch/i);
      expectClean();
    });

    it('a fault that loses the context (an out-of-bounds write): that tensor fails, the device is reset, the others PASS', async () => {
      process.env.Q8_0_MATMUL_HSACO = good;
      process.env.FAKE_HIP_LOSE_CONTEXT = '1'; // the first tensor's launch
      fake.resetQ8Launches();
      const r = await verify();
      expect(r.code).toBe(1);
      const rows = r.out.split('\n').filter((l) => Q8.some((name) => l.startsWith(name)));
      expect(rows).toHaveLength(3);
      // the run's first tensor faults; the device is reset and the other two run on a fresh context
      expect(rows.filter((l) => /ERROR/.test(l))).toHaveLength(1);
      expect(rows.filter((l) => /PASS/.test(l))).toHaveLength(2);
      expect(r.out).toMatch(
        /hipErrorIllegalAddress \(700\); the hip:0 context was reset and the run goes on/,
      );
      expectClean();
    });

    it('a fault the device cannot be reset from: the user kernel runs in a device process, which ends; the next tensors run in a fresh one', async () => {
      process.env.Q8_0_MATMUL_HSACO = good;
      delete process.env.QS_ISOLATE; // user kernels: a device process (the default)
      process.env.FAKE_HIP_LOSE_ONCE = path.join(dir, `lost-${Date.now()}`);
      process.env.FAKE_HIP_RESET_FAILS = '1';
      const r = await verify();
      expect(r.code).toBe(1);
      const rows = r.out.split('\n').filter((l) => Q8.some((name) => l.startsWith(name)));
      expect(rows).toHaveLength(3);
      expect(rows[0]).toMatch(
        /ERROR .*hipErrorIllegalAddress \(700\); the hip:0 device process ends and the run goes on in a fresh one/,
      );
      expect(
        rows.slice(1).every((l) => /PASS/.test(l)),
        r.out,
      ).toBe(true);
      // the device was used from the device processes only
      expectClean();
    });
  },
);

describe.skipIf(!gcc)('GPU faults in a session: device memory in use returns to where it started', () => {
  it('after each fault the free memory is what it was before', async () => {
    fake.setFree(MARGIN + 400 * 1024);
    const file = await GgufFile.open(SAMPLE);
    const backend = createGpuBackend('hip', () => new HipRuntime({ hipLibrary: [so] }), {
      cacheDir: null,
      prebuiltDir: null,
    });
    const session = await backend.open(0, { userKernels: [{ type: 8, path: good }] });
    try {
      const tensor = async (name: string) => {
        const t = file.header.tensors.find((x) => x.name === name)!;
        return { type: t.type, n: t.n, k: t.k, data: await file.readTensor(t), name };
      };
      const start = fake.used();
      // too large: refused before any allocation sticks
      await expect(session.load(await tensor(Q8[2]))).rejects.toThrow(/needs .* only .* free/);
      expect(fake.used()).toBe(start);
      // a launch failure: the tensor's buffers are freed when it is disposed
      const w = await session.load(await tensor(Q8[0]));
      expect(fake.used()).toBeGreaterThan(start);
      process.env.FAKE_HIP_FAIL_LAUNCH = '0';
      await expect(session.run(w, new Float32Array(w.k ?? 512), 1)).rejects.toThrow(/launch/i);
      delete process.env.FAKE_HIP_FAIL_LAUNCH;
      w.dispose();
      expect(fake.used()).toBe(start);
      // and the session still works afterwards
      const w2 = await session.load(await tensor(Q8[0]));
      const y = await session.run(w2, new Float32Array(512).fill(1), 1);
      expect(y.y.every(Number.isFinite)).toBe(true);
      w2.dispose();
      expect(fake.used()).toBe(start);
    } finally {
      await session.close();
      await file.close();
    }
    expectClean();
  });
});
