/** Axis-aligned box in normalized image coordinates: x right, y down, 0..1 over the
 *  whole (un-stretched) image. Decoders may return values slightly outside [0,1]. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A decoded detection of one model, in that model's own class indices. */
export interface RawDetection {
  classIndex: number;
  score: number;
  box: Box;
}

export function area(b: Box): number {
  return Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);
}

/** Intersection over union; 0 when the union is empty. */
export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const iy = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const inter = ix * iy;
  const uni = area(a) + area(b) - inter;
  return uni > 0 ? inter / uni : 0;
}

export function clampBox(b: Box): Box {
  const c = (v: number): number => Math.min(1, Math.max(0, v));
  return { x0: c(b.x0), y0: c(b.y0), x1: c(b.x1), y1: c(b.y1) };
}
