/**
 * metapixel.v1.MatchExplainer (protos/metapixel/v1/explain.proto): which indexed region of
 * a reference image a query region resembles, and how much. The query region is embedded
 * as PRODUCT_SEARCH embeds a region given by boundingPoly, and compared with each of the
 * image's stored regions in the compact form the index holds, so the similarities are the
 * ones the index computes before its discounts and contrast.
 */
import type { CallContext } from '../core/context';
import { failedPrecondition, invalidArgument, notFound } from '../core/errors';
import { boxPolygon, pixelBoxPolygon, type BoundingPolyMsg } from '../core/messages';
import { names } from '../core/names';
import type { ImageDecoder } from '../images/image-decoder';
import type { ImageFetcher, ImageRef } from '../images/image-fetcher';
import type { CompactEmbeddingCodec } from '../search/compact-embedding';
import type { CatalogStore } from '../store/catalog-store';
import { toFloat32 } from '../core/vectors';
import type { Embedder } from '../vision/embedder';
import { hasVertices, polyToBox } from './product-search';

export interface ExplainMatchRequestMsg {
  referenceImage?: string;
  image?: ImageRef | null;
  boundingPoly?: BoundingPolyMsg | null;
}

interface RegionMatchMsg {
  boundingPoly: BoundingPolyMsg;
  index: number;
  source: string;
  similarity: number;
}

export class MatchExplainer {
  constructor(
    private readonly store: CatalogStore,
    private readonly fetcher: ImageFetcher,
    private readonly decoder: ImageDecoder,
    private readonly embedder: Embedder,
    private readonly codec: CompactEmbeddingCodec,
  ) {}

  async explainMatch(req: ExplainMatchRequestMsg, ctx: CallContext): Promise<{ regions: RegionMatchMsg[]; queryRegion: BoundingPolyMsg }> {
    const name = names.parseReferenceImage(req.referenceImage, 'reference_image');
    ctx.principal.assertProject(name.project);
    if (!req.image) throw invalidArgument('Missing required field: image.');
    const ref = await this.store.getReferenceImage(name);
    if (!ref) throw notFound(`ReferenceImage ${req.referenceImage} not found.`);
    if (ref.state !== 'READY') throw failedPrecondition(`ReferenceImage ${req.referenceImage} is not indexed (state ${ref.state}).`);
    const img = await this.decoder.decode(await this.fetcher.fetch(req.image, ctx.signal));
    const box = req.boundingPoly && hasVertices(req.boundingPoly) ? polyToBox(req.boundingPoly, img, 'bounding_poly') : undefined;
    const query = this.codec.prepare(await this.embedder.embed(img, box));
    // The regions as ReferenceImage.bounding_polys lists them: thumbnails (a view of the
    // whole image, for low-resolution queries) are not listed.
    const listed = ref.regions.filter((r) => r.source !== 'thumbnail');
    const columns = this.codec.columns(listed.length);
    const regions: RegionMatchMsg[] = [];
    listed.forEach((r, index) => {
      // As the index reads a region (catalog-index.ts, regionsOf): its compact vector, or its
      // embedding when that vector is another projection's; with neither, it is not indexed.
      const v = (r.compact && this.codec.deserialize(r.compact)) || (r.embedding && this.codec.encode(toFloat32(r.embedding)));
      if (!v) return;
      columns.set(index, v);
      regions.push({
        boundingPoly: pixelBoxPolygon(r.box),
        index,
        source: r.source,
        similarity: this.codec.similarity(query, columns, index),
      });
    });
    regions.sort((a, b) => b.similarity - a.similarity || a.index - b.index);
    return { regions, queryRegion: boxPolygon(box ?? { x0: 0, y0: 0, x1: 1, y1: 1 }) };
  }
}
