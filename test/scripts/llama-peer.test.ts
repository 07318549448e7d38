/**
 * scripts/llama-peer.sh: its input errors, each a one-line message and exit 2, before anything is built;
 * and what it writes, from a stand-in checkout whose CMake build makes a `test-backend-ops` that prints
 * what the real one does (SQL rows on stdout, ggml's device log on stderr). Building llama.cpp and timing
 * it needs a real checkout (and for cuda or hip a GPU), so that part is not run here.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePeerOutput } from '../../src-main/engine/peers';

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

const HAVE_CMAKE = spawnSync('cmake', ['--version']).status === 0;
if (!HAVE_CMAKE) console.log('llama-peer.sh build test skipped: cmake is not installed');

describe.skipIf(!HAVE_CMAKE)('scripts/llama-peer.sh with a stand-in test-backend-ops', () => {
  const ROW = (backend: string, n: number, us: number) =>
    'INSERT INTO test_backend_ops (test_time, build_commit, backend_name, op_name, op_params, test_mode, supported, passed, error_message, time_us, flops, bandwidth_gb_s, memory_kb, n_runs, device_description, backend_reg_name) VALUES ' +
    `('2026-12-07T20:16:24Z', 'unknown', '${backend}', 'MUL_MAT', 'type_a=q4_0,type_b=f32,m=4096,n=${n},k=14336,bs=[1,1],nr=[1,1],per=[0,1,2,3],k_v=0,o=1,src_overlap=0', 'perf', '1', '1', '', '${us}', '0', '0.000000', '32328', '70716', '', '');`;
  const checkout = mkdtempSync(path.join(tmpdir(), 'qs-peer-build-'));
  afterAll(() => rmSync(checkout, { recursive: true, force: true }));
  // ggml's CUDA backend logs every device at start; the device names here need SQL and sed quoting
  writeFileSync(
    path.join(checkout, 'fake-tbo.sh'),
    [
      '#!/usr/bin/env bash',
      'echo "ggml_cuda_init: found 2 CUDA devices:" >&2',
      'echo "  Device 0: NVIDIA H200, compute capability 9.0, VMM: yes, VRAM: 143000 MiB" >&2',
      `echo "  Device 1: NVIDIA O'Brien & Co/X, compute capability 9.0, VMM: yes, VRAM: 1 MiB" >&2`,
      'b=${5} # perf -o MUL_MAT -b BACKEND ...',
      `echo "${ROW('$b', 1, 14.3)}"`,
      `echo "${ROW('$b', 2, 15.1)}"`,
      '',
    ].join('\n'),
  );
  chmodSync(path.join(checkout, 'fake-tbo.sh'), 0o755);
  writeFileSync(
    path.join(checkout, 'CMakeLists.txt'),
    [
      'cmake_minimum_required(VERSION 3.10)',
      'project(fake NONE)',
      'add_custom_target(test-backend-ops ALL',
      '  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/fake-tbo.sh ${CMAKE_BINARY_DIR}/test-backend-ops',
      '  COMMAND chmod +x ${CMAKE_BINARY_DIR}/test-backend-ops)',
      '',
    ].join('\n'),
  );

  it('LLAMA_PEER_BUILD_ONLY=1 builds test-backend-ops and stops: nothing is timed or written', () => {
    const out = path.join(checkout, 'peer-build-only.sql');
    const build = path.join(checkout, 'build-only');
    const r = run([checkout, 'cuda', out], {
      LLAMA_PEER_BUILD_ONLY: '1',
      LLAMA_PEER_BUILD: build,
      CUDA_ARCHS: '90',
    });
    expect(r.code).toBe(0);
    expect(r.err).toBe(`built ${path.join(build, 'test-backend-ops')}`);
    expect(existsSync(path.join(build, 'test-backend-ops'))).toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.log`)).toBe(false);
  });

  it.each([
    ['0', 'NVIDIA H200'],
    ['1', "NVIDIA O'Brien & Co/X"],
  ])('device %s: every row names the device from the backend log, as bench reads it', (device, name) => {
    const out = path.join(checkout, `peer-${device}.sql`);
    const r = run([checkout, 'cuda', out], { LLAMA_PEER_DEVICE: device, CUDA_ARCHS: '90' });
    expect(r.err).toContain(`timing llama.cpp's MUL_MAT on CUDA${device}`);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n').filter((l) => l.includes('MUL_MAT'))).toHaveLength(2);
    const p = parsePeerOutput(text, out);
    expect(p.device).toBe(name);
    expect(p.us.size).toBe(2);
  });
});
