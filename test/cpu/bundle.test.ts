import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const engine = path.resolve(__dirname, '../../src-main/engine');

/** A one-file CJS bundle like dist/quantscope.cjs: the pool's workers are the bundle itself. */
const ENTRY = `
import { runWorkerIfRequested, shutdownPool, poolSize } from ${JSON.stringify(engine + '/workers')};
import { memorySource, referenceMatmul, referenceMatmulSync } from ${JSON.stringify(engine + '/reference')};
import { cpuBackend } from ${JSON.stringify(engine + '/backends/cpu')};
import { quantize } from ${JSON.stringify(engine + '/formats')};
import { Rng } from ${JSON.stringify(engine + '/rng')};
import { compareOutputs } from ${JSON.stringify(engine + '/compare')};
import { isMainThread } from 'node:worker_threads';

if (!runWorkerIfRequested()) {
  (async () => {
    const n = 37, k = 512, m = 3;
    const data = quantize(12, new Rng(1).normalF32(n * k, 0.02), n, k);
    const x = new Rng(2).normalF32(m * k);
    const y = await referenceMatmul(memorySource(12, n, k, data), x, m);
    const s = referenceMatmulSync(12, data, n, k, x, m);
    const s2 = await cpuBackend.open(0);
    const r = await s2.run(await s2.load({ type: 12, n, k, data }), x, m);
    console.log(JSON.stringify({
      main: isMainThread,
      threads: poolSize(),
      same: y.every((v, i) => Object.is(v, s[i])),
      nmse: compareOutputs(y, r.y, m, n).nmse,
    }));
    if (process.argv[2] === 'shutdown') await shutdownPool(); // otherwise idle workers must not hold the process
  })();
}
`;

describe('worker pool in a one-file CJS bundle', () => {
  it('starts the bundle itself as the worker, computes, and the process exits', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'qs-bundle-'));
    try {
      writeFileSync(path.join(dir, 'entry.ts'), ENTRY);
      const out = path.join(dir, 'bundle.cjs');
      const res = await build({
        entryPoints: [path.join(dir, 'entry.ts')],
        outfile: out,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        define: { __QS_BUNDLED__: 'true' },
        logLevel: 'silent',
      });
      expect(res.warnings).toEqual([]);
      for (const arg of ['shutdown', 'keep']) {
        const p = spawnSync(process.execPath, [out, arg], { encoding: 'utf8', timeout: 30_000 });
        expect(p.status, p.stderr).toBe(0);
        const o = JSON.parse(p.stdout.trim());
        expect(o.main).toBe(true);
        expect(o.same).toBe(true);
        expect(o.nmse).toBeLessThan(1e-8);
        expect(o.threads).toBeGreaterThanOrEqual(1);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
