/**
 * The in-memory index of one product set: every region of every reference image of its
 * products, each with its binary code and its re-rank data, and each product's labels.
 * Search: the codes find the closest candidates by Hamming distance (an exact popcount
 * scan, or Multi-Index Hashing for large sets), the label filter is applied inside that
 * scan so a filtered product never takes a candidate's place, and the candidates are
 * re-ranked by the cosine of their embeddings, which is also the reported score. With a
 * CompactEmbeddingCodec (the server's case) the embeddings are held as int8 (or 4-bit) PCA
 * projections and the cosine is its approximation; without one, in float.
 *
 * The index changes in place, a product at a time (upsertProduct, removeProduct,
 * updateProduct), at a cost in proportion to that product's regions: regions live in
 * typed-array rows, a removed region's row is reused, and the Hamming engine takes
 * single adds and removes. Per region it holds the compact vector (dims or dims / 2, + 8 bytes),
 * a 4-byte product slot, a 2-byte image number and a flag byte; the engine holds the
 * code. With a codec whose projection signs are the hash (models/hashing: all are), a
 * region's code is derived from its quantized projection, so it is not held twice.
 */
import type { KeyValue, ProductRecord, RegionRecord } from '../store/catalog-store';
import {
  chooseHammingIndex,
  ColumnsAhead,
  grownCapacity,
  LinearScanIndex,
  MultiIndexHashing,
  type CodeBits,
  type HammingIndex,
} from './hamming';
import { CoarseListIndex, centroidTraining, runSteps } from './coarse-lists';
import { SeededRandom } from './hasher/seeded-random';
import type { Hasher } from './hasher';
import { dot, l2Normalize } from '../core/vectors';
import { medianOf } from '../core/stats';
import type { CompactColumns, CompactEmbeddingCodec, CompactVector, PreparedQuery, RerankBits } from './compact-embedding';
import { GreatestValues, SlotMaxima } from './slot-maxima';
import { Scratch } from './hamming/capacity';

