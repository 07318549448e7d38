/**
 * Which model files the desktop app may open: what the user chose since the app started (open
 * dialog, drag and drop), the recent list, the bundled samples, folders named in QS_MODEL_DIRS, and
 * any regular file whose name (typed, and its real path through links) ends in .gguf, which the path
 * field opens. A compromised renderer cannot make the engine read any other kind of file; code
 * objects and float32 files must have been chosen in a dialog (checkChosen).
 *
 * Paths are compared by their real path (symlinks resolved), so a link inside an allowed folder
 * that points outside it is outside, and a chosen file is the file, not the name it was chosen by.
 * A path that does not exist is compared as written (opening it fails anyway).
 */
import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isInsideDir } from '../engine/paths';

/** The real path of p, or p resolved when it does not exist (yet). */
function realOrResolved(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    return abs;
  }
}

export class AllowedPaths {
  private readonly chosen = new Set<string>();

  constructor(
    /** the samples folder and any QS_MODEL_DIRS: everything under them may be opened */
    private readonly dirs: string[],
    private readonly recent: () => string[],
  ) {}

  allow(p: string): void {
    this.chosen.add(realOrResolved(p));
  }

  isAllowed(p: string): boolean {
    const real = realOrResolved(p);
    if (this.chosen.has(real)) return true;
    if (this.recent().some((r) => realOrResolved(r) === real)) return true;
    return this.dirs.some((d) => isInsideDir(realOrResolved(d), real));
  }

  /** Throws a one-line Error when a file other than a model (a code object, outputs) may not be read. */
  checkChosen(p: string): void {
    if (!this.isAllowed(p))
      throw new Error(`${path.basename(p)} was not chosen since the app started: choose it with Browse…`);
  }

  /**
   * The real path to open; throws a one-line Error when p may not be opened. Opening the path that
   * was checked keeps a link swapped afterwards from redirecting the read.
   */
  async check(p: string): Promise<string> {
    if (this.isAllowed(p)) return realOrResolved(p);
    const isGguf = (f: string) => /\.gguf$/i.test(f);
    if (isGguf(p)) {
      const real = await fsp.realpath(path.resolve(p)).catch(() => null);
      const st = real ? await fsp.stat(real).catch(() => null) : null;
      if (real && isGguf(real) && st?.isFile()) return real;
      if (!real) throw new Error(`model file not found: ${p}`);
    }
    throw new Error(
      `${path.basename(p)} is not a .gguf file: open it with File > Open… or drop it on the window`,
    );
  }
}
