// `npm run dist`: the Linux AppImage and .deb (electron-builder), with the command line and the
// prebuilt kernels inside. Order: check that the Electron binary can be had (before spending minutes
// on builds), build the app and the CLI, build the kernels with whichever of nvcc and hipcc are
// installed (a missing one is reported; its backend then compiles at run time), package.
//
// The Electron binary is not an npm download: electron's installer fetches it from GitHub on first
// use. electron-builder packages the copy in node_modules/electron/dist when it is there (or
// ELECTRON_OVERRIDE_DIST_PATH's); without one it would try that download, so this script stops
// first and says so in one line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** Where an unpacked Electron for this platform is, or null. */
export function electronDist(env = process.env) {
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const bin = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, 'electron');
    return fs.existsSync(bin) ? env.ELECTRON_OVERRIDE_DIST_PATH : null;
  }
  const dir = path.join(root, 'node_modules', 'electron');
  const pathTxt = path.join(dir, 'path.txt');
  if (!fs.existsSync(pathTxt)) return null;
  const bin = path.join(dir, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(bin) ? path.join(dir, 'dist') : null;
}

function step(what, cmd, args) {
  console.log(`dist: ${what}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`dist: error: ${what} failed (exit ${r.status ?? r.signal}); see above`);
    process.exit(1);
  }
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  if (process.platform !== 'linux') {
    console.error('dist: error: packages are built for Linux only (AppImage and .deb); run this on Linux');
    process.exit(1);
  }
  const dist = electronDist();
  if (!dist) {
    const version = JSON.parse(
      fs.readFileSync(path.join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
    ).version;
    console.error(
      `dist: error: the Electron ${version} binary is not installed (node_modules/electron/dist is missing): ` +
        'electron downloads it from GitHub on first use; with internet access run `node node_modules/electron/install.js` ' +
        '(or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron), then `npm run dist` again. ' +
        'The command line and the browser mode need no Electron: `npm run build && npx quantscope serve`.',
    );
    process.exit(1);
  }
  step('building the app and the command line', npm, ['run', 'build']);
  step('building the kernels (nvcc and hipcc where installed)', process.execPath, [
    'scripts/build-kernels.mjs',
  ]);
  fs.mkdirSync(path.join(root, 'build', 'kernels'), { recursive: true });
  step('packaging (electron-builder)', npx, [
    'electron-builder',
    '--linux',
    '--publish',
    'never',
    `--config.electronDist=${dist}`,
  ]);
  console.log('dist: done: release/');
}
