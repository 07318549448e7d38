/**
 * What the browser uploads for a choice of local files (the Upload… input, or files dropped on the
 * window): one model file as it is, or all the files of one split model (name-00001-of-00003.gguf ...),
 * first file first. Anything else is refused here in one line, before a byte is sent.
 */
import { splitNameParts, splitSet } from '../../../src-shared/split-name';
import { fmtBytes, fmtDuration } from './format';

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

/** The progress line is redrawn at most this often, whatever the uploader reports. */
export const PROGRESS_EVERY_MS = 250;
/** The rate and the time left are shown once the upload has run this long (earlier they jump about). */
export const RATE_AFTER_MS = 3000;
/** The rate is measured over this much of the latest progress. */
export const RATE_WINDOW_MS = 10_000;

/** What the progress line shows. */
export interface UploadStats {
  /** bytes of all the files sent so far */
  sent: number;
  total: number;
  /** bytes a second, once known (RATE_AFTER_MS) */
  rate: number | null;
  /** milliseconds left at that rate */
  msLeft: number | null;
}

/**
 * Whether a progress report at `now` is worth drawing: the first, one PROGRESS_EVERY_MS after the
 * last drawn, and the one that completes the bytes (the line then says the server is opening it).
 */
export function shouldShowProgress(
  lastShownAt: number | null,
  now: number,
  sent: number,
  total: number,
): boolean {
  return lastShownAt === null || sent >= total || now - lastShownAt >= PROGRESS_EVERY_MS;
}

/**
 * The upload rate from progress samples ([time, bytes sent], oldest first): the bytes over the
 * time between the oldest and the newest sample; null until the samples span RATE_AFTER_MS or when
 * nothing moved.
 */
export function uploadRate(samples: readonly (readonly [number, number])[]): number | null {
  if (samples.length < 2) return null;
  const [t0, b0] = samples[0];
  const [t1, b1] = samples[samples.length - 1];
  if (t1 - t0 < RATE_AFTER_MS || b1 <= b0) return null;
  return ((b1 - b0) * 1000) / (t1 - t0);
}

/**
 * Turns an uploader's many progress reports into the few the screen draws (shouldShowProgress),
 * each with the rate over the last RATE_WINDOW_MS and the time left at it. Times are passed in.
 */
export class UploadMeter {
  private lastShownAt: number | null = null;
  private samples: [number, number][];

  constructor(
    readonly total: number,
    startedAt: number,
  ) {
    this.samples = [[startedAt, 0]];
  }

  /** The stats to draw for `sent` bytes at `now`, or null when the line was drawn too recently. */
  update(sent: number, now: number): UploadStats | null {
    this.samples.push([now, sent]);
    // keep one sample at or before the window's start, so the window is always full once it can be
    while (this.samples.length > 2 && this.samples[1][0] <= now - RATE_WINDOW_MS) this.samples.shift();
    if (!shouldShowProgress(this.lastShownAt, now, sent, this.total)) return null;
    this.lastShownAt = now;
    const rate = uploadRate(this.samples);
    const msLeft = rate ? ((this.total - sent) * 1000) / rate : null;
    return { sent, total: this.total, rate, msLeft };
  }
}

/** Whole percent, never 100 before the last byte. */
export function uploadPercent(sent: number, total: number): number {
  if (total <= 0 || sent >= total) return 100;
  return Math.min(99, Math.floor((sent * 100) / total));
}

/** "12.3 MiB/s" */
export function fmtByteRate(bytesPerSecond: number): string {
  return `${fmtBytes(Math.round(bytesPerSecond))}/s`;
}

/**
 * The progress line: "Uploading x.gguf (40.0 GiB)…" before a byte went, then "Uploading x.gguf: 12.0
 * GiB of 40.0 GiB (30%), 110 MiB/s, about 4 min 10 s left", and "Uploaded x.gguf (40.0 GiB); the
 * server is opening it…" once all the bytes are sent. A split model says "3 files of
 * m-00001-of-00003.gguf".
 */
export function uploadingText(plan: UploadPlan<unknown>, stats?: UploadStats): string {
  const what = plan.files.length === 1 ? plan.name : `${plan.files.length} files of ${plan.name}`;
  const sent = stats?.sent ?? 0;
  if (sent <= 0) return `Uploading ${what} (${fmtBytes(plan.bytes)})…`;
  if (sent >= plan.bytes) return `Uploaded ${what} (${fmtBytes(plan.bytes)}); the server is opening it…`;
  let text = `Uploading ${what}: ${fmtBytes(sent)} of ${fmtBytes(plan.bytes)} (${uploadPercent(sent, plan.bytes)}%)`;
  if (stats?.rate) {
    text += `, ${fmtByteRate(stats.rate)}`;
    if (stats.msLeft !== null) text += `, about ${fmtDuration(Math.max(1000, stats.msLeft))} left`;
  }
  return text;
}

/** The notice after the user stopped an upload. */
export const UPLOAD_CANCELLED = 'Upload cancelled';