export interface IndexedRegion {
  imageId: string;
  /** Unit-length embedding (needed without a codec, or when `compact` is not given). */
  embedding?: Float32Array;
  /** Its binary code, as the set's hasher makes it (needed when the codec cannot derive it). */
  code?: Uint8Array;
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
  /** One of many secondary regions (a pooled window): it takes SECONDARY_REACH of the
   *  candidates, and of the coarse lists, that a region takes. */
  secondary?: boolean;
  /** The embedding already prepared by this index's codec (CatalogIndex.prepare, one batch
   *  projection for a query's regions); without it the index prepares it here. */
  prepared?: PreparedQuery;
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

export function indexPenalty(source: RegionRecord['source'] | undefined): number {
  return source === 'detected' || source === 'garment' ? PARTIAL_PENALTY : source === 'thumbnail' ? THUMBNAIL_PENALTY : 0;
}

/** The engine is re-chosen only once the size is this far past the rule's threshold (no flapping). */
const ENGINE_HYSTERESIS = 0.25;
/** Candidates re-ranked per wanted product: enough that re-ranking can reorder them. */
const CANDIDATES_PER_RESULT = 20;
const MIN_CANDIDATES = 200;
/**
 * A secondary region's share of a region's candidates and coarse lists. A query's 25
 * pooled windows are most of its regions, and each only has to find the product it
 * covers, not to rank the catalog: at a quarter, a 30-region query's index time at 1 M
 * regions about halves for the same top products (docs/search.md, "Secondary regions").
 */
export const SECONDARY_REACH = 0.25;
/** Image numbers are 16-bit: a product holds at most this many reference images' regions. */
const MAX_IMAGES = 0xffff;

/**
 * Coarse lists for large sets (CoarseListIndex, docs/search.md "Coarse lists"): from how
 * many regions a set's codes are filed in lists (0: never), and the share of its lists
 * each query region scans. Below `from` every code is scanned (exact).
 */
export interface CoarseListSettings {
  from: number;
  probeShare: number;
  /** An engine change (lists on or off, lists trained again) for at least this many regions
   *  is filled in the background, a chunk a turn of the event loop, while the old engine
   *  serves (default BACKGROUND_REBUILD_FROM): at 1 M regions filing takes seconds. */
  backgroundFrom?: number;
  /** Rows such a fill takes a turn (default BACKGROUND_CHUNK). */
  backgroundChunk?: number;
}

/** Regions from which an engine change is filled in the background (CoarseListSettings). */
export const BACKGROUND_REBUILD_FROM = 65_536;
/** Rows a background fill takes a turn: about 40 ms of filing into lists. */
export const BACKGROUND_CHUNK = 8192;

/**
 * 4-bit re-rank rows for large sets (docs/search.md "Smaller re-rank data"): a set whose
 * codec keeps int8 rows has them re-quantized to 4 bits once it holds `fourBitFrom`
 * regions (0: never), for half the memory at a measured cost in recall. One way: 4 bits
 * cannot be made int8 again, so a set that shrinks keeps them until it is built anew from
 * the store (which keeps int8).
 */
export interface RerankSettings {
  fourBitFrom: number;
  /** Sets of at least this many regions are re-quantized in the background, a chunk a turn
   *  (default BACKGROUND_REBUILD_FROM); smaller ones at once, in the write that crossed. */
  backgroundFrom?: number;
  /** Rows a background re-quantization takes a turn (default REQUANTIZE_CHUNK). */
  backgroundChunk?: number;
  /** Told when a set's rows have become 4-bit, with its regions then (for the log). */
  onFourBits?: (regions: number) => void;
}

/** A snapshot state of 4-bit rows for a set below fourBitFrom, whose build from the store
 *  would have int8 rows (fromState): that set is built from the store instead. */
export class FourBitStateRefused extends Error {}

/** A re-quantization to 4 bits: the rows below `cursor` are in `next`. */
interface Requantizing {
  next: CompactColumns;
  cursor: number;
  /** Resolves when it ends (background ones only). */
  done?: Promise<void>;
  settle?: () => void;
}

/** Rows re-quantized a turn of the event loop: about 10 ms (1.0–1.5 µs a row). */
export const REQUANTIZE_CHUNK = 8192;

/** Empty coarse lists, and the regions they were trained on. */
interface TrainedLists {
  engine: CoarseListIndex;
  trainedAt: number;
}

/** An engine being filled in the background: the live rows below `cursor` are in it. */
interface PendingEngine {
  /** Undefined while its lists are trained (`training` steps). */
  engine?: HammingIndex;
  training?: Generator<void, TrainedLists>;
  /** Lists: each row's list (NO_LIST: none yet, or written since), found for the rows below
   *  `assigned` before any is filed, so the lists are laid out at their sizes at once. */
  listOfRow?: Uint16Array;
  assigned: number;
  cursor: number;
  /** Regions its lists were trained on (0: not lists). */
  trainedAt: number;
  done: Promise<void>;
  settle: () => void;
}

/** How many rows each of `lists` lists has in listOfRow (NO_LIST: none). */
function listSizes(listOfRow: Uint16Array, lists: number): Int32Array {
  const sizes = new Int32Array(lists);
  for (const list of listOfRow) if (list !== NO_LIST) sizes[list]++;
  return sizes;
}

/** Leading projection coordinates that file a region in a list. */
export const COARSE_DIMS = 32;

/** Lists for a set of n regions: a power of two near √n / 4 (256 at 1 M regions), 16 to 4096. */
export function coarseListsFor(n: number): number {
  return 2 ** Math.min(12, Math.max(4, Math.round(Math.log2(Math.sqrt(n) / 4))));
}

/** The lists are trained again once the set has grown this many times past their training. */
const COARSE_RETRAIN_GROWTH = 4;

/** Which products a search may return. */
export type AcceptProduct = (labels: readonly KeyValue[], category: string) => boolean;

/**
 * A product predicate with a name: equal keys mean equal predicates, so the index keeps
 * each product's verdict across searches and updates it on writes (FILTER_VERDICTS keys at
 * a time). When no product is refused, the scan runs unfiltered and can tighten its own
 * threshold; otherwise the check is a typed-array read per candidate.
 */
export interface ProductFilter {
  key: string;
  accept: AcceptProduct;
}

/** Keyed filters whose per-product verdicts an index keeps (least recently used dropped). */
const FILTER_VERDICTS = 8;

/** Per product slot: 1 when the filter accepts it; and how many live products it refuses. */
interface FilterVerdicts {
  accept: AcceptProduct;
  accepted: Uint8Array;
  refused: number;
}

/**
 * A second look at the best products: how much each resembles the query's context (its
 * windows, the parts of the photo taken one at a time) is taken off its score. A product
 * that some window resembles is a match there; one that resembles most windows a little is
 * a look-alike of scenes in general (a street, a plain surface with a coin), which a
 * product pasted into a scene or a tight crop would otherwise lose to. The score less
 * `weight` times the median over the context vectors of each one's best similarity with
 * the product, tapered for strong matches (fullBelow; docs/search.md, "Contrast").
 */
export interface Contrast {
  /** Indices of the query vectors that make up the context. */
  context: readonly number[];
  weight: number;
  /** The whole weight applies to products scoring up to this; above it the weight shrinks
   *  linearly to 0 at a score of 1, so an identical image keeps its 1. */
  fullBelow: number;
  /** How many of the best products are scored again (at least k). */
  pool: number;
}

/** A product's best pair while a search ranks products. */
interface ProductHit {
  slot: number;
  row: number;
  similarity: number;
  query: number;
}

/**
 * Local scaling on the query side (after CSLS, Conneau et al. 2018: a point that is near
 * to many is a hub, and its similarities count for less): each query region's level is
 * its `rank`-th best product's similarity, and every similarity through it is lowered by
 * `weight` times the level's excess over `typical` (raised where it falls short). A
 * window of background that resembles many products a little stops carrying a
 * look-alike, while the region that holds the product, near to it and to few others,
 * keeps its match (docs/search.md, "Local scaling"). Tapered as the contrast is, so an
 * identical image keeps its 1.
 */
export interface LocalScaling {
  rank: number;
  weight: number;
  /** The level that changes nothing: the median over the eval's query regions. */
  typical: number;
  /** The whole weight applies to similarities up to this; above it the weight shrinks
   *  linearly to 0 at 1. */
  fullBelow: number;
}

/** A hit's region: where it comes from. */
export interface RegionRef {
  productId: string;
  imageId: string;
  penalty?: number;
  thumbnail?: boolean;
}

/** Scratch of every search (see SlotMaxima): each query region's best pair per product,
 *  and the best over the regions. */
const MINE = new SlotMaxima();
const BEST = new SlotMaxima();

/** A query vector's similarities with rows[i], i < n, into out[i]. */
type Similarities = (rows: ArrayLike<number>, n: number, out: Float64Array) => void;

/** A query vector made ready for a search: its code, its similarities with rows (and, with
 *  compact rows, what the codec scores many at once with), the coarse lists' distances. */
interface PreparedVector {
  code: Uint8Array;
  cosines: Similarities;
  query?: PreparedQuery;
  nearDistances?: Float32Array;
}

/** A search's candidate rows and their similarities (scratch, as MINE and BEST). */
const ROWS = new Scratch((n) => new Uint32Array(n));
const OWNERS = new Scratch((n) => new Uint32Array(n));
const SIMS = new Scratch((n) => new Float64Array(n));
/** The contrast's: the best products' rows, the product of each, their similarities with
 *  every context vector, and each product's best with each. */
const CONTEXT_ROWS = new Scratch((n) => new Uint32Array(n));
const CONTEXT_OWNERS = new Scratch((n) => new Uint32Array(n));
const CONTEXT_SIMS = new Scratch((n) => new Float64Array(n));
const CONTEXT_TOPS = new Scratch((n) => new Float64Array(n));

/** Row flags. */
const LIVE = 1;
const THUMBNAIL = 2;
const PARTIAL = 4;

/** What the index keeps of a product: what a search filters on and returns (not its times). */
export type IndexedProduct = Omit<ProductRecord, 'createTime' | 'updateTime' | 'labels'> & {
  /** Frozen, and shared by the products with the same labels (LabelListPool). */
  labels: readonly Readonly<KeyValue>[];
};

interface ProductEntry {
  slot: number;
  record: IndexedProduct;
  /** Rows of its regions. */
  rows: number[];
  /** Reference image ids its rows point into. */
  images: string[];
}

/** What a snapshot holds of an index (compact mode only); see toState / fromState. */
export interface ProductSetIndexState {
  products: { record: IndexedProduct; images: string[]; rows: number[] }[];
  rowCount: number;
  flags: Uint8Array<ArrayBuffer>;
  image: Uint16Array<ArrayBuffer>;
  compact: CompactColumns;
  /** The coarse lists, when the set had them: a start from the state files each row in its
   *  list again instead of training and comparing (NO_LIST for rows not held). */
  lists?: CoarseListsState;
}

export interface CoarseListsState {
  centroids: Float32Array<ArrayBuffer>;
  listOfRow: Uint16Array<ArrayBuffer>;
  /** Regions they were trained on. */
  trainedAt: number;
}

/** listOfRow of a row not in any list. */
export const NO_LIST = 0xffff;

export class ProductSetIndex {
  private readonly products = new Map<string, ProductEntry>();
  /** Product entries by slot (undefined: free). */
  private readonly slots: (ProductEntry | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private productOfRow = new Uint32Array(0);
  private imageOfRow = new Uint16Array(0);
  private flags = new Uint8Array(0);
  /** Rows ever used; rows below it that are not LIVE are in freeRows. */
  private rowCount = 0;
  private readonly freeRows: number[] = [];
  /** The row columns' next arrays, made and faulted in ahead of their growth. */
  private readonly rowsAhead = new ColumnsAhead((cap) => this.rowColumns(cap));
  private live = 0;
  private compact?: CompactColumns;
  /** The rows being re-quantized to 4 bits in the background: those below `cursor` are in `next`. */
  private requantizing?: Requantizing;
  /** Float embeddings (no codec). */
  private readonly floats: (Float32Array | undefined)[] = [];
  /** Codes, when the codec cannot derive them from the compact rows. */
  private codes = new Uint8Array(0);
  private readonly deriveCodes: boolean;
  private readonly bytes: number;
  private engine: HammingIndex;
  /** Regions live when the coarse lists (if the engine has them) were trained. */
  private trainedAt = 0;
  /** The next engine while it is filled in the background (see rebuildEngine). */
  private pending?: PendingEngine;
  private engineChanged = false;
  /** Between startBulkLoad and trim: the engine is chosen (and lists trained) once, at the
   *  end; a load while the server serves re-quantizes in the background, one at a start
   *  (nothing searches it meanwhile) at once (see maybeRequantize). */
  private bulkLoad?: { serving: boolean };
  /** Verdicts of keyed filters (ProductFilter), most recently used last. */
  private readonly verdicts = new Map<string, FilterVerdicts>();
  /** Scope, category and label strings shared by the products that repeat them. */
  private readonly strings = new StringPool();
  private readonly labelLists = new LabelListPool();

  constructor(
    private readonly hasher: Hasher,
    private readonly codec?: CompactEmbeddingCodec,
    expectedRegions = 0,
    private readonly coarse?: CoarseListSettings,
    private readonly rerank?: RerankSettings,
  ) {
    this.bytes = hasher.bits / 8;
    this.deriveCodes = !!codec && codec.prefixCodeBits.has(hasher.bits);
    this.compact = codec?.columns(expectedRegions, this.wantsFourBits(expectedRegions) ? 4 : undefined);
    this.engine = this.makeEngine(expectedRegions);
  }

  /** Regions indexed. */
  get size(): number {
    return this.live;
  }

  /** Typed-array bytes held: rows, re-rank data and the Hamming engine (capacity). */
  get memoryBytes(): number {
    const rerank = this.compact ? this.compact.memoryBytes : this.floats.reduce((s, e) => s + (e?.byteLength ?? 0), 0);
    return (
      this.engine.memoryBytes +
      (this.pending?.engine?.memoryBytes ?? 0) +
      (this.pending?.listOfRow?.byteLength ?? 0) +
      rerank +
      (this.requantizing?.next.memoryBytes ?? 0) +
      this.productOfRow.byteLength +
      this.imageOfRow.byteLength +
      this.flags.byteLength +
      this.codes.byteLength +
      this.rowsAhead.bytes
    );
  }

  /** Bits a re-rank coordinate takes in the rows (undefined: float embeddings, no codec). */
  get rerankBits(): RerankBits | undefined {
    return this.compact?.bits;
  }

  /** Which engine searches the codes now. */
  get engineName(): 'scan' | 'mih' | 'lists' {
    return this.engine instanceof MultiIndexHashing ? 'mih' : this.engine instanceof CoarseListIndex ? 'lists' : 'scan';
  }

  /** Resolves once no engine is being filled, and no row re-quantized, in the background
   *  (at once when nothing is). */
  async engineSettled(): Promise<void> {
    // A fill that ends may start another (the set changed enough meanwhile).
    while (this.pending || this.requantizing) await (this.pending ?? this.requantizing)!.done;
  }

  /** Whether the engine, or the rows' bits, changed since the last toState (a snapshot taken
   *  during a fill has no lists, or during a re-quantization int8 rows; the one after it
   *  should have them). */
  get engineChangedSinceState(): boolean {
    return this.engineChanged;
  }

  /** Stops a background fill (the index is being dropped). */
  dispose(): void {
    this.settlePending();
    this.requantizing?.settle?.();
    this.requantizing = undefined;
  }

  product(id: string): IndexedProduct | undefined {
    return this.products.get(id)?.record;
  }

  has(id: string): boolean {
    return this.products.has(id);
  }

  /** Puts the product in the index with exactly these regions (replacing any it had). */
  upsertProduct(product: IndexedProduct, regions: readonly IndexedRegion[]): void {
    const record = this.keep(product);
    const prior = this.products.get(record.id);
    if (prior) this.dropRows(prior);
    const entry: ProductEntry = prior ?? { slot: this.freeSlots.pop() ?? this.slots.length, record, rows: [], images: [] };
    entry.record = record;
    this.slots[entry.slot] = entry;
    this.products.set(record.id, entry);
    this.judge(entry.slot, prior !== undefined);
    if (regions.length === 0) return;
    const rows = new Uint32Array(regions.length);
    const codes = new Uint8Array(regions.length * this.bytes);
    const imageNumbers = new Map<string, number>();
    regions.forEach((r, i) => {
      let image = imageNumbers.get(r.imageId);
      if (image === undefined) {
        if (entry.images.length >= MAX_IMAGES) throw new RangeError(`product ${record.id} has more than ${MAX_IMAGES} indexed images`);
        image = entry.images.push(r.imageId) - 1;
        imageNumbers.set(r.imageId, image);
      }
      const row = this.takeRow();
      rows[i] = row;
      this.productOfRow[row] = entry.slot;
      this.imageOfRow[row] = image;
      this.flags[row] = LIVE | (r.source === 'thumbnail' ? THUMBNAIL : 0) | (indexPenalty(r.source) === PARTIAL_PENALTY ? PARTIAL : 0);
      codes.set(this.storeVectors(row, r), i * this.bytes);
      entry.rows.push(row);
    });
    entry.rows = entry.rows.slice(); // exact length: pushes leave room for 7 more
    this.engine.add(rows, codes);
    this.addToPending(rows);
    this.live += regions.length;
    this.maybeRequantize();
    this.maybeSwitchEngine();
  }

  /** Replaces the product's record (labels, category) and keeps its regions; false when absent. */
  updateProduct(product: IndexedProduct): boolean {
    const entry = this.products.get(product.id);
    if (!entry) return false;
    entry.record = this.keep(product);
    this.judge(entry.slot, true);
    return true;
  }

  removeProduct(id: string): boolean {
    const entry = this.products.get(id);
    if (!entry) return false;
    this.dropRows(entry);
    this.products.delete(id);
    for (const v of this.verdicts.values()) if (!v.accepted[entry.slot]) v.refused--;
    this.slots[entry.slot] = undefined;
    this.freeSlots.push(entry.slot);
    this.maybeSwitchEngine();
    return true;
  }

  /**
   * The `k` best products for a query of one or more regions, best first (ties: product
   * id): a product's score is its best pair of query region and indexed region, the cosine
   * less both penalties. Each query region takes its own nearest codes, re-ranked exactly.
   * With `scaling`, each query region's similarities are first scaled by its level (see
   * LocalScaling). With `contrast`, the best `contrast.pool` (at least k) products are
   * then scored again (see Contrast) and the k best of those are returned.
   */
  searchProducts(
    queries: Float32Array | readonly QueryVector[],
    k: number,
    filter: AcceptProduct | ProductFilter,
    contrast?: Contrast,
    scaling?: LocalScaling,
  ): RegionHit[] {
    const list = queries instanceof Float32Array ? [{ embedding: queries, penalty: 0 }] : queries;
    const ok = this.rowFilter(filter);
    const pool = contrast && contrast.context.length > 0 ? Math.max(k, contrast.pool) : k;
    const want = Math.max(MIN_CANDIDATES, k * CANDIDATES_PER_RESULT);
    const prepared = this.prepare(list);
    const slots = this.slots.length;
    // Per query region: what its similarities lose to its level (identity without scaling).
    const scaled: ((similarity: number) => number)[] = [];
    BEST.start(slots);
    list.forEach((q, qi) => {
      const { code, cosines } = prepared[qi];
      const reach = q.secondary ? SECONDARY_REACH : 1;
      const found = this.engine.searchIds(code, Math.ceil(want * reach), {
        filter: ok,
        nearDistances: prepared[qi].nearDistances,
        probeScale: reach,
      });
      if (!this.compact?.simd) this.warmRows(found);
      const rows = ROWS.atLeast(found.length);
      let n = 0;
      // Each row's product is read here, in a loop of independent loads whose cache misses
      // (rows scattered over MBs of productOfRow) overlap; in MINE.offer's longer loop they
      // did not: 0.37 -> 0.21 ms of a 30-region query at 1 M regions (in-process, 12-05).
      const owners = OWNERS.atLeast(found.length);
      for (const row of found) {
        if (this.flags[row] & THUMBNAIL && q.thumbnails === false) continue;
        owners[n] = this.productOfRow[row];
        rows[n++] = row;
      }
      const sims = SIMS.atLeast(n);
      cosines(rows, n, sims);
      // This region's best pair with each product its candidates reached.
      MINE.start(slots);
      for (let i = 0; i < n; i++) MINE.offer(owners[i], sims[i] - q.penalty - rowPenalty(this.flags[rows[i]]), rows[i], qi);
      const reached = MINE.touched;
      scaled[qi] = scaling
        ? levelScale(
            reached.map((slot) => MINE.value[slot]),
            q.penalty,
            scaling,
          )
        : (x) => x;
      for (const slot of reached) BEST.offer(slot, scaled[qi](MINE.value[slot]), MINE.row[slot], qi);
    });
    // Every product a candidate reached was offered (thousands against a large set): the
    // best `pool` are chosen by score alone, and only they get a RegionRef.
    const byScore = (a: ProductHit, b: ProductHit) => b.similarity - a.similarity || (this.idOf(a.slot) < this.idOf(b.slot) ? -1 : 1);
    const hits = BEST.leading(pool)
      .map((slot) => ({ slot, row: BEST.row[slot], similarity: BEST.value[slot], query: BEST.query[slot] }))
      .sort(byScore);
    hits.length = Math.min(hits.length, pool);
    if (pool > k) {
      const { weight, context, fullBelow } = contrast!;
      const level = this.contextSimilarities(hits, context, list, prepared, scaled);
      hits.forEach((h, i) => (h.similarity -= weight * taper(h.similarity, fullBelow) * level[i]));
      hits.sort(byScore);
    }
    return hits.slice(0, k).map(({ row, similarity, query }) => ({ region: this.regionRef(row), similarity, query }));
  }

  /**
   * Reads a byte of every cache line the JS re-rank will need of these rows, in a loop
   * with no other work: against a large set each row is a cache (and TLB) miss, and
   * these loads overlap where the JS re-rank's, each behind a 256-step dot product, do
   * not. (The SIMD re-rank's rows, a few dozen instructions each, overlap by themselves.)
   * At 1 M regions, 30-region search p50 in four runs: 37.3 -> 35.0, 39.9 -> 37.5, 39.1 ->
   * 37.2 and, on a busier host, 53.6 -> 52.8 ms (in-process, interleaved per query,
   * 2026-12-05).
   */
  private warmRows(rows: Uint32Array): number {
    const { flags, productOfRow } = this;
    const columns = this.compact;
    let sink = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      sink += flags[row] + productOfRow[row];
      if (columns) {
        const base = row * columns.rowBytes;
        for (let j = 0; j < columns.rowBytes; j += 64) sink += columns.q[base + j];
        sink += columns.scalars[row * 4];
      }
    }
    return sink;
  }

