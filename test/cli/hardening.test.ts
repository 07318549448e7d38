import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli } from './helpers';
import { GgufFile, encodeGguf, md } from '../../src-main/engine/gguf';
import { quantize } from '../../src-main/engine/formats';
import { GgmlType } from '../../src-main/engine/ggml-types';
import { shutdownPool } from '../../src-main/engine/workers';
import { Rng } from '../../src-main/engine/rng';
import { termSafe } from '../../src-main/engine/cli/term';
import { table } from '../../src-main/engine/cli/table';
import { jsonChunks } from '../../src-main/engine/json-stream';
import { mdEscape } from '../../src-main/engine/report/report';
import { checkOutputs, writeNamed } from '../../src-main/engine/output-path';

let dir: string;
let model: string;
let evil: string;
const K = 256;
const N = 8;
const EVIL_NAME = 'blk.0.\x1b]0;pwned\x07\r\x1b[2Jspoof\u202egnp.exe\x9b31m';

/** Every terminal-active character: C0 (tab and newline included), DEL, C1, bidi controls. */
// eslint-disable-next-line no-control-regex
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-hard-'));
  const rng = new Rng(3);
  const w = () => quantize(GgmlType.Q8_0, rng.normalF32(N * K), N, K);
  model = path.join(dir, 'm.gguf');
  fs.writeFileSync(
    model,
    encodeGguf({
      metadata: [md.string('general.architecture', 'llama')],
      tensors: [{ name: 'blk.0.ffn_down.weight', type: GgmlType.Q8_0, dims: [K, N], data: w() }],
    }),
  );
  evil = path.join(dir, 'evil.gguf');
  fs.writeFileSync(
    evil,
    encodeGguf({
      metadata: [
        md.string('general.architecture', 'llama\x1b[2J'),
        md.string('general.name', 'x\x1b]2;title\x07\ry'),
        md.string('evil.\x1b[31mkey', 'v\x1bc\u202eabc\u2066'),
      ],
      tensors: [{ name: EVIL_NAME, type: GgmlType.Q8_0, dims: [K, N], data: w() }],
    }),
  );
});

