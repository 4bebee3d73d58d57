/**
 * The in-memory index of one product set: every region of every reference image of its
 * products, each with its binary code and its embedding, and each product's labels.
 * Search: the codes find the closest candidates by Hamming distance (an exact popcount
 * scan, or Multi-Index Hashing for large sets), the label filter is applied inside that
 * scan so a filtered product never takes a candidate's place, and the candidates are
 * re-ranked by the cosine of their stored embeddings, which is also the reported score.
 */
import type { KeyValue, ProductRecord } from '../store/catalog-store';
import { LinearScanIndex, MultiIndexHashing, type CodeBits, type HammingIndex } from './hamming';
import type { Hasher } from './hasher';
import { dot } from '../vision/embedder';

export interface IndexedRegion {
  productId: string;
  imageId: string;
  /** Unit-length embedding. */
  embedding: Float32Array;
  /** Its binary code, as the set's hasher makes it. */
  code: Uint8Array;
}

export interface RegionHit {
  region: IndexedRegion;
  /** Cosine similarity of the unit-length embeddings. */
  similarity: number;
}

/** From this many regions on, Multi-Index Hashing beats the scan on real (clustered) codes. */
export const MIH_MIN_REGIONS = 200_000;
/** Candidates re-ranked per wanted product: enough that re-ranking can reorder them. */
const CANDIDATES_PER_RESULT = 20;
const MIN_CANDIDATES = 200;

export class ProductSetIndex {
  private readonly regions: IndexedRegion[] = [];
  private readonly products = new Map<string, ProductRecord>();
  private hamming?: HammingIndex;

  constructor(private readonly hasher: Hasher) {}

  addProduct(product: ProductRecord, regions: readonly IndexedRegion[]): void {
    if (this.hamming) throw new Error('ProductSetIndex is sealed');
    this.products.set(product.id, product);
    this.regions.push(...regions);
  }

  /** Builds the Hamming index over every region added; the set is then read-only. */
  seal(): this {
    const bits = this.hasher.bits as CodeBits;
    this.hamming = this.regions.length >= MIH_MIN_REGIONS ? new MultiIndexHashing(bits) : new LinearScanIndex(bits);
    const bytes = bits / 8;
    const codes = new Uint8Array(this.regions.length * bytes);
    this.regions.forEach((r, i) => codes.set(r.code, i * bytes));
    this.hamming.add(Uint32Array.from(this.regions.keys()), codes);
    return this;
  }

  get size(): number {
    return this.regions.length;
  }

  get memoryBytes(): number {
    return (this.hamming?.memoryBytes ?? 0) + this.regions.reduce((s, r) => s + r.embedding.byteLength, 0);
  }

  product(id: string): ProductRecord | undefined {
    return this.products.get(id);
  }

  /** The best region of each of the `k` best products, best first (ties: product id). */
  searchProducts(query: Float32Array, k: number, accept: (labels: readonly KeyValue[], category: string) => boolean): RegionHit[] {
    if (!this.hamming) throw new Error('ProductSetIndex is not sealed');
    const allowed = new Map<string, boolean>();
    const ok = (productId: string) => {
      let v = allowed.get(productId);
      if (v === undefined) {
        const p = this.products.get(productId);
        v = !!p && accept(p.labels, p.productCategory);
        allowed.set(productId, v);
      }
      return v;
    };
    const candidates = this.hamming.search(this.hasher.encode(query), Math.max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT), {
      filter: (id) => ok(this.regions[id].productId),
    });
    const best = new Map<string, RegionHit>();
    for (const c of candidates) {
      const region = this.regions[c.id];
      const similarity = dot(query, region.embedding);
      const prev = best.get(region.productId);
      if (!prev || similarity > prev.similarity) best.set(region.productId, { region, similarity });
    }
    return [...best.values()]
      .sort((a, b) => b.similarity - a.similarity || (a.region.productId < b.region.productId ? -1 : 1))
      .slice(0, k);
  }
}
