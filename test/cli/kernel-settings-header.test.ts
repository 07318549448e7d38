// The first line of `bench` and `selftest` on a GPU device names the kernel settings that differ from
// the defaults (DeviceInfo.kernelSettings), so a log of a tuned build is never read as the default
// build's; a default build's line names none. Driven with a stand-in backend, as no GPU is needed for it.
import { afterAll, describe, expect, it } from 'vitest';
import { benchDevice, type BenchOptions } from '../../src-main/engine/cli/commands/bench';
import { selftest } from '../../src-main/engine/selftest';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import type {
  Backend,
  BackendSession,
  DeviceInfo,
  LoadedWeights,
} from '../../src-main/engine/backends/types';

afterAll(() => shutdownPool());

type Held = LoadedWeights & { data: Uint8Array };

/** A GPU backend whose one path multiplies in float32 on the host and times every call at 10 us. */
function standIn(kernelSettings: string[] | undefined, calls: string[]): Backend {
  const device: DeviceInfo = {
    backend: 'cuda',
    index: 0,
    name: 'stand-in',
    arch: 'sm_90',
    memoryTotal: 0,
    memoryFree: 0,
    computeUnits: 132,
    warpSize: 32,
    peakBandwidthGBs: 4800,
    copyBandwidthGBs: 4000,
    peakTflops: null,
    details: {},
    ...(kernelSettings ? { kernelSettings } : {}),
  };
  const session: BackendSession = {
    device,
    load: (w) => {
      calls.push('load');
      return Promise.resolve({ ...w, bytes: w.data.length, dispose: () => {} } as Held);
    },
    run: (w, x, m) => {
      calls.push(`run m=${m}`);
      const lw = w as Held;
      const y = referenceMatmulSync(lw.type, lw.data, lw.n, lw.k, x, m, SCHEMES.f32);
      return Promise.resolve({ y: Float32Array.from(y), path: 'fused-tiled-f32' });
    },
    time: (_w, _x, _m, o) =>
      Promise.resolve({
        protocol: o.protocol,
        path: 'fused-tiled-f32',
        samplesUs: [10, 10, 10],
        medianUs: 10,
        minUs: 10,
        maxUs: 10,
        spread: 0,
        weightCopies: 1,
      }),
    close: () => Promise.resolve(),
  };
  return {
    kind: 'cuda',
    status: () => Promise.resolve({ backend: 'cuda', available: true, devices: [] }),
    open: () => Promise.resolve(session),
  };
}

const opts: BenchOptions = {
  n: 64,
  k: 256,
  ms: [1],
  types: [GgmlType.Q8_0],
  paths: ['auto'],
  protos: ['hot'],
  repeats: 3,
  peer: null,
  peerFile: undefined,
  tuneS: undefined,
};

async function benchLines(settings: string[] | undefined) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: string[] = [];
  const r = await benchDevice(standIn(settings, calls), 0, opts, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { out, err, calls, r };
}

describe('bench and selftest header lines', () => {
  it('bench names a non-default build in its first line and still times it', async () => {
    const { out, err, r, calls } = await benchLines(['QS_LDHINT=0', 'QS_Q6_P8=1']);
    expect(out[0]).toMatch(
      /^bench on cuda:0 stand-in \(sm_90, 132 SMs\), peak 4800 GB\/s, measured copy 4000 GB\/s, shape n=64 k=256/,
    );
    expect(out[0]).toMatch(/, kernel settings QS_LDHINT=0, QS_Q6_P8=1$/);
    expect(err).toEqual([]);
    // the case ran, was checked against the reference and timed
    expect(calls).toContain('run m=1');
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({
      format: 'Q8_0',
      m: 1,
      medianUs: 10,
      check: expect.stringMatching(/^pass /),
    });
    expect(r.dev.kernelSettings).toEqual(['QS_LDHINT=0', 'QS_Q6_P8=1']);
  });

  it('bench of the default build names no kernel settings', async () => {
    const { out } = await benchLines(undefined);
    expect(out[0]).toMatch(/^bench on cuda:0 stand-in .* shape n=64 k=256$/);
    expect(out.join('\n')).not.toContain('kernel settings');
  });

  it('selftest names a non-default build in its first line, and the default build none', async () => {
    for (const [settings, tail] of [
      [['QS_LDW=16'], ', kernel settings QS_LDW=16'],
      [undefined, ''],
    ] as const) {
      const lines: string[] = [];
      const calls: string[] = [];
      const r = await selftest(standIn(settings ? [...settings] : undefined, calls), {
        quick: true,
        types: [GgmlType.Q8_0],
        onLine: (l) => lines.push(l),
      });
      expect(lines[0]).toMatch(new RegExp(`^selftest on cuda:0 stand-in \\(sm_90\\), \\d+ cases${tail}$`));
      // every case ran on the stand-in and its result line followed
      expect(r.rows.length).toBeGreaterThan(0);
      expect(r.failed).toBe(0);
      expect(lines).toHaveLength(r.rows.length + 1);
      expect(calls.filter((c) => c.startsWith('run')).length).toBeGreaterThanOrEqual(r.rows.length);
    }
  });
});
