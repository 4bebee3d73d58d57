/**
 * The in-memory index of one product set: every region of every reference image of its
 * products, each with its binary code and its re-rank data, and each product's labels.
 * Search: the codes find the closest candidates by Hamming distance (an exact popcount
 * scan, or Multi-Index Hashing for large sets), the label filter is applied inside that
 * scan so a filtered product never takes a candidate's place, and the candidates are
 * re-ranked by the cosine of their embeddings, which is also the reported score. With a
 * CompactEmbeddingCodec (the server's case) the embeddings are held as int8 PCA projections
 * (272 bytes a region) and the cosine is its approximation; without one, in float.
 */
import type { KeyValue, ProductRecord, RegionRecord } from '../store/catalog-store';
import { LinearScanIndex, MultiIndexHashing, chooseHammingIndex, type CodeBits, type HammingIndex } from './hamming';
import type { Hasher } from './hasher';
import { dot } from '../vision/embedder';
import type { CompactEmbeddingCodec, CompactVector, CompactVectors } from './compact-embedding';

export interface IndexedRegion {
  productId: string;
  imageId: string;
  /** Unit-length embedding. */
  embedding: Float32Array;
  /** Its binary code, as the set's hasher makes it. */
  code: Uint8Array;
  /** Where it came from (default: the whole image): sets its penalty (indexPenalty), and
   *  thumbnails are matched only against low-resolution queries. */
  source?: RegionRecord['source'];
  /** Its compact re-rank data when already made (the codec makes it otherwise). */
  compact?: CompactVector;
}

/** One region of a query: its embedding and how much a match through it is discounted. */
export interface QueryVector {
  embedding: Float32Array;
  penalty: number;
  /** Whether indexed thumbnails may match it (a low-resolution query); default true. */
  thumbnails?: boolean;
}

export interface RegionHit {
  region: RegionRef;
  /** Cosine similarity of the unit-length embeddings, less the two regions' penalties. */
  similarity: number;
  /** Which query vector made the match. */
  query: number;
}

/**
 * What a match through an indexed region costs, by where the region came from. A part of
 * one photo the server chose (a detected object, a garment) resembles the whole of another
 * more often than whole photos resemble each other, and a thumbnail resembles every blurry
 * photo a little, so equal cosines through them are weaker evidence. Fitted on the dev
 * split of the end-to-end eval (bench/e2e/tune-regions.ts, docs/search.md); the whole
 * image and the caller's own polygons cost nothing.
 */
export const PARTIAL_PENALTY = 0.15;
export const THUMBNAIL_PENALTY = 0.02;

export function indexPenalty(source: RegionRecord['source']): number {
  return source === 'detected' || source === 'garment' ? PARTIAL_PENALTY : source === 'thumbnail' ? THUMBNAIL_PENALTY : 0;
}

/** From this many regions on, Multi-Index Hashing beats the scan on real (clustered) codes. */
export const MIH_MIN_REGIONS = 200_000;
/** Candidates re-ranked per wanted product: enough that re-ranking can reorder them. */
const CANDIDATES_PER_RESULT = 20;
const MIN_CANDIDATES = 200;

/** What the index keeps of a region once sealed: where it comes from. */
export interface RegionRef {
  productId: string;
  imageId: string;
  penalty?: number;
  thumbnail?: boolean;
}

export class ProductSetIndex {
  private readonly regions: RegionRef[] = [];
  private readonly products = new Map<string, ProductRecord>();
  private codes: Uint8Array[] = [];
  /** Float embeddings (no codec), or compact vectors packed at seal. */
  private floats: Float32Array[] = [];
  private compact: CompactVector[] = [];
  private packed?: CompactVectors;
  private hamming?: HammingIndex;

  constructor(
    private readonly hasher: Hasher,
    private readonly codec?: CompactEmbeddingCodec,
  ) {}

