/**
 * JSON as it crosses HTTP in browser mode. Plain JSON has no Infinity or NaN (JSON.stringify
 * writes null), but error metrics and heatmap cells legitimately hold them (a NaN where the
 * reference is finite is an infinite error). Non-finite numbers travel as {"$num":"Infinity"}.
 * Electron's IPC uses structured clone and needs none of this.
 */
const KEY = '$num';

export function wireStringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? { [KEY]: String(v) } : v,
  );
}

export function wireParse<T = unknown>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const s = o[KEY];
      if (
        typeof s === 'string' &&
        Object.keys(o).length === 1 &&
        (s === 'Infinity' || s === '-Infinity' || s === 'NaN')
      )
        return Number(s);
    }
    return v;
  }) as T;
}
