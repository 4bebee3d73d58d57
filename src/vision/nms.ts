/**
 * Greedy non-maximum suppression. Input order does not matter: candidates are visited by
 * descending score (ties keep the input order, so results are deterministic), and one is
 * dropped when it overlaps an already kept candidate of the same key with IoU > threshold
 * (strictly greater, as MediaPipe's NonMaxSuppressionCalculator does).
 */
import { Box, iou } from './box';

export interface Scored {
  score: number;
  box: Box;
}

/** `key` groups candidates that may suppress each other: a class for class-aware NMS,
 *  a constant for class-agnostic NMS. */
export function nms<T extends Scored>(cands: readonly T[], iouThreshold: number, maxKept: number, key: (d: T) => string | number): T[] {
  const order = cands.map((d, i) => ({ d, i })).sort((p, q) => q.d.score - p.d.score || p.i - q.i);
  const keptByKey = new Map<string | number, T[]>();
  const kept: T[] = [];
  for (const { d } of order) {
    if (kept.length >= maxKept) break;
    const k = key(d);
    const same = keptByKey.get(k) ?? [];
    if (same.some((s) => iou(s.box, d.box) > iouThreshold)) continue;
    same.push(d);
    keptByKey.set(k, same);
    kept.push(d);
  }
  return kept;
}

export const classAgnostic = (): number => 0;
