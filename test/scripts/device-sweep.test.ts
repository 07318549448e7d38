/**
 * test/gpu/device-sweep.sh, the tuning sweep run on the GPU machine: what it runs and in which order,
 * with stand-ins for `node` (records each call and its QS_KERNEL_DEFINES, prints bench-like rows) and
 * `nvidia-smi` on the PATH. Timing anything needs a GPU, so only the script's plan is checked here: every
 * variant is compiled ahead and checked before it is timed, the words alternate within each round, a
 * word's formats and batch sizes follow the last @ word, and with a ggml checkout llama.cpp is built,
 * timed and handed to bench as its peer.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
const SCRIPT = path.join(ROOT, 'test/gpu/device-sweep.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'qs-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bin = path.join(dir, 'bin');
mkdirSync(bin);
const CALLS = path.join(dir, 'calls');
function stub(name: string, body: string) {
  writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path.join(bin, name), 0o755);
}
stub('nvidia-smi', 'echo "NVIDIA H200, 580.159.04, 1980 MHz, 3201 MHz"');
// a bench row per format (format m proto path us ... %copy host check), a selftest summary
stub(
  'node',
  [
    `echo "$QS_KERNEL_DEFINES|$*" >> "${CALLS}"`,
    'case "$2" in',
    '  bench) for f in $(echo "$4" | tr , " "); do echo "${f^^} 2 hot int8 16.90 1% 3700 0.01 - 89 3.1 pass 1e-3"; done ;;',
    '  selftest) echo "PASS q8_0"; echo "4 passed, 0 failed" ;;',
    'esac',
  ].join('\n'),
);

function sweep(words: string, env: Record<string, string>) {
  rmSync(CALLS, { force: true });
  const out = mkdtempSync(path.join(dir, 'out-'));
  const r = spawnSync('bash', [SCRIPT, words], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      OUT: out,
      QS_KERNEL_CACHE: path.join(dir, 'cache'),
      ...env,
    },
  });
  const calls = (existsSync(CALLS) ? readFileSync(CALLS, 'utf8').trim().split('\n') : []).map((l) => {
    const [defines, args] = l.split('|');
    return { defines, args: args.replace('dist/quantscope.cjs ', '') };
  });
  return { code: r.status, out: r.stdout, err: r.stderr, calls, dir: out };
}

describe('test/gpu/device-sweep.sh', () => {
  it('compiles and checks every variant before timing it, and alternates the words within each round', () => {
    const r = sweep('@q8_0:2,3,4 default QS_Q8_R=2,QS_Q8_W=4 @q6_k:1,2:hot,cold default QS_Q6_QLX=1', {
      ROUNDS: '2',
      SWEEP_P: 'hot',
      CHECK: '@q6_k QS_Q6_QLX=1',
      BENCH_F: 'q6_k,q8_0',
    });
    expect(r.code).toBe(0);
    const tiny = r.calls.filter((c) => c.args.includes('--n 256 --k 1024'));
    // one ahead-of-time build per (formats, defines), none for the default build
    expect(tiny.map((c) => `${c.args.split(' ')[2]} ${c.defines}`).sort()).toEqual([
      'q6_k QS_Q6_QLX=1',
      'q8_0 QS_Q8_R=2,QS_Q8_W=4',
    ]);
    const rest = r.calls.filter((c) => !tiny.includes(c));
    expect(rest.map((c) => `${c.defines}|${c.args}`)).toEqual([
      '|selftest --quick --no-record',
      'QS_Q6_QLX=1|selftest --quick --formats q6_k --no-record',
      '|bench --formats q6_k,q8_0 --m 1,2,3,4,5,8 --protocol hot,cold --repeats 20 --no-record --json ' +
        `${r.dir}/bench.json`,
      ...Array(2)
        .fill([
          '|bench --formats q8_0 --m 2,3,4 --protocol hot --repeats 10 --no-record',
          'QS_Q8_R=2,QS_Q8_W=4|bench --formats q8_0 --m 2,3,4 --protocol hot --repeats 10 --no-record',
          '|bench --formats q6_k --m 1,2 --protocol hot,cold --repeats 10 --no-record',
          'QS_Q6_QLX=1|bench --formats q6_k --m 1,2 --protocol hot,cold --repeats 10 --no-record',
        ])
        .flat(),
    ]);
    // the ahead-of-time builds end before the first timed run
    const lastTiny = Math.max(...tiny.map((c) => r.calls.indexOf(c)));
    expect(lastTiny).toBeLessThan(r.calls.findIndex((c) => c.args.startsWith('bench --formats q6_k,q8_0')));
    expect(r.out).toContain('== sweep, round 2');
    expect(r.out).toContain('-- QS_Q6_QLX=1\nQ6_K m=2 hot 16.90 89%');
    expect(readFileSync(path.join(r.dir, 'sweep.txt'), 'utf8')).toContain('== sweep, round 1');
  });

  it('skips what would start past the deadline, and says so', () => {
    const r = sweep('@q8_0:2 default', { DEADLINE: '0', FAST: '1', BENCH_F: 'q8_0' });
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.out).toContain('== round 1 skipped: the deadline is near');
  });

  const HAVE_CMAKE = spawnSync('cmake', ['--version']).status === 0;
  if (!HAVE_CMAKE) console.log('device-sweep.sh peer test skipped: cmake is not installed');
  it.skipIf(!HAVE_CMAKE)(
    'builds llama.cpp from PEER_SRC while the selftest runs and benches beside its times',
    () => {
      // a stand-in checkout whose build makes a test-backend-ops printing one SQL row and ggml's device log
      const src = path.join(dir, 'ggml');
      mkdirSync(src, { recursive: true });
      writeFileSync(
        path.join(src, 'tbo.sh'),
        [
          '#!/usr/bin/env bash',
          'echo "  Device 0: NVIDIA H200, compute capability 9.0" >&2',
          `echo "INSERT INTO test_backend_ops (op_name, op_params, time_us, device_description, backend_reg_name) VALUES ('MUL_MAT', '$7', '22.9', '', '');"`,
          '',
        ].join('\n'),
      );
      writeFileSync(
        path.join(src, 'CMakeLists.txt'),
        [
          'cmake_minimum_required(VERSION 3.10)',
          'project(fake NONE)',
          'add_custom_target(test-backend-ops ALL',
          '  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/tbo.sh ${CMAKE_BINARY_DIR}/test-backend-ops',
          '  COMMAND chmod +x ${CMAKE_BINARY_DIR}/test-backend-ops)',
          '',
        ].join('\n'),
      );
      const tar = path.join(dir, 'ggml.tar.gz');
      expect(spawnSync('tar', ['-czf', tar, '-C', dir, 'ggml']).status).toBe(0);
      const r = sweep('', { PEER_SRC: tar, FAST: '1', BENCH_F: 'q4_k,q8_0,iq4_nl', MS: '1,2' });
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/== llama\.cpp build rc=0/);
      expect(r.out).toMatch(/== llama\.cpp timed rc=0/);
      const peer = readFileSync(path.join(r.dir, 'peer.sql'), 'utf8');
      // ggml's type names, the batch sizes asked for, and the device from its log
      expect(peer).toContain('type_a=(q4_K|q8_0|iq4_nl),type_b=f32,m=4096,n=(1|2),k=14336');
      expect(peer).toContain("'NVIDIA H200', '');");
      const bench = r.calls.find((c) => c.args.startsWith('bench --formats q4_k,q8_0,iq4_nl'));
      expect(bench?.args).toContain(`--peer ${r.dir}/peer.sql`);
    },
  );
});
