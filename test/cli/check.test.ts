// `quantscope check` end to end on the sample model: identity outputs with and without a planted
// defect, an ordinary output with --json, and every kind of bad input (exit 2, one line). Also
// `matmul --backend reference --arithmetic` and verify's --arithmetic / --activations recording.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgufFile } from '../../src-main/engine/gguf';
import { SCHEMES } from '../../src-main/engine/arithmetic/schemes';
import { referenceMatmulSync } from '../../src-main/engine/reference';
import { Rng } from '../../src-main/engine/rng';
import { shutdownPool } from '../../src-main/engine/workers/pool';
import { sampleModelPath } from '../../src-main/engine/paths';
import { defectiveWeights, identityOutput } from '../diagnosis/emulate';
import { dequantize } from '../../src-main/engine/formats';
import { cli } from './helpers';

let dir: string;
const MODEL = sampleModelPath();
const TENSOR = 'blk.0.ffn_up.weight'; // Q4_K 1024 x 512
let n = 0;
let k = 0;
let type = 0;
let data: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qs-check-'));
  const f = await GgufFile.open(MODEL);
  const t = f.tensor(TENSOR);
  ({ n, k, type } = t);
  data = await f.readTensor(t);
  await f.close();
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await shutdownPool();
});

const write = (name: string, a: Float32Array) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return p;
};

describe('quantscope check', () => {
  it('identity input: the right weights pass (exit 0)', async () => {
    const y = write('id-ok.f32', identityOutput(dequantize(type, data, n, k), n, k));
    const r = await cli('check', MODEL, TENSOR, '--input', 'identity', '--output', y);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/PASS: kernel NMSE 0 against the f32 reference/);
  });
  it('identity input: a min-sign defect fails (exit 1) with its diagnosis and location', async () => {
    const y = write('id-bad.f32', identityOutput(defectiveWeights(type, data, n, k, 'min-sign'), n, k));
    const json = path.join(dir, 'bad.json');
    const html = path.join(dir, 'bad.html');
    const r = await cli(
      'check',
      MODEL,
      TENSOR,
      '--input',
      'identity',
      '--output',
      y,
      '--json',
      json,
      '--report',
      html,
    );
    expect(r.code).toBe(1);
    // the report draws the output heatmap and the weight map inline
    const page = fs.readFileSync(html, 'utf8');
    expect(page.match(/src="data:image\/png;base64,/g)).toHaveLength(2);
    expect(page).toContain('weight map');
    expect(r.out).toMatch(/diagnosis blk\.0\.ffn_up\.weight: min-sign: /);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.result.status).toBe('fail');
    expect(j.result.diagnosis.class).toBe('min-sign');
    expect(j.result.diagnosis.evidence.join(' ')).toMatch(/row \d+, block \d+, sub-block \d+, position \d+/);
    expect(j.heatmap.values.length).toBe(j.heatmap.rows * j.heatmap.cols);
  });
  it('an ordinary output: declared arithmetic, kernel and arithmetic error in --json and the report', async () => {
    const m = 3;
    const x = new Rng(4).normalF32(m * k);
    const xp = write('x.f32', x);
    const y = write('y.f32', Float32Array.from(referenceMatmulSync(type, data, n, k, x, m, SCHEMES.q8_1)));
    const json = path.join(dir, 'ok.json');
    const html = path.join(dir, 'ok.html');
    const r = await cli(
      'check',
      MODEL,
      TENSOR,
      '--input',
      xp,
      '--output',
      y,
      '--m',
      '3',
      '--arithmetic',
      'q8_1',
      '--json',
      json,
      '--report',
      html,
    );
    expect(r.code, r.out + r.err).toBe(0);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.result.arithmetic).toBe('q8_1');
    expect(j.result.metrics.nmse).toBeLessThan(1e-12);
    expect(j.result.arithmeticNmse).toBeGreaterThan(1e-7);
    expect(fs.readFileSync(html, 'utf8')).toMatch(/arith\. NMSE/);
    // the same output judged as exact float32 arithmetic fails, and the diagnosis names the int8 rounding
    const r2 = await cli('check', MODEL, TENSOR, '--input', xp, '--output', y, '--m', '3');
    expect(r2.code).toBe(1);
    expect(r2.out).toMatch(
      /diagnosis .*: rounding: the output matches int8 activations per 32 as q8_1 rounds them/,
    );
  });
  it('bad input: exit 2 with one line', async () => {
    const x = write('x2.f32', new Float32Array(2 * k));
    const y = write('y2.f32', new Float32Array(2 * n));
    const nan = write('nan.f32', new Float32Array(2 * k).fill(NaN));
    const odd = path.join(dir, 'odd.f32');
    fs.writeFileSync(odd, new Uint8Array(2 * n * 4 + 2));
    const cases: [string[], RegExp][] = [
      [
        ['check', MODEL, 'nope.weight', '--input', x, '--output', y, '--m', '2'],
        /no tensor named 'nope.weight'/,
      ],
      [['check', MODEL, TENSOR, '--input', x, '--output', y, '--m', '3'], /m=3 x k=512 needs 1536/],
      [
        ['check', MODEL, TENSOR, '--input', x, '--output', x, '--m', '2'],
        /--output .* m=2 × n=1024 needs 2048/,
      ],
      [['check', MODEL, TENSOR, '--input', nan, '--output', y, '--m', '2'], /not finite/],
      // the output's size and readability: one reader, one message each
      [
        ['check', MODEL, TENSOR, '--input', x, '--output', odd, '--m', '2'],
        /--output .*odd\.f32: 8194 bytes is not whole float32 values\n$/,
      ],
      [
        ['check', MODEL, TENSOR, '--input', x, '--output', path.join(dir, 'none.f32'), '--m', '2'],
        /cannot read output: .*none\.f32: no such file \(ENOENT\)\n$/,
      ],
      [
        ['check', MODEL, TENSOR, '--input', x, '--output', y, '--m', '2', '--arithmetic', 'int4'],
        /unknown arithmetic 'int4'/,
      ],
      [
        [
          'check',
          MODEL,
          'blk.1.attn_norm.weight',
          '--input',
          x,
          '--output',
          y,
          '--m',
          '2',
          '--arithmetic',
          'qs8',
        ],
        /has no offset form/,
      ],
      [['check', MODEL, TENSOR, '--input', 'identity', '--output', y, '--m', '2'], /must equal k=512/],
    ];
    for (const [argv, re] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    }
  });
});

