// Several devices at once (`--device all`, `0,2,5`, `0,0`) over the fake libamdhip64
// (test/hip/fixtures/fake_hip.c, built here with gcc) with FAKE_HIP_DEVICES identical "gfx90a" cards.
// The fake runs the Q8_0 user-kernel ABI (q8_0_matmul_kernel) on the CPU in float32, so a verify on
// fake devices gives real verdicts; one device can be made to fail at init or at launch, to write a
// last-bit-different output (a PASS that differs from its twins) or a wrong one (a FAIL). The fake
// logs each launch with its device and thread id, which shows every device bound on a thread of its
// own and the devices running at the same time. What it cannot show is real GPUs doing so.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from '../cli/helpers';
import { parseRecord } from '../../src-main/engine/records/schema';
import { parseDeviceSpec, resolveDevices } from '../../src-main/engine/devices/spec';
import { analyzeDevices } from '../../src-shared/devices';
import { forEachDevice } from '../../src-main/engine/devices/run';
import { setWorkerScript } from '../../src-main/engine/workers';
import type { Backend } from '../../src-main/engine/backends/types';
import { codeObject } from './fixtures/code-object';

const FIXTURE = fileURLToPath(new URL('./fixtures/fake_hip.c', import.meta.url));
let gcc = true;
try {
  execFileSync('gcc', ['--version'], { stdio: 'ignore' });
} catch {
  gcc = false;
  console.log('[hip] several-device tests skipped: gcc not found (needed to build the fake libamdhip64)');
}

const dir = mkdtempSync(path.join(tmpdir(), 'qs-multi-hip-'));
const so = path.join(dir, 'libfakehip.so');
const hsaco = path.join(dir, 'q8_0.hsaco');
const log = path.join(dir, 'launches.log');
const FAKE_VARS = [
  'FAKE_HIP_DEVICES',
  'FAKE_HIP_FAIL_INIT',
  'FAKE_HIP_FAIL_LAUNCH',
  'FAKE_HIP_ULP',
  'FAKE_HIP_WRONG',
  'FAKE_HIP_LAUNCH_MS',
  'FAKE_HIP_LOG',
  'FAKE_HIP_BARRIER',
];
let resetBarrier: () => void = () => {};
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  if (!gcc) return;
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', FIXTURE, '-o', so]);
  writeFileSync(hsaco, codeObject('q8_0_matmul_kernel'));
  // the same file the runtime loads, so the same state: each test counts its own threads
  resetBarrier = koffi.load(so).func('void fake_reset_barrier()');
  for (const k of [
    'QUANTSCOPE_HIP_LIBRARY',
    'Q8_0_MATMUL_HSACO',
    'QS_KERNEL_CACHE',
    'QS_ISOLATE',
    ...FAKE_VARS,
  ])
    saved[k] = process.env[k];
  process.env.QUANTSCOPE_HIP_LIBRARY = so;
  process.env.Q8_0_MATMUL_HSACO = hsaco;
  process.env.QS_KERNEL_CACHE = path.join(dir, 'cache');
  // worker threads in this process, whose thread ids and barrier the tests read (the fake's user kernel
  // would otherwise run in device processes)
  process.env.QS_ISOLATE = '0';
});
afterEach(() => {
  vi.unstubAllEnvs();
  resetBarrier();
  for (const k of FAKE_VARS) delete process.env[k];
  rmSync(log, { force: true });
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

function fake(vars: Record<string, string | number>): void {
  for (const [k, v] of Object.entries(vars)) process.env[k] = String(v);
}

interface Launch {
  device: number;
  thread: number;
  start: number;
  end: number;
}
function logLines(kind: string): string[][] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[0] === kind);
}
function launches(): Launch[] {
  return logLines('launch')
    .map((f) => f.join(' '))
    .map((l) => {
      const [, d, t, s, e] = l.split(' ');
      return { device: Number(d), thread: Number(t), start: Number(s), end: Number(e) };
    });
}

/**
 * The threads each device's launches ran on, and whether the barrier held: with FAKE_HIP_BARRIER=n the
 * first launch of each thread waits until n threads are inside one, so `together` (every thread's
 * barrier line ok) means the devices ran at the same time; one after the other would time out.
 */