afterAll(async () => {
  await shutdownPool();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('terminal escapes', () => {
  it('termSafe shows C0, DEL, C1 and bidi controls as escapes and keeps other text', () => {
    expect(termSafe('a\x1b[2Jb')).toBe('a\\x1b[2Jb');
    expect(termSafe('\r\n\t\x7f\x9b')).toBe('\\x0d\\x0a\\x09\\x7f\\x9b');
    expect(termSafe('x\u202ey\u2066z\u200f')).toBe('x\\u202ey\\u2066z\\u200f');
    expect(termSafe('blk.0.ffn_down.weight ×µ')).toBe('blk.0.ffn_down.weight ×µ');
    expect(table(['h'], [['\x1b]0;t\x07']])).not.toMatch(ACTIVE);
  });

  it('inspect and its errors print no raw control or bidi character from the file', async () => {
    const r = await cli('inspect', evil);
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(ACTIVE);
    expect(r.out).toContain('\\x1b]0;pwned\\x07\\x0d\\x1b[2Jspoof\\u202egnp.exe\\x9b31m');
    expect(r.out).toContain('evil.\\x1b[31mkey');
    // JSON keeps the exact text (escaped by JSON itself, or harmless in a JSON string)
    const j = await cli('inspect', evil, '--json');
    expect(JSON.parse(j.out).tensors[0].name).toBe(EVIL_NAME);
    const d = await cli('dequant', evil, 'nope\x1b[2J', '--out', path.join(dir, 'x.f32'));
    expect(d.code).toBe(2);
    expect(d.err).not.toMatch(ACTIVE);
  });

  it('the verify table and stderr escape tensor names', async () => {
    const r = await cli('verify', evil, '--batch', '1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('\\x1b]0;pwned');
    expect(r.out).not.toMatch(ACTIVE);
    expect(r.err).not.toMatch(ACTIVE);
  });

  it('the Markdown report escapes HTML, pipes, newlines and controls from the file', () => {
    expect(mdEscape('a|b\nc<script>&\x1b')).toBe('a\\|b c&lt;script&gt;&amp;\\\\x1b');
    expect(mdEscape('[x](javascript:1)')).toBe('\\[x\\]\\(javascript:1\\)');
  });

  it('verify --report .md of the evil model keeps one table row per result', async () => {
    const rep = path.join(dir, 'r.md');
    const r = await cli('verify', evil, '--batch', '1', '--report', rep);
    expect(r.code).toBe(0);
    const text = fs.readFileSync(rep, 'utf8');
    expect(text).not.toMatch(ACTIVE);
    expect(text).not.toContain('<');
    // each table (runs of lines starting with '|'): head, separator and one row for the one result,
    // the tensor's name breaking neither the results table nor the heatmap table
    const tables: string[][] = [];
    let run: string[] | null = null;
    for (const l of text.split('\n')) {
      if (!l.startsWith('|')) run = null;
      else if (run) run.push(l);
      else tables.push((run = [l]));
    }
    expect(tables.map((t) => t[0].split(' | ')[0])).toEqual(['| tensor', '| map']);
    for (const t of tables) {
      expect(t).toHaveLength(3);
      expect(t[1]).toMatch(/^\|(-+\|)+$/);
    }
  });
});

describe('output paths', () => {
  const size = () => fs.statSync(model).size;

  it('never writes onto the input model: dequant, matmul, verify (even with --force)', async () => {
    const before = size();
    for (const args of [
      ['dequant', model, 'blk.0.ffn_down.weight', '--out', model],
      ['dequant', model, 'blk.0.ffn_down.weight', '--out', model, '--force'],
      ['verify', model, '--json', model, '--force'],
      ['verify', model, '--report', path.join(dir, 'm.gguf')],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/is the input file|existing model file|\.gguf/);
    }
    const link = path.join(dir, 'hard.bin');
    fs.linkSync(model, link);
    const h = await cli('verify', model, '--json', link, '--force');
    expect(h.code).toBe(2);
    expect(h.err).toContain('is the input file');
    const x = path.join(dir, 'x.f32');
    fs.writeFileSync(x, new Uint8Array(K * 4));
    const m = await cli('matmul', model, 'blk.0.ffn_down.weight', '--input', x, '--m', '1', '--out', x);
    expect(m.code).toBe(2);
    expect(m.err).toContain('is the input file');
    expect(fs.statSync(x).size).toBe(K * 4);
    expect(size()).toBe(before);
    const f = await GgufFile.open(model);
    await f.close();
  });

  it('refuses a directory, a device, a missing folder and a second output onto the same file, before work', async () => {
    const cases: [string[], RegExp][] = [
      [['dequant', model, 'blk.0.ffn_down.weight', '--out', dir], /is a directory/],
      [
        ['dequant', model, 'blk.0.ffn_down.weight', '--out', path.join(dir, 'no/such/x.f32')],
        /does not exist/,
      ],
      [
        ['verify', model, '--json', path.join(dir, 'a.json'), '--report', path.join(dir, 'a.json')],
        /same file/,
      ],
    ];
    if (fs.existsSync('/dev/full'))
      cases.push([['verify', model, '--json', '/dev/full'], /not a regular file/]);
    for (const [args, re] of cases) {
      const t0 = performance.now();
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.out).toBe(''); // nothing ran
      expect(performance.now() - t0).toBeLessThan(5000);
    }
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an existing model file needs --force; writes are atomic and leave no temporary file', async () => {
    const other = path.join(dir, 'other.gguf');
    fs.copyFileSync(model, other);
    await expect(checkOutputs([{ option: '--out', path: other }])).rejects.toThrow(/--force/);
    const r = await cli('dequant', model, 'blk.0.ffn_down.weight', '--out', other, '--force');
    expect(r.code).toBe(0);
    expect(fs.statSync(other).size).toBe(N * K * 4);
    const j = path.join(dir, 'v.json');
    const v = await cli('verify', model, '--batch', '1', '--json', j);
    expect(v.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(j, 'utf8')).results).toHaveLength(1);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('check and compare outputs, and the records folder', () => {
  const W = 'blk.0.ffn_down.weight';
  let x: string;
  let y: string;
  beforeAll(async () => {
    x = path.join(dir, 'cx.f32');
    y = path.join(dir, 'cy.f32');
    fs.writeFileSync(x, new Float32Array(K).fill(0.5));
    const r = await cli('matmul', model, W, '--input', x, '--m', '1', '--backend', 'cpu', '--out', y);
    expect(r.code).toBe(0);
  });
  /** check of the model's tensor with x and y, plus the given options */
  const check = (...more: string[]) =>
    cli('check', model, W, '--input', x, '--output', y, '--m', '1', ...more);

  it('check refuses --json/--report onto the model, its input or output, or a missing folder, before work', async () => {
    const before = fs.readFileSync(model);
    for (const [target, re] of [
      [model, /is the input file/],
      [x, /is the input file/],
      [y, /is the input file/],
      [path.join(dir, 'no/such/c.json'), /does not exist/],
    ] as const) {
      const r = await check('--json', target, '--no-record');
      expect(r.code, target).toBe(2);
      expect(r.err).toMatch(re);
      expect(r.out).toBe(''); // nothing ran
    }
    expect(fs.readFileSync(model).equals(before)).toBe(true);
    const rep = path.join(dir, 'c.html');
    const ok = await check('--report', rep, '--no-record');
    expect(ok.code).toBe(0);
    // the report names the model's architecture and where the output came from
    const page = fs.readFileSync(rep, 'utf8');
    expect(page).toContain('m.gguf — llama');
    expect(page).toContain('none: an output made elsewhere (quantscope check)');
  });

  it('check and verify refuse a device or FIFO as activations or output at once (no endless read)', async () => {
    if (!fs.existsSync('/dev/zero')) return console.log('no /dev/zero: case skipped');
    for (const args of [
      ['check', model, W, '--input', '/dev/zero', '--output', y, '--m', '1'],
      ['check', model, W, '--input', x, '--output', '/dev/zero', '--m', '1'],
      ['verify', model, '--activations', '/dev/zero'],
    ]) {
      const t0 = performance.now();
      const r = await cli(...args, '--no-record');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/\/dev\/zero is a character device, not a regular file/);
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  });

  it('compare --json never overwrites a record it reads', async () => {
    const recs = path.join(dir, 'recs');
    for (let i = 0; i < 2; i++)
      expect((await cli('verify', model, '--batch', '1', '--records', recs)).code).toBe(0);
    const [a, b] = fs
      .readdirSync(recs)
      .filter((f) => f.endsWith('.json') && f !== 'index.json')
      .sort();
    const fa = path.join(recs, a);
    const before = fs.readFileSync(fa, 'utf8');
    const r = await cli('compare', fa, path.join(recs, b), '--json', fa);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is the input file');
    expect(fs.readFileSync(fa, 'utf8')).toBe(before);
    const out = path.join(dir, 'cmp.json');
    expect((await cli('compare', fa, path.join(recs, b), '--json', out)).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).regressed).toBe(false);
  });

  it('records --report never overwrites the record it renders; a FIFO named as a record is refused', async () => {
    const recs = path.join(dir, 'recs-bench');
    const b = await cli(
      'bench',
      '--backend',
      'cpu',
      '--formats',
      'q8_0',
      '--m',
      '1',
      '--n',
      '64',
      '--k',
      '256',
      '--repeats',
      '3',
      '--records',
      recs,
    );
    expect(b.code).toBe(0);
    const [f] = fs.readdirSync(recs).filter((x) => /-bench-.*\.json$/.test(x));
    const file = path.join(recs, f);
    const before = fs.readFileSync(file, 'utf8');
    const r = await cli('records', f.replace(/\.json$/, ''), '--records', recs, '--report', file);
    expect(r.code).toBe(2);
    expect(r.err).toContain('is the input file');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    const fifo = path.join(dir, 'rec-pipe.json');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return console.log('mkfifo is not available: FIFO case skipped');
    }
    const t0 = performance.now();
    const c = await cli('compare', fifo, file);
    expect(c.code).toBe(2);
    expect(c.err).toContain('is not a regular file');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('verify --json keeps the maps without a record or a report', async () => {
    const j = path.join(dir, 'maps.json');
    const r = await cli('verify', model, '--batch', '1', '--threshold', '1e-300', '--json', j, '--no-record');
    expect(r.code).toBe(1);
    expect(Object.keys(JSON.parse(fs.readFileSync(j, 'utf8')).maps)).toHaveLength(1);
  });

  it('--records that is not a folder is bad input before the run, so a --baseline gate cannot be skipped', async () => {
    const notDir = path.join(dir, 'not-a-folder');
    fs.writeFileSync(notDir, 'x');
    for (const args of [
      ['verify', model, '--records', notDir],
      ['check', model, W, '--input', x, '--output', y, '--m', '1', '--records', notDir],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(`--records ${notDir}: not a folder`);
      expect(r.out).toBe('');
    }
    // a folder from the environment is checked the same way (recording on: QS_NO_RECORD unset)
    const env = { dir: process.env.QS_RECORDS_DIR, off: process.env.QS_NO_RECORD };
    process.env.QS_RECORDS_DIR = notDir;
    delete process.env.QS_NO_RECORD;
    try {
      const r = await cli('verify', model);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`QS_RECORDS_DIR ${notDir}: not a folder`);
    } finally {
      if (env.dir === undefined) delete process.env.QS_RECORDS_DIR;
      else process.env.QS_RECORDS_DIR = env.dir;
      if (env.off !== undefined) process.env.QS_NO_RECORD = env.off;
    }
  });
});

describe('flags and selections that cannot work are bad input, with a message that says why', () => {
  it('a path the cpu backend does not have, a value that looks like an option, an empty or dead glob', async () => {
    const cases: [string[], string][] = [
      [
        ['bench', '--backend', 'cpu', '--path', 'int8'],
        '--path int8: the cpu backend has only the float32 path',
      ],
      [['verify', model, '--path', 'mma'], '--path mma: the cpu backend has only the float32 path'],
      [
        ['verify', model, '--batch', '-1'],
        "--batch needs a value, and '-1' looks like an option (for a value that starts with '-', write --batch=-1)",
      ],
      [
        ['verify', model, '--json', '--no-record'],
        "--json needs a value, and '--no-record' looks like an option",
      ],
      [['verify', model, '--tensors', ''], 'an empty pattern'],
      [
        ['verify', model, '--tensors', 'blk.0.ffn_down.weight,nope.*'],
        "--tensors: 'nope.*' matches no tensor in m.gguf",
      ],
      [['make-model', '--out', dir], `--out ${dir} is a directory`],
    ];
    for (const [args, msg] of cases) {
      const r = await cli(...args, ...(args[0] === 'make-model' ? [] : ['--no-record']));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(msg);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.out).toBe('');
    }
  });

  it('the value named is the one after the option, else parseArgs says it', async () => {
    const r = await cli('verify', model, '--json', 'a.json', '--json', '--no-record');
    expect(r.err).toContain("--json needs a value, and '--no-record' looks like an option");
    const g = await cli('verify', model, '-ft', '-x');
    expect(g.code).toBe(2);
    expect(g.err).not.toContain('m.gguf');
    expect(g.err).toContain("'-t'");
  });

  it('a model without tensors says so; inspect shortens a long model name', async () => {
    const empty = path.join(dir, 'empty.gguf');
    fs.writeFileSync(
      empty,
      encodeGguf({ metadata: [md.string('general.architecture', 'llama')], tensors: [] }),
    );
    const r = await cli('verify', empty, '--no-record');
    expect(r.code).toBe(2);
    expect(r.err).toContain('empty.gguf has no tensors');
    const long = path.join(dir, 'long.gguf');
    fs.writeFileSync(
      long,
      encodeGguf({
        metadata: [
          md.string('general.architecture', 'llama'),
          md.string('general.name', 'n'.repeat(100_000)),
        ],
        tensors: [],
      }),
    );
    const i = await cli('inspect', long);
    expect(i.code).toBe(0);
    const line = i.out.split('\n').find((l) => l.startsWith('model: '))!;
    expect(line).toBe(`model: ${'n'.repeat(77)}... (llama)`);
  });

  /** x as a float32 .npy of `rows` rows (version 1 header) */
  const writeNpy = (file: string, x: Float32Array, rows: number) => {
    let hdr = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${x.length / rows}), }`;
    hdr = hdr.padEnd(117) + '\n';
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from([0x93]),
        Buffer.from('NUMPY\x01\x00', 'latin1'),
        Buffer.from(new Uint16Array([hdr.length]).buffer),
        Buffer.from(hdr, 'latin1'),
        Buffer.from(x.buffer, x.byteOffset, x.byteLength),
      ]),
    );
    return file;
  };

  it('matmul reads a float32 .npy like verify and check, and refuses a device', async () => {
    const x = new Float32Array(2 * K).map((_, i) => Math.sin(i));
    const raw = path.join(dir, 'mx.f32');
    fs.writeFileSync(raw, x);
    const npy = writeNpy(path.join(dir, 'mx.npy'), x, 2);
    const a = path.join(dir, 'ya.f32');
    const b = path.join(dir, 'yb.f32');
    const W = 'blk.0.ffn_down.weight';
    expect(
      (await cli('matmul', model, W, '--input', raw, '--m', '2', '--backend', 'cpu', '--out', a)).code,
    ).toBe(0);
    expect(
      (await cli('matmul', model, W, '--input', npy, '--m', '2', '--backend', 'cpu', '--out', b)).code,
    ).toBe(0);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
    if (fs.existsSync('/dev/zero')) {
      const d = await cli('matmul', model, W, '--input', '/dev/zero', '--m', '2', '--out', b, '--force');
      expect(d.code).toBe(2);
      expect(d.err).toContain('/dev/zero is a character device, not a regular file');
    }
  });

  it('NaN and infinite activations: matmul multiplies them from a raw file and a .npy alike; verify and check refuse them in either', async () => {
    const W = 'blk.0.ffn_down.weight';
    const x = new Float32Array(2 * K).map((_, i) => Math.cos(i));
    x[5] = NaN;
    x[K + 7] = -Infinity;
    const raw = path.join(dir, 'nan.f32');
    fs.writeFileSync(raw, x);
    const npy = writeNpy(path.join(dir, 'nan.npy'), x, 2);
    const outs: Buffer[] = [];
    for (const input of [raw, npy]) {
      const out = path.join(dir, `nan-y-${outs.length}.f64`);
      const r = await cli('matmul', model, W, '--input', input, '--m', '2', '--out', out);
      expect(r.code, r.err).toBe(0);
      const y = new Float64Array(new Uint8Array(fs.readFileSync(out)).buffer);
      expect(y).toHaveLength(2 * N);
      // row 0 holds a NaN, row 1 an infinity: every output is NaN or infinite, as computed
      expect(y.subarray(0, N).every((v) => Number.isNaN(v))).toBe(true);
      expect(y.subarray(N).every((v) => !Number.isFinite(v))).toBe(true);
      outs.push(fs.readFileSync(out));
    }
    expect(outs[0].equals(outs[1])).toBe(true);

    const y = path.join(dir, 'nan-y.f32');
    fs.writeFileSync(y, new Float32Array(2 * N));
    for (const input of [raw, npy]) {
      for (const argv of [
        ['verify', model, '--activations', input, '--batch', '2', '--no-record'],
        ['check', model, W, '--input', input, '--output', y, '--m', '2', '--no-record'],
      ]) {
        const r = await cli(...argv);
        expect(r.code, argv.join(' ')).toBe(2);
        expect(r.err).toBe(
          `quantscope: error: activations ${input}: value 5 is not finite (NaN); a verdict needs finite activations\n`,
        );
      }
    }
  });

  it('a failed write names the option and the path', async () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await expect(writeNamed('--out', '/x/y.f32', () => Promise.reject(full))).rejects.toThrow(
      '--out /x/y.f32: cannot write (ENOSPC: no space left on device)',
    );
    const other = new Error('not a file-system error');
    await expect(writeNamed('--out', 'y', () => Promise.reject(other))).rejects.toBe(other);
  });
});

describe('non-regular files', () => {
  it('GgufFile.open refuses a FIFO, a directory and a device at once with one line', async () => {
    const fifo = path.join(dir, 'pipe.gguf');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      console.log('mkfifo is not available: FIFO case skipped');
    }
    const targets: [string, RegExp][] = [[dir, /a directory/]];
    if (fs.existsSync(fifo)) targets.push([fifo, /FIFO/]);
    if (fs.existsSync('/dev/zero')) targets.push(['/dev/zero', /character device/]);
    for (const [p, re] of targets) {
      // four at once: each open used to hold one of Node's four file threads
      const all = await Promise.allSettled([1, 2, 3, 4].map(() => GgufFile.open(p)));
      for (const a of all) {
        expect(a.status).toBe('rejected');
        const msg = ((a as PromiseRejectedResult).reason as Error).message;
        expect(msg).toMatch(re);
        expect(msg).toMatch(/not a regular file/);
      }
    }
    const r = await cli('inspect', dir);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('streamed JSON', () => {
  it('is byte-identical to JSON.stringify(value, null, 2), generators written as arrays', () => {
    const values: unknown[] = [
      { a: 1, b: [1, 2, { c: 'x\n"' }], d: undefined, e: [], f: {}, g: null, h: [undefined, () => 1] },
      [{ x: [1, [2, 3]] }, 'y'],
      'plain',
      { nested: { deep: { deeper: [1] } }, when: new Date(0) },
    ];
    for (const v of values) expect([...jsonChunks(v)].join('')).toBe(JSON.stringify(v, null, 2));
    const gen = {
      *[Symbol.iterator]() {
        yield { i: 0 };
        yield { i: 1 };
      },
    };
    expect([...jsonChunks({ rows: gen })].join('')).toBe(
      JSON.stringify({ rows: [{ i: 0 }, { i: 1 }] }, null, 2),
    );
  });
});
