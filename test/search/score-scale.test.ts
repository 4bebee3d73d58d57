import {
  MATCH_SCORE,
  MATCH_SIMILARITY,
  QUERY_NORM_RANK,
  QUERY_NORM_WEIGHT,
  queryShift,
  reportedScore,
  TYPICAL_NORM_SIMILARITY,
} from '../../src/search/score-scale';

test('the reported score is in [0, 1], keeps the order of similarities, and puts the fitted threshold at 0.5', () => {
  expect(MATCH_SCORE).toBe(0.5);
  expect(reportedScore(MATCH_SIMILARITY)).toBe(0.5);
  expect(reportedScore(1)).toBe(1);
  expect(reportedScore(1.3)).toBe(1);
  expect(reportedScore(0)).toBe(0);
  expect(reportedScore(-0.4)).toBe(0);
  let prev = -1;
  for (let s = -0.2; s <= 1.2; s += 0.01) {
    const r = reportedScore(s);
    expect(r).toBeGreaterThanOrEqual(prev);
    prev = r;
  }
  expect(reportedScore(MATCH_SIMILARITY - 0.01)).toBeLessThan(0.5);
  expect(reportedScore(MATCH_SIMILARITY + 0.01)).toBeGreaterThan(0.5);
});

test('a search is shifted by how far its 5th best similarity is from the typical one; fewer than 5 products: not at all', () => {
  const fifth = (v: number) => [0.95, 0.9, 0.85, 0.8, v, 0.3, 0.2];
  expect(queryShift(fifth(TYPICAL_NORM_SIMILARITY))).toBeCloseTo(0, 12);
  // A generic photo (its 10th best close to its best) is lowered, a distinctive one raised.
  expect(queryShift(fifth(0.69))).toBeCloseTo(-QUERY_NORM_WEIGHT * (0.69 - TYPICAL_NORM_SIMILARITY), 12);
  expect(queryShift(fifth(0.4))).toBeCloseTo(QUERY_NORM_WEIGHT * (TYPICAL_NORM_SIMILARITY - 0.4), 12);
  expect(QUERY_NORM_RANK).toBe(5);
  expect(queryShift(fifth(0.4).slice(0, QUERY_NORM_RANK - 1))).toBe(0);
  expect(queryShift([])).toBe(0);
});
