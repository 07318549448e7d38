// Locating a GPU toolchain binary for the compile tests: on PATH first, then in the vendor's usual
// folders. null when it is not installed, so the caller skips with the reason printed.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export function findTool(name: string, dirs: string[]): string | null {
  for (const d of [...(process.env.PATH ?? '').split(path.delimiter), ...dirs]) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}
