/** Data shaping for the bandwidth / batch / roofline / fused-vs-unfused charts (pure, unit-tested), and their shared styling. */
import type { DeviceSummary, TensorResult } from '../../../src-shared/contract';

/** Fixed colours per format so every chart agrees. */
export const TYPE_COLORS: Record<string, string> = {
  Q4_0: '#4e79a7',
  Q4_K: '#f28e2b',
  Q5_K: '#59a14f',
  Q6_K: '#e15759',
  Q8_0: '#b07aa1',
  F32: '#76b7b2',
  F16: '#edc948',
  BF16: '#9c755f',
  Q4_1: '#ff9da7',
  Q5_0: '#86bcb6',
  Q5_1: '#499894',
  Q2_K: '#d37295',
  Q3_K: '#f1ce63',
  IQ4_NL: '#8cd17d',
  IQ4_XS: '#b6992d',
};
export function typeColor(t: string): string {
  return TYPE_COLORS[t] ?? '#8c8c8c';
}

export const flops = (r: Pick<TensorResult, 'm' | 'n' | 'k'>): number => 2 * r.m * r.n * r.k;
/** FLOP per weight byte (the weights dominate traffic for small m). */
export const intensity = (r: Pick<TensorResult, 'm' | 'n' | 'k' | 'weightBytes'>): number =>
  r.weightBytes > 0 ? flops(r) / r.weightBytes : 0;

export interface BandwidthPoint {
  key: string;
  label: string;
  type: string;
  m: number;
  gbps: number;
  pctPeak: number | null;
  resultId: string;
}

export function bandwidthPoints(results: TensorResult[]): BandwidthPoint[] {
  return results
    .filter((r) => r.timing && Number.isFinite(r.timing.gbps))
    .map((r) => ({
      key: r.resultId,
      label: `${r.tensor} · m=${r.m}`,
      type: r.type,
      m: r.m,
      gbps: r.timing!.gbps,
      pctPeak: r.timing!.pctPeak,
      resultId: r.resultId,
    }));
}

export interface BatchRow {
  m: number;
  [series: string]: number;
}

/**
 * GB/s (or TFLOP/s) against batch size, one series per format: the median over that format's
 * tensors at each m, so one outlier tensor does not bend the curve.
 */
export function batchSeries(
  results: TensorResult[],
  metric: 'gbps' | 'tflops',
): { rows: BatchRow[]; types: string[] } {
  const acc = new Map<number, Map<string, number[]>>();
  const types = new Set<string>();
  for (const r of results) {
    const v = r.timing?.[metric];
    if (v == null || !Number.isFinite(v)) continue;
    types.add(r.type);
    let byType = acc.get(r.m);
    if (!byType) acc.set(r.m, (byType = new Map()));
    const list = byType.get(r.type) ?? [];
    list.push(v);
    byType.set(r.type, list);
  }
  const rows: BatchRow[] = [...acc.keys()]
    .sort((a, b) => a - b)
    .map((m) => {
      const row: BatchRow = { m };
      for (const [t, list] of acc.get(m)!) row[t] = median(list);
      return row;
    });
  return { rows, types: [...types].sort() };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export interface RooflinePoint {
  ai: number;
  tflops: number;
  type: string;
  label: string;
  resultId: string;
}

export function rooflinePoints(results: TensorResult[]): RooflinePoint[] {
  return results
    .filter((r) => r.timing && r.timing.tflops > 0 && intensity(r) > 0)
    .map((r) => ({
      ai: intensity(r),
      tflops: r.timing!.tflops,
      type: r.type,
      label: `${r.tensor} · m=${r.m}`,
      resultId: r.resultId,
    }));
}

/**
 * The roof: min(bandwidth x intensity, compute peak), sampled on a log grid spanning the points.
 * bandwidth in GB/s -> TFLOP/s = GB/s x FLOP/B / 1000.
 */
export function roofline(
  bandwidthGBs: number | null,
  peakTflops: number | null,
  aiMin: number,
  aiMax: number,
  samples = 48,
): { ai: number; roof: number }[] {
  if (!bandwidthGBs || !(aiMin > 0) || !(aiMax > 0)) return [];
  const lo = Math.log10(aiMin) - 0.3;
  const hi = Math.max(
    Math.log10(aiMax) + 0.3,
    peakTflops ? Math.log10((peakTflops * 1000) / bandwidthGBs) + 0.5 : 0,
  );
  const out: { ai: number; roof: number }[] = [];
  for (let i = 0; i < samples; i++) {
    const ai = 10 ** (lo + ((hi - lo) * i) / (samples - 1));
    const mem = (bandwidthGBs * ai) / 1000;
    out.push({ ai, roof: peakTflops ? Math.min(mem, peakTflops) : mem });
  }
  return out;
}

/** The bandwidth the roof uses: measured copy bandwidth first (what is reachable), else the peak. */
export function roofBandwidth(device: DeviceSummary | null): { gbs: number | null; label: string } {
  if (device?.copyBandwidthGBs) return { gbs: device.copyBandwidthGBs, label: 'measured copy' };
  if (device?.peakBandwidthGBs) return { gbs: device.peakBandwidthGBs, label: 'peak' };
  return { gbs: null, label: '' };
}

export interface FusedRow {
  label: string;
  fusedUs: number;
  unfusedUs: number;
  speedup: number;
}

export function fusedVsUnfused(results: TensorResult[]): FusedRow[] {
  return results
    .filter((r) => r.timing && r.unfused?.timing)
    .map((r) => ({
      label: `${r.tensor} · m=${r.m}`,
      fusedUs: r.timing!.medianUs,
      unfusedUs: r.unfused!.timing!.medianUs,
      speedup: r.unfused!.timing!.medianUs / r.timing!.medianUs,
    }));
}

/** Short tensor label for dense axes: blk.3.ffn_down.weight · m=8 -> L3.ffn_down · m=8. */
export function shortTensor(name: string): string {
  return name.replace(/^blk\.(\d+)\./, 'L$1.').replace(/\.weight\b/, '');
}

/** Largest value (init for none); a loop, since spreading a long array into Math.max overflows the stack. */
export function maxOf(values: readonly number[], init = -Infinity): number {
  let m = init;
  for (const v of values) if (v > m) m = v;
  return m;
}

/** Smallest value (init for none); see maxOf. */
export function minOf(values: readonly number[], init = Infinity): number {
  let m = init;
  for (const v of values) if (v < m) m = v;
  return m;
}

/** Decade ticks and a domain snapped to decades, for log axes (recharts' own log ticks crowd). */
export function logAxis(values: number[]): { domain: [number, number]; ticks: number[] } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  if (!pos.length) return { domain: [1, 10], ticks: [1, 10] };
  let lo = Math.floor(Math.log10(minOf(pos)));
  let hi = Math.ceil(Math.log10(maxOf(pos)));
  if (hi === lo) hi = lo + 1;
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  lo = hi - Math.ceil((hi - lo) / step) * step;
  const ticks: number[] = [];
  for (let d = lo; d <= hi; d += step) ticks.push(10 ** d);
  return { domain: [10 ** lo, 10 ** hi], ticks };
}

