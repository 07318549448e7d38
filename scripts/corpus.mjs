#!/usr/bin/env node
// The defect corpus (test/kernels/corpus/): user-style kernels for the custom-kernel ABI, one planted
// defect each, and the correct kernel per format.
//
//   node scripts/corpus.mjs build [--target host,sm_90,gfx90a] [--only id,id] [--out build/corpus]
//       compiles every variant of variants.json: host shared objects (g++), CUDA cubins (nvcc) and
//       HIP code objects (hipcc, HIP_PLATFORM=amd); a missing compiler is a one-line error.
//   node scripts/corpus.mjs run --backend cuda|hip [--out build/corpus] [--batch 1,8] [--json F]
//       on a GPU machine, after `build` and `npm run build`: each variant through
//       `quantscope verify --backend <b>` with <FMT>_MATMUL_CUBIN / _HSACO and _ARITHMETIC set,
//       on a model made with make-model; prints a table (variant, verdicts, diagnosis, as expected?)
//       and exits 1 when any variant is not judged as expected.
// The host build is judged without a GPU by test/kernels/corpus.test.ts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIR = path.join(ROOT, 'test/kernels/corpus');
const SRC = path.join(DIR, 'corpus.cu');
export const TARGETS = {
  host: { ext: 'so', tool: 'g++' },
  sm_90: { ext: 'cubin', tool: 'nvcc' },
  gfx90a: { ext: 'hsaco', tool: 'hipcc' },
};

/** The variants of variants.json. */
export function corpusVariants() {
  return JSON.parse(fs.readFileSync(path.join(DIR, 'variants.json'), 'utf8')).variants;
}

function compileArgs(target, v, out) {
  const defs = [`-DQS_FMT_${v.format}`, ...v.defines.map((d) => `-D${d}`)];
  if (target === 'host')
    return ['g++', ['-x', 'c++', '-O2', '-shared', '-fPIC', '-DQS_CORPUS_HOST', ...defs, SRC, '-o', out]];
  if (target === 'sm_90')
    return ['nvcc', ['-cubin', '-arch=sm_90', '-O3', '-diag-suppress=177', ...defs, SRC, '-o', out]];
  return [
    'hipcc',
    ['--genco', '--offload-arch=gfx90a', '-O3', '-Wno-unused-function', ...defs, SRC, '-o', out],
  ];
}

