/**
 * The desktop package's layout and its `quantscope` launcher, checked without the Electron binary:
 * electron-builder packages the `dir` target (linux-unpacked, the tree the AppImage and the .deb
 * contain) around a stand-in "Electron" that is this Node.js binary, which runs the CLI the same way
 * (ELECTRON_RUN_AS_NODE is what makes the real binary behave as Node.js). The fuses are left out:
 * they are flipped inside a real Electron binary only.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const req = createRequire(path.join(root, 'node_modules', 'app-builder-lib', 'package.json'));
const built =
  existsSync(path.join(root, 'dist', 'quantscope.cjs')) &&
  existsSync(path.join(root, 'out', 'main', 'index.js'));
if (!built) console.log('[package] skipped: run `npm run build` first (dist/ and out/ are packaged)');

describe.skipIf(!built)('the Linux package (electron-builder dir target, stand-in Electron)', () => {
  it('holds the CLI, koffi, the samples and the kernels, and its launcher runs the command line', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'qs-package-'));
    try {
      const electron = path.join(tmp, 'electron-dist');
      mkdirSync(electron);
      copyFileSync(process.execPath, path.join(electron, 'electron'));
      writeFileSync(path.join(electron, 'version'), '45.5.0');
      const yaml = req('js-yaml') as { load(s: string): Record<string, unknown> };
      const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as {
        extraResources: { from: string; to: string }[];
        directories: Record<string, string>;
        [k: string]: unknown;
      };
      // a kernels folder with one marker object when build/kernels was not built here
      const kernels = path.join(root, 'build', 'kernels');
      if (!existsSync(path.join(kernels, 'manifest.json'))) {
        const k = path.join(tmp, 'kernels');
        mkdirSync(k);
        writeFileSync(path.join(k, 'manifest.json'), '{"entries":[]}');
        config.extraResources = config.extraResources.map((e) =>
          e.to === 'kernels' ? { ...e, from: k } : e,
        );
      }
      // electron-builder in its own process, as `npm run dist` runs it
      const script = path.join(tmp, 'pack.cjs');
      writeFileSync(
        script,
        `const { build, Platform } = require(${JSON.stringify(req.resolve('electron-builder'))});
build({
  projectDir: ${JSON.stringify(root)},
  publish: 'never',
  targets: Platform.LINUX.createTarget('dir'),
  config: ${JSON.stringify({
    ...config,
    electronFuses: null,
    electronDist: electron,
    directories: { ...config.directories, output: path.join(tmp, 'release') },
  })},
}).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
`,
      );
      // electron-builder copies differently under a test runner (it reads VITEST); package as a user would
      const userEnv = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')),
      );
      const pack = spawnSync(process.execPath, [script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 180_000,
        env: userEnv,
      });
      expect(pack.status, pack.stderr + pack.stdout).toBe(0);
      const top = path.join(tmp, 'release', 'linux-unpacked');
      const res = path.join(top, 'resources');
      for (const f of [
        'quantscope-app',
        'resources/app.asar',
        'resources/cli/quantscope.cjs',
        'resources/bin/quantscope',
        'resources/kernels/manifest.json',
        'resources/samples/tiny.gguf',
        'resources/app.asar.unpacked/node_modules/koffi/package.json',
      ])
        expect(existsSync(path.join(top, f)), f).toBe(true);

      const launcher = path.join(res, 'bin', 'quantscope');
      // the launcher points QS_KERNELS_DIR at the package's kernels unless the user set it
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'QS_KERNELS_DIR'));
      const v = spawnSync(launcher, ['--version'], { encoding: 'utf8', env, timeout: 60_000 });
      expect(v.stderr).toBe('');
      expect(v.stdout.split('\n')[0]).toMatch(/^\d+\.\d+\.\d+$/);
      const r = spawnSync(launcher, ['verify', '--batch', '1', '--tensors', 'blk.0.attn_q.weight'], {
        encoding: 'utf8',
        env,
        cwd: tmp,
        timeout: 120_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/1 passed, 0 failed, 0 errors of 1/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 240_000);
});
