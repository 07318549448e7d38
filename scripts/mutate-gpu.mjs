#!/usr/bin/env node
// Mutation harness for the GPU machine: plants one known defect at a time into the kernels, runs
// `selftest --quick` on each mutant, and checks that every defect is caught (some case FAILs) and
// diagnosed. Needs only node, koffi and dist/quantscope.cjs (`npm run build:cli`): each mutant is a
// copy of the bundle with the defect patched into its embedded kernel source (or a QS_KERNEL_DEFINES
// switch), written beside it in dist/ (so koffi resolves the same way) and removed afterwards; NVRTC /
// hiprtc compile the patched source, and the kernel cache keys on the source, so nothing stale runs.
//
//   node scripts/mutate-gpu.mjs [--backend cuda|hip] [--device N] [--only id,id] [--json out.json] [--keep]
//   node scripts/mutate-gpu.mjs --dry-run   (no GPU: checks that every defect applies to the bundle)
//
// Prints a table (defect, formats, caught, diagnosis, expected) and writes the rows as JSON
// (default mutate-gpu.json). Exit 0 when every defect is caught, 1 when one is missed, 0 with a
// "skipped" line when the backend has no device. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE = path.join(ROOT, 'dist', 'quantscope.cjs');

/**
 * The planted defects: `edits` are [find, replace] pairs on the kernel source text as the bundle holds
 * it (each `find` must
 * occur exactly once in the bundle, or `count` times), `defines` a QS_KERNEL_DEFINES value; `expect`
 * the diagnosis classes that name the defect correctly.
 */
