/**
 * Brute-force ranking and retrieval metrics for the hashing eval. Deliberately naive (a
 * full sort per query): this is the oracle the fast Hamming index is compared against.
 */
import { hammingDistance } from '../../src/search/hasher/hasher';

export interface Scores {
  recallAt1: number;
  recallAt5: number;
  map: number;
}

/** Database indices by descending cosine (embeddings are unit length, so a dot product). */
export function rankByCosine(q: Float32Array, db: readonly Float32Array[]): number[] {
  const s = db.map((d) => {
    let t = 0;
    for (let i = 0; i < q.length; i++) t += q[i] * d[i];
    return t;
  });
  return db.map((_, i) => i).sort((a, b) => s[b] - s[a] || a - b);
}

/**
 * Database indices by ascending Hamming distance. Ties are common with short codes; they
 * are broken by `tiebreak` (a fixed random permutation) rather than by index, because
 * index order groups each product's references together and would flatter every method.
 */
export function rankByHamming(q: Uint8Array, db: readonly Uint8Array[], tiebreak: readonly number[]): number[] {
  const d = db.map((c) => hammingDistance(q, c));
  return db.map((_, i) => i).sort((a, b) => d[a] - d[b] || tiebreak[a] - tiebreak[b]);
}

/** Re-orders the first `depth` entries of `ranking` by cosine; the tail keeps its order. */
export function rerank(ranking: number[], depth: number, q: Float32Array, db: readonly Float32Array[]): number[] {
  const head = ranking.slice(0, depth);
  const order = rankByCosine(
    q,
    head.map((i) => db[i]),
  ).map((j) => head[j]);
  return [...order, ...ranking.slice(depth)];
}

/** Mean Recall@1, Recall@5 (any relevant item in the top k) and mAP over queries. */
export function score(rankings: readonly number[][], queryLabels: readonly number[], dbLabels: readonly number[]): Scores {
  let r1 = 0;
  let r5 = 0;
  let ap = 0;
  rankings.forEach((ranking, qi) => {
    const label = queryLabels[qi];
    const total = dbLabels.filter((l) => l === label).length;
    let hits = 0;
    let sum = 0;
    ranking.forEach((di, rank) => {
      if (dbLabels[di] !== label) return;
      hits++;
      sum += hits / (rank + 1);
      if (rank < 1) r1++;
    });
    if (ranking.slice(0, 5).some((di) => dbLabels[di] === label)) r5++;
    ap += total > 0 ? sum / total : 0;
  });
  const n = rankings.length;
  // r1 counts relevant items at rank 0, of which there is at most one per query.
  return { recallAt1: r1 / n, recallAt5: r5 / n, map: ap / n };
}