  private idOf(slot: number): string {
    return this.slots[slot]!.record.id;
  }

  /** For each hit's product: the median over the context query vectors of each one's best
   *  similarity with the product's rows (less the rows' penalties, scaled by the vector's
   *  level; thumbnails only for vectors that match them). One batch of every hit's rows
   *  against all the context vectors. */
  private contextSimilarities(
    hits: readonly ProductHit[],
    context: readonly number[],
    list: readonly QueryVector[],
    prepared: readonly PreparedVector[],
    scaled: readonly ((similarity: number) => number)[],
  ): number[] {
    let n = 0;
    for (const h of hits) n += this.slots[h.slot]!.rows.length;
    const rows = CONTEXT_ROWS.atLeast(n);
    const owner = CONTEXT_OWNERS.atLeast(n);
    n = 0;
    hits.forEach((h, i) => {
      for (const row of this.slots[h.slot]!.rows) {
        rows[n] = row;
        owner[n++] = i;
      }
    });
    const width = context.length;
    const sims = CONTEXT_SIMS.atLeast(width * n);
    const queries = context.map((qi) => prepared[qi].query);
    if (this.compact && queries.every((q) => q !== undefined)) this.codec!.similaritiesMany(queries, this.compact, rows, n, sims);
    else context.forEach((qi, ci) => prepared[qi].cosines(rows, n, sims.subarray(ci * n)));
    // tops[hit * width + ci]: context vector ci's best with the hit's rows.
    const tops = CONTEXT_TOPS.atLeast(hits.length * width).fill(-Infinity, 0, hits.length * width);
    context.forEach((qi, ci) => {
      const thumbnails = list[qi].thumbnails !== false;
      for (let i = 0; i < n; i++) {
        const flags = this.flags[rows[i]];
        if (flags & THUMBNAIL && !thumbnails) continue;
        const at = owner[i] * width + ci;
        tops[at] = Math.max(tops[at], sims[ci * n + i] - rowPenalty(flags));
      }
    });
    const values = new Float64Array(width);
    return hits.map((_, h) => {
      // The scale takes similarities less the vector's own penalty, which the context leaves out.
      let m = 0;
      context.forEach((qi, ci) => {
        const top = tops[h * width + ci];
        if (top > -Infinity) values[m++] = scaled[qi](top - list[qi].penalty) + list[qi].penalty;
      });
      return medianOf(values.subarray(0, m));
    });
  }