/** Compiles the variants for one target into <out>/<target>/<id>.<ext>; returns the paths by id. */
export function buildCorpus(target, outDir, only = null) {
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target '${target}' (host, sm_90 or gfx90a)`);
  const dir = path.join(outDir, target);
  fs.mkdirSync(dir, { recursive: true });
  const built = {};
  for (const v of corpusVariants()) {
    if (only && !only.includes(v.id)) continue;
    const file = path.join(dir, `${v.id}.${t.ext}`);
    const [cmd, args] = compileArgs(target, v, file);
    const r = spawnSync(cmd, args, {
      encoding: 'utf8',
      env: target === 'gfx90a' ? { ...process.env, HIP_PLATFORM: 'amd' } : process.env,
    });
    if (r.error) throw new Error(`${cmd} not found: the ${target} corpus needs it`);
    if (r.status !== 0)
      throw new Error(`${v.id} (${target}): ${cmd} failed: ${(r.stderr || '').trim().split('\n')[0]}`);
    built[v.id] = file;
  }
  return built;
}

function run(opts) {
  const backend = opts.backend;
  if (backend !== 'cuda' && backend !== 'hip') throw new Error("--backend must be 'cuda' or 'hip'");
  const target = backend === 'cuda' ? 'sm_90' : 'gfx90a';
  const ext = TARGETS[target].ext;
  const cli = path.join(ROOT, 'dist/quantscope.cjs');
  if (!fs.existsSync(cli)) throw new Error('dist/quantscope.cjs is missing: run `npm run build` first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-corpus-'));
  const qs = (args, env = {}) =>
    spawnSync(process.execPath, [cli, ...args], {
      encoding: 'utf8',
      env: { ...process.env, QS_NO_RECORD: '1', ...env },
    });
  // one model per format family, tensors found by type
  const models = {};
  for (const [fmt, ftype] of [
    ['Q4_0', 'q4_0'],
    ['Q8_0', 'q8_0'],
    ['Q4_K', 'q4_k_m'],
    ['Q5_K', 'q5_k_m'],
    ['Q6_K', 'q6_k'],
  ]) {
    const file = path.join(work, `${ftype}.gguf`);
    const mk = qs(['make-model', '--preset', 'tiny', '--ftype', ftype, '--out', file]);
    if (mk.status !== 0) throw new Error(`make-model ${ftype}: ${mk.stderr.trim()}`);
    const info = JSON.parse(qs(['inspect', file, '--json']).stdout);
    const t = info.tensors.find((x) => x.type === fmt || x.typeName === fmt);
    if (!t) throw new Error(`make-model ${ftype}: no ${fmt} tensor`);
    models[fmt] = { file, tensor: t.name };
  }
  const rows = [];
  for (const v of corpusVariants()) {
    const obj = path.join(opts.out, target, `${v.id}.${ext}`);
    if (!fs.existsSync(obj))
      throw new Error(`${obj} is missing: run \`node scripts/corpus.mjs build --target ${target}\``);
    const { file, tensor } = models[v.format];
    const json = path.join(work, `${v.id}.json`);
    const env = {
      [`${v.format}_MATMUL_${backend === 'cuda' ? 'CUBIN' : 'HSACO'}`]: obj,
      [`${v.format}_MATMUL_ARITHMETIC`]: v.arithmetic,
    };
    const r = qs(
      [
        'verify',
        file,
        '--backend',
        backend,
        '--tensors',
        tensor,
        '--batch',
        opts.batch,
        '--timing',
        'none',
        '--json',
        json,
      ],
      env,
    );
    let results = [];
    try {
      results = JSON.parse(fs.readFileSync(json, 'utf8')).results ?? [];
    } catch {
      results = [];
    }
    const verdicts = results.map((x) => x.status);
    const classes = [...new Set(results.map((x) => x.diagnosis?.class).filter(Boolean))];
    const ok =
      results.length > 0 &&
      (v.expect === null
        ? verdicts.every((s) => s === 'pass')
        : verdicts.every((s) => s === 'fail') &&
          classes.length > 0 &&
          classes.every((c) => v.expect.includes(c)));
    rows.push({
      id: v.id,
      exit: r.status,
      verdicts,
      classes,
      expect: v.expect,
      ok,
      error: results.length ? null : r.stderr.trim().split('\n').pop(),
    });
  }
  fs.rmSync(work, { recursive: true, force: true });
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`${pad('variant', 34)} ${pad('verdicts', 12)} ${pad('diagnosis', 28)} as expected`);
  for (const r of rows)
    console.log(
      `${pad(r.id, 34)} ${pad(r.verdicts.join(',') || 'error', 12)} ${pad(r.classes.join(',') || r.error || '-', 28)} ${r.ok ? 'yes' : 'NO'}`,
    );
  const bad = rows.filter((r) => !r.ok).length;
  console.log(`${rows.length - bad} of ${rows.length} variants judged as expected on ${backend}`);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ backend, rows }, null, 2));
  return bad === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        target: { type: 'string', default: 'host,sm_90,gfx90a' },
        only: { type: 'string' },
        out: { type: 'string', default: path.join(ROOT, 'build/corpus') },
        backend: { type: 'string' },
        batch: { type: 'string', default: '1,8' },
        json: { type: 'string' },
      },
    });
    const cmd = positionals[0];
    if (cmd === 'build') {
      for (const t of values.target.split(',')) {
        const built = buildCorpus(t, values.out, values.only ? values.only.split(',') : null);
        console.log(`${t}: ${Object.keys(built).length} variants in ${path.join(values.out, t)}`);
      }
    } else if (cmd === 'run') process.exitCode = run(values);
    else throw new Error('usage: corpus.mjs build [--target host,sm_90,gfx90a] | run --backend cuda|hip');
  } catch (e) {
    console.error(`corpus: ${e.message}`);
    process.exitCode = 2;
  }
}
