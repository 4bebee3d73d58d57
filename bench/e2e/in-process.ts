/**
 * The regions the server makes of an image, computed in this process for the tuning tools
 * (tune-regions.ts, tune-contrast.ts): a reference image's indexed regions in general-v1
 * (selectRegions, then the thumbnail the ingestor adds) and a query's search regions (the
 * whole image, its quarter turns, its inset picture, the pooled windows, the objects that fit
 * the category).
 */
import {
  categoryRegions,
  IntegralMap,
  pooledWindowBoxes,
  smallView,
  WINDOW_MAP_SIDE,
  type RegionKind,
} from '../../src/regions/region-proposals';
import { insetBox } from '../../src/regions/inset-boxes';
import { normalizedBox } from '../../src/regions/region-embedding';
import { selectRegions } from '../../src/regions/regions';
import type { DecodedImage } from '../../src/images/image-decoder';
import type { RegionRecord } from '../../src/store/catalog-store';
import { rotateQuarter } from '../../src/vision/preprocess';
import type { loadVisionModels } from '../../src/vision/vision-models';

type Models = Awaited<ReturnType<typeof loadVisionModels>>;

export async function referenceRegions(v: Models, img: DecodedImage): Promise<{ source: RegionRecord['source']; e: Float32Array }[]> {
  const size = { width: img.originalWidth, height: img.originalHeight };
  const out: { source: RegionRecord['source']; e: Float32Array }[] = [];
  for (const reg of selectRegions([], await v.objectDetector.detect(img), 'general-v1', size))
    out.push({ source: reg.source, e: await v.embedder.embed(img, normalizedBox(reg.box, img)) });
  out.push({ source: 'thumbnail', e: await v.embedder.embed(await smallView(img)) });
  return out;
}

export async function queryRegions(v: Models, img: DecodedImage): Promise<{ kind: RegionKind; e: Float32Array }[]> {
  const out: { kind: RegionKind; e: Float32Array }[] = [{ kind: 'whole', e: await v.embedder.embed(img) }];
  for (const t of [true, false]) out.push({ kind: 'rotated', e: await v.embedder.embed(rotateQuarter(img, t)) });
  const inset = insetBox(img);
  if (inset) out.push({ kind: 'inset', e: await v.embedder.embed(img, inset.box) });
  const map = await v.embedder.featureMap(img, WINDOW_MAP_SIDE);
  const integral = new IntegralMap(map);
  for (const b of pooledWindowBoxes(map.h)) out.push({ kind: 'window', e: integral.pool(b) });
  for (const o of categoryRegions(await v.objectDetector.detect(img), 'general-v1'))
    out.push({ kind: o.kind, e: await v.embedder.embed(img, o.box) });
  return out;
}
