import { describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorReply, isTrustedSender, urlOrigin } from '../../src-main/app/ipc';
import {
  API_METHOD_NAMES,
  apiChannel,
  droppedPathSchema,
  parseApiArgs,
  type ApiMethod,
} from '../../src-shared/contract';
import { APP_URL, resolveAppFile } from '../../src-main/app/app-protocol';
import { AllowedPaths } from '../../src-main/app/allowed-paths';
import type { RunRequest } from '../../src-shared/contract';

const run: RunRequest = {
  modelId: 'm',
  tensors: ['t'],
  batchSizes: [1],
  backend: 'cuda',
  deviceIndex: 0,
  seed: 1,
  timing: 'hot',
  path: 'mma',
  compareUnfused: true,
  threshold: 1e-4,
};

describe('IPC payload schemas', () => {
  it('has one channel per API method', () => {
    expect(apiChannel('openModel')).toBe('qs:openModel');
    expect(new Set(API_METHOD_NAMES.map(apiChannel)).size).toBe(API_METHOD_NAMES.length);
    expect([...API_METHOD_NAMES].sort()).toEqual(
      [
        'appInfo',
        'cancelRun',
        'checkPair',
        'codeObjectInfo',
        'compareRecords',
        'completePath',
        'devices',
        'errorGrid',
        'exportComparison',
        'exportRecordReport',
        'exportReport',
        'listModelFiles',
        'listRecords',
        'listTensors',
        'openModel',
        'openRecord',
        'pickFile',
        'pickModelFile',
        'startRun',
        'startSelftest',
        'weightGrid',
      ].sort(),
    );
  });

  it('accepts good payloads', () => {
    expect(parseApiArgs('startRun', [run])).toEqual([run]);
    expect(parseApiArgs('openModel', ['/m/a.gguf'])).toEqual(['/m/a.gguf']);
    expect(parseApiArgs('appInfo', [])).toEqual([]);
    expect(
      parseApiArgs('errorGrid', [
        { resultId: 'r', maxRows: 64, maxCols: 64, metric: 'rel', rowStart: 0, rowEnd: 8 },
      ]),
    ).toHaveLength(1);
    expect(parseApiArgs('exportReport', [{ runId: 'r', format: 'html' }])).toHaveLength(1);
  });

  it('rejects bad payloads with one-line messages', () => {
    const bad: [ApiMethod, unknown[], RegExp][] = [
      ['openModel', [], /expected 1 argument, got 0/],
      ['openModel', [42], /openModel: invalid argument/],
      ['openModel', ['a\0b'], /NUL byte/],
      ['openModel', ['x'.repeat(5000)], /too long/],
      ['appInfo', ['extra'], /expected 0 arguments, got 1/],
      ['startRun', [{ ...run, backend: 'metal' }], /startRun: invalid backend/],
      ['startRun', [{ ...run, tensors: [] }], /invalid tensors/],
      ['startRun', [{ ...run, batchSizes: [1.5] }], /invalid batchSizes\.0/],
      ['startRun', [{ ...run, threshold: -1 }], /invalid threshold/],
      ['startRun', [{ ...run, seed: -3 }], /invalid seed/],
      ['startRun', [{ ...run, __proto__: { x: 1 }, extra: 1 }], /startRun: invalid/],
      ['startRun', [{ ...run, tensors: new Array(30_000).fill('t') }], /invalid tensors/],
      ['cancelRun', [''], /cancelRun: invalid/],
      ['errorGrid', [{ resultId: 'r', maxRows: 1e6, maxCols: 1, metric: 'abs' }], /invalid maxRows/],
      [
        'errorGrid',
        [{ resultId: 'r', maxRows: 1, maxCols: 1, metric: 'abs', rowStart: 5, rowEnd: 5 }],
        /rowStart must be less/,
      ],
      ['exportReport', [{ runId: 'r', format: 'pdf' }], /invalid format/],
      ['startRun', [{ ...run, activations: 'x'.repeat(5000) }], /invalid activations/],
      ['startRun', [{ ...run, arithmetic: 'f64' }], /invalid arithmetic/],
      [
        'startRun',
        [{ ...run, userKernels: [{ format: '../x', path: '/k' }] }],
        /userKernels\.0\.format: .*Q4_K/,
      ],
      [
        'startRun',
        [{ ...run, userKernels: [{ format: 'Q4_K', path: '/k', grid: 'n;rm' }] }],
        /userKernels\.0\.grid/,
      ],
      [
        'startRun',
        [{ ...run, userKernels: [{ format: 'Q4_K', path: '/k', shared: '1e3' }] }],
        /shared memory is a byte count/,
      ],
      ['startRun', [{ ...run, userKernels: [{ format: 'Q4_K', path: '/k', extra: 1 }] }], /userKernels\.0/],
      ['pickFile', ['folder'], /pickFile: invalid/],
      ['codeObjectInfo', ['a\0b'], /NUL byte/],
      ['startSelftest', [{ backend: 'metal', deviceIndex: 0, quick: true }], /invalid backend/],
      ['startSelftest', [{ backend: 'cpu', deviceIndex: 0, quick: true, formats: [] }], /invalid formats/],
      ['checkPair', [{ modelId: 'm', tensor: 't', input: 'identity' }], /invalid output/],
      ['checkPair', [{ modelId: 'm', tensor: 't', input: 'identity', output: 'y', m: 0 }], /invalid m/],
      ['weightGrid', [{ resultId: 'r', maxRows: 0, maxCols: 1, metric: 'abs' }], /invalid maxRows/],
    ];
    for (const [m, args, re] of bad) {
      let err: Error | null = null;
      try {
        parseApiArgs(m, args);
      } catch (e) {
        err = e as Error;
      }
      expect(err, `${m} ${JSON.stringify(args).slice(0, 80)}`).not.toBeNull();
      expect(err!.message).toMatch(re);
      expect(err!.message).not.toContain('\n');
    }
  });

  it('only lets .gguf paths be dropped', () => {
    expect(droppedPathSchema.safeParse(['/a/b.GGUF']).success).toBe(true);
    expect(droppedPathSchema.safeParse(['/etc/passwd']).success).toBe(false);
    expect(droppedPathSchema.safeParse([]).success).toBe(false);
    expect(droppedPathSchema.safeParse([{}]).success).toBe(false);
  });

  it('wraps errors as one line', () => {
    expect(errorReply(new Error('first\nsecond'))).toEqual({ ok: false, message: 'first' });
    expect(errorReply('x'.repeat(1000))).toMatchObject({ ok: false });
    expect((errorReply('x'.repeat(1000)) as { message: string }).message.length).toBe(500);
  });
});

