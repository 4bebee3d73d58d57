/**
 * The score PRODUCT_SEARCH reports, in [0, 1] as Google's field is, on a scale where 0.5 is
 * the recommended threshold: a result at or above 0.5 is a match, below it most likely a
 * look-alike of something not in the catalog. The raw similarity (the best region pair's
 * cosine less its penalties) is mapped piecewise linearly: [0, MATCH_SIMILARITY] onto
 * [0, 0.5] and [MATCH_SIMILARITY, 1] onto [0.5, 1], so ranking is unchanged and 1 still
 * means the same image. MATCH_SIMILARITY is the similarity that best separates correct
 * top results from the top results of photos of nothing in the catalog on the end-to-end
 * eval (Youden's J; docs/search.md gives the measured rates on either side).
 */
export const MATCH_SIMILARITY = 0.85;

/** The recommended threshold on the reported score. */
export const MATCH_SCORE = 0.5;

export function reportedScore(similarity: number): number {
  const s = Math.max(0, Math.min(1, similarity));
  const score = s <= MATCH_SIMILARITY ? (MATCH_SCORE * s) / MATCH_SIMILARITY : MATCH_SCORE + ((1 - MATCH_SCORE) * (s - MATCH_SIMILARITY)) / (1 - MATCH_SIMILARITY);
  return Math.round(score * 1e6) / 1e6;
}