export const DEFECTS = [
  {
    id: 'q8-scale-128',
    what: 'activation quantizer: stored scale amax/128 instead of amax/127',
    formats: 'q4_0,q8_0,q4_k',
    edits: [['d = amax / 127.f;', 'd = amax / 128.f;']],
    expect: ['rounding', 'constant-factor'],
  },
  {
    id: 'q8-round-toward-zero',
    what: 'activation quantizer: truncation instead of round to nearest',
    formats: 'q8_0,q6_k',
    edits: [
      [
        'int qs_q8_round(float v) { return __float2int_rn(v); }',
        'int qs_q8_round(float v) { return __float2int_rz(v); }',
      ],
    ],
    expect: ['rounding'],
  },
  {
    id: 'bf16-truncating',
    what: 'bfloat16 conversion of the matrix-unit path truncates (cvt.rz) instead of rounding to nearest even',
    formats: 'q4_k,q8_0',
    edits: [['asm("cvt.rn.bf16x2.f32 %0, %1, %2;"', 'asm("cvt.rz.bf16x2.f32 %0, %1, %2;"']],
    expect: ['rounding', 'precision'],
  },
  {
    id: 'q4_0-offset-missing-int8',
    what: 'Q4_0 int8 dot: the -8 offset term is dropped',
    formats: 'q4_0',
    edits: [['return u.d * (ds.x * qs_sumf(s) - 8.f * ds.y);', 'return u.d * (ds.x * qs_sumf(s));']],
    expect: ['offset-missing'],
  },
  {
    id: 'k-min-sign-int8',
    what: 'Q4_K/Q5_K int8 dot: the minimum term added instead of subtracted',
    formats: 'q4_k,q5_k',
    edits: [
      [
        'return (u.dl * ds.x * qs_sumf(sl) + u.dh * ds.z * qs_sumf(sh)) - (u.ml * ds.y + u.mh * ds.w);',
        'return (u.dl * ds.x * qs_sumf(sl) + u.dh * ds.z * qs_sumf(sh)) + (u.ml * ds.y + u.mh * ds.w);',
        2,
      ],
    ],
    expect: ['min-sign'],
  },
  {
    id: 'q6_k-offset-missing-int8',
    what: 'Q6_K int8 dot: the -32 offset is dropped',
    formats: 'q6_k',
    edits: [
      ['const int s0 = QS_SUM0 - 32 * qs_dp4a(ones, a.w,', 'const int s0 = QS_SUM0 - 0 * qs_dp4a(ones, a.w,'],
    ],
    expect: ['offset-missing'],
  },
  {
    id: 'q4_0-nibbles-swapped-int8',
    what: 'Q4_0 int8 unpack: low and high nibbles swapped',
    formats: 'q4_0',
    edits: [
      [
        '// bytes 2.. of the block\n    u.v[i] = a & 0x0F0F0F0F;\n    u.v[4 + i] = (a >> 4) & 0x0F0F0F0F;',
        '// bytes 2.. of the block\n    u.v[i] = (a >> 4) & 0x0F0F0F0F; // swapped\n    u.v[4 + i] = a & 0x0F0F0F0F;',
      ],
    ],
    expect: ['nibble-order', 'layout'],
  },
  {
    id: 'q5_k-high-bit-lost-int8',
    what: 'Q5_K int8 unpack: the fifth bit of the low-nibble sub-block is lost',
    formats: 'q5_k',
    edits: [
      [
        'v[i] = (qq[i] & 0x0F0F0F0F) | (((hh[i] >> (2 * g)) & 0x01010101) << 4);',
        'v[i] = (qq[i] & 0x0F0F0F0F);',
      ],
    ],
    expect: ['high-bits'],
  },
  {
    id: 'k-scale-index-int8',
    what: 'Q4_K/Q5_K int8 header: the odd sub-block uses the even sub-block scale',
    formats: 'q4_k,q5_k',
    edits: [['dh = d * qs_u23f(sc[1]);', 'dh = d * qs_u23f(sc[0]);']],
    expect: ['scale-index'],
  },
  {
    id: 'q8_0-unsigned-f32',
    what: 'Q8_0 exact decoder (float32 paths): weight bytes read as unsigned',
    formats: 'q8_0',
    edits: [
      [
        'lo ^= 0x80808080u; // signed byte q -> q + 128\n  hi ^= 0x80808080u;\n#pragma unroll\n  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 128.f);',
        'lo ^= 0u; // unsigned\n  hi ^= 0u;\n#pragma unroll\n  for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);',
      ],
    ],
    expect: ['unsigned'],
  },
  {
    id: 'q4_k-min-sign-f32',
    what: 'Q4_K/Q5_K exact decoder (float32 paths): offset +dmin*min',
    formats: 'q4_k',
    edits: [['offset = -(dmin * (float)mn);', 'offset = (dmin * (float)mn);']],
    expect: ['min-sign'],
  },
  {
    id: 'q6_k-offset-missing-f32',
    what: 'Q6_K exact decoder (float32 paths): the -32 is dropped',
    formats: 'q6_k',
    edits: [
      [
        'for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 32.f);',
        'for (int i = 0; i < 8; i++) q[i] = qs_bytef(i < 4 ? lo : hi, i & 3, 0.f);',
      ],
    ],
    expect: ['offset-missing'],
  },
  {
    id: 'tiled-last-column-unwritten',
    what: 'tiled float32 kernel: the last output column is never stored',
    formats: 'q8_0',
    edits: [['if (gn < n) y[gm * n + gn] = acc[i][j];', 'if (gn < n - 1) y[gm * n + gn] = acc[i][j];']],
    expect: ['unwritten'],
  },
  {
    id: 'half-accumulation-int8',
    what: 'small int8 kernel: the float accumulator kept at half precision (10-bit mantissa)',
    formats: 'q8_0,q4_k',
    edits: [
      [
        'for (int r = 0; r < R; r++) acc[r][mi] += qs_q8_dot(wq[r], xb, db);',
        'for (int r = 0; r < R; r++) acc[r][mi] = __uint_as_float(__float_as_uint(acc[r][mi] + qs_q8_dot(wq[r], xb, db)) & 0xffffe000u);',
      ],
    ],
    expect: ['precision', 'unknown'],
  },
  {
    id: 'q4_1-min-dropped-f32',
    what: 'Q4_1 exact decoder (float32 paths): the block minimum m is not added',
    formats: 'q4_1',
    edits: [
      [
        'offset = qs_h2f(qs_ld16(b + 2));\n  qs_u32 lo, hi;\n  qs_ld8b(b + 4 + (j & 1) * 8, lo, hi);',
        'offset = 0.f;\n  qs_u32 lo, hi;\n  qs_ld8b(b + 4 + (j & 1) * 8, lo, hi);',
      ],
    ],
    expect: ['offset-missing', 'min-sign'],
  },
  {
    id: 'iq4-level-off',
    what: "IQ4_NL/IQ4_XS: the largest of the 16 levels is 114 instead of ggml's 113 (every path)",
    formats: 'iq4_nl,iq4_xs',
    edits: [['0x71594535u', '0x72594535u']],
    expect: ['unknown', 'layout', 'constant-factor'],
  },
  {
    id: 'quantizer-skipped',
    what: 'the activation quantizer does no work (QS_XQ_NOP): the int8 kernels read stale activations',
    formats: 'q4_0',
    defines: 'QS_XQ_NOP=1',
    expect: ['unknown', 'unwritten', 'rounding', 'constant-factor', 'precision'],
  },
];

function parseArgs(argv) {
  const o = { backend: 'cuda', device: '0', only: null, json: 'mutate-gpu.json', keep: false, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--backend') o.backend = argv[++i];
    else if (a === '--device') o.device = argv[++i];
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--keep') o.keep = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--help' || a === '-h') {
      console.log(
        'node scripts/mutate-gpu.mjs [--backend cuda|hip] [--device N] [--only id,id] [--json out.json] [--keep]',
      );
      process.exit(0);
    } else {
      console.error(`mutate-gpu: unknown argument '${a}'`);
      process.exit(2);
    }
  }
  if (!['cuda', 'hip'].includes(o.backend)) {
    console.error(`mutate-gpu: --backend must be cuda or hip, got '${o.backend}'`);
    process.exit(2);
  }
  return o;
}

function occurrences(text, s) {
  let n = 0;
  for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length)) n++;
  return n;
}

