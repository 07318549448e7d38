import { termSafe } from './term';

/**
 * Plain-text tables for the terminal (right-aligned numeric columns). Every cell goes through
 * termSafe; widths are found in one pass (no argument spreads, so a million rows is fine).
 */
export function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  return tableLines(head, rows, numeric).join('\n') + '\n';
}

/** The table's lines (header, rule, one per row), for printing in pieces. */
export function tableLines(head: string[], rows: string[][], numeric: boolean[] = []): string[] {
  const safeHead = head.map(termSafe);
  const safeRows = rows.map((r) => head.map((_, i) => termSafe(r[i] ?? '')));
  const widths = safeHead.map((h) => h.length);
  for (const r of safeRows)
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], r[i].length);
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const lines = [fmt(safeHead), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of safeRows) lines.push(fmt(r));
  return lines;
}

/**
 * tableLines for a row source too large to hold formatted: rows() is called twice (widths, then
 * output) and each row is formatted and written as it comes.
 */
export function writeTable(
  out: NodeJS.WritableStream,
  head: string[],
  rows: () => Iterable<string[]>,
  numeric: boolean[] = [],
): void {
  const safeHead = head.map(termSafe);
  const widths = safeHead.map((h) => h.length);
  for (const r of rows())
    for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], termSafe(r[i] ?? '').length);
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  function* lines() {
    yield fmt(safeHead);
    yield widths.map((w) => '-'.repeat(w)).join('  ');
    for (const r of rows()) yield fmt(head.map((_, i) => termSafe(r[i] ?? '')));
  }
  writeLines(out, lines());
}

/**
 * A table whose rows arrive in batches (a run in parts) and are written as they come. Column widths
 * are fixed when the first batch arrives: the widest of the head, that batch and `minWidths` (what is
 * known beforehand, such as the longest tensor name). A later cell wider than its column pushes the
 * rest of its row to the right. With one batch the output is exactly tableLines'.
 */
export class StreamedTable {
  private widths: number[] | null = null;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly head: string[],
    private readonly numeric: boolean[] = [],
    private readonly minWidths: number[] = [],
  ) {}

  write(rows: readonly string[][]): void {
    const safeRows = rows.map((r) => this.head.map((_, i) => termSafe(r[i] ?? '')));
    const lines: string[] = [];
    if (!this.widths) {
      const safeHead = this.head.map(termSafe);
      const widths = safeHead.map((h, i) => Math.max(h.length, this.minWidths[i] ?? 0));
      for (const r of safeRows)
        for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], r[i].length);
      this.widths = widths;
      lines.push(this.fmt(safeHead), widths.map((w) => '-'.repeat(w)).join('  '));
    }
    for (const r of safeRows) lines.push(this.fmt(r));
    writeLines(this.out, lines);
  }

  /** Writes the head when no row came at all. */
  end(): void {
    if (!this.widths) this.write([]);
  }

  private fmt(cells: string[]): string {
    const w = this.widths!;
    return cells
      .map((c, i) => (this.numeric[i] ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  }
}

/** Writes lines to a stream in pieces of about 1 MB (one huge string would double the memory). */
export function writeLines(out: NodeJS.WritableStream, lines: Iterable<string>): void {
  let buf: string[] = [];
  let size = 0;
  for (const l of lines) {
    buf.push(l);
    size += l.length + 1;
    if (size >= 1 << 20) {
      out.write(buf.join('\n') + '\n');
      buf = [];
      size = 0;
    }
  }
  if (buf.length > 0) out.write(buf.join('\n') + '\n');
}

/** One-line progress on a TTY (stderr), nothing otherwise. */
export class Progress {
  private last = 0;
  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}
  update(text: string, force = false): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const cols = (this.out as { columns?: number }).columns ?? 100;
    this.out.write(`\r\x1b[2K${termSafe(text).slice(0, cols - 1)}`);
  }
  done(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[2K');
  }
}

export function fmtDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
