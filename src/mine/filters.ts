/**
 * False-negative filters relative to the positive's score, and absolute score bounds. A candidate too close to
 * (or above) the positive is probably an unlabelled positive (NV-Retriever, Moreira et al. 2024: "TopK-PercPos"
 * at 95% of the positive score trained best). With several positives the reference is the LOWEST positive score.
 *
 * Negative scores are handled by measuring the ratio's slack on |positive|: the threshold for --max-score-ratio R
 * is ref − (1 − R)·|ref|, which is R·ref for ref ≥ 0 and stays BELOW ref when ref < 0 (the naive R·ref would
 * rise above a negative positive score and let false negatives through).
 */

export interface ScoreFilterOptions {
  /** Drop candidates scoring above ratio × the positive's score (see header for negatives). 0 < ratio. */
  maxScoreRatio?: number;
  /** Drop candidates scoring above (positive − margin). */
  margin?: number;
  /** Drop candidates scoring below this. */
  minScore?: number;
  /** Drop candidates scoring above this. */
  maxScore?: number;
}

export type FilterName = 'max_score_ratio' | 'margin' | 'min_score' | 'max_score';

/** The score above which --max-score-ratio rejects, for a reference (lowest positive) score. */
export function ratioThreshold(referenceScore: number, ratio: number): number {
  return referenceScore - (1 - ratio) * Math.abs(referenceScore);
}

/**
 * The first filter that rejects `score`, or undefined when it passes all. `referenceScore` is undefined when the
 * record has no positive: the relative filters then do not apply.
 */
export function rejectingFilter(score: number, referenceScore: number | undefined, options: ScoreFilterOptions): FilterName | undefined {
  if (options.minScore !== undefined && score < options.minScore) return 'min_score';
  if (options.maxScore !== undefined && score > options.maxScore) return 'max_score';
  if (referenceScore !== undefined) {
    if (options.maxScoreRatio !== undefined && score > ratioThreshold(referenceScore, options.maxScoreRatio)) return 'max_score_ratio';
    if (options.margin !== undefined && score > referenceScore - options.margin) return 'margin';
  }
  return undefined;
}

export function needsPositiveScores(options: ScoreFilterOptions): boolean {
  return options.maxScoreRatio !== undefined || options.margin !== undefined;
}
