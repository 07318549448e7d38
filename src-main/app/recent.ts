/**
 * The recent-files list. EngineService writes it (a JSON array of paths in userData/recent.json,
 * newest first) when a model opens; the shell reads it for File > Open Recent.
 */
import fs from 'node:fs';

export const MAX_RECENT_SHOWN = 10;

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

export function clearRecent(file: string): void {
  try {
    fs.writeFileSync(file, '[]\n');
  } catch {
    /* a convenience list: failing to clear it is not worth an error dialog */
  }
}
