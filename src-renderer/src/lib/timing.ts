/** What a timing summary says and how far to trust it (pure, unit-tested). */
import type { BackendKind, TensorResult, TimingSummary } from '../../../src-shared/contract';
import { fmtPct } from './format';

/** Spread ((p90 - p10) / median) above which a median is flagged as noisy. */
export const SPREAD_WARN = 0.05;

/** The protocol as measured: the cpu has one (the same weights every repeat), GPUs hot or cold. */
export function protocolLabel(t: TimingSummary, backend: BackendKind): string {
  if (backend === 'cpu') return 'cpu: same weights each repeat';
  if (t.protocol === 'cold')
    return `cold: ${t.weightCopies} weight cop${t.weightCopies === 1 ? 'y' : 'ies'} rotated`;
  return 'hot: one weight buffer';
}

/**
 * The timing choices of the run setup that measure time, as its buttons name them: the cpu has one
 * ("Timed"), GPUs two ("Hot or Cold"). For hints that say what to pick.
 */
export function timedChoices(backend: BackendKind | undefined): string {
  return backend === 'cpu' ? 'Timed' : 'Hot or Cold';
}

/** A one-line warning when the spread makes the median doubtful, else null. */
export function spreadWarning(t: TimingSummary): string | null {
  if (!(t.spread > SPREAD_WARN)) return null;
  return `spread ${fmtPct(t.spread * 100)} > ${fmtPct(SPREAD_WARN * 100)} over ${t.samples} samples: more repeats or a quieter machine`;
}

/** "12.3 µs median · spread 2.1 % · 20 samples" pieces for a tooltip. */
export function timingTitle(t: TimingSummary): string {
  return `median of ${t.samples} sample${t.samples === 1 ? '' : 's'}, spread ${fmtPct(t.spread * 100)} (p90 − p10) / median`;
}

/**
 * Bandwidth as a share: of the datasheet peak where the device has one (GPUs), else of the copy
 * bandwidth the engine measured on the device. Null when neither is known.
 */
export function bandwidthShare(t: TimingSummary | null): { pct: number; of: 'peak' | 'copy' } | null {
  if (!t) return null;
  if (t.pctPeak != null && Number.isFinite(t.pctPeak)) return { pct: t.pctPeak, of: 'peak' };
  if (t.pctCopy != null && Number.isFinite(t.pctCopy)) return { pct: t.pctCopy, of: 'copy' };
  return null;
}

/** The bandwidth column's header for the results shown: "% of peak", "% of copy" or both. */
export function shareHeader(results: TensorResult[]): string {
  let peak = false;
  let copy = false;
  for (const r of results) {
    const s = bandwidthShare(r.timing);
    if (s?.of === 'peak') peak = true;
    else if (s?.of === 'copy') copy = true;
  }
  return peak && copy ? '% of peak/copy' : copy ? '% of copy' : '% of peak';
}
