import { MATCH_SCORE, MATCH_SIMILARITY, reportedScore } from '../../src/search/score-scale';

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
