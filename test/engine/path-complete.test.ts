import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { completePath, completionRoot, type CompletionRoot } from '../../src-main/engine/path-complete';
import { EngineService } from '../../src-main/engine/service';
import { resolveTypedPath, sampleModelPath } from '../../src-main/engine/paths';

describe('path completion under the model folders', () => {
  let dir: string;
  let models: string;
  let roots: CompletionRoot[];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'qs-complete-'));
    models = path.join(dir, 'models');
    mkdirSync(path.join(models, 'llama', 'q4'), { recursive: true });
    mkdirSync(path.join(dir, 'outside'));
    writeFileSync(path.join(models, 'llama', 'q4', 'x.gguf'), 'GGUF');
    writeFileSync(path.join(models, 'llama', 'x.gguf'), 'GGUF');
    writeFileSync(path.join(models, 'llama', 'notes.txt'), 'n');
    writeFileSync(path.join(models, 'llama', '.hidden.gguf'), 'GGUF');
    writeFileSync(path.join(dir, 'outside', 'secret.gguf'), 'GGUF');
    symlinkSync(path.join(dir, 'outside'), path.join(models, 'escape'));
    symlinkSync(path.join(dir, 'outside', 'secret.gguf'), path.join(models, 'llama', 'link-out.gguf'));
    symlinkSync(path.join(models, 'llama', 'x.gguf'), path.join(models, 'llama', 'link-in.gguf'));
    mkdirSync(path.join(models, 'llama', 'fifo-like.gguf')); // a folder named like a model
    mkdirSync(path.join(models, 'real'));
    copyFileSync(sampleModelPath(), path.join(models, 'real', 'tiny.gguf'));
    roots = [(await completionRoot(models))!];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists folders first, then .gguf files, with paths inside the folder', async () => {
    const got = await completePath(path.join(models, 'llama') + path.sep, roots);
    expect(got.map((c) => [c.name, c.kind])).toEqual([
      ['models/llama/fifo-like.gguf/', 'folder'],
      ['models/llama/q4/', 'folder'],
      ['models/llama/link-in.gguf', 'file'],
      ['models/llama/x.gguf', 'file'],
    ]);
    expect(got.find((c) => c.name.endsWith('x.gguf'))).toMatchObject({
      path: path.join(models, 'llama', 'x.gguf'),
      size: 4,
    });
  });

  it('offers a split model once, by its first file, with its count of files; a later file alone when asked for', async () => {
    const sub = path.join(models, 'split');
    mkdirSync(sub);
    for (const i of [1, 2, 3]) writeFileSync(path.join(sub, `m-0000${i}-of-00003.gguf`), 'G'.repeat(i));
    expect(await completePath(sub + path.sep, roots)).toEqual([
      {
        path: path.join(sub, 'm-00001-of-00003.gguf'),
        name: 'models/split/m-00001-of-00003.gguf',
        kind: 'file',
        size: 6,
        files: 3,
      },
    ]);
    expect((await completePath(path.join(sub, 'm-00002'), roots)).map((c) => [c.name, c.files])).toEqual([
      ['models/split/m-00002-of-00003.gguf', undefined],
    ]);
    rmSync(sub, { recursive: true });
  });

  it('completes a partial name, case-insensitively, and shows dot files only when asked', async () => {
    expect((await completePath(path.join(models, 'LL'), roots)).map((c) => c.name)).toEqual([
      'models/llama/',
    ]);
    expect((await completePath(path.join(models, 'llama', '.h'), roots)).map((c) => c.name)).toEqual([
      'models/llama/.hidden.gguf',
    ]);
  });

  it('offers the roots for an empty prefix and resolves relative prefixes in the first root', async () => {
    expect(await completePath('', roots)).toEqual([
      { path: models + path.sep, name: models + path.sep, kind: 'folder' },
    ]);
    expect((await completePath('llama/q', roots)).map((c) => c.name)).toEqual(['models/llama/q4/']);
  });

  it('refuses outside the roots with one error, whether or not the path exists', async () => {
    const msg = (p: string) => `${p} is outside the model folders this server may open`;
    for (const p of [
      path.join(dir, 'outside') + path.sep,
      path.join(dir, 'nowhere') + path.sep,
      '/etc/',
      path.join(models, '..', 'outside', 's'),
      path.join(models, 'escape') + path.sep, // a link inside that leads out
      path.join(models, 'escape', 'sec'),
    ])
      await expect(completePath(p, roots)).rejects.toThrow(msg(p));
  });

  it('returns nothing for a missing folder inside the roots', async () => {
    expect(await completePath(path.join(models, 'nope', 'x'), roots)).toEqual([]);
  });

  it('is the engine method in browser mode, and free in the desktop app', async () => {
    const browser = new EngineService({
      mode: 'browser',
      samplesDir: models,
      modelDirs: [],
      restrictToDirs: true,
      workerThreads: 1,
    });
    const desktop = new EngineService({
      mode: 'electron',
      samplesDir: models,
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
    });
    try {
      await expect(browser.completePath(path.join(dir, 'outside') + path.sep)).rejects.toThrow(
        /outside the model folders/,
      );
      const free = await desktop.completePath(path.join(dir, 'outside') + path.sep);
      expect(free.map((c) => c.path)).toEqual([path.join(dir, 'outside', 'secret.gguf')]);
      // the contract's argument check runs first
      await expect(browser.completePath('a\0b')).rejects.toThrow(/NUL byte/);
    } finally {
      await browser.dispose();
      await desktop.dispose();
    }
  });

  it('opens a relative path as the file it completes to: browser mode in the first folder, the desktop app in the home folder', async () => {
    const file = path.join(models, 'real', 'tiny.gguf');
    const browser = new EngineService({
      mode: 'browser',
      samplesDir: path.join(dir, 'no-samples'),
      modelDirs: [models],
      restrictToDirs: true,
      workerThreads: 1,
    });
    const home = process.env.HOME;
    process.env.HOME = dir; // the desktop app's completions and opens start in the home folder
    const desktop = new EngineService({
      mode: 'electron',
      samplesDir: path.join(dir, 'no-samples'),
      modelDirs: [],
      restrictToDirs: false,
      workerThreads: 1,
    });
    try {
      expect((await browser.completePath('real/ti')).map((c) => c.path)).toEqual([file]);
      expect((await browser.openModel('real/tiny.gguf')).path).toBe(file);
      expect((await desktop.completePath('models/real/ti')).map((c) => c.path)).toEqual([file]);
      expect((await desktop.openModel('models/real/tiny.gguf')).path).toBe(file);
      expect((await desktop.openModel('~/models/real/tiny.gguf')).path).toBe(file);
    } finally {
      if (home === undefined) delete process.env.HOME;
      else process.env.HOME = home;
      await browser.dispose();
      await desktop.dispose();
    }
  });

  it('resolveTypedPath takes a relative path in the base, and ~ as home only when given one', () => {
    expect(resolveTypedPath('a/b.gguf', '/m')).toBe(path.resolve('/m/a/b.gguf'));
    expect(resolveTypedPath('/x/y.gguf', '/m')).toBe(path.resolve('/x/y.gguf'));
    expect(resolveTypedPath('~/y.gguf', '/m')).toBe(path.resolve('/m/~/y.gguf'));
    expect(resolveTypedPath('~/y.gguf', '/m', '/h')).toBe(path.resolve('/h/y.gguf'));
    expect(resolveTypedPath('~', '/m', '/h')).toBe(path.resolve('/h'));
    expect(resolveTypedPath('~x/y', '/m', '/h')).toBe(path.resolve('/m/~x/y'));
  });
});