  /** The per-row check a search's candidates pass, or undefined when every product passes. */
  private rowFilter(filter: AcceptProduct | ProductFilter): ((row: number) => boolean) | undefined {
    const { productOfRow } = this;
    if (typeof filter !== 'function') {
      const v = this.verdictsOf(filter);
      if (v.refused === 0) return undefined;
      const accepted = v.accepted;
      return (row) => accepted[productOfRow[row]] === 1;
    }
    // An unnamed predicate: judged once per product per search.
    const seen = new Uint8Array(this.slots.length); // 0 not yet, 1 accepted, 2 refused
    return (row) => {
      const slot = productOfRow[row];
      if (seen[slot] === 0) {
        const p = this.slots[slot]!.record;
        seen[slot] = filter(p.labels, p.productCategory) ? 1 : 2;
      }
      return seen[slot] === 1;
    };
  }

  /** The verdicts of a keyed filter, made with one pass over the products on first use. */
  private verdictsOf(filter: ProductFilter): FilterVerdicts {
    let v = this.verdicts.get(filter.key);
    if (v) {
      this.verdicts.delete(filter.key);
    } else {
      v = { accept: filter.accept, accepted: new Uint8Array(this.slots.length), refused: 0 };
      for (let slot = 0; slot < this.slots.length; slot++) this.judgeSlot(v, slot);
      if (this.verdicts.size >= FILTER_VERDICTS) this.verdicts.delete(this.verdicts.keys().next().value!);
    }
    this.verdicts.set(filter.key, v);
    return v;
  }

