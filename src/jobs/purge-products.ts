/**
 * PurgeProducts: deletes every product of a product set, or every product in no set, as a
 * persisted operation. The RPC validates and enqueues; `PurgeProductsJob` deletes page by
 * page, checkpointing after each page so a crashed or paused run resumes where it stopped.
 *
 * Force: Google documents that `force` must be true "to actually perform the purge" and its
 * samples say the service raises an error otherwise. Metapixel answers INVALID_ARGUMENT
 * before creating any operation, so nothing is deleted (docs/api-behaviour.md).
 */
import { setImmediate } from 'node:timers/promises';
import { invalidArgument, notFound } from '../core/errors';
import type { CallContext } from '../core/context';
import { names, type LocationName } from '../core/names';
import { toTimestamp } from '../core/messages';
import * as rules from '../catalog/rules';
import { productChanges, recordIndexChanges, type IndexRefresher } from '../catalog/catalog-service';
import type { CatalogStore, ProductRecord } from '../store/catalog-store';
import type { IndexChangeTarget, IndexFeedStore } from '../store/index-feed-store';
import type { OperationRecord } from '../store/operation-store';
import type { JobControl, JobHandler, JobOutcome } from './job-runner';
import type { OperationsService } from './operations-service';
import type { JobProgress } from './progress';
import { BATCH_METADATA_TYPE, batchMetadata, toOperationMsg } from './operation-view';

export const PURGE_PRODUCTS_KIND = 'purge-products';
const EMPTY = { '@type': 'type.googleapis.com/google.protobuf.Empty' };
const PAGE = 100;
export interface PurgeProductsRequestMsg {
  parent?: string;
  productSetPurgeConfig?: { productSetId?: string } | null;
  deleteOrphanProducts?: boolean;
  force?: boolean;
}

/** What the operation record keeps as its request: one target. */
export type PurgeTarget = { productSetId: string } | { orphans: true };

/**
 * The resume point. `after`: the last product id of the last finished page. `touch`: the
 * index changes this page makes (each deleted product in each of its sets); it and
 * `pending` are written before the deletes, since once a product is gone its memberships
 * can no longer be listed, and a crash between delete and recording the changes would
 * leave search serving it. (Checkpoints of older builds hold set ids here: whole-set
 * changes, which rebuild those sets.)
 */
interface PurgeCheckpoint {
  after?: string;
  deleted: number;
  touch?: (IndexChangeTarget | string)[];
  /** The products the page in progress deletes, recorded with `touch`: a resumed run counts
   *  those already gone (the redone page no longer lists them). */
  pending?: string[];
  /** For GetOperationProgress: the products deleted so far (no total is known ahead). */
  progress?: JobProgress;
}

const checkpoint = (cp: Omit<PurgeCheckpoint, 'progress'>): PurgeCheckpoint => ({
  ...cp,
  progress: { processedLines: cp.deleted, failedLines: 0 },
});

export class PurgeProductsService {
  constructor(
    private readonly store: CatalogStore,
    private readonly operations: OperationsService,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async purgeProducts(req: PurgeProductsRequestMsg, ctx: CallContext) {
    const scope = names.parseLocation(req.parent);
    ctx.principal.assertProject(scope.project);
    const target = purgeTarget(req);
    if ('productSetId' in target && !(await this.store.getProductSet({ ...scope, productSet: target.productSetId }))) {
      throw notFound(`ProductSet ${names.productSet({ ...scope, productSet: target.productSetId })} not found.`);
    }
    if (req.force !== true) {
      throw invalidArgument('PurgeProducts cannot be undone: set force to true to delete the products. Nothing was deleted.');
    }
    const rec = await this.operations.enqueue({
      ...scope,
      kind: PURGE_PRODUCTS_KIND,
      request: target,
      metadata: batchMetadata(this.clock(), 'PROCESSING'),
    });
    return toOperationMsg(rec);
  }
}

/** Exactly one target: a product set (with a valid id) or the orphans. */
function purgeTarget(req: PurgeProductsRequestMsg): PurgeTarget {
  const bySet = req.productSetPurgeConfig != null;
  const orphans = req.deleteOrphanProducts === true;
  if (bySet === orphans) {
    throw invalidArgument('Exactly one of product_set_purge_config and delete_orphan_products (true) must be set.');
  }
  if (orphans) return { orphans: true };
  const id = req.productSetPurgeConfig?.productSetId;
  if (!id) throw invalidArgument('Missing required field: product_set_purge_config.product_set_id.');
  return { productSetId: rules.resourceId(id, 'product_set_purge_config.product_set_id') };
}

export class PurgeProductsJob implements JobHandler {
  readonly kind = PURGE_PRODUCTS_KIND;

