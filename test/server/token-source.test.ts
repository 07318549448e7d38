// Where `quantscope serve` takes its access token from: --token-file or QS_TOKEN keep it out of the
// process list; --token still works; one line per bad input.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCommand, startServe, tokenFrom } from '../../src-main/engine/cli/commands/serve';
import { parseCommandArgs } from '../../src-main/engine/cli/framework';
import { validateCalls } from '../../src-main/engine/api';
import type { EngineApi } from '../../src-shared/contract';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'qs-token-'));
  writeFileSync(path.join(dir, 'token'), 'from-the-file-123\nsecond line ignored\n');
  writeFileSync(path.join(dir, 'empty'), '\n');
  mkdirSync(path.join(dir, 'folder'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const values = (argv: string[]) => parseCommandArgs(serveCommand, argv).values;

describe('serve token sources', () => {
  it('--token-file (first line), --token, QS_TOKEN, or none', () => {
    expect(tokenFrom(values(['--token-file', path.join(dir, 'token')]), {})).toBe('from-the-file-123');
    expect(tokenFrom(values(['--token', 'abcdefgh1']), {})).toBe('abcdefgh1');
    expect(tokenFrom(values([]), { QS_TOKEN: 'from-env-12345' })).toBe('from-env-12345');
    // an option wins over the environment
    expect(tokenFrom(values(['--token', 'abcdefgh1']), { QS_TOKEN: 'from-env-12345' })).toBe('abcdefgh1');
    expect(tokenFrom(values([]), {})).toBeUndefined();
    expect(tokenFrom(values([]), { QS_TOKEN: '  ' })).toBeUndefined();
  });

  it('bad token files and both options are one-line errors', () => {
    const t = (argv: string[]) => () => tokenFrom(values(argv), {});
    expect(t(['--token', 'abcdefgh1', '--token-file', path.join(dir, 'token')])).toThrow(
      '--token and --token-file: give one of them',
    );
    expect(t(['--token-file', path.join(dir, 'missing')])).toThrow(/--token-file .*missing: ENOENT/);
    expect(t(['--token-file', path.join(dir, 'empty')])).toThrow(/the file is empty/);
    expect(t(['--token-file', path.join(dir, 'folder')])).toThrow(/not a regular file/);
  });

  it('the server runs with the token from the file', async () => {
    const engine = validateCalls({
      appInfo: async () => ({ version: '1', mode: 'browser', platform: 'x' }),
      onRunEvent: () => () => undefined,
      dispose: async () => undefined,
    } as unknown as EngineApi);
    const out = new PassThrough();
    const err = new PassThrough();
    const v = values(['--port', '0', '--ui', dir, '--token-file', path.join(dir, 'token')]);
    const server = await startServe({ values: v, stdout: out, stderr: err }, engine);
    try {
      expect(server.token).toBe('from-the-file-123');
      const ok = await fetch(`http://127.0.0.1:${server.port}/api/appInfo`, {
        method: 'POST',
        headers: { Authorization: 'Bearer from-the-file-123', 'Content-Type': 'application/json' },
        body: '[]',
      });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
