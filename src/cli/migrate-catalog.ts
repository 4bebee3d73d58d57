/**
 * One side of `metapixel migrate`: the catalog of a project and location as read through
 * ProductSearchClient lists (product sets, products, the products of each set, the
 * reference images of each product), keyed by resource id. The target is read the same
 * way, so what is already copied is derived from the target itself: no journal.
 */
import type { GrpcConnection } from './grpc-connection';
import { mapLimit } from '../core/concurrency';
import { withRetry } from './migrate-retry';

export interface Label {
  key: string;
  value: string;
}

export interface ProductData {
  displayName: string;
  description: string;
  productCategory: string;
  labels: Label[];
}

export interface Poly {
  vertices?: { x: number; y: number }[];
  normalizedVertices?: { x: number; y: number }[];
}

export interface ImageData {
  uri: string;
  boundingPolys: Poly[];
}

export interface Catalog {
  /** set id -> display name */
  sets: Map<string, string>;
  products: Map<string, ProductData>;
  /** set id -> ids of its products */
  members: Map<string, Set<string>>;
  /** product id -> image id -> image */
  images: Map<string, Map<string, ImageData>>;
}

/** The last segment of a resource name: its id. */
export const idOf = (name: string | null | undefined) => (name ?? '').slice((name ?? '').lastIndexOf('/') + 1);

const PAGE = 100;

/**
 * Reads a catalog. `only` limits the per-set and per-product lists to sets and products
 * the caller cares about (the target's lists are needed only where the source has data).
 */
export async function readCatalog(
  conn: GrpcConnection,
  parent: string,
  concurrency: number,
  only?: { sets: (id: string) => boolean; products: (id: string) => boolean },
  /** Products whose images are listed so far, of how many (the long part of a listing). */
  onProgress: (done: number, total: number) => void = () => {},
): Promise<Catalog> {
  const { client } = conn;
  // The async iterators page by themselves; left true, the client warns on stderr.
  const callOptions = { ...conn.callOptions, autoPaginate: false };
  const sets = new Map<string, string>();
  const products = new Map<string, ProductData>();
  await withRetry(async () => {
    sets.clear();
    for await (const s of client.listProductSetsAsync({ parent, pageSize: PAGE }, callOptions)) sets.set(idOf(s.name), s.displayName ?? '');
  });
  await withRetry(async () => {
    products.clear();
    for await (const p of client.listProductsAsync({ parent, pageSize: PAGE }, callOptions)) {
      products.set(idOf(p.name), {
        displayName: p.displayName ?? '',
        description: p.description ?? '',
        productCategory: p.productCategory ?? '',
        labels: (p.productLabels ?? []).map((l) => ({ key: l.key ?? '', value: l.value ?? '' })),
      });
    }
  });
  const members = new Map<string, Set<string>>();
  const setIds = [...sets.keys()].filter((id) => !only || only.sets(id));
  await mapLimit(setIds, concurrency, (id) =>
    withRetry(async () => {
      const ids = new Set<string>();
      for await (const p of client.listProductsInProductSetAsync({ name: `${parent}/productSets/${id}`, pageSize: PAGE }, callOptions))
        ids.add(idOf(p.name));
      members.set(id, ids);
    }),
  );
  const images = new Map<string, Map<string, ImageData>>();
  const productIds = [...products.keys()].filter((id) => !only || only.products(id));
  await mapLimit(productIds, concurrency, (id) =>
    withRetry(async () => {
      const list = new Map<string, ImageData>();
      for await (const r of client.listReferenceImagesAsync({ parent: `${parent}/products/${id}`, pageSize: PAGE }, callOptions)) {
        list.set(idOf(r.name), { uri: r.uri ?? '', boundingPolys: (r.boundingPolys ?? []).map(polyOf) });
      }
      images.set(id, list);
      onProgress(images.size, productIds.length);
    }),
  );
  return { sets, products, members, images };
}

/** A listed polygon as the one kind of vertices it has (gRPC lists both fields, one empty). */
function polyOf(p: {
  vertices?: { x?: number | null; y?: number | null }[] | null;
  normalizedVertices?: { x?: number | null; y?: number | null }[] | null;
}): Poly {
  const xy = (v: { x?: number | null; y?: number | null }) => ({ x: v.x ?? 0, y: v.y ?? 0 });
  if (p.vertices?.length) return { vertices: p.vertices.map(xy) };
  return { normalizedVertices: (p.normalizedVertices ?? []).map(xy) };
}
