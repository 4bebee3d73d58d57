/**
 * Keeps one in-memory ProductSetIndex per product set in step with the store by following
 * the index change feed (IndexFeedStore.appendIndexChanges): every `pollMs` the changes after
 * the last position applied are read and each is applied by reading the state it names
 * (one product in one set: O(that product's regions); a set itself: built or dropped).
 * Where the store pushes appends (MongoDB change streams on a replica set), each push also
 * starts a poll at once. A process's own writes are applied at once (applyOwn), so they are
 * searchable before the writer answers, and again harmlessly when the poll meets them.
 *
 * Start-up: from the snapshot in `snapshotDir` when there is a usable one (same feed, same
 * format, younger than the feed's retention), then the feed from its watermark; otherwise a
 * full build of every set from the store (logged with progress). A full build is also how
 * a set is recovered (a change of the set itself); `rebuilds` counts them.
 *
 * Feed gaps: a writer takes a seq and then stores its change, so the poll may meet seq 12
 * before 11 (or never meet 11 when its writer died). Changes are applied as met; the
 * position advances over the run of applied seqs, and a missing seq is waited for
 * `gapWaitMs` before it is passed over.
 */
import { setImmediate } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { LocationName } from '../core/names';
import { toFloat32 } from '../core/vectors';
import type { CatalogStore, ProductRecord } from '../store/catalog-store';
import type { IndexChange, IndexChangeTarget, IndexFeedStore } from '../store/index-feed-store';
import {
  FourBitStateRefused,
  ProductSetIndex,
  type CoarseListSettings,
  type IndexedRegion,
  type RerankSettings,
} from './product-set-index';
import type { Hasher } from './hasher';
import type { CompactEmbeddingCodec, PreparedQuery } from './compact-embedding';
import { readManifest, readSetSnapshot, writeManifest, writeSetSnapshot, type SnapshotManifest } from './index-snapshot';

interface Entry {
  scope: LocationName;
  setId: string;
  index: ProductSetIndex;
  indexTime: Date;
  /** Changed since its snapshot file was written. */
  dirty: boolean;
  file?: string;
}

export interface CatalogIndexOptions {
  pollMs: number;
  /** Where snapshots go; none: no snapshots. */
  snapshotDir?: string;
  /** How often changed sets are written to the snapshot (0: only at close). */
  snapshotEveryMs?: number;
  /** How long the store keeps changes (trimmed by every process); snapshots older are not used. */
  changeRetentionMs?: number;
  gapWaitMs?: number;
  /** Hold only the product sets of this shard (scale-out by set, docs/deployment.md). */
  shard?: IndexShard;
  /** Coarse lists for large sets (none: every set is scanned exactly). */
  coarse?: CoarseListSettings;
  /** 4-bit re-rank rows for large sets (none: the codec's bits for every set). */
  rerank?: RerankSettings;
  clock?: () => Date;
  /** Told, per set and batch of changes applied, the seconds from the oldest to its being searchable here. */
  onIndexed?: (lagSeconds: number) => void;
}

/** Shard `index` of `count`: the sets whose key hashes to it (FNV-1a, mod count). */
export interface IndexShard {
  index: number;
  count: number;
}

/** Parses METAPIXEL_INDEX_SHARD ("k/N", 0 <= k < N); '' is every set. */
export function parseIndexShard(text: string): IndexShard | undefined {
  if (text === '') return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index >= 0 && index < count)) throw new Error(`METAPIXEL_INDEX_SHARD must be "k/N" with 0 <= k < N, got "${text}"`);
  return { index, count };
}

/** The shard a set belongs to among `count`. */
export function shardOf(project: string, location: string, setId: string, count: number): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(`${project}/${location}/${setId}`)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return h % count;
}

const PAGE = 500;
const CHANGES_PAGE = 1000;
const PROGRESS_LOG_MS = 5000;
const TRIM_EVERY_MS = 3600_000;
const keyOf = (scope: LocationName, id: string) => `${scope.project}/${scope.location}/${id}`;

