/**
 * How the files of a split model are named (llama.cpp's `gguf-split`): `<prefix>-<no + 1>-of-<count>.gguf`,
 * both numbers written with 5 digits (`model-00002-of-00003.gguf`). Names only, no file system: the
 * engine finds a model's other files by them (src-main/engine/gguf/split.ts), and the browser checks a
 * selection of files to upload by them before sending a byte, as the server does before opening.
 */

/**
 * The most files one split model may have. Each stays open while the model is open, so the limit
 * keeps a model within the file handles a process has; published models use a few dozen at most.
 */
export const MAX_SPLIT_FILES = 256;

export const SPLIT_NAME = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

/** `-00002-of-00003.gguf`: how the name of the file of place `no` (from 0) of `count` ends. */
export function splitSuffix(no: number, count: number): string {
  return `-${String(no + 1).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.gguf`;
}

/** `<prefix>-00002-of-00003.gguf`: the file of place `no` (from 0) of `count`. */
export function splitFileName(prefix: string, no: number, count: number): string {
  return prefix + splitSuffix(no, count);
}

/** A split file's name taken apart: its prefix and its place (from 0) of `count`; null for other names. */
export function splitNameParts(fileName: string): { prefix: string; no: number; count: number } | null {
  const m = SPLIT_NAME.exec(fileName);
  if (!m) return null;
  const no = Number(m[2]) - 1;
  const count = Number(m[3]);
  return no >= 0 && no < count ? { prefix: m[1], no, count } : null;
}

/** The files of one split model, in order. */
export interface SplitSet {
  prefix: string;
  count: number;
  /** the names, first file first */
  names: string[];
}

/** "2", "2 and 3", "2, 3, 4 and 5 more": the places (from 1) of missing files. */
function placesText(places: readonly number[]): string {
  const shown = places.slice(0, 4);
  const rest = places.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1
    ? `${shown[0]}`
    : `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}

/**
 * Whether `names` are all the files of one split model, each once (in any order): the set in order,
 * or a one-line reason: a name that is not a split file's, a name twice, files of two models or of
 * two counts of files, or missing files (named by their places). A name whose count is 1 is not a
 * split file's: such a model is one file.
 */
export function splitSet(names: readonly string[]): SplitSet | { problem: string } {
  if (names.length === 0) return { problem: 'no files' };
  const parts = names.map((n) => ({ name: n, p: splitNameParts(n) }));
  const plain = parts.find((x) => !x.p || x.p.count < 2);
  if (plain)
    return {
      problem: `${plain.name} is not a file of a split model (name-00001-of-00003.gguf ...): a model in one file is uploaded alone, a split model with all of its files`,
    };
  const first = parts[0];
  const other = parts.find((x) => x.p!.prefix !== first.p!.prefix);
  if (other)
    return {
      problem: `${first.name} and ${other.name} are files of different models: upload the files of one split model together`,
    };
  const recount = parts.find((x) => x.p!.count !== first.p!.count);
  if (recount)
    return {
      problem: `${first.name} and ${recount.name} disagree on how many files their model has (${first.p!.count} and ${recount.p!.count})`,
    };
  const { prefix, count } = first.p!;
  if (count > MAX_SPLIT_FILES)
    return {
      problem: `${first.name} is one of ${count} files of a split model; QuantScope opens at most ${MAX_SPLIT_FILES} files for one model`,
    };
  const byPlace: (string | undefined)[] = new Array<string | undefined>(count).fill(undefined);
  for (const x of parts) {
    if (byPlace[x.p!.no] !== undefined) return { problem: `${x.name} is among the files twice` };
    byPlace[x.p!.no] = x.name;
  }
  const missing = byPlace.flatMap((n, i) => (n === undefined ? [i + 1] : []));
  if (missing.length > 0) {
    const what =
      missing.length === 1
        ? `file ${missing[0]} (${splitFileName(prefix, missing[0] - 1, count)}) is missing`
        : `files ${placesText(missing)} are missing`;
    return {
      problem: `${splitFileName(prefix, 0, count)} is a split model of ${count} files, but ${what}: upload all ${count} files together`,
    };
  }
  return { prefix, count, names: byPlace as string[] };
}
