/** A small product set's data for ProductSetIndex tests: clustered embeddings, products, and random writes. */
import { SeededRandom } from '../../../src/search/hasher';
import type { IndexedProduct } from '../../../src/search/product-set-index';

/** `products` products of 3 unit embeddings of `dims` values each, around `themes` themes
 *  (as catalogs cluster), drawn from `seed`. */
export function clusteredCatalog(dims: number, products: number, themes: number, seed: number): Float32Array[][] {
  const rng = new SeededRandom(seed);
  const unit = (v: Float32Array) => {
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const centres = Array.from({ length: themes }, () => Float32Array.from({ length: dims }, () => rng.gaussian()));
  return Array.from({ length: products }, (_, p) => {
    const centre = centres[p % themes].map((v) => v + 0.8 * rng.gaussian());
    return Array.from({ length: 3 }, () => unit(centre.map((v) => v + 0.5 * rng.gaussian())));
  });
}

/** Product p (id `p${p}`), with no labels. */
export function indexedProduct(p: number): IndexedProduct {
  return { project: 'p', location: 'l', id: `p${p}`, displayName: '', description: '', productCategory: 'general-v1', labels: [] };
}

/**
 * One random write among the first `next` products of `embeddings`: a new product (while
 * any are left), a removal, or a product's regions replaced (its freed rows reused).
 * Returns the new `next`.
 */
export function writeAtRandom(
  rng: SeededRandom,
  embeddings: Float32Array[][],
  next: number,
  add: (p: number, regions?: Float32Array[]) => void,
  remove: (p: number) => void,
): number {
  const r = rng.next();
  const p = Math.floor(rng.next() * next);
  if (r < 0.4 && next < embeddings.length) add(next++);
  else if (r < 0.7) remove(p);
  else add(p, embeddings[(p + 1) % embeddings.length].slice(0, 1 + (p % 3)));
  return next;
}
