import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { findUiDir, parseByteSize, serveCommand, startServe } from '../../src-main/engine/cli/commands/serve';
import { parseCommandArgs } from '../../src-main/engine/cli/framework';
import { validateCalls } from '../../src-main/engine/api';
import type { EngineApi } from '../../src-shared/contract';

const engine = validateCalls({
  appInfo: async () => ({ version: '1', mode: 'browser', platform: 'x' }),
  onRunEvent: () => () => undefined,
  dispose: async () => undefined,
} as unknown as EngineApi);

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c) => (o += c));
  err.on('data', (c) => (e += c));
  return { stdout: out, stderr: err, out: () => o, err: () => e };
}

describe('quantscope serve', () => {
  it('parses repeatable --models and starts on a free port, printing the URL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qs-servecmd-'));
    try {
      mkdirSync(path.join(dir, 'a'));
      mkdirSync(path.join(dir, 'b'));
      mkdirSync(path.join(dir, 'ui'));
      writeFileSync(path.join(dir, 'ui', 'index.html'), '<title>x</title>');
      const { values } = parseCommandArgs(serveCommand, [
        '--port',
        '0',
        '--models',
        path.join(dir, 'a'),
        '--models',
        path.join(dir, 'b'),
        '--ui',
        path.join(dir, 'ui'),
        '--token',
        'abcdefgh12345',
      ]);
      expect(values.models).toEqual([path.join(dir, 'a'), path.join(dir, 'b')]);
      const s = io();
      const server = await startServe({ values, stdout: s.stdout, stderr: s.stderr }, engine);
      try {
        expect(s.out()).toContain(`Open http://127.0.0.1:${server.port}/?token=abcdefgh12345`);
        expect(s.out()).toContain(path.join(dir, 'b'));
        expect(s.err()).toBe('');
        const res = await fetch(server.url);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('<title>x</title>');
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when the UI is not built and rejects bad options in one line', async () => {
    const s = io();
    const { values } = parseCommandArgs(serveCommand, ['--ui', '/nonexistent-ui-dir']);
    const server = await startServe({ values, stdout: s.stdout, stderr: s.stderr }, engine);
    await server.close();
    expect(s.err()).toMatch(/warning: the UI is not built .*npm run build/);
    expect(findUiDir('/nonexistent-ui-dir')).toEqual({ dir: '/nonexistent-ui-dir', built: false });

    const bad = async (argv: string[]) => {
      const { values: v } = parseCommandArgs(serveCommand, argv);
      return startServe({ values: v, stdout: s.stdout, stderr: s.stderr }, engine);
    };
    await expect(bad(['--port', 'x'])).rejects.toThrow('--port must be an integer');
    await expect(bad(['--port', '99999'])).rejects.toThrow('--port must be between 0 and 65535');
    await expect(bad(['--models', '/no/such/dir'])).rejects.toThrow('--models: folder not found');
    expect(() => parseCommandArgs(serveCommand, ['--bogus'])).toThrow(/serve: Unknown option '--bogus'/);
  });
});

describe('quantscope serve --max-upload', () => {
  it('reads bytes with binary units and refuses anything else in one line', () => {
    expect(parseByteSize('1000', '--max-upload')).toBe(1000);
    expect(parseByteSize('500M', '--max-upload')).toBe(500 * 2 ** 20);
    expect(parseByteSize('64G', '--max-upload')).toBe(64 * 2 ** 30);
    expect(parseByteSize('2TiB', '--max-upload')).toBe(2 * 2 ** 40);
    for (const bad of ['', '-1', '1.5G', 'lots', '9999999999T'])
      expect(() => parseByteSize(bad, '--max-upload')).toThrow(
        /^--max-upload: expected a number of bytes such as 1000000, 500M or 64G, got/,
      );
    expect(serveCommand.help).toMatch(/--max-upload B .*default 64G/);
  });
});
