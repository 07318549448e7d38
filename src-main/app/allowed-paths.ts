/**
 * Which model files the desktop app may open: what the user chose since the app started (open
 * dialog, drag and drop), the recent list, the bundled samples, folders named in QS_MODEL_DIRS, and
 * any regular file whose name (typed and resolved through links) ends in .gguf, which the path field
 * opens. A compromised renderer cannot make the engine read any other kind of file.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isInsideDir } from '../engine/paths';

export class AllowedPaths {
  private readonly chosen = new Set<string>();

  constructor(
    /** the samples folder and any QS_MODEL_DIRS: everything under them may be opened */
    private readonly dirs: string[],
    private readonly recent: () => string[],
  ) {}

  allow(p: string): void {
    this.chosen.add(path.resolve(p));
  }

  isAllowed(p: string): boolean {
    const abs = path.resolve(p);
    if (this.chosen.has(abs)) return true;
    if (this.recent().some((r) => path.resolve(r) === abs)) return true;
    return this.dirs.some((d) => isInsideDir(d, abs));
  }

  /** Throws a one-line Error when a file other than a model (a code object, outputs) may not be read. */
  checkChosen(p: string): void {
    if (!this.isAllowed(p))
      throw new Error(`${path.basename(p)} was not chosen since the app started: choose it with Browse…`);
  }

  /** Throws a one-line Error when p may not be opened. */
  async check(p: string): Promise<void> {
    if (this.isAllowed(p)) return;
    const isGguf = (f: string) => /\.gguf$/i.test(f);
    if (isGguf(p)) {
      const real = await fsp.realpath(path.resolve(p)).catch(() => null);
      const st = real ? await fsp.stat(real).catch(() => null) : null;
      if (real && isGguf(real) && st?.isFile()) return;
      if (!real) throw new Error(`model file not found: ${p}`);
    }
    throw new Error(
      `${path.basename(p)} is not a .gguf file: open it with File > Open… or drop it on the window`,
    );
  }
}
