import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './helpers';
import { COMMANDS } from '../../src-main/engine/cli/commands';
import { parseCommandArgs } from '../../src-main/engine/cli/framework';
import { GgufFile, encodeGguf, md } from '../../src-main/engine/gguf';
import { dequantize, quantize } from '../../src-main/engine/formats';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { sampleModelPath } from '../../src-main/engine/paths';
import { shutdownPool } from '../../src-main/engine/workers';
import { Rng } from '../../src-main/engine/rng';

let dir: string;
let model: string;
const K = 256;
const N = 40;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-cli-'));
  model = path.join(dir, 'small.gguf');
  const rng = new Rng(7);
  const types: number[] = [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_0];
  const tensors = types.map((type, i) => ({
    name: `blk.${i}.ffn_down.weight`,
    type,
    dims: [K, N],
    data: quantize(type, rng.normalF32(N * K), N, K),
  }));
  // a type QuantScope lists but cannot compute (IQ2_XXS: 66-byte blocks of 256)
  tensors.push({
    name: 'blk.9.odd.weight',
    type: GgmlType.IQ2_XXS,
    dims: [256, 2],
    data: new Uint8Array(132),
  });
  fs.writeFileSync(model, encodeGguf({ metadata: [md.string('general.architecture', 'llama')], tensors }));
});

