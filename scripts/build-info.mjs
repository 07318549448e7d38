// The commit a build is made from, for `quantscope --version` and the records: the short hash, with
// "-dirty" when tracked files differ from it. QS_COMMIT overrides it (builds from a source tarball,
// where there is no git); "unknown" when neither is there.
import { execFileSync } from 'node:child_process';

export function buildCommit(root) {
  if (process.env.QS_COMMIT) return process.env.QS_COMMIT;
  const git = (...args) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const hash = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${hash}-dirty` : hash;
  } catch {
    return 'unknown';
  }
}
