/**
 * Keeps one in-memory ProductSetIndex per product set in step with the store. Start-up
 * builds every set; then every `pollMs` the product sets' index stamps are compared with
 * the ones each local index was built at, and the sets whose stamp moved (a change by this
 * or another process) are rebuilt, sets that disappeared are dropped. A process's own
 * writes also call `refresh` at once, so its changes are searchable before it answers.
 * `indexTime` of a set is when the index that search uses was built.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LocationName } from '../catalog/names';
import type { CatalogStore, ProductRecord } from '../store/catalog-store';
import { ProductSetIndex, type IndexedRegion } from './product-set-index';
import type { Hasher } from './hasher';
import type { CompactEmbeddingCodec, CompactVector } from './compact-embedding';

interface Entry {
  stamp: string;
  index: ProductSetIndex;
  indexTime: Date;
}

const PAGE = 500;
const keyOf = (scope: LocationName, id: string) => `${scope.project}/${scope.location}/${id}`;

export class CatalogIndex {
  private readonly sets = new Map<string, Entry>();
  private readonly compact = new Map<string, Map<string, CompactVector>>();
  /** Rebuilds of one set run one after another. */
  private readonly chains = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(
    private readonly store: CatalogStore,
    private readonly hasher: Hasher,
    private readonly pollMs: number,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
    /** Told, per rebuild, the seconds from the change to its being searchable here. */
    private readonly onIndexed: (lagSeconds: number) => void = () => undefined,
    /** Re-rank data held as int8 PCA projections (compact-embedding.ts); float without. */
    private readonly codec?: CompactEmbeddingCodec,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync().catch((err: unknown) => this.log.warn({ err }, 'index sync failed')), this.pollMs);
    this.timer.unref();
  }

  get(scope: LocationName, setId: string): { index: ProductSetIndex; indexTime: Date } | undefined {
    return this.sets.get(keyOf(scope, setId));
  }

  indexTime(scope: LocationName, setId: string): Date | undefined {
    return this.sets.get(keyOf(scope, setId))?.indexTime;
  }

  /** Regions indexed and bytes held per set, for metrics. */
  sizes(): { set: string; regions: number; bytes: number }[] {
    return [...this.sets.entries()].map(([set, e]) => ({ set, regions: e.index.size, bytes: e.index.memoryBytes }));
  }

  /** Rebuilds the named sets now (after this process changed them and wrote `stamp`). */
  async refresh(scope: LocationName, setIds: readonly string[], stamp: string): Promise<void> {
    const changed = this.clock();
    await Promise.all(setIds.map((id) => this.rebuild(scope, id, stamp, changed)));
  }

  /** One comparison of every set's stamp with the local index. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const seen = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await this.store.listProductSetStamps({ after, limit: PAGE });
      for (const s of page) {
        const key = keyOf(s, s.id);
        seen.add(key);
        if (this.sets.get(key)?.stamp !== s.stamp) await this.rebuild(s, s.id, s.stamp, s.stampTime);
      }
      if (page.length < PAGE) break;
      after = keyOf(page[page.length - 1], page[page.length - 1].id);
    }
    for (const key of this.sets.keys()) {
      if (!seen.has(key)) {
        this.sets.delete(key);
        this.compact.delete(key);
      }
    }
  }

  private rebuild(scope: LocationName, setId: string, stamp: string, changed: Date): Promise<void> {
    const key = keyOf(scope, setId);
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.build(scope, setId, stamp, key))
      // Sets never touched since start-up (epoch stamp time) have no change to measure.
      .then(() => {
        if (changed.getTime() > 0) this.onIndexed((this.clock().getTime() - changed.getTime()) / 1000);
      });
    this.chains.set(key, next.catch(() => undefined));
    return next;
  }

  private async build(scope: LocationName, setId: string, stamp: string, key: string): Promise<void> {
    const index = new ProductSetIndex(this.hasher, this.codec);
    const set = { ...scope, productSet: setId };
    // Compact re-rank data of the last build, reused for the regions still there: a
    // projection costs 0.3 ms a region, and a rebuild follows every catalog write.
    const previous = this.compact.get(key) ?? new Map<string, CompactVector>();
    const current = new Map<string, CompactVector>();
    let after: string | undefined;
    for (;;) {
      const products = await this.store.listProductsInSet(set, { after, limit: PAGE });
      for (const p of products) index.addProduct(p, await this.regionsOf(p, previous, current));
      if (products.length < PAGE) break;
      after = products[products.length - 1].id;
      // The embedded store answers synchronously: let the server serve between pages.
      await setImmediate();
    }
    this.sets.set(key, { stamp, index: index.seal(), indexTime: this.clock() });
    this.compact.set(key, current);
  }

  private async regionsOf(p: ProductRecord, previous: Map<string, CompactVector>, current: Map<string, CompactVector>): Promise<IndexedRegion[]> {
    const out: IndexedRegion[] = [];
    let after: string | undefined;
    for (;;) {
      const images = await this.store.listReferenceImages({ project: p.project, location: p.location, product: p.id }, { after, limit: PAGE });
      for (const img of images) {
        if (img.state !== 'READY') continue;
        img.regions.forEach((r, i) => {
          if (!r.embedding) return;
          const embedding = toFloat32(r.embedding);
          // A stored code is a cache: re-encode when it was made for another code length.
          const code = r.code && r.code.length * 8 === this.hasher.bits ? r.code : this.hasher.encode(embedding);
          // Reference images never change; one deleted and created again has a new createTime.
          const id = `${p.id}/${img.id}/${img.createTime.getTime()}/${i}`;
          const compact = this.codec ? (previous.get(id) ?? this.codec.encode(embedding)) : undefined;
          if (compact) current.set(id, compact);
          out.push({ productId: p.id, imageId: img.id, embedding, code, source: r.source, ...(compact ? { compact } : {}) });
        });
      }
      if (images.length < PAGE) break;
      after = images[images.length - 1].id;
    }
    return out;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Float32 view of stored little-endian bytes (copied when unaligned). */
function toFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.slice().buffer);
}
