/**
 * scripts/llama-peer.sh: its input errors, each a one-line message and exit 2, before anything is built.
 * Building llama.cpp and timing it needs a checkout (and for cuda or hip a GPU), so that part is not run
 * here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = path.join(__dirname, '../../scripts/llama-peer.sh');

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, err: r.stderr.trim(), out: r.stdout };
}

describe('scripts/llama-peer.sh input errors', () => {
  const checkout = mkdtempSync(path.join(tmpdir(), 'qs-peer-'));
  writeFileSync(path.join(checkout, 'CMakeLists.txt'), 'project(x)\n');

  it('wants a source folder and a backend', () => {
    const r = run([]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('llama-peer: usage: scripts/llama-peer.sh SRC cuda|hip|cpu [OUT]');
  });
  it('names a folder that is not a checkout', () => {
    const r = run([tmpdir() + '/no-such-folder', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^llama-peer: .*no-such-folder is not a ggml or llama\.cpp checkout \(no CMakeLists\.txt\)$/,
    );
  });
  it('names an unknown backend', () => {
    const r = run([checkout, 'vulkan']);
    expect(r.code).toBe(2);
    expect(r.err).toBe("llama-peer: unknown backend 'vulkan' (cuda, hip or cpu)");
  });
  it('names a device that is not an index', () => {
    const r = run([checkout, 'cuda'], { LLAMA_PEER_DEVICE: 'first' });
    expect(r.code).toBe(2);
    expect(r.err).toBe("llama-peer: LLAMA_PEER_DEVICE must be a device index, not 'first'");
  });
  it('names an output folder that does not exist', () => {
    const r = run([checkout, 'cpu', path.join(checkout, 'missing', 'out.sql')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^llama-peer: cannot write .*missing\/out\.sql \(no such folder or not writable\)$/,
    );
  });
});
