/**
 * What the browser uploads for a choice of local files (the Upload… input, or files dropped on the
 * window): one model file as it is, or all the files of one split model (name-00001-of-00003.gguf ...),
 * first file first. Anything else is refused here in one line, before a byte is sent.
 */
import { splitNameParts, splitSet } from '../../../src-shared/split-name';
import { fmtBytes } from './format';

export interface UploadPlan<F> {
  /** the files in the order they are sent: one, or a split model's from its first */
  files: F[];
  /** the file the model opens as: the only one, or the split model's first */
  name: string;
  /** the bytes of all the files */
  bytes: number;
}

/**
 * The upload for `files`: a single file as it is (the server checks it), unless its name says it is
 * one file of a split model of several; several files only when they are all the files of one split
 * model, each once.
 */
export function planUpload<F extends { name: string; size: number }>(
  files: readonly F[],
): UploadPlan<F> | { error: string } {
  if (files.length === 0) return { error: 'no file chosen' };
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (files.length === 1 && (splitNameParts(files[0].name)?.count ?? 1) < 2)
    return { files: [files[0]], name: files[0].name, bytes };
  const set = splitSet(files.map((f) => f.name));
  if ('problem' in set) return { error: set.problem };
  const byName = new Map(files.map((f) => [f.name, f]));
  const ordered = set.names.map((n) => byName.get(n)!);
  return { files: ordered, name: ordered[0].name, bytes };
}

/** "Uploading x.gguf (1.20 MiB)…", "Uploading 3 files of m-00001-of-00003.gguf (12.3 MiB)…", with what is sent so far. */
export function uploadingText(plan: UploadPlan<unknown>, sent = 0): string {
  const what = plan.files.length === 1 ? plan.name : `${plan.files.length} files of ${plan.name}`;
  const progress = sent > 0 && sent < plan.bytes ? `, ${fmtBytes(sent)} sent` : '';
  return `Uploading ${what} (${fmtBytes(plan.bytes)}${progress})…`;
}
