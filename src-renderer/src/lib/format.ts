/**
 * Display formatting: units everywhere, tabular-friendly fixed widths. Hand-written because
 * Intl.NumberFormat alone does not do binary byte units or engineering-style error values.
 */

export function fmtBytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** A number with `digits` significant-ish decimals; '—' for null/undefined. */
export function fmtNum(x: number | null | undefined, digits = 1): string {
  if (x == null) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Error-style values: 0, or mantissa-exponent (1.23e-7). */
export function fmtSci(x: number | null | undefined, digits = 2): string {
  if (x == null) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 0.01 && a < 1e4) return x.toPrecision(digits + 1);
  return x.toExponential(digits);
}

/** Microseconds, switching to ms / s when large. */
export function fmtUs(us: number | null | undefined): string {
  if (us == null || !Number.isFinite(us)) return '—';
  if (us < 1000) return `${us.toFixed(us < 10 ? 2 : 1)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

/** Milliseconds for durations (time left, open time). */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtPct(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  return `${x.toFixed(x < 10 ? 1 : 0)} %`;
}

/**
 * A weight's 2-D view as the UI writes it everywhere: rows n × columns k (n outputs, k inputs).
 * GGUF lists dims innermost first (k, then n), so the file order is reversed here; 1-D shows k.
 */
export function fmtRowsCols(t: { dims: number[]; n: number; k: number }): string {
  return t.dims.length <= 1 ? String(t.k) : `${t.n} × ${t.k}`;
}

/** dims as written in the file, innermost first (k × n ...), for the raw view. */
export function fmtShape(dims: number[]): string {
  return dims.length ? dims.join(' × ') : '—';
}

export function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** An output value at float32 resolution (9 significant digits), so ref and got differences show. */
export function fmtVal(x: number | null | undefined): string {
  if (x == null) return '—';
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e-4 && a < 1e7 ? String(Number(x.toPrecision(9))) : x.toExponential(8);
}

/** FLOP counts with SI prefixes. */
export function fmtFlop(x: number): string {
  const units = ['FLOP', 'kFLOP', 'MFLOP', 'GFLOP', 'TFLOP', 'PFLOP'];
  let v = x;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

/** Rates (GB/s, TFLOP/s): 3 significant digits below 100, whole numbers above. */
export function fmtRate(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) < 0.001) return x.toExponential(1);
  return String(Number(x.toPrecision(3)));
}