function threading(ls: Launch[]) {
  const byDevice = new Map<number, Launch[]>();
  for (const l of ls) byDevice.set(l.device, [...(byDevice.get(l.device) ?? []), l]);
  const barrier = logLines('barrier');
  return {
    threads: [...byDevice.entries()].map(([d, xs]) => [d, [...new Set(xs.map((x) => x.thread))]]),
    together: barrier.length > 0 && barrier.every((f) => f[3] === 'ok'),
    barrierThreads: new Set(barrier.map((f) => f[2])).size,
  };
}

const TENSORS = ['--tensors', 'blk.1.attn_k.weight,blk.0.attn_output.weight', '--batch', '1,8'];

describe('device lists', () => {
  it('parses an index, all and lists; resolves them against the device count', () => {
    expect(parseDeviceSpec('2')).toEqual({ kind: 'one', index: 2 });
    expect(parseDeviceSpec('all')).toEqual({ kind: 'all' });
    expect(parseDeviceSpec('0,2,5')).toEqual({ kind: 'list', indices: [0, 2, 5] });
    expect(parseDeviceSpec('0,0')).toEqual({ kind: 'list', indices: [0, 0] });
    expect(() => parseDeviceSpec('0,x')).toThrow(/--device must be an index, 'all' or a list/);
    expect(resolveDevices({ kind: 'all' }, 3, 'hip')).toEqual([0, 1, 2]);
    expect(() => resolveDevices({ kind: 'list', indices: [0, 4] }, 3, 'hip')).toThrow(
      '--device 4: hip has 3 device(s)',
    );
  });

  it('flags the twin that differs by majority, and both twins on a tie', () => {
    const dev = (slot: number) => ({
      slot,
      backend: 'hip',
      index: slot,
      name: 'X',
      arch: 'gfx90a',
      status: 'done' as const,
    });
    const r = (slot: number, hash: string, us: number) => ({
      slot,
      tensor: 't',
      m: 1,
      status: 'pass',
      outputHash: hash,
      timing: { medianUs: us },
    });
    const a = analyzeDevices([dev(0), dev(1), dev(2)], [r(0, 'a', 10), r(1, 'b', 11), r(2, 'a', 12)]);
    expect(a.differences).toMatchObject([{ slot: 1, majorityHash: 'a', agreeing: [0, 2] }]);
    expect(a.groups[0].spread).toBeCloseTo(0.2, 10);
    expect(a.devices.map((d) => d.vsFastest)).toEqual([1, 1.1, 1.2]);
    const tie = analyzeDevices([dev(0), dev(1)], [r(0, 'a', 1), r(1, 'b', 1)]);
    expect(tie.differences.map((d) => [d.slot, d.majorityHash])).toEqual([
      [0, null],
      [1, null],
    ]);
  });

  it('cpu: all is its one device', async () => {
    const r = await cli('verify', '--device', 'all', '--no-record', ...TENSORS.slice(0, 2), '--batch', '1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/cpu:0 .* PASS/);
    expect(r.out).toContain('differs from twins:\n  none');
  });
});

describe('device workers', () => {
  it('a worker that dies fails its device, with one line, and the other device goes on', async () => {
    setWorkerScript(fileURLToPath(new URL('./fixtures/device-worker.ts', import.meta.url)));
    try {
      const local: Backend = {
        kind: 'hip',
        status: async () => ({ backend: 'hip', available: true, devices: [] }),
        open: () => Promise.reject(new Error('opened in a device worker only')),
      };
      const x = Float32Array.of(1, 2, 3);
      const out = await forEachDevice(local, [0, 1], async (b, index) => {
        const s = await b.open(index);
        try {
          const w = await s.load({ type: 8, n: 1, k: 3, data: new Uint8Array(4) });
          const first = await s.run(w, x, 1);
          return { y: Array.from(first.y), thread: (s as unknown as { threadId: number }).threadId };
        } finally {
          await s.close();
        }
      });
      expect(out[0]).toMatchObject({ ok: true, value: { y: [2, 4, 6] } });
      expect(out[1]).toMatchObject({ ok: false });
      const err = (out[1] as { error: string }).error;
      expect(err).toBe('the worker of hip:1 stopped (worker failed: exited with code 3)');
    } finally {
      setWorkerScript(null);
    }
  });
});

describe.skipIf(!gcc)('verify on several fake HIP devices', () => {
  it('two devices: a worker thread each, in parallel, every result tagged, PASS and exit 0', async () => {
    fake({ FAKE_HIP_DEVICES: 2, FAKE_HIP_LOG: log, FAKE_HIP_BARRIER: 2 });
    const json = path.join(dir, 'two.json');
    const rec = path.join(dir, 'records-two');
    vi.stubEnv('QS_NO_RECORD', '0'); // this test reads the record
    const r = await cli(
      'verify',
      '--backend',
      'hip',
      '--device',
      'all',
      ...TENSORS,
      '--json',
      json,
      '--records',
      rec,
      '--force',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/blk\.1\.attn_k\.weight @ hip:0 +Q8_0 .* PASS .* custom/);
    expect(r.out).toMatch(/blk\.1\.attn_k\.weight @ hip:1 +Q8_0 .* PASS/);
    expect(r.out).toMatch(/0 +hip:0 Fake AMD Instinct MI210 \(0000:c1:00\.0\) +PASS +4 +0 +0/);
    expect(r.out).toMatch(/1 +hip:1 Fake AMD Instinct MI210 \(0000:c2:00\.0\) +PASS +4 +0 +0/);
    expect(r.out).toContain('differs from twins:\n  none: identical cards wrote identical bits');
    const t = threading(launches());
    expect(t.threads).toHaveLength(2);
    const [t0, t1] = t.threads.map(([, ths]) => ths as number[]);
    expect(t0).toHaveLength(1); // each device on one thread ...
    expect(t1).toHaveLength(1);
    expect(t0[0]).not.toBe(t1[0]); // ... of its own
    expect(t.together).toBe(true); // and at the same time
    expect(t.barrierThreads).toBe(2);

    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.devices.map((d: { index: number; pciBusId: string }) => [d.index, d.pciBusId])).toEqual([
      [0, '0000:c1:00.0'],
      [1, '0000:c2:00.0'],
    ]);
    expect(report.deviceAnalysis.devices.map((d: { verdict: string }) => d.verdict)).toEqual([
      'pass',
      'pass',
    ]);
    expect(report.results).toHaveLength(8);
    for (const x of report.results) expect(x.outputHash).toMatch(/^[0-9a-f]{32}$/);

    const [file] = readdirSync(rec);
    const record = parseRecord(JSON.parse(readFileSync(path.join(rec, file), 'utf8')));
    expect(record.devices?.map((d) => [d.slot, d.index, d.status])).toEqual([
      [0, 0, 'done'],
      [1, 1, 'done'],
    ]);
    expect(new Set(record.results.map((x) => x.slot))).toEqual(new Set([0, 1]));
    expect(record.device?.name).toBe('Fake AMD Instinct MI210');
  });

  it('four devices, one writing a last-bit-different output: PASS everywhere, that twin named', async () => {
    fake({ FAKE_HIP_DEVICES: 4, FAKE_HIP_ULP: 2, FAKE_HIP_LOG: log, FAKE_HIP_BARRIER: 4 });
    const html = path.join(dir, 'four.html');
    const r = await cli(
      'verify',
      '--backend',
      'hip',
      '--device',
      'all',
      ...TENSORS,
      '--no-record',
      '--report',
      html,
      '--force',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/2 +hip:2 Fake AMD Instinct MI210 \(0000:c3:00\.0\) +PASS +4 +0 +0 .* 4$/m);
    expect(r.out).toMatch(
      /blk\.1\.attn_k\.weight m=1: slot 2 \(index 2\) wrote [0-9a-f]{12}, its twins \(slots 0, 1, 3\)/,
    );
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<h2>Devices</h2>');
    expect(page).toMatch(
      /<tr class="pass"><td>2<\/td><td>hip:2 Fake AMD Instinct MI210 \(0000:c3:00\.0\)<\/td><td>PASS<\/td>/,
    );
    expect(page).toMatch(
      /<h3>Differs from twins<\/h3>\n<ul><li>blk\.0\.attn_output\.weight m=1: slot 2 \(index 2\)/,
    );
    expect(page).toContain('blk.1.attn_k.weight @ hip:3');
    const t = threading(launches());
    expect(new Set(t.threads.flatMap(([, ths]) => ths as number[])).size).toBe(4);
    expect(t.together).toBe(true);
    expect(t.barrierThreads).toBe(4);
  });

  it('a wrong device FAILs, a device that cannot init and one whose launches fail are errors; the rest pass; exit 1', async () => {
    fake({ FAKE_HIP_DEVICES: 5, FAKE_HIP_WRONG: 1, FAKE_HIP_FAIL_INIT: 3, FAKE_HIP_FAIL_LAUNCH: 4 });
    const json = path.join(dir, 'bad.json');
    const r = await cli(
      'verify',
      '--backend',
      'hip',
      '--device',
      '0,1,3,4',
      ...TENSORS,
      '--json',
      json,
      '--no-record',
      '--force',
    );
    expect(r.code).toBe(1);
    const a = JSON.parse(readFileSync(json, 'utf8')).deviceAnalysis;
    expect(a.devices.map((d: { index: number; verdict: string }) => [d.index, d.verdict])).toEqual([
      [0, 'pass'],
      [1, 'fail'],
      [3, 'error'],
      [4, 'error'],
    ]);
    expect(a.devices[2].deviceError).toMatch(/hipSetDevice.*hipErrorNotInitialized/);
    expect(a.devices[3].error).toBe(4);
    expect(r.out).toMatch(/@ hip:4 .*ERROR .*hipErrorLaunchFailure/);
    // a twin whose output is wrong also differs from the others
    expect(a.differences.some((d: { slot: number }) => d.slot === 1)).toBe(true);
  });

  it('--device 0,0: two workers on one device, each its own thread; results kept apart', async () => {
    fake({ FAKE_HIP_DEVICES: 1, FAKE_HIP_LOG: log, FAKE_HIP_BARRIER: 2 });
    const r = await cli('verify', '--backend', 'hip', '--device', '0,0', ...TENSORS, '--no-record');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/blk\.1\.attn_k\.weight @ hip:0 \(slot 1\)/);
    expect(r.out).toMatch(/^ +0 +hip:0 .* PASS +4/m);
    expect(r.out).toMatch(/^ +1 +hip:0 .* PASS +4/m);
    const ls = launches();
    expect(new Set(ls.map((l) => l.thread)).size).toBe(2);
    // both workers were inside a launch on the one device at the same time
    const t = threading(ls);
    expect(t.together).toBe(true);
    expect(t.barrierThreads).toBe(2);
  });

  it('rejects a device the backend does not have, with one line', async () => {
    fake({ FAKE_HIP_DEVICES: 2 });
    const r = await cli('verify', '--backend', 'hip', '--device', '0,2', ...TENSORS, '--no-record');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe('quantscope: error: --device 2: hip has 2 device(s)');
  });

  it('bench --device all: speed per device with the spread between twins, the different one named', async () => {
    fake({ FAKE_HIP_DEVICES: 2, FAKE_HIP_ULP: 0 });
    const json = path.join(dir, 'bench.json');
    const r = await cli(
      'bench',
      '--backend',
      'hip',
      '--device',
      'all',
      '--formats',
      'q8_0',
      '--n',
      '64',
      '--k',
      '256',
      '--m',
      '1',
      '--repeats',
      '3',
      '--protocol',
      'hot',
      '--json',
      json,
      '--force',
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^\[slot 1 hip:1\] bench on hip:1 Fake AMD Instinct MI210/m);
    expect(r.out).toMatch(
      /Q8_0 auto hot m=1: slot 0 \(index 0\) wrote [0-9a-f]{12}, no majority among its twins/,
    );
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.results.map((x: { rows: unknown[] }) => x.rows.length)).toEqual([1, 1]);
    expect(out.deviceAnalysis.groups[0].spread).toBeGreaterThanOrEqual(0);
    expect(out.deviceAnalysis.devices.map((d: { totalUs: number }) => d.totalUs > 0)).toEqual([true, true]);
  });

  it('selftest --device all: a verdict per device, the one that cannot init is its error', async () => {
    fake({ FAKE_HIP_DEVICES: 3, FAKE_HIP_FAIL_INIT: 1 });
    const json = path.join(dir, 'selftest.json');
    const r = await cli(
      'selftest',
      '--backend',
      'hip',
      '--device',
      'all',
      '--quick',
      '--formats',
      'q8_0',
      '--json',
      json,
      '--force',
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.devices.map((d: { status: string }) => d.status)).toEqual(['done', 'failed', 'done']);
    // the custom-kernel cases pass on both working devices, with identical bits
    const passing = out.rows.filter((x: { result: string }) => x.result === 'pass');
    expect(passing.filter((x: { slot: number }) => x.slot === 0).length).toBeGreaterThan(0);
    expect(passing.filter((x: { slot: number }) => x.slot === 2).length).toBe(
      passing.filter((x: { slot: number }) => x.slot === 0).length,
    );
    expect(out.deviceAnalysis.differences).toEqual([]);
  });
});
