/**
 * Reference images as pictures: drawn at once on a placeholder, then replaced by the
 * picture itself once the server has read it from gs:// (or left as they are when it
 * cannot: another bucket's owner, a deleted object, no console routes).
 */
import { gcsObjectUrl } from './api';
import { referenceFigure, type Picture } from './draw';
import type { BoundingPoly } from './types';

export function referencePicture(polys: BoundingPoly[], uri: string, tone: number, highlight?: number): HTMLElement {
  const placeholder = referenceFigure(polys, uri, tone, highlight);
  void load(uri).then(
    (picture) => placeholder.replaceWith(referenceFigure(polys, uri, tone, highlight, picture)),
    () => undefined,
  );
  return placeholder;
}

async function load(uri: string): Promise<Picture> {
  const src = await gcsObjectUrl(uri);
  const img = new Image();
  img.src = src;
  await img.decode();
  return { src, width: img.naturalWidth, height: img.naturalHeight };
}
