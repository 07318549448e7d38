import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_RECENT_SHOWN, addRecent, clearRecent, pruneRecent, readRecent } from '../../src-main/app/recent';

describe('recent files store', () => {
  let dir: string;
  let store: string;
  const model = (name: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, 'GGUF');
    return p;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-recent-'));
    store = path.join(dir, 'recent.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is empty without a file, and with a malformed one', () => {
    expect(readRecent(store)).toEqual([]);
    writeFileSync(store, '{"not": "a list"}');
    expect(readRecent(store)).toEqual([]);
    writeFileSync(store, '[1, "", "/a.gguf", null]');
    expect(readRecent(store)).toEqual(['/a.gguf']);
  });

  it('keeps the newest first, each path once, at most ten', () => {
    const files = Array.from({ length: 12 }, (_, i) => model(`m${i}.gguf`));
    for (const f of files) addRecent(store, f);
    addRecent(store, files[5]);
    const list = readRecent(store);
    expect(MAX_RECENT_SHOWN).toBe(10);
    expect(list).toHaveLength(10);
    expect(list[0]).toBe(files[5]);
    expect(list[1]).toBe(files[11]);
    expect(new Set(list).size).toBe(10);
    expect(list).not.toContain(files[0]);
  });

  it('drops files that vanished and rewrites the stored list', () => {
    const a = model('a.gguf');
    const b = model('b.gguf');
    addRecent(store, a);
    addRecent(store, b);
    rmSync(a);
    expect(pruneRecent(store)).toEqual([b]);
    expect(JSON.parse(readFileSync(store, 'utf8'))).toEqual([b]);
    rmSync(b);
    expect(pruneRecent(store)).toEqual([]);
  });

  it('clears', () => {
    addRecent(store, model('a.gguf'));
    clearRecent(store);
    expect(readRecent(store)).toEqual([]);
  });
});
