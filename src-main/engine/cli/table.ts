/** Plain-text tables for the terminal (right-aligned numeric columns). */
export function table(head: string[], rows: string[][], numeric: boolean[] = []): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? (c ?? '').padStart(widths[i]) : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n') + '\n';
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
    this.out.write(`\r\x1b[2K${text.slice(0, cols - 1)}`);
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
