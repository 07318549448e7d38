// scripts/read-ceiling.sh (`npm run bench:ceiling`): a wrong mode is refused before anything is built,
// and the probe it builds (test/gpu/read-ceiling.cu) still compiles for Hopper. Running the probe needs
// an NVIDIA GPU and is a benchmark, not a test; a missing nvcc skips the compile with the reason printed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findTool } from '../kernels/tools';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts/read-ceiling.sh');
const PROBE = path.join(ROOT, 'test/gpu/read-ceiling.cu');

const nvcc = findTool('nvcc', ['/usr/local/cuda/bin']);
if (!nvcc)
  console.log('[read-ceiling] compile test skipped: nvcc not found on PATH or in /usr/local/cuda/bin');

const work = mkdtempSync(path.join(tmpdir(), 'qs-read-ceiling-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// the script with an nvcc that does not exist, so nothing is built
const runWithoutNvcc = (mode: string) =>
  spawnSync('bash', [SCRIPT, mode], { encoding: 'utf8', env: { ...process.env, NVCC: '/nonexistent/nvcc' } });

describe('read-ceiling probe', () => {
  it('refuses an unknown mode with one line and exit 2, before building', () => {
    const r = runWithoutNvcc('depp');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("read-ceiling: unknown mode 'depp' (expected no argument or 'dep')\n");
  });

  it('names a missing nvcc in one line and exits 2', () => {
    const r = runWithoutNvcc('dep');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("read-ceiling: nvcc not found (put CUDA's bin on PATH or set NVCC)\n");
  });

  it.skipIf(!nvcc)(
    'compiles for sm_90 with both modes in the binary',
    () => {
      const obj = path.join(work, 'read-ceiling.o');
      const r = spawnSync(nvcc!, ['-O3', '-std=c++17', '-arch=sm_90', '-c', '-o', obj, PROBE], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(statSync(obj).size).toBeGreaterThan(10_000);
      // the dependent-chain kernels are in its device code
      const ptx = path.join(work, 'read-ceiling.ptx');
      const p = spawnSync(nvcc!, ['-O3', '-std=c++17', '-arch=sm_90', '-ptx', '-o', ptx, PROBE], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(p.status).toBe(0);
      const entries = readFileSync(ptx, 'utf8').match(/^\.visible \.entry \S+/gm) ?? [];
      for (const k of ['quantk', 'deprd', 'stagek', 'readk', 'readc'])
        expect(entries.some((e) => e.includes(k))).toBe(true);
    },
    300_000,
  );
});