describe('trusted sender check', () => {
  const trusted = { webContentsId: 7, appUrl: APP_URL };
  it('accepts our window main frame on the app URL', () => {
    expect(
      isTrustedSender(
        { webContentsId: 7, frameUrl: 'app://quantscope/index.html', isMainFrame: true },
        trusted,
      ),
    ).toBe(true);
    expect(
      isTrustedSender(
        { webContentsId: 7, frameUrl: 'app://QuantScope/other.html#x', isMainFrame: true },
        trusted,
      ),
    ).toBe(true);
    const dev = { webContentsId: 3, appUrl: 'http://localhost:5173/' };
    expect(
      isTrustedSender({ webContentsId: 3, frameUrl: 'http://localhost:5173/?x', isMainFrame: true }, dev),
    ).toBe(true);
  });

  it('rejects foreign senders', () => {
    const cases = [
      { webContentsId: 8, frameUrl: 'app://quantscope/index.html', isMainFrame: true }, // another window
      { webContentsId: 7, frameUrl: 'https://evil.example/', isMainFrame: true }, // navigated away
      { webContentsId: 7, frameUrl: 'file:///tmp/x.html', isMainFrame: true },
      { webContentsId: 7, frameUrl: 'app://quantscope.evil/index.html', isMainFrame: true },
      { webContentsId: 7, frameUrl: 'app://quantscope/index.html', isMainFrame: false }, // an iframe
      { webContentsId: 7, frameUrl: null, isMainFrame: true }, // frame gone
      { webContentsId: 7, frameUrl: 'not a url', isMainFrame: true },
    ];
    for (const c of cases) expect(isTrustedSender(c, trusted), JSON.stringify(c)).toBe(false);
    expect(
      isTrustedSender(
        { webContentsId: 7, frameUrl: APP_URL, isMainFrame: true },
        { webContentsId: null, appUrl: APP_URL },
      ),
    ).toBe(false);
    const dev = { webContentsId: 3, appUrl: 'http://localhost:5173/' };
    expect(
      isTrustedSender({ webContentsId: 3, frameUrl: 'http://localhost:5174/', isMainFrame: true }, dev),
    ).toBe(false);
  });

  it('computes origins for custom schemes', () => {
    expect(urlOrigin('app://quantscope/a/b')).toBe('app://quantscope');
    expect(urlOrigin('about:blank')).toBeNull();
    expect(urlOrigin('%%')).toBeNull();
  });
});

describe('app:// protocol file resolution', () => {
  it('maps URLs into the renderer folder and nowhere else', () => {
    const root = '/opt/qs/out/renderer';
    expect(resolveAppFile(root, 'app://quantscope/')).toBe(path.join(root, 'index.html'));
    expect(resolveAppFile(root, 'app://quantscope/assets/a.js?x=1')).toBe(path.join(root, 'assets/a.js'));
    expect(resolveAppFile(root, 'app://quantscope/assets/..%2F..%2F..%2Fetc/passwd')).toBeNull();
    expect(resolveAppFile(root, 'app://quantscope/%E0%A4%A')).toBeNull();
    expect(resolveAppFile(root, 'app://other/index.html')).toBeNull();
    expect(resolveAppFile(root, 'file:///etc/passwd')).toBeNull();
    expect(resolveAppFile(root, 'app://quantscope/a%00b')).toBeNull();
  });
});