  addProduct(product: ProductRecord, regions: readonly IndexedRegion[]): void {
    if (this.hamming) throw new Error('ProductSetIndex is sealed');
    this.products.set(product.id, product);
    for (const r of regions) {
      const penalty = indexPenalty(r.source ?? 'whole-image');
      this.regions.push({ productId: r.productId, imageId: r.imageId, ...(penalty ? { penalty } : {}), ...(r.source === 'thumbnail' ? { thumbnail: true } : {}) });
      this.codes.push(r.code);
      if (this.codec) this.compact.push(r.compact ?? this.codec.encode(r.embedding));
      else this.floats.push(r.embedding);
    }
  }

  /** Builds the Hamming index over every region added; the set is then read-only. */
  seal(): this {
    const bits = this.hasher.bits as CodeBits;
    this.hamming = chooseHammingIndex(this.regions.length, bits, MIN_CANDIDATES).kind === 'mih' ? new MultiIndexHashing(bits) : new LinearScanIndex(bits);
    const bytes = bits / 8;
    const codes = new Uint8Array(this.regions.length * bytes);
    this.codes.forEach((c, i) => codes.set(c, i * bytes));
    this.codes = [];
    this.hamming.add(Uint32Array.from(this.regions.keys()), codes);
    if (this.codec) {
      this.packed = this.codec.pack(this.compact);
      this.compact = [];
    }
    return this;
  }

  get size(): number {
    return this.regions.length;
  }

  /** Codes, their index and the re-rank data (typed arrays; not the per-region ids). */
  get memoryBytes(): number {
    const rerank = this.packed && this.codec ? this.packed.scale.length * this.codec.bytesPerVector : this.floats.reduce((s, e) => s + e.byteLength, 0);
    return (this.hamming?.memoryBytes ?? 0) + rerank;
  }

  product(id: string): ProductRecord | undefined {
    return this.products.get(id);
  }

  /**
   * The `k` best products for a query of one or more regions, best first (ties: product
   * id): a product's score is its best pair of query region and indexed region, the cosine
   * less both penalties. Each query region takes its own nearest codes, re-ranked exactly.
   */
  searchProducts(
    queries: Float32Array | readonly QueryVector[],
    k: number,
    accept: (labels: readonly KeyValue[], category: string) => boolean,
  ): RegionHit[] {
    if (!this.hamming) throw new Error('ProductSetIndex is not sealed');
    const hamming = this.hamming;
    const list = queries instanceof Float32Array ? [{ embedding: queries, penalty: 0 }] : queries;
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
    const best = new Map<string, RegionHit>();
    list.forEach((q, qi) => {
      const { code, cosine } = this.prepare(q.embedding);
      const candidates = hamming.search(code, Math.max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT), {
        filter: (id) => ok(this.regions[id].productId),
      });
      for (const c of candidates) {
        const region = this.regions[c.id];
        if (region.thumbnail && q.thumbnails === false) continue;
        const similarity = cosine(c.id) - q.penalty - (region.penalty ?? 0);
        const prev = best.get(region.productId);
        if (!prev || similarity > prev.similarity) best.set(region.productId, { region, similarity, query: qi });
      }
    });
    return [...best.values()]
      .sort((a, b) => b.similarity - a.similarity || (a.region.productId < b.region.productId ? -1 : 1))
      .slice(0, k);
  }

  /** The query's code, and its cosine with region i: exact in float, or the compact
   *  approximation (whose projection also gives the code when the hash is its prefix). */
  private prepare(query: Float32Array): { code: Uint8Array; cosine: (i: number) => number } {
    const { codec, packed } = this;
    if (!codec || !packed) return { code: this.hasher.encode(query), cosine: (i) => dot(query, this.floats[i]) };
    const prepared = codec.prepare(query);
    const code = codec.prefixCodeBits.has(this.hasher.bits) ? codec.codeOf(prepared, this.hasher.bits) : this.hasher.encode(query);
    return { code, cosine: (i) => codec.similarity(prepared, packed, i) };
  }
}
