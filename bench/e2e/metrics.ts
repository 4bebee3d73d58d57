/**
 * Retrieval metrics of the end-to-end eval. One relevant product per in-catalog query, so
 * average precision is 1/rank of that product (0 when it is not returned) and mAP is its
 * mean. AUROC compares the top-1 scores of correctly answered in-catalog queries with the
 * top-1 scores of distractor queries: how well one threshold on the score tells a right
 * match from a photo of nothing in the catalog (ties count half).
 */
export interface QueryOutcome {
  kind: string;
  /** Rank (1-based) of the right product in the results, 0 when absent or for distractors. */
  rank: number;
  /** Score of the first result, 0 when there is none. */
  topScore: number;
  distractor: boolean;
  ms: number;
}

export interface KindFigures {
  n: number;
  r1: number;
  r5: number;
  map: number;
}

export function figures(outcomes: readonly QueryOutcome[]): KindFigures {
  const n = outcomes.length;
  const at = (k: number) => outcomes.filter((o) => o.rank >= 1 && o.rank <= k).length / Math.max(1, n);
  const map = outcomes.reduce((s, o) => s + (o.rank > 0 ? 1 / o.rank : 0), 0) / Math.max(1, n);
  return { n, r1: round(at(1)), r5: round(at(5)), map: round(map) };
}

export function auroc(positives: readonly number[], negatives: readonly number[]): number {
  if (positives.length === 0 || negatives.length === 0) return NaN;
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return round(wins / (positives.length * negatives.length));
}

/**
 * The score threshold that best separates the two groups (most of both on the right side,
 * Youden's J), with the share of each group it lets through.
 */
export function bestThreshold(positives: readonly number[], negatives: readonly number[]): { threshold: number; tpr: number; fpr: number } {
  const candidates = [...new Set([...positives, ...negatives])].sort((a, b) => a - b);
  let best = { threshold: 0, tpr: 1, fpr: 1, j: -1 };
  for (const t of candidates) {
    const tpr = positives.filter((p) => p >= t).length / positives.length;
    const fpr = negatives.filter((n) => n >= t).length / negatives.length;
    if (tpr - fpr > best.j) best = { threshold: t, tpr, fpr, j: tpr - fpr };
  }
  return { threshold: round(best.threshold), tpr: round(best.tpr), fpr: round(best.fpr) };
}

export function percentile(values: readonly number[], p: number, digits = 1): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))], digits);
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
