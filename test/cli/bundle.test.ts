import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const bundle = path.join(root, 'dist', 'quantscope.cjs');

// The one-file CLI (what `npx quantscope` runs and what travels to GPU machines): built here if
// `npm run build` has not run yet, then started as a real process from another folder.
beforeAll(() => {
  if (!fs.existsSync(bundle))
    execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs')], { cwd: root });
}, 120_000);

function run(args: string[], cwd = os.tmpdir()) {
  return spawnSync(process.execPath, [bundle, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
}

describe('dist/quantscope.cjs', () => {
  it('answers --help and --version through the package bin', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/quantscope.cjs'), '--help'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^quantscope \d+\.\d+\.\d+/);
    expect(r.stdout).toContain('verify');
    const v = run(['--version']);
    expect(v.status).toBe(0);
    const lines = v.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+\.\d+\.\d+$/);
    // the bundle is built from this checkout: its commit is git's HEAD (dirty or not)
    const head = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
    expect(lines[1]).toMatch(head.status === 0 ? new RegExp(`^commit ${head.stdout.trim()}`) : /^commit /);
    expect(lines[2]).toContain(process.version);
    for (const rt of ['CUDA driver', 'NVRTC', 'HIP runtime', 'hiprtc'])
      expect(lines.some((l) => l.startsWith(`${rt}: `))).toBe(true);
  });

  it('verifies the sample model with worker threads from the bundle itself, and exits', () => {
    const r = run(['verify', '--tensors', 'blk.0.attn_q.weight,blk.1.ffn_down.weight', '--batch', '1,5']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/4 passed, 0 failed, 0 errors of 4 on cpu:0/);
  });

  it('prints one error line and exits 2 on bad input', () => {
    const r = run(['inspect', '/nonexistent/model.gguf']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^quantscope: error: .*model\.gguf/);
  });
});