  constructor(
    private readonly store: CatalogStore,
    private readonly feed: IndexFeedStore,
    private readonly index?: IndexRefresher,
    private readonly clock: () => Date = () => new Date(),
    private readonly pageSize = PAGE,
  ) {}

  /** Pages end only at page boundaries: a cancel or shutdown lands between pages. */
  async run(op: OperationRecord, ctl: JobControl): Promise<unknown> {
    const scope: LocationName = { project: op.project, location: op.location ?? '' };
    const target = op.request as PurgeTarget;
    let cp: PurgeCheckpoint = (op.checkpoint as PurgeCheckpoint | undefined) ?? { deleted: 0 };
    // A run that stopped inside a page: its deleted products may be gone from the sets
    // already, so record the page's changes before redoing it, and count them.
    if (cp.touch?.length)
      await this.changed(
        scope,
        cp.touch.map((t) => (typeof t === 'string' ? { setId: t } : t)),
      );
    if (cp.pending?.length) cp = { after: cp.after, deleted: cp.deleted + (await this.gone(scope, cp.pending)) };
    await this.pages(op, ctl, scope, target, cp);
    return EMPTY;
  }

  private async pages(
    op: OperationRecord,
    ctl: JobControl,
    scope: LocationName,
    target: PurgeTarget,
    from: PurgeCheckpoint,
  ): Promise<void> {
    let cp = from;
    for (;;) {
      ctl.signal.throwIfAborted();
      const page = await this.page(scope, target, cp.after);
      if (page.scanned.length === 0) break;
      const touch = page.victims.flatMap((v) => productChanges(v.product.id, v.sets));
      const pending = page.victims.map((v) => v.product.id);
      if (pending.length > 0) await ctl.progress(op.metadata, checkpoint({ ...cp, touch, pending }));
      let deleted = cp.deleted;
      for (const v of page.victims) {
        // Idempotent: a product already gone (an earlier attempt, a concurrent delete) is skipped.
        if (await this.store.deleteProduct({ ...scope, product: v.product.id })) deleted++;
        // The embedded store answers synchronously: without a turn of the event loop per
        // product, a purge of thousands would leave the server deaf (API, health checks)
        // until it ends.
        await setImmediate();
      }
      // Each deleted product leaves each of its sets' index: O(page), here and on replicas.
      await this.changed(scope, touch);
      cp = checkpoint({ after: page.scanned[page.scanned.length - 1].id, deleted });
      await ctl.progress(op.metadata, cp);
      if (page.scanned.length < this.pageSize) break;
    }
  }

  finalMetadata(op: OperationRecord, outcome: JobOutcome, now: Date): unknown {
    const state = outcome === 'SUCCEEDED' ? 'SUCCESSFUL' : outcome;
    return { ...(op.metadata as object), '@type': BATCH_METADATA_TYPE, state, endTime: toTimestamp(now) };
  }

  /**
   * One page of candidates and, for each product to delete, the sets it is in: two store
   * reads per page (the products, then the sets of all of them at once).
   */
  private async page(scope: LocationName, target: PurgeTarget, after: string | undefined) {
    const limit = this.pageSize;
    const scanned: ProductRecord[] =
      'productSetId' in target
        ? await this.store.listProductsInSet({ ...scope, productSet: target.productSetId }, { after, limit })
        : await this.store.listProducts(scope, { after, limit });
    const setsOf = await this.store.listSetsOfProducts(
      scope,
      scanned.map((p) => p.id),
    );
    const withSets = scanned.map((product) => ({ product, sets: setsOf.get(product.id) ?? [] }));
    const victims = 'productSetId' in target ? withSets : withSets.filter((v) => v.sets.length === 0);
    return { scanned, victims };
  }

  private async gone(scope: LocationName, ids: readonly string[]): Promise<number> {
    let n = 0;
    for (const product of ids) if (!(await this.store.getProduct({ ...scope, product }))) n++;
    return n;
  }

  private changed(scope: LocationName, changes: readonly IndexChangeTarget[]): Promise<void> {
    return recordIndexChanges(this.feed, scope, changes, this.clock(), this.index);
  }
}