  /** Judges a slot's product again for every kept filter (after a write to it). */
  private judge(slot: number, judgedBefore: boolean): void {
    for (const v of this.verdicts.values()) {
      if (slot >= v.accepted.length) {
        const grown = new Uint8Array(Math.max(slot + 1, 2 * v.accepted.length));
        grown.set(v.accepted);
        v.accepted = grown;
      }
      if (judgedBefore && !v.accepted[slot]) v.refused--;
      this.judgeSlot(v, slot);
    }
  }

  private judgeSlot(v: FilterVerdicts, slot: number): void {
    const entry = this.slots[slot];
    const accepted = !entry || v.accept(entry.record.labels, entry.record.productCategory);
    v.accepted[slot] = accepted ? 1 : 0;
    if (!accepted) v.refused++;
  }

  /** A copy of the index's content, for a snapshot (compact mode only). */
  toState(): ProductSetIndexState {
    if (!this.compact) throw new Error('only an index with a compact codec has a snapshot state');
    // A copy, taken synchronously, so the index may change while the snapshot is written.
    const n = this.rowCount;
    const compact = this.compact.copy(n);
    this.engineChanged = false;
    let lists: CoarseListsState | undefined;
    const engine = this.engine;
    if (engine instanceof CoarseListIndex && !this.pending) {
      const listOfRow = new Uint16Array(n).fill(NO_LIST);
      for (const row of this.liveRows()) listOfRow[row] = engine.listOfId(row);
      lists = { centroids: engine.centroidMatrix.slice(), listOfRow, trainedAt: this.trainedAt };
    }
    return {
      products: [...this.products.values()].map((e) => ({ record: e.record, images: [...e.images], rows: [...e.rows] })),
      rowCount: n,
      flags: this.flags.slice(0, n),
      image: this.imageOfRow.slice(0, n),
      compact,
      ...(lists ? { lists } : {}),
    };
  }

  /**
   * An index with the content of `state` (as toState gave it, possibly read back from
   * disk). It takes the state's row arrays as its own, with their capacity (rows past
   * rowCount zero): a copy would hold every column twice until the next collection.
   */
  static fromState(
    hasher: Hasher,
    codec: CompactEmbeddingCodec,
    state: ProductSetIndexState,
    coarse?: CoarseListSettings,
    rerank?: RerankSettings,
  ): ProductSetIndex {
    const index = new ProductSetIndex(hasher, codec, 0, coarse, rerank);
    if (!index.deriveCodes) throw new Error('snapshots need codes derived from the compact vectors');
    const compact = index.compact!;
    const n = state.rowCount;
    const capacity = state.flags.length;
    const { q, scalars, dims, bits, rowBytes } = state.compact;
    // 4-bit rows where the codec's are int8: a set that had reached fourBitFrom (checked below).
    const bitsFit = bits === compact.bits || bits === 4;
    if (
      capacity < n ||
      state.image.length !== capacity ||
      dims !== compact.dims ||
      !bitsFit ||
      q.length !== capacity * rowBytes ||
      scalars.length !== capacity * 4
    ) {
      throw new Error('index state: its columns do not have one capacity of at least rowCount rows');
    }
    index.flags = state.flags;
    index.imageOfRow = state.image;
    index.productOfRow = new Uint32Array(capacity);
    index.compact = state.compact;
    index.rowCount = n;
    for (const p of state.products) {
      const entry: ProductEntry = { slot: index.slots.length, record: index.keep(p.record), rows: p.rows, images: p.images };
      index.slots.push(entry);
      index.products.set(p.record.id, entry);
      for (const row of p.rows) index.productOfRow[row] = entry.slot;
    }
    for (let row = 0; row < n; row++) {
      if (index.flags[row] & LIVE) index.live++;
      else index.freeRows.push(row);
    }
    // The rows a build from the store would give: a set that has fourBitFrom regions (now) has
    // 4-bit rows, and one below it int8 ones, which 4-bit rows cannot give back.
    if (bits !== compact.bits && !index.wantsFourBits(index.live))
      throw new FourBitStateRefused(
        `index state: 4-bit rows for ${index.live} regions, below the 4-bit threshold (METAPIXEL_RERANK_4BIT_FROM)`,
      );
    index.maybeRequantize(true); // a snapshot made before the set reached fourBitFrom
    const kept = state.lists;
    if (kept && index.wantsLists(index.live) && index.keepLists(kept)) return index;
    index.engine = index.makeEngine(index.live);
    index.fillEngine();
    return index;
  }

  /** Takes the lists a snapshot kept (see ProductSetIndexState.lists) as the engine; false
   *  (nothing changed) when they do not fit this set and settings. */
  private keepLists(kept: CoarseListsState): boolean {
    const lists = kept.centroids.length / COARSE_DIMS;
    if (!Number.isInteger(lists) || lists < 1 || lists > NO_LIST || kept.listOfRow.length !== this.rowCount) return false;
    const rows = this.liveRows();
    const listOf = new Uint16Array(rows.length);
    for (let i = 0; i < rows.length; i++) if ((listOf[i] = kept.listOfRow[rows[i]]) >= lists) return false;
    const engine = this.emptyLists(kept.centroids);
    engine.add(rows, this.codesOf(rows), listOf);
    this.engine = engine;
    this.trainedAt = kept.trainedAt;
    return true;
  }