describe('matmul and verify with declared arithmetic', () => {
  it('matmul --backend reference --arithmetic qs8 writes the declared reference', async () => {
    const m = 2;
    const x = new Rng(8).normalF32(m * k);
    const xp = write('mx.f32', x);
    const out = path.join(dir, 'my.f64');
    const r = await cli(
      'matmul',
      MODEL,
      TENSOR,
      '--input',
      xp,
      '--m',
      '2',
      '--arithmetic',
      'qs8',
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    const buf = fs.readFileSync(out);
    const y = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
    expect([...y]).toEqual([...referenceMatmulSync(type, data, n, k, x, m, SCHEMES.qs8)]);
    const bad = await cli(
      'matmul',
      MODEL,
      TENSOR,
      '--input',
      xp,
      '--m',
      '2',
      '--arithmetic',
      'qs9',
      '--out',
      out,
    );
    expect(bad.code).toBe(2);
  });
  it('verify records the arithmetic, both errors and the activations in --json', async () => {
    const json = path.join(dir, 'v.json');
    const r = await cli(
      'verify',
      MODEL,
      '--backend',
      'cpu',
      '--tensors',
      'blk.0.ffn_up.weight',
      '--batch',
      '2',
      '--activations',
      'outliers',
      '--seed',
      '3',
      '--json',
      json,
    );
    expect(r.code, r.out + r.err).toBe(0);
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.request.activations).toMatch(/x20, seed 3/);
    expect(j.results[0].arithmetic).toBe('f32');
    expect(j.results[0].arithmeticNmse).toBe(0);
    expect(r.out).toMatch(/arith\. NMSE/);
    // a float32 kernel judged as int8 arithmetic fails with a one-line diagnosis
    const r2 = await cli(
      'verify',
      MODEL,
      '--backend',
      'cpu',
      '--tensors',
      'blk.0.ffn_up.weight',
      '--batch',
      '2',
      '--arithmetic',
      'qs8',
    );
    expect(r2.code).toBe(1);
    expect(r2.out).toMatch(
      /diagnosis blk\.0\.ffn_up\.weight m=2: rounding: the output matches exact float32 activations/,
    );
  });
  it('verify --activations embeddings and a file', async () => {
    const r = await cli(
      'verify',
      MODEL,
      '--backend',
      'cpu',
      '--tensors',
      'blk.0.ffn_up.weight',
      '--batch',
      '1',
      '--activations',
      'embeddings',
    );
    expect(r.code, r.out + r.err).toBe(0);
    const xp = write('act.f32', new Rng(1).normalF32(4 * k));
    const r2 = await cli(
      'verify',
      MODEL,
      '--backend',
      'cpu',
      '--tensors',
      'blk.0.ffn_up.weight',
      '--batch',
      '4',
      '--activations',
      xp,
    );
    expect(r2.code, r2.out + r2.err).toBe(0);
    const r3 = await cli(
      'verify',
      MODEL,
      '--backend',
      'cpu',
      '--tensors',
      'blk.0.ffn_up.weight',
      '--batch',
      '5',
      '--activations',
      xp,
    );
    expect(r3.code).toBe(1);
    expect(r3.out).toMatch(/ERROR activations: .* m=5 x k=512 needs 2560/);
  });
});
