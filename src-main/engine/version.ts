/** The app version: injected by the bundlers; read from package.json when running sources. */
import { createRequire } from 'node:module';

function readVersion(): string {
  if (typeof __QS_VERSION__ === 'string') return __QS_VERSION__;
  try {
    const require = createRequire(import.meta.url);
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0-dev';
  }
}

export const APP_VERSION = readVersion();

function readCommit(): string {
  if (typeof __QS_COMMIT__ === 'string') return __QS_COMMIT__;
  return 'source';
}

/** The commit the bundle was built from ("-dirty" with local changes); "source" when running sources. */
export const APP_COMMIT = readCommit();