  /**
   * The product as the index keeps it. Built as one literal, so every product shares one
   * hidden class (records from the stores and snapshots, made by spreads, had one each:
   * about 360 bytes a product), with the strings that repeat across products shared, and
   * the label lists too (frozen): catalogs repeat a few combinations of colour, brand and
   * so on, and a list of two labels is about 150 bytes (14 MB at 100 k products,
   * bench:scale).
   */
  private keep(p: IndexedProduct): IndexedProduct {
    const s = this.strings;
    return {
      project: s.get(p.project),
      location: s.get(p.location),
      id: p.id,
      displayName: p.displayName,
      description: p.description,
      productCategory: s.get(p.productCategory),
      labels: this.labelLists.get(p.labels, s),
    };
  }

  private regionRef(row: number): RegionRef {
    const entry = this.slots[this.productOfRow[row]]!;
    const flags = this.flags[row];
    const penalty = rowPenalty(flags);
    return {
      productId: entry.record.id,
      imageId: entry.images[this.imageOfRow[row]],
      ...(penalty ? { penalty } : {}),
      ...(flags & THUMBNAIL ? { thumbnail: true } : {}),
    };
  }

  private dropRows(entry: ProductEntry): void {
    for (const row of entry.rows) {
      this.engine.remove(row);
      if (this.pending?.engine && row < this.pending.cursor) this.pending.engine.remove(row);
      this.flags[row] = 0;
      if (!this.compact) this.floats[row] = undefined;
      this.freeRows.push(row);
    }
    this.live -= entry.rows.length;
    entry.rows = [];
    entry.images = [];
  }

  private takeRow(): number {
    const row = this.freeRows.pop();
    if (row !== undefined) return row;
    this.ensureRows(this.rowCount + 1);
    this.rowsAhead.step(this.rowCount + 1, this.flags.length);
    this.compact?.growing(this.rowCount + 1);
    return this.rowCount++;
  }

  private ensureRows(n: number): void {
    if (n <= this.flags.length) return;
    this.resizeRows(grownCapacity(this.flags.length, n));
  }

  /** Marks the start of a bulk load (a full build), which trim() ends: until then no write
   *  changes the engine, so the lists of a large set are trained once, on all of it. */
  startBulkLoad(opts: { serving?: boolean } = {}): void {
    this.bulkLoad = { serving: opts.serving ?? false };
  }

  /** Drops most unused capacity (after a bulk load: a full build), keeping 1/128 for the
   *  writes that follow, and builds the Hamming engine again at its exact size. O(n). */
  trim(): void {
    this.bulkLoad = undefined;
    this.settlePending(); // the engine made below replaces it
    const keep = this.rowCount + Math.ceil(this.rowCount / 128);
    if (keep < this.flags.length) this.resizeRows(keep);
    this.rowsAhead.take(0); // a trim ends the growth it was made for
    if (this.requantizing) this.finishRequantizing(this.requantizing);
    this.compact?.trim(keep);
    this.engine = this.makeEngine(this.live);
    this.fillEngine();
  }

  private resizeRows(cap: number): void {
    const made = this.rowsAhead.arraysFor(cap);
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array>(a: T, next: T): T => {
      next.set(a.subarray(0, Math.min(a.length, next.length)));
      return next;
    };
    this.productOfRow = grow(this.productOfRow, made[0]);
    this.imageOfRow = grow(this.imageOfRow, made[1]);
    this.flags = grow(this.flags, made[2]);
    if (!this.deriveCodes) this.codes = grow(this.codes, made[3]);
  }

  /** Empty row columns for `cap` rows: product, image, flags, codes (none when derived). */
  private rowColumns(
    cap: number,
  ): readonly [Uint32Array<ArrayBuffer>, Uint16Array<ArrayBuffer>, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>] {
    return [new Uint32Array(cap), new Uint16Array(cap), new Uint8Array(cap), new Uint8Array(this.deriveCodes ? 0 : cap * this.bytes)];
  }

  /** Stores the region's re-rank data (and code when held) in `row`; returns its code. */
  private storeVectors(row: number, r: IndexedRegion): Uint8Array {
    if (this.compact && this.codec) {
      const vector = r.compact ?? this.codec.encode(need(r.embedding, 'embedding'));
      this.compact.set(row, vector);
      const job = this.requantizing;
      if (job && row < job.cursor) job.next.set(row, vector);
    } else {
      this.floats[row] = need(r.embedding, 'embedding');
    }
    if (this.deriveCodes) return this.compact!.codeOf(row, this.hasher.bits);
    const code = r.code ?? this.hasher.encode(need(r.embedding, 'embedding'));
    this.codes.set(code, row * this.bytes);
    return code;
  }

  private codeOfRow(row: number, out: Uint8Array): Uint8Array {
    if (this.deriveCodes) return this.compact!.codeOf(row, this.hasher.bits, out);
    out.set(this.codes.subarray(row * this.bytes, (row + 1) * this.bytes));
    return out;
  }

  /** The measured rule (hamming/choose.ts) for n codes and the candidates a search asks
   *  for: at MIN_CANDIDATES and more the scan wins at every size measured, so in practice
   *  a set below the coarse lists' size is always scanned. */
  private wantsMih(regions: number): boolean {
    return chooseHammingIndex(regions, this.hasher.bits as CodeBits, MIN_CANDIDATES).kind === 'mih';
  }

  /** Whether a set of this many regions is filed in coarse lists (they need the compact rows). */
  private wantsLists(regions: number): boolean {
    return !!this.coarse && !!this.compact && this.compact.dims >= COARSE_DIMS && this.coarse.from > 0 && regions >= this.coarse.from;
  }

  /** The engine for `regions` regions; coarse lists are trained on the live rows, so an
   *  index with none yet is scanned until a write or trim() switches it. */
  private makeEngine(regions: number): HammingIndex {
    const bits = this.hasher.bits as CodeBits;
    if (this.wantsLists(regions) && this.live > 0) return this.makeLists();
    return this.wantsMih(regions) ? new MultiIndexHashing(bits) : new LinearScanIndex(bits);
  }

  private makeLists(): CoarseListIndex {
    const { engine, trainedAt } = runSteps(this.listsTraining());
    this.trainedAt = trainedAt;
    return engine;
  }

  /** Lists for the live rows, a step at a time: the rows are listed at the first step and
   *  the sample read at the second, then the k-means steps; ends with the empty lists. */
  private *listsTraining(): Generator<void, TrainedLists> {
    const rows = this.liveRows();
    yield; // (listing a million rows is a step of its own: about 0.1 s)
    const vectorOf = this.coarseVectorOf();
    const lists = coarseListsFor(rows.length);
    const centroids = yield* centroidTraining(rows.length, (i, out) => vectorOf(rows[i], out), COARSE_DIMS, lists, new SeededRandom(1));
    return { engine: this.emptyLists(centroids), trainedAt: rows.length };
  }

  /** Coarse lists with these centroids, probing the settings' share of them, holding nothing yet. */
  private emptyLists(centroids: Float32Array): CoarseListIndex {
    const probe = Math.max(1, Math.round(this.coarse!.probeShare * (centroids.length / COARSE_DIMS)));
    return new CoarseListIndex(this.hasher.bits, centroids, COARSE_DIMS, this.coarseVectorOf(), probe);
  }

