/**
 * A weight map's columns: the probed elements of each weight row, as spans of element indices, so
 * a column is mapped back to its element (the app's map, the report's summary of it). Pure functions.
 */

/** How many elements the spans probe (the map's column count). */
export function probedCount(spans: readonly [number, number][]): number {
  return spans.reduce((a, [s, e]) => a + (e - s), 0);
}

/** The element index of probed column c, or -1 outside the spans. */
export function elementAt(spans: readonly [number, number][], c: number): number {
  if (c < 0) return -1;
  let left = c;
  for (const [s, e] of spans) {
    if (left < e - s) return s + left;
    left -= e - s;
  }
  return -1;
}