export class CatalogIndex {
  private readonly sets = new Map<string, Entry>();
  /** Applications to one set run one after another. */
  private readonly chains = new Map<string, Promise<void>>();
  private feedId = '';
  /** Every change with seq <= watermark has been applied. */
  private watermark = 0;
  /** Seqs above the watermark already applied. */
  private readonly appliedAbove = new Set<number>();
  private gap?: { seq: number; since: number };
  private timers: NodeJS.Timeout[] = [];
  /** Whether start() has ended: searches may come, so no set's build may pause the loop long. */
  private serving = false;
  private polling?: Promise<void>;
  /** An append was pushed while a poll was under way: poll again when it ends. */
  private pollAgain = false;
  /** Stops the store's push of appends, when it has one (see IndexFeedStore.watchIndexChanges). */
  private unwatch?: () => Promise<void>;
  private closed = false;
  private snapshotting?: Promise<void>;
  private lastTrim = 0;
  private readonly clock: () => Date;
  private readonly format: string;
  /** Counters for /metrics. */
  readonly counters = { rebuilds: 0, changesApplied: 0 };

  constructor(
    private readonly store: CatalogStore,
    private readonly feed: IndexFeedStore,
    private readonly hasher: Hasher,
    private readonly codec: CompactEmbeddingCodec | undefined,
    private readonly log: Logger,
    private readonly opts: CatalogIndexOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
    this.format = `${codec ? codec.formatId : 'float'}-${hasher.bits}`;
  }

