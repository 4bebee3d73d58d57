/**
 * Google's size rule for a reference image's bounding polygon in pixels (short side at
 * least 300 px, aspect at most 1:4). In the kernel because both the catalog service (pixel
 * polygons, at once) and region selection (normalized polygons, once the image size is
 * known) apply it.
 */
import { invalidArgument } from './errors';

export const MIN_POLY_SHORT_SIDE_PX = 300;
export const MAX_POLY_ASPECT = 4;

/** The axis-aligned box of a polygon, checked against Google's size and aspect rules. */
export function checkRectangle(vertices: { x?: number; y?: number }[], scale: number, field: string, scaleY = scale): void {
  const xs = vertices.map((v) => (v.x ?? 0) * scale);
  const ys = vertices.map((v) => (v.y ?? 0) * scaleY);
  const w = Math.max(...xs) - Math.min(...xs);
  const h = Math.max(...ys) - Math.min(...ys);
  const short = Math.min(w, h);
  if (short < MIN_POLY_SHORT_SIDE_PX) {
    throw invalidArgument(
      `${field}: the bounding rectangle's short side is ${Math.round(short)} px; it must be at least ${MIN_POLY_SHORT_SIDE_PX} px.`,
    );
  }
  if (Math.max(w, h) > MAX_POLY_ASPECT * short) {
    throw invalidArgument(`${field}: the bounding rectangle's aspect ratio is worse than 1:${MAX_POLY_ASPECT}.`);
  }
}
