// The defect corpus judged without a GPU: every variant of test/kernels/corpus/variants.json is built
// for the host (g++, the same source as the GPU builds, with host_shim.h running the grid), run on
// quantized weights and Gaussian activations, and judged like a custom kernel in `verify`: the
// declared reference, the kernel bar, and for a FAIL the identity probe run through the same kernel.
// Every correct kernel must PASS and every defect must FAIL with its class. The sm_90 and gfx90a
// builds of a few variants check that the source compiles for both GPUs (all of them:
// `node scripts/corpus.mjs build`; judged on a GPU with `node scripts/corpus.mjs run`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import koffi from 'koffi';
import { afterAll, describe, expect, it } from 'vitest';
import { SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import { quantize } from '../../src-main/engine/formats';
import { formatByName } from '../../src-main/engine/formats/registry';
import { Rng } from '../../src-main/engine/rng';
import { judgeOutput } from '../../src-main/engine/run/verdict';
import { shutdownPool } from '../../src-main/engine/workers/pool';
// @ts-expect-error: a plain ES module script without types
import { buildCorpus, corpusVariants } from '../../scripts/corpus.mjs';

interface Variant {
  id: string;
  format: string;
  defines: string[];
  arithmetic: 'f32' | 'q8_1';
  expect: string[] | null;
}

const work = mkdtempSync(path.join(tmpdir(), 'qs-corpus-'));
afterAll(() => {
  shutdownPool();
  rmSync(work, { recursive: true, force: true });
});

const has = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0;
const gxx = has('g++');
if (!gxx) console.log('[corpus] host corpus skipped: g++ not found');
const variants = corpusVariants() as Variant[];

describe.skipIf(!gxx)('defect corpus on the host', () => {
  let built: Record<string, string> = {};
  const rng = new Rng(2026);
  const n = 24;
  const k = 512;
  const m = 4;
  const x = rng.normalF32(m * k);
  const weights = new Map<string, Uint8Array>();
  for (const fmt of new Set(variants.map((v) => v.format))) {
    const spec = formatByName(fmt)!;
    weights.set(fmt, quantize(spec.id, rng.normalF32(n * k), n, k));
  }

  it('every variant builds for the host', () => {
    built = buildCorpus('host', work);
    expect(Object.keys(built).sort()).toEqual(variants.map((v) => v.id).sort());
  }, 300_000);

  for (const v of variants)
    it(`${v.id}: ${v.expect ? `FAIL, diagnosed ${v.expect[0]}` : 'PASS'}`, async () => {
      const lib = koffi.load(built[v.id]);
      const launch = lib.func(
        'void corpus_launch(const float *x, const uint8_t *w, _Out_ float *y, int m, int n, int k)',
      );
      const type = formatByName(v.format)!.id;
      const data = weights.get(v.format)!;
      // padding after the last row, as the ABI promises
      const w = new Uint8Array(data.length + 256);
      w.set(data);
      const run = (xs: Float32Array, rows: number) => {
        const y = new Float32Array(rows * n).fill(NaN); // poisoned, like every launch
        launch(xs, w, y, rows, n, k);
        return y;
      };
      const got = run(x, m);
      const verdict = await judgeOutput({
        type,
        n,
        k,
        data,
        x,
        m,
        got,
        scheme: SCHEMES[v.arithmetic],
        runProbe: async (px, rows) => run(px, rows),
      });
      if (v.expect === null) {
        expect(verdict.status, `NMSE ${verdict.metrics.nmse}`).toBe('pass');
        expect(verdict.diagnosis).toBeNull();
      } else {
        expect(verdict.status).toBe('fail');
        expect(v.expect, verdict.diagnosis?.sentence).toContain(verdict.diagnosis?.class);
      }
    }, 60_000);
});

const SAMPLE = [
  'q4_0-correct',
  'q8_0-q8_1-correct',
  'q4_k-scale-index',
  'q5_k-fifth-bit-lost',
  'q6_k-correct',
];
for (const [target, tool] of [
  ['sm_90', 'nvcc'],
  ['gfx90a', 'hipcc'],
] as const) {
  const present = has(tool);
  if (!present) console.log(`[corpus] ${target} build skipped: ${tool} not found`);
  it.skipIf(!present)(
    `the corpus source builds for ${target}`,
    () => {
      const built = buildCorpus(target, work, SAMPLE);
      expect(Object.keys(built).sort()).toEqual([...SAMPLE].sort());
    },
    120_000,
  );
}
