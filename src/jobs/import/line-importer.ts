/**
 * Applies one parsed import line to the catalog: the product set and the product are
 * created when missing, the product joins the set, and the reference image is created
 * (or, for a line that names an image another line made, gets that line's region).
 *
 * Every step is idempotent, so a line processed again after a crash ends the same way:
 * an existing set or product is used as it is (Google: an existing product keeps its
 * category, labels and display name), memberships are idempotent, and an image that
 * already exists with the same URI (and, when the line has a polygon, that polygon) is
 * a success, not a duplicate. The pixels are processed before anything is written, so a
 * line whose image cannot be used leaves nothing behind.
 */
import { alreadyExists, Code, failedPrecondition, invalidArgument, isMetapixelError } from '../../core/errors';
import type { ReferenceImageProcessor } from '../../catalog/catalog-service';
import type { ReferenceImageMsg } from '../../core/messages';
import { names, type LocationName, type ProductName, type ReferenceImageName } from '../../core/names';
import * as rules from '../../catalog/rules';
import { referenceImageView } from '../../catalog/views';
import type { CatalogStore, PolyRecord, ProductRecord, ReferenceImageRecord, RegionRecord } from '../../store/catalog-store';
import type { ImportLine } from './import-line';

export interface LineImporterOptions {
  maxSetsPerProduct: number;
  /** Attempts for transient failures of the pixel work (a full inference queue, storage hiccups). */
  attempts: number;
  retryDelayMs: number;
}

const TRANSIENT = new Set<number>([Code.RESOURCE_EXHAUSTED, Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]);

type Plan =
  | { kind: 'create'; polys: PolyRecord[] }
  | { kind: 'add'; image: ReferenceImageRecord; poly: PolyRecord }
  | { kind: 'exists'; image: ReferenceImageRecord };

export class LineImporter {
  /** Lines that name one image run one after another (their regions merge into it). */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: CatalogStore,
    private readonly processor: ReferenceImageProcessor,
    private readonly opts: LineImporterOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Resolves with the imported image; throws a MetapixelError that is the line's status. */
  importLine(scope: LocationName, line: ImportLine, signal?: AbortSignal): Promise<ReferenceImageMsg> {
    const product: ProductName = { ...scope, product: line.productId };
    const image: ReferenceImageName = { ...product, referenceImage: line.imageId };
    return this.serialized(names.referenceImage(image), () => this.apply(scope, line, product, image, signal));
  }

  private async apply(
    scope: LocationName,
    line: ImportLine,
    productName: ProductName,
    imageName: ReferenceImageName,
    signal?: AbortSignal,
  ) {
    let product = await this.store.getProduct(productName);
    const category = product ? product.productCategory : rules.productCategory(line.category);
    const sets = product ? await this.store.listSetsOfProduct(productName) : [];
    const join = !sets.includes(line.productSetId);
    if (join) rules.roomForAnotherSet(names.product(productName), sets.length, this.opts.maxSetsPerProduct);
    const plan = planImage(product ? await this.store.getReferenceImage(imageName) : null, line, imageName);
    const regions =
      plan.kind === 'exists' ? [] : await this.process(line.uri, plan.kind === 'add' ? [plan.poly] : plan.polys, category, signal);

    const now = this.clock();
    const set = { ...scope, productSet: line.productSetId };
    if (!(await this.store.getProductSet(set))) {
      // Google names no display name for a set an import creates; its id is the clearest one.
      await this.store.createProductSet({
        ...scope,
        id: line.productSetId,
        displayName: line.productSetId,
        createTime: now,
        updateTime: now,
      });
    }
    if (!product) product = await this.ensureProduct(scope, line, category, now);
    if (join) await this.store.addProductToSet(set, product.id);

    if (plan.kind === 'exists') return referenceImageView(plan.image);
    if (plan.kind === 'add') {
      const boundingPolys = [...plan.image.boundingPolys, plan.poly];
      const grown = { ...plan.image, boundingPolys, regions: [...plan.image.regions, ...regions], state: 'READY' as const };
      await this.store.updateReferenceImageRegions(imageName, { state: 'READY', regions: grown.regions, boundingPolys });
      return referenceImageView(grown);
    }
    const rec: ReferenceImageRecord = {
      ...scope,
      productId: product.id,
      id: line.imageId,
      uri: line.uri,
      boundingPolys: plan.polys,
      createTime: now,
      state: 'READY',
      regions,
    };
    if (await this.store.createReferenceImage(rec)) return referenceImageView(rec);
    // Taken meanwhile (another import) or the product was deleted meanwhile.
    const now2 = await this.store.getReferenceImage(imageName);
    if (now2 && planImage(now2, line, imageName).kind === 'exists') return referenceImageView(now2);
    throw alreadyExists(
      `ReferenceImage ${names.referenceImage(imageName)} could not be created: it was changed or its product deleted meanwhile.`,
    );
  }

  private async ensureProduct(scope: LocationName, line: ImportLine, category: string, now: Date): Promise<ProductRecord> {
    const rec: ProductRecord = {
      ...scope,
      id: line.productId,
      displayName: line.displayName,
      description: '',
      productCategory: category,
      labels: line.labels,
      createTime: now,
      updateTime: now,
    };
    if (await this.store.createProduct(rec)) return rec;
    const raced = await this.store.getProduct({ ...scope, product: line.productId });
    if (!raced) throw failedPrecondition(`Product ${line.productId} was deleted while the line was imported.`);
    return raced;
  }

  private async process(uri: string, polys: PolyRecord[], category: string, signal?: AbortSignal): Promise<RegionRecord[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.processor.process(uri, polys, category);
      } catch (e) {
        if (!isMetapixelError(e) || !TRANSIENT.has(e.code) || attempt >= this.opts.attempts || signal?.aborted) throw e;
        await new Promise((r) => setTimeout(r, this.opts.retryDelayMs * 4 ** (attempt - 1)));
      }
    }
  }

  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return next;
  }
}

/**
 * What a line does to its image. Several lines may name one image, one region each
 * (Google's way to give an image several regions): the first creates it, the next add
 * their polygon. A polygon already there, or a line without one, changes nothing.
 */
function planImage(existing: ReferenceImageRecord | null, line: ImportLine, name: ReferenceImageName): Plan {
  if (!existing) return { kind: 'create', polys: line.poly ? [line.poly] : [] };
  const what = `ReferenceImage ${names.referenceImage(name)}`;
  if (existing.uri !== line.uri) throw alreadyExists(`${what} already exists with another uri (${existing.uri.slice(0, 200)}).`);
  if (!line.poly || existing.boundingPolys.some((p) => samePoly(p, line.poly!))) return { kind: 'exists', image: existing };
  if (existing.boundingPolys.length === 0) {
    throw alreadyExists(
      `${what} already exists with automatically detected regions; give a bounding-poly on every line of an image, or on none.`,
    );
  }
  if (existing.boundingPolys.length >= rules.MAX_POLYS_PER_IMAGE) {
    throw invalidArgument(`${what} already has ${rules.MAX_POLYS_PER_IMAGE} bounding polygons, the most allowed.`);
  }
  return { kind: 'add', image: existing, poly: line.poly };
}

function samePoly(a: PolyRecord, b: PolyRecord): boolean {
  return (
    a.normalized === b.normalized &&
    a.vertices.length === b.vertices.length &&
    a.vertices.every((v, i) => v.x === b.vertices[i].x && v.y === b.vertices[i].y)
  );
}
