/**
 * The roofline's roofs (pure, unit-tested): the memory roof (bandwidth x intensity) capped by the
 * compute roof of the arithmetic the results' kernel paths do: float32 FMA, bfloat16/half-precision
 * matrix units, or int8 matrix units. One roof per kind of arithmetic among the timed results; a
 * kind whose peak the device does not know gets the memory roof alone.
 */
import type { ComputeRoofs, DeviceSummary, TensorResult } from '../../../src-shared/contract';
import { roofline } from './charts';

export type RoofKind = 'f32' | 'bf16' | 'f16' | 'int8';

const KIND_LABEL: Record<RoofKind, string> = {
  f32: 'float32 FMA',
  bf16: 'bfloat16 matrix',
  f16: 'half matrix',
  int8: 'int8 matrix',
};

/**
 * The compute units a result's arithmetic runs on, by its declared scheme (then its path); null for
 * 8-bit activations on vector units (dp4a, no tabulated peak) and for anything unknown.
 */
export function roofKindOf(r: Pick<TensorResult, 'arithmetic' | 'path'>): RoofKind | null {
  switch (r.arithmetic) {
    case 'f32':
      return 'f32';
    case 'bf16':
      return 'bf16';
    case 'f16':
      return 'f16';
    case 'qs8-mma':
      return 'int8';
    case 'q8_1':
    case 'qs8':
      return null;
  }
  switch (r.path) {
    case 'cpu-f32':
    case 'fused-small-f32':
    case 'fused-tiled-f32':
    case 'unfused-f32':
      return 'f32';
    case 'fused-mma-f16':
      return 'bf16';
    case 'fused-mma-i8':
      return 'int8';
    default:
      return null;
  }
}

/** The device's peak for a kind (TFLOP/s or TOP/s), or null. */
export function peakFor(device: DeviceSummary | null, kind: RoofKind): number | null {
  const roofs: ComputeRoofs | null | undefined = device?.computeRoofs;
  const v = roofs?.[kind] ?? null;
  if (v !== null && v > 0) return v;
  // the 16-bit matrix estimate from the clock, where the table has no row for the device
  if ((kind === 'bf16' || kind === 'f16') && device?.peakTflops) return device.peakTflops;
  return null;
}

export interface RoofLine {
  /** 'memory' when no compute roof is known for the results' arithmetic */
  kind: RoofKind | 'memory';
  /** the flat part, or null for the memory roof alone */
  peak: number | null;
  /** the legend's text, e.g. "float32 FMA roof 67 TFLOP/s" */
  label: string;
  data: { ai: number; roof: number }[];
}

function fmtPeak(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

/**
 * The roofs to draw over results whose intensities span [aiMin, aiMax]: one per kind of arithmetic
 * among the timed results with a known peak, else the memory roof alone; none without a bandwidth.
 */
export function roofLines(
  results: Pick<TensorResult, 'arithmetic' | 'path' | 'timing'>[],
  device: DeviceSummary | null,
  bandwidthGBs: number | null,
  aiMin: number,
  aiMax: number,
): RoofLine[] {
  if (!bandwidthGBs) return [];
  const kinds = new Set<RoofKind>();
  for (const r of results) {
    if (!r.timing) continue;
    const k = roofKindOf(r);
    if (k) kinds.add(k);
  }
  const out: RoofLine[] = [];
  for (const kind of (['f32', 'bf16', 'f16', 'int8'] as const).filter((k) => kinds.has(k))) {
    const peak = peakFor(device, kind);
    if (peak === null) continue;
    const data = roofline(bandwidthGBs, peak, aiMin, aiMax);
    if (data.length)
      out.push({
        kind,
        peak,
        label: `${KIND_LABEL[kind]} roof ${fmtPeak(peak)} ${kind === 'int8' ? 'TOP/s' : 'TFLOP/s'}`,
        data,
      });
  }
  if (out.length === 0) {
    const data = roofline(bandwidthGBs, null, aiMin, aiMax);
    if (data.length) out.push({ kind: 'memory', peak: null, label: 'memory roof', data });
  }
  return out;
}

/**
 * The device as the charts use it: where the device list has no copy bandwidth yet (the cpu measures
 * it at its first timing, after the list was fetched), the one the run measured, recovered from its
 * results (gbps / pctCopy; every result of a run shares it).
 */
export function withRunCopyBandwidth(
  device: DeviceSummary | null,
  results: Pick<TensorResult, 'timing'>[],
): DeviceSummary | null {
  if (!device || device.copyBandwidthGBs) return device;
  for (const r of results) {
    const t = r.timing;
    if (t && t.pctCopy != null && t.pctCopy > 0 && t.gbps > 0)
      return { ...device, copyBandwidthGBs: (t.gbps * 100) / t.pctCopy };
  }
  return device;
}