  /** A region is filed by the direction of its leading coordinates (made unit length in
   *  place): the cosine that ranks it is blind to length. */
  private coarseVectorOf(): (row: number, out: Float32Array) => Float32Array {
    // The rows as they are when read: a re-quantization may replace them.
    return (row, out) => l2Normalize(this.compact!.leading(row, out), out);
  }

  /** Whether a set of this many regions has 4-bit rows though its codec's are int8. */
  private wantsFourBits(regions: number): boolean {
    const from = this.rerank?.fourBitFrom ?? 0;
    return from > 0 && regions >= from && this.codec?.columnBits === 8;
  }

  /**
   * Re-quantizes the int8 rows to 4 bits once the set reaches fourBitFrom (RerankSettings):
   * at once when nothing searches the index yet (a start, from the store or a snapshot: the
   * int8 rows held are then only the threshold's) or the set is small, else a chunk of rows
   * a turn of the event loop, the int8 rows answering meanwhile (a set rebuilt while the
   * server serves too: at once, 500 k rows would pause it for 0.5 s; trim() copies what is
   * left). A write goes to both, to the new rows only below the cursor (the copy takes the
   * others). The codes, the signs of the leading coordinates, are the same in both for
   * every coordinate that is not exactly 0 (a float projection's never is), so the Hamming
   * engine keeps them.
   */
  private maybeRequantize(now = this.bulkLoad?.serving === false): void {
    const compact = this.compact;
    if (!compact || compact.bits !== 8 || this.requantizing || !this.wantsFourBits(this.live)) return;
    const job: Requantizing = { next: this.codec!.columns(compact.capacity, 4), cursor: 0 };
    this.requantizing = job;
    if (now || this.live < (this.rerank!.backgroundFrom ?? BACKGROUND_REBUILD_FROM)) return this.finishRequantizing(job);
    job.done = new Promise<void>((resolve) => (job.settle = resolve));
    const chunk = this.rerank!.backgroundChunk ?? REQUANTIZE_CHUNK;
    const step = () => {
      if (this.requantizing !== job) return; // finished by a trim, or disposed
      const end = Math.min(this.rowCount, job.cursor + chunk);
      job.next.copyRows(this.compact!, job.cursor, end);
      job.cursor = end;
      if (end < this.rowCount) setImmediate(step);
      else this.finishRequantizing(job);
    };
    setImmediate(step);
  }

  private finishRequantizing(job: Requantizing): void {
    job.next.copyRows(this.compact!, job.cursor, this.rowCount);
    this.compact = job.next;
    this.requantizing = undefined;
    this.engineChanged = true; // so the set's snapshot is written again, with the 4-bit rows
    job.settle?.();
    this.rerank?.onFourBits?.(this.live);
  }

  /** Moves to another engine once the size is well past a rule's threshold, and trains the
   *  coarse lists again once the set has outgrown them (O(n), rare). Not while one is
   *  being filled: its end decides again. */
  private maybeSwitchEngine(): void {
    if (this.bulkLoad || this.pending) return;
    const lists = this.engine instanceof CoarseListIndex;
    if (lists && this.live > COARSE_RETRAIN_GROWTH * this.trainedAt) return this.rebuildEngine();
    // Up at `from` itself, as a build from the store or a snapshot decides (makeEngine), so a
    // set grown by writes and the same set rebuilt agree there; down only well below it.
    const wantLists = this.wantsLists(lists ? Math.round(this.live * (1 + ENGINE_HYSTERESIS)) : this.live);
    if (lists !== wantLists) return this.rebuildEngine();
    if (lists) return;
    const mih = this.engine instanceof MultiIndexHashing;
    const wantMih = this.wantsMih(Math.round(this.live * (mih ? 1 + ENGINE_HYSTERESIS : 1 - ENGINE_HYSTERESIS)));
    if (mih !== wantMih) this.rebuildEngine();
  }

  /**
   * A new engine for the set as it is. A large one (backgroundFrom) is made at once (lists
   * trained on a sample) but filled a chunk of rows a turn of the event loop, the old engine
   * answering searches meanwhile; writes go to both (to the new one only for rows it has
   * passed: it takes the others when it reaches them). So a write that starts it costs
   * what training costs, not the seconds of filing a million regions.
   */
  private rebuildEngine(): void {
    if (this.live < (this.coarse?.backgroundFrom ?? BACKGROUND_REBUILD_FROM)) {
      this.engine = this.makeEngine(this.live);
      this.fillEngine();
      return;
    }
    let settle = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    const job: PendingEngine = { cursor: 0, assigned: 0, trainedAt: 0, done, settle };
    // The live rows are listed at the training's first step, a turn later, and the sample
    // read at the next (so the write that starts it does no O(n) work, and no turn does
    // both): it trains on the set as it is then.
    if (this.wantsLists(this.live)) job.training = this.listsTraining();
    else job.engine = this.makeEngine(this.live);
    this.pending = job;
    const step = () => {
      if (this.pending !== job) return; // replaced by a full build (trim), or disposed
      try {
        fill();
      } catch {
        // The old engine has every write and keeps answering; the next write tries again.
        if (this.pending === job) this.settlePending();
      }
    };
    const chunk = this.coarse?.backgroundChunk ?? BACKGROUND_CHUNK;
    const fill = () => {
      if (!job.engine) {
        const trained = job.training!.next();
        if (trained.done) {
          ({ engine: job.engine, trainedAt: job.trainedAt } = trained.value);
          job.listOfRow = new Uint16Array(this.rowCount).fill(NO_LIST);
        }
        return void setImmediate(step);
      }
      const { engine, listOfRow } = job;
      if (engine instanceof CoarseListIndex && listOfRow && job.assigned < listOfRow.length) {
        // Filed batch by batch, lists that grew batch by batch would each move many times
        // and leave holes (the kernel memory, which never shrinks, reached twice the codes,
        // and closing the holes up paused the loop): every list's size first, then the filing.
        const end = Math.min(listOfRow.length, job.assigned + chunk);
        const rows = this.liveRows(job.assigned, end);
        const lists = engine.listsOf(rows, new Uint16Array(rows.length));
        rows.forEach((row, i) => (listOfRow[row] = lists[i]));
        job.assigned = end;
        if (end === listOfRow.length) engine.presize(listSizes(listOfRow, engine.lists));
        return void setImmediate(step);
      }
      const end = Math.min(this.rowCount, job.cursor + chunk);
      const rows = this.liveRows(job.cursor, end);
      if (rows.length > 0) this.fileRows(engine, rows, listOfRow);
      job.cursor = end;
      if (end < this.rowCount) return void setImmediate(step);
      this.engine = job.engine;
      this.engineChanged = true;
      if (job.trainedAt) this.trainedAt = job.trainedAt;
      this.settlePending();
      this.maybeSwitchEngine(); // the set may have changed enough meanwhile for another
    };
    setImmediate(step);
  }

