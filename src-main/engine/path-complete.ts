/**
 * Completion of a partly typed model path: the folders and .gguf files whose names start with the
 * part after the last separator, in the folder before it.
 *
 * With roots (browser mode), only paths below the roots complete. The folder is checked twice: by
 * its path as typed (before anything touches the disk), then by its real path (so a link inside a
 * root that points out of it is refused). Both refusals are the same error, whether or not the path
 * exists, so completion cannot be used to learn what exists outside the roots. Entries that are
 * links are offered only when their targets stay inside the roots; only folders and regular .gguf
 * files are offered. Without roots (the desktop app, where the user may open any file), every folder
 * the process can read completes, and `~` is the home folder.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LIMITS, type PathCompletion } from '../../src-shared/contract';
import { isInsideDir, resolveTypedPath } from './paths';
import { collapseSplitFiles } from './gguf/split';

export interface CompletionRoot {
  /** the folder as the user names it (what the server was given) */
  given: string;
  /** the folder with links resolved */
  real: string;
}

/** A root as the user named it and as it is on disk; a root that does not exist is left out. */
export async function completionRoot(dir: string): Promise<CompletionRoot | null> {
  const given = path.resolve(dir);
  try {
    return { given, real: await fs.realpath(given) };
  } catch {
    return null;
  }
}

const atOrInside = (root: string, p: string): boolean =>
  path.resolve(root) === path.resolve(p) || isInsideDir(root, p);

/**
 * The folder a relative typed path is taken in: with roots (browser mode) the first root, the first
 * folder an empty field offers (the server's working directory means nothing to the person at the
 * browser), null when there is none; without roots (the desktop app) the home folder, which `~` also
 * names there. openModel resolves a typed path in the same folder.
 */
export function typedPathBase(roots: readonly CompletionRoot[] | null): string | null {
  return roots ? (roots[0]?.given ?? null) : os.homedir();
}

/** The one refusal for a path outside the roots (the same whether or not it exists). */
export function outsideRootsError(prefix: string): Error {
  return new Error(`${prefix} is outside the model folders this server may open`);
}

/**
 * The completions of prefix. roots null: anywhere. An empty prefix lists the roots (or, without
 * roots, the home folder).
 */
export async function completePath(
  prefix: string,
  roots: CompletionRoot[] | null,
  limit: number = LIMITS.completions,
): Promise<PathCompletion[]> {
  if (prefix.trim() === '') {
    if (roots) return roots.map((r) => ({ path: withSep(r.given), name: withSep(r.given), kind: 'folder' }));
    const home = os.homedir();
    return [{ path: withSep(home), name: withSep(home), kind: 'folder' }];
  }
  const base = typedPathBase(roots);
  if (base === null) throw outsideRootsError(prefix);
  const typed = resolveTypedPath(prefix, base, roots ? undefined : os.homedir());
  const endsWithSep = /[\\/]$/.test(prefix);
  const dir = endsWithSep ? typed : path.dirname(typed);
  const partial = endsWithSep ? '' : path.basename(typed);

  let root: CompletionRoot | null = null;
  if (roots) {
    // Lexical check first: nothing outside the roots is ever looked at.
    root = roots.find((r) => atOrInside(r.given, dir) || atOrInside(r.real, dir)) ?? null;
    if (!root) throw outsideRootsError(prefix);
  }
  let realDir: string;
  try {
    realDir = await fs.realpath(dir);
  } catch {
    // Inside the roots and not there: nothing to offer (no error that would differ from outside).
    if (roots) return [];
    throw new Error(`${prefix}: no such folder`);
  }
  const inside = (real: string): boolean => !roots || roots.some((r) => atOrInside(r.real, real));
  if (!inside(realDir)) throw outsideRootsError(prefix);

  let entries;
  try {
    entries = await fs.readdir(realDir, { withFileTypes: true });
  } catch {
    if (roots) return [];
    throw new Error(`${prefix}: cannot read the folder`);
  }
  const lower = partial.toLowerCase();
  const out: PathCompletion[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length >= limit) break;
    if (!e.name.toLowerCase().startsWith(lower)) continue;
    if (e.name.startsWith('.') && !partial.startsWith('.')) continue;
    const onDisk = path.join(realDir, e.name);
    let st;
    try {
      if (e.isSymbolicLink()) {
        const target = await fs.realpath(onDisk);
        if (!inside(target)) continue;
        st = await fs.stat(target);
      } else if (e.isDirectory() || e.isFile()) {
        st = await fs.stat(onDisk);
      } else continue;
    } catch {
      continue; // a dangling link, or gone since it was listed
    }
    const shown = path.join(dir, e.name);
    const name = root ? nameInRoot(root, shown) : shown;
    if (st.isDirectory()) out.push({ path: withSep(shown), name: withSep(name), kind: 'folder' });
    else if (st.isFile() && e.name.toLowerCase().endsWith('.gguf'))
      out.push({ path: shown, name, kind: 'file', size: st.size });
  }
  // Folders first, then files, each by name; a split model once, by its first file.
  const folders = out.filter((c) => c.kind === 'folder');
  const files = collapseSplitFiles(
    out.filter((c): c is PathCompletion & { size: number } => c.kind === 'file'),
  );
  return [...folders, ...files];
}

function withSep(p: string): string {
  return p.endsWith(path.sep) ? p : `${p}${path.sep}`;
}

/** The path inside its root, with the root's own name first ("models/sub/x.gguf"). */
function nameInRoot(root: CompletionRoot, p: string): string {
  const base = atOrInside(root.given, p) ? root.given : root.real;
  const rel = path.relative(base, p).split(path.sep).join('/');
  return `${path.basename(base)}/${rel}`;
}
