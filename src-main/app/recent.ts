/**
 * The recent-files list: a JSON array of paths in userData/recent.json, newest first. EngineService
 * adds a path when a model opens; the shell reads the list for File > Open Recent and drops the
 * files that have vanished (deleted, moved, no longer regular files), so the menu offers only files
 * that can open. Plain node:fs, so it is tested without Electron.
 */
import fs from 'node:fs';

export const MAX_RECENT_SHOWN = 10;

function isRegularFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The stored list as written, at most MAX_RECENT_SHOWN well-formed paths; [] when unreadable. */
export function readRecent(file: string): string[] {
  try {
    const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!Array.isArray(data)) return [];
    return data
      .filter((x): x is string => typeof x === 'string' && x.length > 0 && x.length < 4096)
      .slice(0, MAX_RECENT_SHOWN);
  } catch {
    return [];
  }
}

function writeRecent(file: string, list: string[]): void {
  try {
    fs.writeFileSync(file, `${JSON.stringify(list, null, 2)}\n`);
  } catch {
    /* a convenience list: failing to write it is not worth an error dialog */
  }
}

/** The list without the files that are gone; the stored list is rewritten when any were. */
export function pruneRecent(file: string): string[] {
  const list = readRecent(file);
  const kept = list.filter(isRegularFile);
  if (kept.length !== list.length) writeRecent(file, kept);
  return kept;
}

/** Puts p first (once), keeping at most MAX_RECENT_SHOWN entries. */
export function addRecent(file: string, p: string): string[] {
  const list = [p, ...readRecent(file).filter((x) => x !== p)].slice(0, MAX_RECENT_SHOWN);
  writeRecent(file, list);
  return list;
}

export function clearRecent(file: string): void {
  writeRecent(file, []);
}
