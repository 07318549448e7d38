// Which Chromium the end-to-end tests drive, in order of preference:
//   1. QS_CHROMIUM, when set (it must exist: a wrong path is an error, not a silent fallback);
//   2. a system Chromium or Chrome on PATH or at the usual Debian/Ubuntu paths;
//   3. the Chromium that the @sparticuz/chromium package ships inside its npm tarball, unpacked on
//      first use into the OS temp folder. This is what makes `npm ci && npm test` work on a machine
//      with Node.js alone and no root: nothing is downloaded at test time.
// Playwright drives any recent Chromium over CDP; its own pinned build is never downloaded.
import fs from 'node:fs';
import path from 'node:path';

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium'];

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Resolves to { path, source } or throws an Error whose message says what to do. */
export async function findChromium() {
  const env = process.env.QS_CHROMIUM;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`QS_CHROMIUM points at ${env}, which does not exist`);
    return { path: env, source: 'QS_CHROMIUM' };
  }
  for (const p of SYSTEM_PATHS) if (fs.existsSync(p)) return { path: p, source: 'system' };
  for (const n of SYSTEM_NAMES) {
    const p = onPath(n);
    if (p) return { path: p, source: 'system' };
  }
  let packaged;
  try {
    packaged = (await import('@sparticuz/chromium')).default;
  } catch (e) {
    throw new Error(
      `no Chromium found: install one (Debian: apt-get install chromium), set QS_CHROMIUM, or run npm ci to get @sparticuz/chromium (${e.message})`,
    );
  }
  // Unpacks bin/chromium.br (and its shared libraries) once; later calls reuse the unpacked copy.
  const p = await packaged.executablePath();
  return { path: p, source: '@sparticuz/chromium' };
}
