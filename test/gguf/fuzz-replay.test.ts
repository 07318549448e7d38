import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src-main/engine/rng';
import { GgufError } from '../../src-main/engine/gguf';
import { classify, fuzzSeeds, mutate, runTarget } from './fuzz-lib';

const CORPUS = path.join(__dirname, 'fuzz-corpus');

describe('GGUF fuzz target', () => {
  it('reads every seed (every supported format) without a rejection', () => {
    const seeds = fuzzSeeds();
    expect(seeds.length).toBeGreaterThanOrEqual(9);
    for (const s of seeds) expect(runTarget(s)).toEqual({ kind: 'ok' });
  });

  it('counts only clean one-line errors as rejections', () => {
    expect(classify(new GgufError('tensor[0] n_dims', 24, '9 dimensions')).kind).toBe('rejected');
    expect(classify(new Error('tensor "x": bad')).kind).toBe('rejected');
    expect(classify(new RangeError('Invalid typed array length: -1')).kind).toBe('finding');
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'k')")).kind).toBe('finding');
    expect(classify(new Error('two\nlines')).kind).toBe('finding');
    expect(classify('a string').kind).toBe('finding');
  });

  it('replays every saved finding: each is read or rejected with a clean one-line error', () => {
    const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.gguf'));
    if (files.length === 0) console.log('fuzz-corpus holds no findings yet: nothing to replay');
    for (const f of files) {
      const r = runTarget(new Uint8Array(fs.readFileSync(path.join(CORPUS, f))));
      expect(r.kind, `${f}: ${'what' in r ? r.what : ''}`).not.toBe('finding');
    }
  });

  it('a short bounded run (3 s) finds nothing and exercises both outcomes', () => {
    const seeds = fuzzSeeds();
    const rng = new Rng(99);
    const counts = { ok: 0, rejected: 0, finding: 0 };
    const findings: string[] = [];
    const end = performance.now() + 3000;
    while (performance.now() < end) {
      const r = runTarget(mutate(rng, seeds[rng.int(0, seeds.length - 1)], seeds));
      counts[r.kind]++;
      if (r.kind === 'finding') findings.push(r.what);
    }
    expect(findings).toEqual([]);
    expect(counts.ok).toBeGreaterThan(10);
    expect(counts.rejected).toBeGreaterThan(10);
  }, 20_000);
});
