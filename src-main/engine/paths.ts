/** Where the app's own files are: the sample models and the built UI, from sources or a bundle. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SAMPLE_MODEL = 'tiny.gguf';

function here(): string {
  if (typeof __dirname === 'string') return __dirname;
  try {
    return path.dirname(fileURLToPath(import.meta.url));
  } catch {
    return process.cwd();
  }
}

/** The first ancestor of the code (then of the cwd) that holds `rel`, or null. */
export function findUp(rel: string, from: string[] = [here(), process.cwd()]): string | null {
  for (const start of from) {
    let dir = start;
    for (let i = 0; i < 6; i++) {
      const p = path.join(dir, rel);
      if (fs.existsSync(p)) return p;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return null;
}

export function samplesDir(): string {
  if (process.env.QS_SAMPLES_DIR) return path.resolve(process.env.QS_SAMPLES_DIR);
  const p = findUp(path.join('samples', SAMPLE_MODEL));
  return p ? path.dirname(p) : path.resolve('samples');
}

export function sampleModelPath(): string {
  return path.join(samplesDir(), SAMPLE_MODEL);
}

/**
 * Whether p lies strictly inside the folder root (a file or folder below it, not root itself), by
 * path alone: callers that must not follow links resolve both with realpath first.
 */
export function isInsideDir(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * The absolute path that a path a person typed names: a relative path is taken in `base`, the folder
 * the face that took it resolves typed paths in, and with `home` a leading `~` is that folder. The
 * path field's completions and the open of what it holds resolve through this with the same base, so
 * a relative path completes to, and opens, the same file.
 */
export function resolveTypedPath(typed: string, base: string, home?: string): string {
  const p = home !== undefined && /^~(?=$|[\\/])/.test(typed) ? path.join(home, typed.slice(1)) : typed;
  return path.resolve(base, p);
}
