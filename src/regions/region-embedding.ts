/**
 * One region of a decoded image -> its unit-length embedding. The index (catalog/ingestor.ts)
 * and images:encode (encode/encode-service.ts) both go through here with the region in whole
 * pixels of the oriented original, so the same pixels and box give the same embedding,
 * and so the same code.
 */
import type { DecodedImage } from '../images/image-decoder';
import type { RegionRecord } from '../store/catalog-store';
import type { Embedder } from '../vision/embedder';
import type { Box } from '../vision/box';
import { smallView } from './region-proposals';

export function normalizedBox(box: RegionRecord['box'], img: DecodedImage): Box {
  const w = img.originalWidth;
  const h = img.originalHeight;
  return { x0: box.x0 / w, y0: box.y0 / h, x1: box.x1 / w, y1: box.y1 / h };
}

export function embedRegion(embedder: Embedder, img: DecodedImage, box: RegionRecord['box']): Promise<Float32Array> {
  return embedder.embed(img, normalizedBox(box, img));
}

/** The embedding of the image as a thumbnail (smallView), the view low-resolution queries
 *  are compared with. */
export async function embedThumbnail(embedder: Embedder, img: DecodedImage): Promise<Float32Array> {
  return embedder.embed(await smallView(img));
}
