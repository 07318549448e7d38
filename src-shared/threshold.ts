/**
 * How an NMSE and the threshold it is judged by are written, wherever the two appear together: the
 * app's verdict line and metrics table, the report's table and the `check` command's verdict line.
 * The threshold is written as given, never rounded, and the NMSE with as many digits as it takes for
 * the comparison to read true ("1.83e-14 > 1.75e-14", never "1.83e-14 > 2e-14").
 */

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  if (v === 0) return '0';
  return null;
}

/** A threshold at the precision it was given: the shortest mantissa that reads back as the same number (1e-8, 1.75e-14). */
export function fmtThreshold(t: number | null | undefined): string {
  if (t === null || t === undefined) return '—';
  return special(t) ?? t.toExponential();
}

/**
 * An NMSE beside its threshold: `digits` decimals of the mantissa, more where fewer would round it
 * onto the other side of the threshold (1.7504e-14 against 1.75e-14, not 1.75e-14).
 */
export function fmtNmse(
  nmse: number | null | undefined,
  threshold: number | null | undefined,
  digits = 2,
): string {
  if (nmse === null || nmse === undefined) return '—';
  const s = special(nmse);
  if (s !== null) return s;
  if (threshold === null || threshold === undefined || !Number.isFinite(threshold))
    return nmse.toExponential(digits);
  const below = nmse <= threshold;
  for (let d = digits; d < 16; d++) {
    const text = nmse.toExponential(d);
    if (Number(text) <= threshold === below) return text;
  }
  return nmse.toExponential(16);
}
