/** Store records to the proto message shapes clients see. */
import type { KeyValue, ProductRecord, ProductSetRecord, ReferenceImageRecord } from '../store/catalog-store';
import {
  pixelBoxPolygon,
  type BoundingPolyMsg,
  type ProductMsg,
  type ProductSetMsg,
  type ReferenceImageMsg,
  type Timestamp,
} from '../core/messages';
import { names } from '../core/names';

const EPOCH: Timestamp = { seconds: '0', nanos: 0 };

export function productSetView(r: ProductSetRecord, indexTime: Timestamp = EPOCH): ProductSetMsg {
  return { name: names.productSet({ ...r, productSet: r.id }), displayName: r.displayName, indexTime };
}

/** A product as clients see it (its times are not part of the message). */
export function productView(r: Omit<ProductRecord, 'createTime' | 'updateTime' | 'labels'> & { labels: readonly KeyValue[] }): ProductMsg {
  return {
    name: names.product({ ...r, product: r.id }),
    displayName: r.displayName,
    description: r.description,
    productCategory: r.productCategory,
    productLabels: r.labels.map((l) => ({ key: l.key, value: l.value })),
  };
}

/**
 * Polygons as the caller gave them; when none were given, the regions the server chose
 * (the whole image, then detected objects and garments), as pixel rectangles. The
 * thumbnail view is the whole image again, so it is not repeated.
 */
export function referenceImageView(r: ReferenceImageRecord): ReferenceImageMsg {
  const boundingPolys: BoundingPolyMsg[] = r.boundingPolys.length
    ? r.boundingPolys.map((p) =>
        p.normalized
          ? { normalizedVertices: p.vertices }
          : { vertices: p.vertices.map((v) => ({ x: Math.round(v.x), y: Math.round(v.y) })) },
      )
    : r.regions.filter((g) => g.source !== 'thumbnail').map(({ box }) => pixelBoxPolygon(box));
  return { name: names.referenceImage({ ...r, product: r.productId, referenceImage: r.id }), uri: r.uri, boundingPolys };
}
