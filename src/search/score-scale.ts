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
export const MATCH_SIMILARITY = 0.705;

/** The recommended threshold on the reported score. */
export const MATCH_SCORE = 0.5;

/**
 * How generic the query is, taken out of its scores: a photo that resembles many products
 * (a plain texture, a street) has a high similarity to its 5th best product too, while a
 * photo of a catalog product stands out from its 5th. Every result of one search has its
 * similarity lowered by QUERY_NORM_WEIGHT times the amount by which the query's 5th best
 * similarity exceeds the typical one (raised when it falls short). Ranking within a search
 * is unchanged; across searches it separates photos of nothing in the catalog from correct
 * answers better (docs/search.md, "Scores"). The 5th rather than the 3rd: the two tie on
 * the eval's dev split, and a catalog with a product in several variants (colours, sizes)
 * has two or three true matches at the top of a correct search. A search with fewer than
 * QUERY_NORM_RANK products found is not adjusted.
 */
export const QUERY_NORM_RANK = 5;
export const QUERY_NORM_WEIGHT = 0.75;
/** The median 5th-best similarity over the end-to-end eval's queries. */
export const TYPICAL_NORM_SIMILARITY = 0.55;

/** The shift applied to every similarity of a search whose results, best first, are `sorted`. */
export function queryShift(sorted: readonly number[]): number {
  if (sorted.length < QUERY_NORM_RANK) return 0;
  return -QUERY_NORM_WEIGHT * (sorted[QUERY_NORM_RANK - 1] - TYPICAL_NORM_SIMILARITY);
}

export function reportedScore(similarity: number): number {
  const s = Math.max(0, Math.min(1, similarity));
  const score =
    s <= MATCH_SIMILARITY
      ? (MATCH_SCORE * s) / MATCH_SIMILARITY
      : MATCH_SCORE + ((1 - MATCH_SCORE) * (s - MATCH_SIMILARITY)) / (1 - MATCH_SIMILARITY);
  return Math.round(score * 1e6) / 1e6;
}
