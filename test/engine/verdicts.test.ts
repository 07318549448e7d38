// verify's judging end to end with a stand-in GPU backend whose kernels carry a planted defect: the
// result is judged against its path's declared arithmetic, FAILs, and the identity probe (run through
// the same backend and path, in batches of the job's m) or the output evidence names the defect.
import { afterAll, describe, expect, it } from 'vitest';
import { GgufFile } from '../../src-main/engine/gguf';
import { executeRun } from '../../src-main/engine/run/runner';
import { SCHEMES, type ArithmeticScheme } from '../../src-main/engine/arithmetic/schemes';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { sampleModelPath } from '../../src-main/engine/paths';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import type {
  Backend,
  BackendSession,
  KernelPath,
  LoadedWeights,
} from '../../src-main/engine/backends/types';
import type { RunRequest } from '../../src-shared/contract';
import { defectiveWeights, type Defect } from '../diagnosis/emulate';

afterAll(() => shutdownPool());

/** A backend whose one path computes with `scheme` (its declared one or a defective one) and `defect` weights. */
function fakeBackend(
  path: KernelPath,
  scheme: ArithmeticScheme,
  defect: Defect | null,
  runs: number[],
): Backend {
  const session: BackendSession = {
    device: {
      backend: 'cuda',
      index: 0,
      name: 'stand-in',
      arch: 'sm_90',
      memoryTotal: 0,
      memoryFree: 0,
      computeUnits: 1,
      warpSize: 32,
      peakBandwidthGBs: null,
      copyBandwidthGBs: null,
      peakTflops: null,
      details: {},
    },
    load: (w) =>
      Promise.resolve({ ...w, bytes: w.data.length, dispose: () => {} } as LoadedWeights & {
        data: Uint8Array;
      }),
    run: (w, x, m) => {
      runs.push(m);
      const lw = w as LoadedWeights & { data: Uint8Array };
      let y: Float64Array;
      if (defect) {
        // float32 weights with the defect, float32 activations
        const wd = defectiveWeights(lw.type, lw.data, lw.n, lw.k, defect);
        y = new Float64Array(m * lw.n);
        for (let r = 0; r < m; r++)
          for (let j = 0; j < lw.n; j++) {
            let s = 0;
            for (let i = 0; i < lw.k; i++) s += wd[j * lw.k + i] * x[r * lw.k + i];
            y[r * lw.n + j] = s;
          }
      } else y = referenceMatmulSync(lw.type, lw.data, lw.n, lw.k, x, m, scheme);
      return Promise.resolve({ y: Float32Array.from(y), path });
    },
    time: () => Promise.reject(new Error('no timing')),
    close: () => Promise.resolve(),
  };
  return {
    kind: 'cuda',
    status: () => Promise.resolve({ backend: 'cuda', available: true, devices: [] }),
    open: () => Promise.resolve(session),
  };
}

async function verifyWith(backend: Backend, tensor: string, m: number) {
  const file = await GgufFile.open(sampleModelPath());
  try {
    const t = file.header.tensors.filter((x) => x.name === tensor);
    const request = {
      modelId: 'x',
      tensors: [tensor],
      batchSizes: [m],
      backend: 'cuda',
      deviceIndex: 0,
      seed: 1,
      timing: 'none',
      path: 'auto',
      compareUnfused: false,
      threshold: null,
    } as RunRequest;
    const out = await executeRun({
      runId: 't',
      file,
      tensors: t,
      batchSizes: [m],
      backend,
      deviceIndex: 0,
      seed: 1,
      timing: 'none',
      path: 'auto',
      compareUnfused: false,
      threshold: null,
      request,
      signal: new AbortController().signal,
      onEvent: () => {},
    });
    return out.results[0];
  } finally {
    await file.close();
  }
}

describe('verify: declared arithmetic, both errors, diagnosis', () => {
  it('a correct int8 kernel passes against qs8 with its arithmetic error beside it', async () => {
    const r = await verifyWith(
      fakeBackend('fused-small-q8', SCHEMES.qs8, null, []),
      'blk.0.ffn_up.weight',
      3,
    );
    expect(r.status).toBe('pass');
    expect(r.arithmetic).toBe('qs8');
    expect(r.metrics!.nmse).toBeLessThan(1e-12);
    expect(r.arithmeticNmse).toBeGreaterThan(1e-6);
    expect(r.diagnosis).toBeNull();
  });
  it('truncating quantizer: FAIL, diagnosed as rounding', async () => {
    const bad = {
      ...SCHEMES.qs8,
      activations: { ...SCHEMES.qs8.activations, rounding: 'toward-zero' as const },
    };
    const r = await verifyWith(fakeBackend('fused-small-q8', bad, null, []), 'blk.1.attn_k.weight', 2);
    expect(r.status).toBe('fail');
    expect(r.diagnosis?.class).toBe('rounding');
    expect(r.diagnosis?.sentence).toMatch(/truncated toward zero/);
  });
  it('a weight defect: the identity probe runs in batches of the job m and locates it', async () => {
    const runs: number[] = [];
    const r = await verifyWith(
      fakeBackend('fused-tiled-f32', SCHEMES.f32, 'min-sign', runs),
      'blk.0.ffn_up.weight',
      5,
    );
    expect(r.status).toBe('fail');
    expect(r.diagnosis?.class).toBe('min-sign');
    expect(r.diagnosis?.evidence.join(' ')).toMatch(/row \d+, block \d+, sub-block \d+, position \d+/);
    // the job's run, then ceil(512 probed elements / 5) probe runs, all with m = 5
    expect(runs.length).toBe(1 + Math.ceil(512 / 5));
    expect(new Set(runs)).toEqual(new Set([5]));
  });
});
