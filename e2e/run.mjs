// `npm run e2e`: build what is missing, pick a Chromium (find-chromium.mjs), then run the Playwright
// specs in the browser project (plus the electron project when QS_E2E_ELECTRON=1, under xvfb-run on
// Linux without a display). Exits with Playwright's code.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findChromium } from './find-chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

const needBuild = ['dist/quantscope.cjs', 'out/renderer/index.html', 'out/main/index.js'].some(
  (f) => !fs.existsSync(path.join(root, f)),
);
if (needBuild) {
  const b = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) {
    console.error('e2e: the build failed; see above');
    process.exit(b.status ?? 1);
  }
}

let chromium;
try {
  chromium = await findChromium();
} catch (e) {
  console.error(`e2e: ${e.message}`);
  process.exit(1);
}
console.log(`e2e: Chromium from ${chromium.source}: ${chromium.path}`);
// playwright.config.ts reads the chosen binary from here.
process.env.QS_CHROMIUM = chromium.path;

const args = ['playwright', 'test', ...process.argv.slice(2)];
const electron = process.env.QS_E2E_ELECTRON === '1';
if (!electron && !args.some((a) => a.startsWith('--project'))) args.push('--project', 'browser');
let cmd = npx;
let cmdArgs = args;
if (electron && process.platform === 'linux' && !process.env.DISPLAY && fs.existsSync('/usr/bin/xvfb-run')) {
  cmd = '/usr/bin/xvfb-run';
  cmdArgs = ['-a', npx, ...args];
}
const res = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
if (res.error) {
  console.error(`e2e: could not run playwright: ${res.error.message}`);
  process.exit(1);
}
process.exit(res.status ?? 1);