afterAll(async () => {
  await shutdownPool();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('quantscope CLI', () => {
  it('prints help listing every command, and per-command help', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['inspect', 'dequant', 'matmul', 'verify', 'make-model', 'devices'])
      expect(r.out).toContain(c);
    const v = await cli('verify', '--help');
    expect(v.code).toBe(0);
    expect(v.out).toContain('--batch');
  });

  it('rejects an unknown command and a wrong flag with one line and exit 2', async () => {
    const a = await cli('frobnicate');
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/^quantscope: error: unknown command 'frobnicate'/);
    expect(a.err.trim().split('\n')).toHaveLength(1);
    const b = await cli('verify', model, '--bacth', '1');
    expect(b.code).toBe(2);
    expect(b.err).toBe("quantscope: error: verify: Unknown option '--bacth' (did you mean --batch?)\n");
    const c = await cli('verify', model, '--batch', '1,x');
    expect(c.code).toBe(2);
    expect(c.err).toContain("'x' is not a positive integer");
  });

  it('names the option an unknown one most likely meant, across commands that name a setting differently', async () => {
    const err = async (...args: string[]) => {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      return r.err;
    };
    // another command's name for the same setting
    expect(await err('verify', model, '--m', '1,4')).toBe(
      "quantscope: error: verify: Unknown option '--m' (did you mean --batch?)\n",
    );
    expect(await err('bench', '--batch', '1')).toBe(
      "quantscope: error: bench: Unknown option '--batch' (did you mean --m?)\n",
    );
    expect(await err('make-model', '--out', 'x.gguf', '--formats', 'q4_0')).toContain(
      '(did you mean --types?)',
    );
    expect(await err('selftest', '--types', 'q4_0')).toContain('(did you mean --formats?)');
    // a typo close to one name; nothing offered for a name close to none
    expect(await err('bench', '--protcol', 'hot')).toContain(
      "Unknown option '--protcol' (did you mean --protocol?)",
    );
    expect(await err('verify', model, '--tensor', 'x')).toContain('(did you mean --tensors?)');
    expect(await err('verify', model, '--frobnicate')).toBe(
      "quantscope: error: verify: Unknown option '--frobnicate'\n",
    );
    // a format name that is none names the ones there are, in bench and selftest alike
    for (const cmd of ['bench', 'selftest'])
      expect(await err(cmd, '--formats', 'q4_0, q9_0')).toBe(
        `quantscope: error: --formats: 'q9_0' is not a supported format (supported: f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k, iq4_nl, iq4_xs, bf16)\n`,
      );
    // make-model's output is an option, not an argument
    expect(await err('make-model', 'm.gguf')).toBe(
      "quantscope: error: make-model: unexpected argument 'm.gguf' (the file to write goes after --out)\n",
    );
  });

  it('devices: every backend, with its devices or why it has none', async () => {
    const r = await cli('devices');
    expect(r.code, r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    // the cpu is always there, its compute units being worker threads
    const cpu = lines.indexOf('cpu: 1 device');
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(lines[cpu + 1]).toMatch(
      /^ {2}cpu:0 {2}.+ {2}\S+, \d+ worker threads?, warp 1, .* free of .*, copy \d+ GB\/s$/,
    );
    // each GPU backend either lists its devices (SMs on cuda, CUs on hip) or says why it cannot
    for (const b of ['cuda', 'hip']) {
      const head = lines.find((l) => l.startsWith(`${b}: `));
      expect(head, b).toMatch(new RegExp(`^${b}: (unavailable: .+|\\d+ devices?)$`));
      if (!head!.includes('unavailable'))
        expect(lines.find((l) => l.startsWith(`  ${b}:0 `))).toMatch(
          b === 'cuda' ? / \d+ SMs?, / : / \d+ CUs?, /,
        );
    }
  });

  it('refuses a single-value option given twice, in every command, naming it; repeatable ones repeat', async () => {
    let checked = 0;
    for (const c of COMMANDS) {
      for (const [name, spec] of Object.entries(c.options)) {
        if (spec.type !== 'string' || spec.multiple) continue;
        const r = await cli(c.name, `--${name}`, 'a', `--${name}=b`);
        expect(r.code, `${c.name} --${name}`).toBe(2);
        expect(r.err).toBe(`quantscope: error: ${c.name}: --${name} is given more than once; give it once\n`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
    // a short and a long form are the same option
    const short = await cli('verify', model, '-b', 'cpu', '--backend', 'cpu');
    expect(short.err).toBe('quantscope: error: verify: --backend is given more than once; give it once\n');
    expect((await cli('verify', model, '--batch', '1', '--batch', '4')).code).toBe(2);
    // options meant to repeat, and flags, still may
    const serve = COMMANDS.find((c) => c.name === 'serve')!;
    const { values } = parseCommandArgs(serve, [
      '--models',
      'a',
      '--models',
      'b',
      '--allow-host',
      'x',
      '--allow-host',
      'y',
    ]);
    expect(values.models).toEqual(['a', 'b']);
    expect(values['allow-host']).toEqual(['x', 'y']);
    const verify = COMMANDS.find((c) => c.name === 'verify')!;
    expect(parseCommandArgs(verify, ['--force', '--force', '--unfused']).values.force).toBe(true);
    // --help still answers
    expect((await cli('verify', '--batch', '1', '--batch', '4', '--help')).code).toBe(0);
  });

  it('names a malformed file in one line, exit 2', async () => {
    const bad = path.join(dir, 'bad.gguf');
    fs.writeFileSync(bad, Buffer.from('GGUF\x03\x00\x00\x00garbage'));
    const r = await cli('inspect', bad);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^quantscope: error: /);
  });

  it('inspect lists tensors with type, shape and support, and --json parses', async () => {
    const r = await cli('inspect', model);
    expect(r.code).toBe(0);
    expect(r.out).toContain('blk.1.ffn_down.weight');
    expect(r.out).toContain('Q4_K');
    expect(r.out).toMatch(/blk\.9\.odd\.weight\s+IQ2_XXS.*no: .*IQ2_XXS/);
    const j = await cli('inspect', model, '--json');
    const s = JSON.parse(j.out);
    expect(s.tensors).toHaveLength(6);
    expect(s.tensors[2]).toMatchObject({
      name: 'blk.2.ffn_down.weight',
      typeName: 'Q5_K',
      n: N,
      k: K,
      supported: true,
    });
    expect(s.architecture).toBe('llama');
  });

  it('dequant writes exactly the dequantized float32 rows', async () => {
    const out = path.join(dir, 'w.f32');
    const r = await cli('dequant', model, 'blk.3.ffn_down.weight', '--out', out);
    expect(r.code).toBe(0);
    const file = await GgufFile.open(model);
    const t = file.tensor('blk.3.ffn_down.weight');
    const want = dequantize(t.type, await file.readTensor(t), t.n, t.k);
    await file.close();
    const got = new Float32Array(new Uint8Array(fs.readFileSync(out)).buffer);
    expect(got).toEqual(want);
  });

  it('matmul: reference writes float64 equal to the sync reference; cpu float32 close to it', async () => {
    const m = 3;
    const x = new Rng(3).normalF32(m * K);
    const xin = path.join(dir, 'x.f32');
    fs.writeFileSync(xin, new Uint8Array(x.buffer));
    const yref = path.join(dir, 'y.f64');
    const ycpu = path.join(dir, 'y.f32');
    expect(
      (await cli('matmul', model, 'blk.1.ffn_down.weight', '--input', xin, '--m', '3', '--out', yref)).code,
    ).toBe(0);
    const r2 = await cli(
      'matmul',
      model,
      'blk.1.ffn_down.weight',
      '--input',
      xin,
      '--m',
      '3',
      '--backend',
      'cpu',
      '--out',
      ycpu,
    );
    expect(r2.code).toBe(0);
    const file = await GgufFile.open(model);
    const t = file.tensor('blk.1.ffn_down.weight');
    const want = referenceMatmulSync(t.type, await file.readTensor(t), t.n, t.k, x, m);
    await file.close();
    const got = new Float64Array(new Uint8Array(fs.readFileSync(yref)).buffer);
    expect(got).toEqual(want);
    const gotCpu = new Float32Array(new Uint8Array(fs.readFileSync(ycpu)).buffer);
    expect(gotCpu.length).toBe(m * N);
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(gotCpu[i] - want[i])).toBeLessThan(1e-3 * (1 + Math.abs(want[i])));
    const bad = await cli(
      'matmul',
      model,
      'blk.1.ffn_down.weight',
      '--input',
      xin,
      '--m',
      '4',
      '--out',
      yref,
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('needs');
  });

  it('verify passes every supported tensor on the cpu, skips the unsupported one, writes JSON and a report', async () => {
    const json = path.join(dir, 'v.json');
    const report = path.join(dir, 'v.html');
    const r = await cli('verify', model, '--batch', '1,3', '--json', json, '--report', report);
    expect(r.err).toContain('skipped blk.9.odd.weight');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/10 passed, 0 failed, 0 errors of 10/);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.verdict).toBe('PASS');
    expect(j.results).toHaveLength(10);
    for (const res of j.results) {
      expect(res.status).toBe('pass');
      expect(res.metrics.nmse).toBeLessThan(1e-8);
      expect(res.path).toBe('cpu-f32');
    }
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('PASS');
    expect(html).toContain('blk.4.ffn_down.weight');
  });

  it('verify exits 1 when a result fails its threshold; its report and record keep the maps', async () => {
    // an absurd threshold makes float32 rounding a failure: the exit code must say so
    const records = path.join(dir, 'records-fail');
    const report = path.join(dir, 'fail.html');
    const json = path.join(dir, 'fail.json');
    const r = await cli(
      'verify',
      model,
      '--tensors',
      'blk.1.*',
      '--batch',
      '8',
      '--threshold',
      '1e-300',
      '--records',
      records,
      '--report',
      report,
      '--json',
      json,
    );
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL');
    // only rounding fails so strict a threshold, and the diagnosis says so
    expect(r.out).toMatch(
      /diagnosis blk\.1\.ffn_down\.weight m=8: unknown: every output row and column is within the kernel bar/,
    );
    // the failing result's output heatmap, drawn inline as in the app's report
    const page = fs.readFileSync(report, 'utf8');
    expect(page.match(/src="data:image\/png;base64,/g)?.length).toBeGreaterThanOrEqual(1);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(Object.keys(j.maps)).toEqual([j.results[0].resultId]);
    // the record keeps the failing result's heatmap
    const saved = fs.readdirSync(records).filter((f) => /-verify-.*\.json$/.test(f));
    expect(saved).toHaveLength(1);
    const rec = JSON.parse(fs.readFileSync(path.join(records, saved[0]), 'utf8'));
    const hm = rec.results[0].heatmap.abs;
    expect(hm.values.length).toBe(hm.rows * hm.cols);
  });

  it('verify --tensors matching nothing is bad input', async () => {
    const r = await cli('verify', model, '--tensors', 'nope.*');
    expect(r.code).toBe(2);
    expect(r.err).toContain('no tensor');
  });

  it('make-model writes a model whose tensors verify', async () => {
    const out = path.join(dir, 'made.gguf');
    const r = await cli(
      'make-model',
      '--out',
      out,
      '--preset',
      'tiny',
      '--types',
      'q4_k,q6_k',
      '--seed',
      '5',
    );
    expect(r.code).toBe(0);
    const f = await GgufFile.open(out);
    const names = f.header.tensors.map((t) => t.name);
    expect(names).toContain('blk.1.ffn_down.weight');
    expect(names).toContain('token_embd.weight');
    expect(new Set(f.header.tensors.filter((t) => t.dims.length === 2).map((t) => t.typeName))).toEqual(
      new Set(['Q4_K', 'Q6_K']),
    );
    await f.close();
    const again = await cli('make-model', '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toContain('--force');
    const v = await cli('verify', out, '--tensors', 'blk.0.attn_*', '--batch', '2');
    expect(v.code).toBe(0);
  });

  it('make-model --split writes a split model that inspect and verify read whole, with the weights of the model in one file', async () => {
    const sub = fs.mkdtempSync(path.join(dir, 'split-'));
    const one = path.join(sub, 'one.gguf');
    const split = path.join(sub, 'm.gguf');
    expect((await cli('make-model', '--out', one, '--seed', '9')).code).toBe(0);
    const r = await cli('make-model', '--out', split, '--seed', '9', '--split', '3');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(sub).sort()).toEqual([
      'm-00001-of-00003.gguf',
      'm-00002-of-00003.gguf',
      'm-00003-of-00003.gguf',
      'one.gguf',
    ]);
    const a = await GgufFile.open(one);
    const b = await GgufFile.open(path.join(sub, 'm-00003-of-00003.gguf'));
    expect(b.shards).toHaveLength(3);
    expect(b.header.tensors.map((t) => t.name)).toEqual(a.header.tensors.map((t) => t.name));
    for (const t of a.header.tensors) expect(await b.readTensor(t.name)).toEqual(await a.readTensor(t));
    await a.close();
    await b.close();
    const ins = await cli('inspect', path.join(sub, 'm-00002-of-00003.gguf'));
    expect(ins.code).toBe(0);
    expect(ins.out).toMatch(
      /^split model of 3 files: m-00001-of-00003\.gguf \(.*, 7 tensors\), m-00002-of-00003\.gguf/m,
    );
    expect(ins.out).toMatch(/^\s*#\s+name\s+type\s+shape\s+bytes\s+file\s+offset/m);
    const j = JSON.parse((await cli('inspect', path.join(sub, 'm-00001-of-00003.gguf'), '--json')).out);
    expect(j.files.map((f: { fileName: string }) => f.fileName)).toEqual([
      'm-00001-of-00003.gguf',
      'm-00002-of-00003.gguf',
      'm-00003-of-00003.gguf',
    ]);
    expect(j.tensors.at(-1).shard).toBe(2);
    // the same tensors through the split model and through the model in one file: the same results
    const args = [
      '--tensors',
      'output.weight,blk.1.ffn_down.weight',
      '--batch',
      '2',
      '--no-record',
      '--json',
    ];
    const j1 = path.join(dir, 'split-v1.json');
    const j2 = path.join(dir, 'split-v2.json');
    expect((await cli('verify', one, ...args, j1)).code).toBe(0);
    expect((await cli('verify', path.join(sub, 'm-00001-of-00003.gguf'), ...args, j2)).code).toBe(0);
    const v1 = JSON.parse(fs.readFileSync(j1, 'utf8'));
    const v2 = JSON.parse(fs.readFileSync(j2, 'utf8'));
    expect(v2.results).toHaveLength(2);
    expect(v2.results.map((x: { metrics: unknown }) => x.metrics)).toEqual(
      v1.results.map((x: { metrics: unknown }) => x.metrics),
    );
    // a missing file is named, in one line
    fs.rmSync(path.join(sub, 'm-00002-of-00003.gguf'));
    const gone = await cli('verify', path.join(sub, 'm-00001-of-00003.gguf'), '--no-record');
    expect(gone.code).toBe(2);
    expect(gone.err).toMatch(/file 2 of 3 of this split model: .*m-00002-of-00003\.gguf: no such file/);
    const tooMany = await cli('make-model', '--out', path.join(sub, 'x.gguf'), '--split', '99');
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toMatch(/--split 99: the model has 21 tensors/);
  });

  it('make-model --fill sparse writes a 405B-shaped model instantly that opens header-only and reads', async () => {
    const out = path.join(dir, 'huge.gguf');
    const r = await cli('make-model', '--out', out, '--preset', 'llama-3.1-405b', '--fill', 'sparse');
    expect(r.code).toBe(0);
    expect(fs.statSync(out).size).toBeGreaterThan(200 * 2 ** 30);
    const f = await GgufFile.open(out);
    expect(f.header.tensors).toHaveLength(1137);
    const t = f.tensor('blk.125.ffn_down.weight');
    expect([t.k, t.n, t.typeName]).toEqual([53248, 16384, 'Q6_K']);
    expect(t.offset).toBeGreaterThan(2 ** 32);
    const rows = await f.readRows(t, t.n - 1, 1);
    expect(rows.every((b) => b === 0)).toBe(true);
    await f.close();
    fs.rmSync(out);
  });

  it('devices always lists the cpu and says why GPU backends are missing', async () => {
    const r = await cli('devices');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^cpu: 1 device/m);
    expect(r.out).toMatch(/^cuda: (unavailable: .+|\d+ devices?)$/m);
    expect(r.out).toMatch(/^hip: (unavailable: .+|\d+ devices?)$/m);
  });

  it('the sample model exists and opens', async () => {
    const r = await cli('inspect', sampleModelPath(), '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(fs.statSync(sampleModelPath()).size).toBeLessThan(5 * 1024 * 1024);
    const types = new Set(s.tensors.map((t: { typeName: string }) => t.typeName));
    for (const t of ['Q4_0', 'Q4_K', 'Q5_K', 'Q6_K', 'Q8_0', 'F32']) expect(types).toContain(t);
  });
});