/** The bundle with the defect's edits applied; throws when a snippet is not found as often as expected. */
export function mutant(bundle, d) {
  let text = bundle;
  for (const [rawFind, rawRepl, count = 1] of d.edits ?? []) {
    // a snippet across lines: the bundler stores each header either as a template literal (real line
    // breaks) or as a quoted string (\n escapes); take the form this bundle has
    let find = rawFind;
    let repl = rawRepl;
    if (find.includes('\n') && occurrences(text, find) === 0) {
      find = find.replaceAll('\n', '\\n');
      repl = repl.replaceAll('\n', '\\n');
    }
    const got = occurrences(text, find);
    if (got !== count)
      throw new Error(`${d.id}: '${find.slice(0, 60)}' occurs ${got} times in the bundle, expected ${count}`);
    text = text.split(find).join(repl);
  }
  return text;
}

function run(args, env) {
  return spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
  });
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(BUNDLE)) {
    console.error(`mutate-gpu: ${path.relative(process.cwd(), BUNDLE)} is missing (npm run build:cli)`);
    process.exit(2);
  }
  if (o.dryRun) {
    const bundle = fs.readFileSync(BUNDLE, 'utf8');
    for (const d of DEFECTS) {
      mutant(bundle, d);
      console.log(
        `${d.id.padEnd(30)} applies (${d.edits ? `${d.edits.length} edit(s)` : `QS_KERNEL_DEFINES=${d.defines}`})`,
      );
    }
    return 0;
  }
  const dev = run([BUNDLE, 'devices', '--json']);
  let available = false;
  let reason = dev.stderr.trim() || `devices exited ${dev.status}`;
  try {
    const list = JSON.parse(dev.stdout);
    const b = (Array.isArray(list) ? list : (list.backends ?? [])).find((x) => x.backend === o.backend);
    available = !!b?.available && b.devices.length > Number(o.device);
    reason = b?.reason ?? (b ? `${b.devices.length} device(s)` : `no ${o.backend} entry`);
  } catch {
    /* reason stays */
  }
  if (!available) {
    console.log(`mutate-gpu: skipped: ${o.backend} device ${o.device} unavailable (${reason})`);
    return 0;
  }
  const bundle = fs.readFileSync(BUNDLE, 'utf8');
  const defects = DEFECTS.filter((d) => !o.only || o.only.includes(d.id));
  const rows = [];
  for (const d of defects) {
    const t0 = Date.now();
    let file = BUNDLE;
    const row = {
      defect: d.id,
      what: d.what,
      formats: d.formats,
      caught: false,
      failed: 0,
      cases: 0,
      diagnoses: {},
      expected: d.expect,
      named: false,
      error: null,
    };
    try {
      if (d.edits) {
        file = path.join(path.dirname(BUNDLE), `quantscope-mutant-${d.id}-${process.pid}.cjs`);
        fs.writeFileSync(file, mutant(bundle, d));
      }
      const json = path.join(os.tmpdir(), `qs-mutant-${d.id}-${process.pid}.json`);
      const r = run(
        [
          file,
          'selftest',
          '--backend',
          o.backend,
          '--device',
          o.device,
          '--quick',
          '--formats',
          d.formats,
          '--json',
          json,
        ],
        d.defines ? { QS_KERNEL_DEFINES: d.defines } : {},
      );
      if (!fs.existsSync(json))
        throw new Error(
          `selftest wrote no results (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`,
        );
      const res = JSON.parse(fs.readFileSync(json, 'utf8'));
      fs.rmSync(json, { force: true });
      row.cases = res.rows.length;
      for (const c of res.rows) {
        if (c.result === 'pass') continue;
        row.failed++;
        const cls = c.diagnosis?.class ?? (c.result === 'error' ? 'error' : 'none');
        row.diagnoses[cls] = (row.diagnoses[cls] ?? 0) + 1;
      }
      row.caught = row.failed > 0;
      row.named = Object.keys(row.diagnoses).some((c) => d.expect.includes(c));
    } catch (e) {
      row.error = e instanceof Error ? e.message : String(e);
    } finally {
      if (file !== BUNDLE && !o.keep) fs.rmSync(file, { force: true });
    }
    row.seconds = Math.round((Date.now() - t0) / 100) / 10;
    rows.push(row);
    const diag = Object.entries(row.diagnoses)
      .map(([c, n]) => `${c} x${n}`)
      .join(', ');
    console.log(
      `${row.defect.padEnd(30)} ${row.formats.padEnd(10)} ${(row.error ? 'ERROR' : row.caught ? `caught ${row.failed}/${row.cases}` : 'MISSED').padEnd(15)} ${(diag || row.error || '-').padEnd(40)} ${row.named ? 'named' : `expected ${d.expect.join('|')}`}`,
    );
  }
  fs.writeFileSync(
    o.json,
    JSON.stringify({ schema: 'quantscope-mutate/1', backend: o.backend, device: o.device, rows }, null, 1) +
      '\n',
  );
  const missed = rows.filter((r) => !r.caught);
  const unnamed = rows.filter((r) => r.caught && !r.named);
  console.log(
    `\n${rows.length - missed.length} of ${rows.length} defects caught, ${rows.length - missed.length - unnamed.length} named as expected; results in ${o.json}`,
  );
  return missed.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href)
  process.exitCode = main();