  async start(): Promise<void> {
    const head = await this.feed.indexFeedHead();
    this.feedId = head.feedId;
    const started = Date.now();
    if (await this.loadSnapshot()) {
      this.log.info(
        { sets: this.sets.size, regions: this.regionCount(), watermark: this.watermark, seconds: (Date.now() - started) / 1000 },
        'search index loaded from snapshot',
      );
    } else {
      this.watermark = head.seq;
      await this.buildAll();
      this.log.info(
        { sets: this.sets.size, regions: this.regionCount(), seconds: (Date.now() - started) / 1000 },
        'search index built from the store',
      );
    }
    await this.poll();
    this.serving = true;
    const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.log.warn({ err }, `${what} failed`)), ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.opts.pollMs, () => this.poll(), 'index sync');
    await this.watch();
    if (this.opts.snapshotDir && this.opts.snapshotEveryMs) every(this.opts.snapshotEveryMs, () => this.snapshot(), 'index snapshot');
  }

  /**
   * A query's region embeddings prepared for searching any set of this index (each
   * QueryVector's `prepared`), in one batch projection when the codec has one; undefined
   * without a codec (float embeddings need no preparing).
   */
  async prepare(embeddings: readonly Float32Array[]): Promise<PreparedQuery[] | undefined> {
    return this.codec?.prepareAllAsync(embeddings);
  }

  /** Whether this process holds the set (always, unless sharded). */
  holds(scope: LocationName, setId: string): boolean {
    const shard = this.opts.shard;
    return !shard || shardOf(scope.project, scope.location, setId, shard.count) === shard.index;
  }

  get shard(): IndexShard | undefined {
    return this.opts.shard;
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

  /** The feed position this process has applied everything up to. */
  get position(): number {
    return this.watermark;
  }

  /** Applies changes this process appended under `seqs`, before its writer answers. */
  async applyOwn(scope: LocationName, changes: readonly IndexChangeTarget[], seqs: readonly number[]): Promise<void> {
    const now = this.clock();
    await this.applyAll(changes.map((c, i) => ({ ...scope, ...c, seq: seqs[i], time: now })));
    for (const seq of seqs) if (seq > this.watermark) this.appliedAbove.add(seq);
    this.advance();
  }

  /** Reads and applies the changes after the watermark (one run at a time). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
      if (this.pollAgain) this.wake();
    });
    return this.polling;
  }

  /** Changes were appended: polls now, or once the poll under way (which may have read the
   *  feed before them) ends. */
  private wake(): void {
    if (this.closed) return;
    this.pollAgain = this.polling !== undefined;
    if (!this.pollAgain) void this.poll().catch((err: unknown) => this.log.warn({ err }, 'index sync failed'));
  }

  /** Has the store push appends, where it can: other processes' writes are then applied
   *  within milliseconds, not at the next poll (which goes on, as a safety net). */
  private async watch(): Promise<void> {
    if (!this.feed.watchIndexChanges) return;
    const onError = (err: unknown) => {
      this.unwatch = undefined;
      this.log.warn({ err }, 'index change stream ended; following the feed by polling');
    };
    try {
      this.unwatch = await this.feed.watchIndexChanges(() => this.wake(), onError);
    } catch (err) {
      this.log.warn({ err }, 'index change stream not opened; following the feed by polling');
    }
    this.log.info(
      { pollMs: this.opts.pollMs, changeStream: this.unwatch !== undefined },
      this.unwatch ? 'index feed followed by a change stream and polling' : 'index feed followed by polling',
    );
  }

  /** Writes the sets changed since the last snapshot, then the manifest. */
  snapshot(): Promise<void> {
    if (!this.opts.snapshotDir) return Promise.resolve();
    this.snapshotting ??= this.snapshotOnce(this.opts.snapshotDir).finally(() => (this.snapshotting = undefined));
    return this.snapshotting;
  }

  /** Rebuilds one set from the store (recovery; what the property test compares against). */
  rebuild(scope: LocationName, setId: string): Promise<void> {
    return this.onSet(keyOf(scope, setId), () => this.buildSet(scope, setId));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.unwatch?.().catch((err: unknown) => this.log.warn({ err }, 'index change stream close failed'));
    this.unwatch = undefined;
    await this.polling?.catch(() => undefined);
    await this.snapshot().catch((err: unknown) => this.log.warn({ err }, 'index snapshot at close failed'));
  }

  // ---- the feed -----------------------------------------------------------------------

  private async pollOnce(): Promise<void> {
    for (;;) {
      const changes = await this.feed.listIndexChanges(this.watermark, CHANGES_PAGE);
      const fresh = changes.filter((c) => !this.appliedAbove.has(c.seq));
      await this.applyAll(fresh);
      for (const c of changes) this.appliedAbove.add(c.seq);
      const before = this.watermark;
      this.advance();
      if (changes.length < CHANGES_PAGE || this.watermark === before) break;
    }
    await this.trim();
  }

  /** Moves the watermark over applied seqs, and over a gap waited for long enough. */
  private advance(): void {
    for (;;) {
      while (this.appliedAbove.delete(this.watermark + 1)) this.watermark++;
      if (this.appliedAbove.size === 0) {
        this.gap = undefined;
        return;
      }
      const missing = this.watermark + 1;
      const now = Date.now();
      if (this.gap?.seq !== missing) this.gap = { seq: missing, since: now };
      if (now - this.gap.since < (this.opts.gapWaitMs ?? 10_000)) return;
      this.log.warn({ seq: missing }, 'index change never stored (its writer stopped?); passing over it');
      this.watermark = missing;
    }
  }

  /** Applies changes grouped by set, each distinct (set, product) once, sets in parallel. */
  private async applyAll(changes: readonly IndexChange[]): Promise<void> {
    const bySet = new Map<string, { scope: LocationName; setId: string; products: Set<string>; whole: boolean; since: number }>();
    for (const c of changes) {
      if (!this.holds(c, c.setId)) continue;
      const key = keyOf(c, c.setId);
      let g = bySet.get(key);
      if (!g)
        bySet.set(
          key,
          (g = {
            scope: { project: c.project, location: c.location },
            setId: c.setId,
            products: new Set(),
            whole: false,
            since: c.time.getTime(),
          }),
        );
      g.since = Math.min(g.since, c.time.getTime());
      if (c.productId === undefined) g.whole = true;
      else g.products.add(c.productId);
    }
    await Promise.all(
      [...bySet.entries()].map(([key, g]) =>
        this.onSet(key, async () => {
          if (g.whole || !this.sets.has(key)) await this.buildSet(g.scope, g.setId);
          else for (const productId of g.products) await this.applyProduct(key, g.scope, g.setId, productId);
          this.counters.changesApplied += g.products.size + (g.whole ? 1 : 0);
          this.opts.onIndexed?.((this.clock().getTime() - g.since) / 1000);
        }),
      ),
    );
  }

  private onSet(key: string, fn: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(key) ?? Promise.resolve()).then(fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  /** The product's state in the set, read again: in it with its regions, or out. */
  private async applyProduct(key: string, scope: LocationName, setId: string, productId: string): Promise<void> {
    const entry = this.sets.get(key);
    if (!entry) return;
    const name = { ...scope, product: productId };
    const [sets, product] = await Promise.all([this.store.listSetsOfProduct(name), this.store.getProduct(name)]);
    if (!product || !sets.includes(setId)) {
      entry.index.removeProduct(productId);
    } else {
      entry.index.upsertProduct(product, await this.regionsOf(product));
    }
    entry.indexTime = this.clock();
    entry.dirty = true;
  }

  private async trim(): Promise<void> {
    const retention = this.opts.changeRetentionMs;
    const now = this.clock().getTime();
    if (!retention || now - this.lastTrim < TRIM_EVERY_MS) return;
    this.lastTrim = now;
    const n = await this.feed.trimIndexChanges(new Date(now - retention));
    if (n) this.log.info({ changes: n }, 'index changes past retention trimmed');
  }

  // ---- full builds ----------------------------------------------------------------------

  private async buildAll(): Promise<void> {
    let after: string | undefined;
    let lastLog = Date.now();
    for (;;) {
      const page = await this.store.listProductSetKeys({ after, limit: PAGE });
      for (const s of page) {
        if (!this.holds(s, s.id)) continue;
        await this.onSet(keyOf(s, s.id), () => this.buildSet(s, s.id));
        if (Date.now() - lastLog >= PROGRESS_LOG_MS) {
          lastLog = Date.now();
          this.log.info({ sets: this.sets.size, regions: this.regionCount() }, 'building the search index from the store');
        }
      }
      if (page.length < PAGE) break;
      after = keyOf(page[page.length - 1], page[page.length - 1].id);
    }
  }

  /** Builds the set from the store and swaps it in; drops it when the set is gone. */
  private async buildSet(scope: LocationName, setId: string): Promise<void> {
    const key = keyOf(scope, setId);
    this.counters.rebuilds++;
    if (!(await this.store.getProductSet({ ...scope, productSet: setId }))) {
      this.sets.get(key)?.index.dispose();
      this.sets.delete(key);
      return;
    }
    const index = new ProductSetIndex(this.hasher, this.codec, 0, this.opts.coarse, this.rerankOf(key));
    index.startBulkLoad({ serving: this.serving });
    const set = { ...scope, productSet: setId };
    let after: string | undefined;
    for (;;) {
      const products = await this.store.listProductsInSet(set, { after, limit: PAGE });
      for (const p of products) index.upsertProduct(p, await this.regionsOf(p));
      if (products.length < PAGE) break;
      after = products[products.length - 1].id;
      // The embedded store answers synchronously: let the server serve between pages.
      await setImmediate();
    }
    index.trim();
    this.sets.get(key)?.index.dispose();
    this.sets.set(key, { scope, setId, index, indexTime: this.clock(), dirty: true });
  }

  /** The rerank settings for the set `key`, logging when its rows become 4-bit. */
  private rerankOf(key: string): RerankSettings | undefined {
    const { rerank } = this.opts;
    if (!rerank) return undefined;
    return { ...rerank, onFourBits: (regions) => this.log.info({ set: key, regions }, 'product set re-rank rows re-quantized to 4 bits') };
  }

  private async regionsOf(p: ProductRecord): Promise<IndexedRegion[]> {
    const out: IndexedRegion[] = [];
    let after: string | undefined;
    for (;;) {
      const images = await this.store.listReferenceImages(
        { project: p.project, location: p.location, product: p.id },
        { after, limit: PAGE },
      );
      for (const img of images) {
        if (img.state !== 'READY') continue;
        for (const r of img.regions) {
          const compact = r.compact && this.codec?.deserialize(r.compact);
          if (!compact && !r.embedding) continue;
          const embedding = r.embedding && toFloat32(r.embedding);
          // A stored code is a cache: re-encoded when made for another code length.
          const code = r.code && r.code.length * 8 === this.hasher.bits ? r.code : undefined;
          out.push({
            imageId: img.id,
            source: r.source,
            ...(embedding ? { embedding } : {}),
            ...(code ? { code } : {}),
            ...(compact ? { compact } : {}),
          });
        }
      }
      if (images.length < PAGE) break;
      after = images[images.length - 1].id;
    }
    return out;
  }

  private regionCount(): number {
    let n = 0;
    for (const e of this.sets.values()) n += e.index.size;
    return n;
  }

  // ---- snapshots ------------------------------------------------------------------------

  private async loadSnapshot(): Promise<boolean> {
    const dir = this.opts.snapshotDir;
    if (!dir || !this.codec) return false;
    let manifest: SnapshotManifest | undefined;
    try {
      manifest = await readManifest(dir);
    } catch (err) {
      this.log.warn({ err }, 'index snapshot manifest unreadable; building from the store');
      return false;
    }
    if (!manifest) return false;
    const age = this.clock().getTime() - manifest.time;
    const why =
      manifest.feedId !== this.feedId
        ? 'it belongs to another store'
        : manifest.format !== this.format
          ? 'it was made with another projection or code length'
          : this.opts.changeRetentionMs && age > this.opts.changeRetentionMs / 2
            ? 'it is older than half the change retention'
            : undefined;
    if (why) {
      this.log.info({ dir, reason: why }, 'index snapshot not used');
      return false;
    }
    try {
      for (const [key, file] of Object.entries(manifest.sets)) {
        const snap = await readSetSnapshot(dir, file, this.format);
        let index: ProductSetIndex;
        try {
          index = ProductSetIndex.fromState(this.hasher, this.codec, snap.state, this.opts.coarse, this.rerankOf(key));
        } catch (err) {
          if (!(err instanceof FourBitStateRefused)) throw err;
          // Only this set: built from the store as it is now (the feed's changes since the
          // snapshot, replayed after, read the store again and change nothing more).
          this.log.info({ set: key, reason: err.message }, 'set snapshot not used; building the set from the store');
          await this.buildSet(snap.scope, snap.setId);
          continue;
        }
        this.sets.set(key, { scope: snap.scope, setId: snap.setId, index, indexTime: new Date(manifest.time), dirty: false, file });
      }
    } catch (err) {
      this.log.warn({ err }, 'index snapshot unreadable; building from the store');
      this.sets.clear();
      return false;
    }
    this.watermark = manifest.watermark;
    return true;
  }

  private async snapshotOnce(dir: string): Promise<void> {
    if (!this.codec) return;
    // Everything captured in one synchronous step: the watermark and the sets' states.
    const watermark = this.watermark;
    const time = this.clock().getTime();
    const captured = [...this.sets.entries()].map(([key, e]) => {
      // A set whose engine changed (lists taken over after a background fill) is written
      // again: a snapshot taken during the fill has no lists.
      const state = e.dirty || e.index.engineChangedSinceState ? e.index.toState() : undefined;
      e.dirty = false;
      return { key, e, state };
    });
    const sets: Record<string, string> = {};
    try {
      for (const { key, e, state } of captured) {
        if (state) e.file = await writeSetSnapshot(dir, key, { scope: e.scope, setId: e.setId, state }, this.format);
        if (e.file) sets[key] = e.file;
      }
    } catch (err) {
      for (const c of captured) if (c.state) c.e.dirty = true;
      throw err;
    }
    await writeManifest(dir, { feedId: this.feedId, watermark, time, format: this.format, sets });
  }
}
