/**
 * Split models: one model stored as several GGUF files, as llama.cpp's `gguf-split` writes them and as
 * large models are published. Every file is a complete GGUF file whose tensor offsets point into
 * itself; the first carries the model's metadata, and each carries three keys:
 *   split.no             the file's place in the set, from 0
 *   split.count          how many files the set has
 *   split.tensors.count  the tensors of all files together
 * The files are named `<prefix>-<no + 1>-of-<count>.gguf`, both numbers written with 5 digits
 * (`model-00002-of-00003.gguf`, src-shared/split-name.ts), which is how a reader finds the others
 * from any one of them.
 * Pure functions on parsed headers and names: file.ts opens and reads the files.
 */
import path from 'node:path';
import { metaValue } from './parse';
import { quote, type GgufHeader } from './types';
import {
  MAX_SPLIT_FILES,
  SPLIT_NAME,
  splitFileName,
  splitNameParts,
  splitSuffix,
} from '../../../src-shared/split-name';

export { MAX_SPLIT_FILES, splitFileName, splitNameParts } from '../../../src-shared/split-name';

export const SPLIT_NO = 'split.no';
export const SPLIT_COUNT = 'split.count';
export const SPLIT_TENSORS = 'split.tensors.count';

/** What a file's split keys say about it. */
export interface SplitKeys {
  /** this file's place, from 0 */
  no: number;
  /** files in the set */
  count: number;
  /** tensors in all files together, or null where the key is absent */
  tensors: number | null;
}

function intKey(h: GgufHeader, key: string, where: string): number | null {
  const v = metaValue(h, key);
  if (v === undefined) return null;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new Error(`${where}: ${key} is not a non-negative integer`);
  return n;
}

/**
 * The split keys of a parsed header, or null for a model in one file (no split.count, or a count of
 * 1). `where` names the file in messages. Throws a one-line error when the keys contradict themselves.
 */
export function splitKeys(h: GgufHeader, where: string): SplitKeys | null {
  const count = intKey(h, SPLIT_COUNT, where);
  if (count === null || count <= 1) return null;
  const no = intKey(h, SPLIT_NO, where);
  if (no === null) throw new Error(`${where}: ${SPLIT_COUNT} is ${count} but ${SPLIT_NO} is missing`);
  if (no >= count)
    throw new Error(`${where}: ${SPLIT_NO} is ${no}, outside the ${count} files of ${SPLIT_COUNT}`);
  return { no, count, tensors: intKey(h, SPLIT_TENSORS, where) };
}

/**
 * The paths of every file of the set that `file` (whose keys are `keys`) belongs to, in order, beside
 * it in its folder. Throws a one-line error when the file's name does not carry its place, since the
 * other files could not be found.
 */
export function splitPaths(file: string, keys: SplitKeys): string[] {
  if (keys.count > MAX_SPLIT_FILES)
    throw new Error(
      `${path.basename(file)} is one of ${keys.count} files of a split model; QuantScope opens at most ${MAX_SPLIT_FILES} files for one model`,
    );
  const base = path.basename(file);
  const m = SPLIT_NAME.exec(base);
  if (!m || Number(m[2]) !== keys.no + 1 || Number(m[3]) !== keys.count)
    throw new Error(
      `${quote(base)} is file ${keys.no + 1} of ${keys.count} of a split model (${SPLIT_NO}, ${SPLIT_COUNT}), but its name does not end in ${splitSuffix(keys.no, keys.count)}, so the other files cannot be found`,
    );
  const dir = path.dirname(file);
  const out: string[] = [];
  for (let i = 0; i < keys.count; i++) out.push(path.join(dir, splitFileName(m[1], i, keys.count)));
  return out;
}

/**
 * A list of model files with each split model shown once: by its first file, with the sizes of all its
 * listed files and their count in `files`. Later files whose first file is not listed stay as they are
 * (opening any file of the set opens all of it). Only names are looked at: the files are checked when
 * the model is opened.
 */
export function collapseSplitFiles<T extends { path: string; size: number; source?: string; files?: number }>(
  entries: readonly T[],
): T[] {
  const key = (dir: string, prefix: string, count: number, source?: string) =>
    `${source ?? ''}\u0000${dir}\u0000${prefix}\u0000${count}`;
  const firsts = new Map<string, T>();
  const out: T[] = [];
  for (const e of entries) {
    const p = splitNameParts(path.basename(e.path));
    if (p && p.no === 0) {
      const first = { ...e, files: 1 };
      firsts.set(key(path.dirname(e.path), p.prefix, p.count, e.source), first);
      out.push(first);
    } else out.push(e);
  }
  const kept = out.filter((e) => {
    const p = splitNameParts(path.basename(e.path));
    if (!p || p.no === 0) return true;
    const first = firsts.get(key(path.dirname(e.path), p.prefix, p.count, e.source));
    if (!first) return true;
    first.size += e.size;
    first.files = (first.files ?? 1) + 1;
    return false;
  });
  for (const f of firsts.values()) if (f.files === 1) delete f.files;
  return kept;
}