describe('allowed model paths', () => {
  it('allows chosen, recent and sample files only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-allowed-'));
    try {
      const recent = ['/r/recent.gguf'];
      const a = new AllowedPaths([path.join(dir, 'samples'), path.join(dir, 'models')], () => recent);
      expect(a.isAllowed(path.join(dir, 'samples', 'tiny.gguf'))).toBe(true);
      expect(a.isAllowed(path.join(dir, 'samples', '..', 'x.gguf'))).toBe(false);
      expect(a.isAllowed('/r/recent.gguf')).toBe(true);
      expect(a.isAllowed(path.join(dir, 'models', 'sub', 'x.gguf'))).toBe(true);
      expect(a.isAllowed(path.join(dir, 'models'))).toBe(false);
      expect(a.isAllowed('/home/u/model.gguf')).toBe(false);
      a.allow('/home/u/model.gguf');
      expect(a.isAllowed('/home/u/./model.gguf')).toBe(true);
      // code objects and float32 files: only those chosen with Browse… (a dialog)
      expect(() => a.checkChosen('/home/u/k.cubin')).toThrow(
        /k\.cubin was not chosen since the app started: choose it with Browse…/,
      );
      a.allow('/home/u/k.cubin');
      expect(() => a.checkChosen('/home/u/k.cubin')).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens a typed path only when it is a regular .gguf file, also through links', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-typed-'));
    try {
      const a = new AllowedPaths([], () => []);
      writeFileSync(path.join(dir, 'm.gguf'), 'GGUF');
      writeFileSync(path.join(dir, 'secret.txt'), 'x');
      mkdirSync(path.join(dir, 'folder.gguf'));
      symlinkSync(path.join(dir, 'secret.txt'), path.join(dir, 'disguised.gguf'));
      symlinkSync(path.join(dir, 'm.gguf'), path.join(dir, 'link-to-model.gguf'));
      const model = realpathSync.native(path.join(dir, 'm.gguf'));
      await expect(a.check(path.join(dir, 'm.gguf'))).resolves.toBe(model);
      // opened by its real path
      await expect(a.check(path.join(dir, 'link-to-model.gguf'))).resolves.toBe(model);
      await expect(a.check(path.join(dir, 'secret.txt'))).rejects.toThrow(
        /secret\.txt is not a \.gguf file: open it with File > Open/,
      );
      await expect(a.check(path.join(dir, 'disguised.gguf'))).rejects.toThrow(/is not a \.gguf file/);
      await expect(a.check(path.join(dir, 'folder.gguf'))).rejects.toThrow(/is not a \.gguf file/);
      await expect(a.check(path.join(dir, 'gone.gguf'))).rejects.toThrow(/model file not found/);
      // a file the user chose in the dialog opens whatever its name
      a.allow(path.join(dir, 'secret.txt'));
      await expect(a.check(path.join(dir, 'secret.txt'))).resolves.toBe(
        realpathSync.native(path.join(dir, 'secret.txt')),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('compares real paths: a link in an allowed folder pointing outside is outside', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-allowed-'));
    try {
      const samples = path.join(dir, 'samples');
      const outside = path.join(dir, 'outside');
      mkdirSync(samples);
      mkdirSync(outside);
      writeFileSync(path.join(outside, 'secret.bin'), 'GGUF');
      writeFileSync(path.join(outside, 'secret.gguf'), 'GGUF');
      writeFileSync(path.join(samples, 'tiny.gguf'), 'GGUF');
      symlinkSync(path.join(outside, 'secret.bin'), path.join(samples, 'link.gguf'));
      symlinkSync(outside, path.join(samples, 'dirlink'));
      // an allowed folder reached through a link still counts (its real path is compared)
      symlinkSync(samples, path.join(dir, 'samples-link'));
      const a = new AllowedPaths([path.join(dir, 'samples-link')], () => []);
      expect(a.isAllowed(path.join(samples, 'tiny.gguf'))).toBe(true);
      expect(a.isAllowed(path.join(samples, 'link.gguf'))).toBe(false);
      expect(a.isAllowed(path.join(samples, 'dirlink', 'secret.gguf'))).toBe(false);
      // a .gguf name whose real file is not one is refused
      await expect(a.check(path.join(samples, 'link.gguf'))).rejects.toThrow(/is not a \.gguf file/);
      // a chosen file is allowed by any name that leads to it, and opened by its real path
      a.allow(path.join(samples, 'link.gguf'));
      expect(a.isAllowed(path.join(outside, 'secret.bin'))).toBe(true);
      await expect(a.check(path.join(samples, 'link.gguf'))).resolves.toBe(
        realpathSync.native(path.join(outside, 'secret.bin')),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
