/**
 * How a comparison of two records is shown, the same in every face that shows one: the CLI's
 * `compare` and `verify --baseline`, the comparison report and the app's comparison view. The
 * comparison itself is made by the engine (src-main/engine/records/compare.ts).
 */
import type { CompareRow, ComparisonVerdict } from './contract/types';

/** The headline of a comparison: none ("no verdict") for records that are not of the same work. */
export const COMPARISON_HEADLINE: Record<ComparisonVerdict, string> = {
  regressed: 'REGRESSED',
  'no-regression': 'no regression',
  'not-same-work': 'not the same work: no verdict',
};

/**
 * Whether any row was judged by another threshold in the candidate than in the baseline: the faces
 * then show both thresholds, which explain a new failure (or a fix) whose NMSE did not change.
 */
export function thresholdsChanged(rows: readonly CompareRow[]): boolean {
  return rows.some(
    (r) =>
      r.baseline?.threshold != null &&
      r.candidate?.threshold != null &&
      r.baseline.threshold !== r.candidate.threshold,
  );
}