  /** Files rows in an engine: coarse lists take those whose list listOfRow knows in it, and
   *  compare the others with their centroids. */
  private fileRows(engine: HammingIndex, rows: Uint32Array, listOfRow?: Uint16Array): void {
    if (!(engine instanceof CoarseListIndex) || !listOfRow) return engine.add(rows, this.codesOf(rows));
    const known = (row: number) => row < listOfRow.length && listOfRow[row] !== NO_LIST;
    const listed = rows.filter(known);
    const rest = rows.filter((row) => !known(row));
    if (listed.length > 0)
      engine.add(
        listed,
        this.codesOf(listed),
        Uint16Array.from(listed, (row) => listOfRow[row]),
      );
    if (rest.length > 0) engine.add(rest, this.codesOf(rest));
  }

  /** Adds a write's rows to the engine being filled, those it has passed (it takes the rest). */
  private addToPending(rows: Uint32Array): void {
    const job = this.pending;
    if (!job?.engine) return; // while training, the fill has passed no row
    // A row written again (a removed region's row reused) is filed by its new vector.
    const { listOfRow } = job;
    if (listOfRow) for (const row of rows) if (row < listOfRow.length) listOfRow[row] = NO_LIST;
    const passed = rows.filter((row) => row < job.cursor);
    if (passed.length > 0) job.engine.add(passed, this.codesOf(passed));
  }

  private settlePending(): void {
    const job = this.pending;
    this.pending = undefined;
    job?.settle();
  }

  private fillEngine(): void {
    const rows = this.liveRows();
    this.engine.add(rows, this.codesOf(rows));
  }

  /** The live rows in [from, to). */
  private liveRows(from = 0, to = this.rowCount): Uint32Array {
    // Counted, then written: pushed onto an array, a million rows took 0.12 s (a pause of
    // the loop at a background fill's first step).
    const { flags } = this;
    let n = 0;
    for (let row = from; row < to; row++) if (flags[row] & LIVE) n++;
    const rows = new Uint32Array(n);
    n = 0;
    for (let row = from; row < to; row++) if (flags[row] & LIVE) rows[n++] = row;
    return rows;
  }

  /** The rows' codes, one after another (what an engine's add takes). */
  private codesOf(rows: ArrayLike<number>): Uint8Array {
    const codes = new Uint8Array(rows.length * this.bytes);
    const one = new Uint8Array(this.bytes);
    for (let i = 0; i < rows.length; i++) codes.set(this.codeOfRow(rows[i], one), i * this.bytes);
    return codes;
  }

  /** Each query vector's code, and its cosine with row i: exact in float, or the compact
   *  approximation (whose projection also gives the code when the hash is its prefix, and
   *  the coarse vector that picks the lists a search scans). */
  private prepare(list: readonly QueryVector[]): PreparedVector[] {
    const { codec, compact } = this;
    const queries = list.map((q) => q.embedding);
    if (!codec || !compact) {
      return queries.map((q) => ({
        code: this.hasher.encode(q),
        cosines: (rows, n, out) => {
          for (let i = 0; i < n; i++) out[i] = dot(q, this.floats[rows[i]]!);
        },
      }));
    }
    const { engine } = this;
    for (const q of list)
      if (q.prepared && q.prepared.y.length !== codec.dims)
        throw new RangeError(`a query prepared at ${q.prepared.y.length} dims, not this index's ${codec.dims}`);
    const missing = list.flatMap((q) => (q.prepared ? [] : [q.embedding]));
    const made = missing.length > 0 ? codec.prepareAll(missing) : [];
    let next = 0;
    const all = list.map((q) => q.prepared ?? made[next++]);
    // The coarse lists a region scans are chosen by its distances to their centroids.
    const near =
      engine instanceof CoarseListIndex ? engine.distancesOf(all.map((p) => l2Normalize(p.y.subarray(0, COARSE_DIMS)))) : undefined;
    return all.map((prepared, qi) => ({
      code: this.deriveCodes ? codec.codeOf(prepared, this.hasher.bits) : this.hasher.encode(queries[qi]),
      cosines: (rows, n, out) => codec.similarities(prepared, compact, rows, n, out),
      query: prepared,
      ...(near ? { nearDistances: near[qi] } : {}),
    }));
  }
}

/**
 * A query region's LocalScaling, from its best similarity with each product it reached
 * (its own penalty taken): the level is the rank-th best of those before that penalty.
 * A region that reached fewer products is not scaled. (bench/e2e/tune-contrast.ts fits
 * the scaling with this same function.)
 */
export function levelScale(reached: Iterable<number>, penalty: number, s: LocalScaling): (x: number) => number {
  // A region reaches up to hundreds of products and the rank is small.
  const greatest = new GreatestValues(s.rank);
  for (const v of reached) greatest.offer(v);
  if (greatest.count < s.rank) return (x) => x;
  const excess = greatest.nth + penalty - s.typical;
  return (x) => x - s.weight * excess * taper(x, s.fullBelow);
}

/** The share of a second look's weight that applies at score x: all of it up to
 *  fullBelow, then linearly less, to none at 1 (an identical image keeps its 1). */
export function taper(x: number, fullBelow: number): number {
  return Math.min(1, Math.max(0, (1 - x) / (1 - fullBelow)));
}

function rowPenalty(flags: number): number {
  return flags & PARTIAL ? PARTIAL_PENALTY : flags & THUMBNAIL ? THUMBNAIL_PENALTY : 0;
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`an indexed region needs its ${what}`);
  return v;
}

/** Frozen label lists shared by the products that have the same (bounded as StringPool). */
class LabelListPool {
  private readonly pool = new Map<string, IndexedProduct['labels']>();

  constructor(private readonly capacity = 65_536) {}

  get(labels: IndexedProduct['labels'], strings: StringPool): IndexedProduct['labels'] {
    if (labels.length === 0) return EMPTY_LABELS;
    // JSON keeps any key and value apart (a separator character could occur in them).
    const key = JSON.stringify(labels.map((l) => [l.key, l.value]));
    const kept = this.pool.get(key);
    if (kept) return kept;
    const list = Object.freeze(labels.map((l) => Object.freeze({ key: strings.get(l.key), value: strings.get(l.value) })));
    if (this.pool.size < this.capacity) this.pool.set(key, list);
    return list;
  }
}
const EMPTY_LABELS: IndexedProduct['labels'] = Object.freeze([]);

/**
 * One copy of each string that many products repeat (scope, category, label keys and
 * values): a store hands every record its own copies. Bounded, so a catalog of unique
 * label values costs at most this many entries more; past it, strings are kept as given.
 */
class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly capacity = 65_536) {}

  get(s: string): string {
    const kept = this.pool.get(s);
    if (kept !== undefined) return kept;
    if (this.pool.size < this.capacity) this.pool.set(s, s);
    return s;
  }
}
