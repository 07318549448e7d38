import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pathTxt = path.join(root, 'node_modules', 'electron', 'path.txt');
const installed =
  existsSync(pathTxt) &&
  existsSync(path.join(root, 'node_modules', 'electron', 'dist', readFileSync(pathTxt, 'utf8').trim()));

if (installed)
  console.log('[app] the "Electron missing" message test skipped: the Electron binary is installed');

describe('npm start', () => {
  it.skipIf(installed)(
    'says in one line that Electron is missing and how to use browser mode, exit 1',
    () => {
      const res = spawnSync(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '' },
        timeout: 20_000,
      });
      expect(res.status).toBe(1);
      const lines = res.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/Electron binary is not installed/);
      expect(lines[0]).toMatch(/quantscope serve/);
      expect(res.stdout).toBe('');
    },
  );
});