/**
 * Even linear ticks from 0: a step of 1, 2, 2.5 or 5 × 10^n so that about `count` steps cover
 * `max`; the domain ends on the last tick (recharts' own ticks can end on an odd value: 0.65).
 */
export function niceTicks(max: number, count = 5): { domain: [number, number]; ticks: number[] } {
  if (!(max > 0) || !Number.isFinite(max)) return { domain: [0, 1], ticks: [0, 0.5, 1] };
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * pow).find((s) => s >= raw) ?? 10 * pow;
  const n = Math.ceil(max / step - 1e-9);
  const ticks = Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  return { domain: [0, ticks[n]], ticks };
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** The byte unit for an axis whose largest value is `maxBytes` (so ticks read 50 GiB, not 51200 MiB). */
export function byteUnit(maxBytes: number): { unit: (typeof BYTE_UNITS)[number]; div: number } {
  let i = 0;
  while (i < BYTE_UNITS.length - 1 && maxBytes >= 1024 ** (i + 1)) i++;
  return { unit: BYTE_UNITS[i], div: 1024 ** i };
}

/**
 * Room under a bar chart's x labels rotated by `angleDeg`: the longest label's vertical extent at
 * ~6.5 px a character (11 px font), bounded; so no band of empty space and no clipped label.
 */
export function rotatedLabelHeight(labels: string[], angleDeg = 35, maxPx = 140): number {
  const longest = labels.reduce((m, l) => Math.max(m, l.length), 0);
  const px = longest * 6.5 * Math.sin((angleDeg * Math.PI) / 180) + 16;
  return Math.round(Math.min(maxPx, Math.max(24, px)));
}

/** Left margin so the first rotated label (which extends left of its bar) is not cut off. */
export function rotatedLabelLeft(first: string | undefined, angleDeg = 35, maxPx = 120): number {
  if (!first) return 8;
  const px = first.length * 6.5 * Math.cos((angleDeg * Math.PI) / 180) - 40;
  return Math.round(Math.min(maxPx, Math.max(8, px)));
}

/** The recharts styling every chart of the app shares: the tooltip box and the axes, in theme colours. */
export const tooltipStyle = {
  background: 'var(--panel)',
  border: '1px solid var(--border)',
  color: 'var(--fg)',
  fontSize: 12,
};
export const axis = { fontSize: 11, stroke: 'var(--muted)' };
