// `npm start`: build if needed, then launch the desktop app. Where the Electron binary is missing
// (it is downloaded by electron's postinstall, which cannot run offline), say so in one line and
// point to browser mode instead of letting the electron package try to download it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');

/** The Electron executable, found as node_modules/electron/index.js would, without its download fallback. */
function electronBinary() {
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const p = path.join(
      process.env.ELECTRON_OVERRIDE_DIST_PATH,
      process.platform === 'win32' ? 'electron.exe' : 'electron',
    );
    return fs.existsSync(p) ? p : null;
  }
  const pathFile = path.join(electronDir, 'path.txt');
  if (!fs.existsSync(pathFile)) return null;
  const p = path.join(electronDir, 'dist', fs.readFileSync(pathFile, 'utf8').trim());
  return fs.existsSync(p) ? p : null;
}

const binary = electronBinary();
if (!binary) {
  console.error(
    'quantscope: the Electron binary is not installed (node_modules/electron/dist is missing); use browser mode instead: `npm run build && npx quantscope serve`, then open the printed URL',
  );
  process.exit(1);
}

const built = [
  'out/main/index.js',
  'out/main/engine-host.js',
  'out/preload/index.js',
  'out/renderer/index.html',
].every((f) => fs.existsSync(path.join(root, f)));
if (!built || process.argv.includes('--rebuild')) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const res = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) {
    console.error('quantscope: the build failed; see the messages above');
    process.exit(res.status ?? 1);
  }
}

const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const res = spawnSync(binary, [root, ...process.argv.slice(2).filter((a) => a !== '--rebuild')], {
  cwd: root,
  stdio: 'inherit',
  env,
});
if (res.error) {
  console.error(`quantscope: could not start Electron: ${res.error.message}`);
  process.exit(1);
}
process.exit(res.status ?? 0);
