/**
 * The in-memory index of one product set: every region of every reference image of its
 * products, with the region's embedding, and each product's labels for filtering. Exact
 * cosine search over the embeddings; the filter is applied inside the scan, so a filtered
 * product never takes a place among the k best.
 */
import type { KeyValue, ProductRecord } from '../store/catalog-store';

export interface IndexedRegion {
  productId: string;
  imageId: string;
  /** Unit-length embedding. */
  embedding: Float32Array;
}

export interface RegionHit {
  region: IndexedRegion;
  /** Cosine similarity of the unit-length embeddings. */
  similarity: number;
}

export class ProductSetIndex {
  private readonly regions: IndexedRegion[] = [];
  private readonly products = new Map<string, ProductRecord>();

  addProduct(product: ProductRecord, regions: readonly IndexedRegion[]): void {
    this.products.set(product.id, product);
    this.regions.push(...regions);
  }

  get size(): number {
    return this.regions.length;
  }

  product(id: string): ProductRecord | undefined {
    return this.products.get(id);
  }

  /** The best region of each of the `k` best products, best first (ties: product id). */
  searchProducts(query: Float32Array, k: number, accept: (labels: readonly KeyValue[], category: string) => boolean): RegionHit[] {
    const best = new Map<string, RegionHit>();
    const allowed = new Map<string, boolean>();
    for (const region of this.regions) {
      let ok = allowed.get(region.productId);
      if (ok === undefined) {
        const p = this.products.get(region.productId);
        ok = !!p && accept(p.labels, p.productCategory);
        allowed.set(region.productId, ok);
      }
      if (!ok) continue;
      const similarity = dot(query, region.embedding);
      const prev = best.get(region.productId);
      if (!prev || similarity > prev.similarity) best.set(region.productId, { region, similarity });
    }
    return [...best.values()]
      .sort((a, b) => b.similarity - a.similarity || (a.region.productId < b.region.productId ? -1 : 1))
      .slice(0, k);
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
