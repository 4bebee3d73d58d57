/**
 * The contract every exact Hamming k-NN index implements (linear scan with a JS or WASM
 * kernel, Multi-Index Hashing). Modelled on FAISS's IndexBinary; the edge cases below are
 * part of the contract and pinned by test/search/hamming/contract.ts for every engine.
 *
 * Code layout (shared by add and search): a code of `bits` bits is bits/8 bytes, codes are
 * stored row-major, and bit i is bit (i % 8) of byte floor(i / 8). Hamming distance is the
 * popcount of the XOR, so the layout only has to be consistent, but the bucket keys of MIH
 * are bit ranges in this numbering.
 *
 * Edge cases:
 * - Results are sorted by (distance, id) ascending; equal distances are broken by the
 *   smaller id so that every engine returns the same list for the same data.
 * - k = 0 returns []. k > number of eligible entries returns all of them. A negative or
 *   non-integer k is INVALID_ARGUMENT.
 * - An empty index returns [] for any k.
 * - Ids are integers in [0, 2^32). Adding an id that is already present (or twice in one
 *   batch) is ALREADY_EXISTS and the whole batch is rejected: add is all-or-nothing.
 * - Identical codes under different ids are fine; they tie and sort by id.
 * - remove(id) returns false for an absent id; a removed id may be added again later.
 * - A wrong code or query length (not bits/8 bytes per code) is INVALID_ARGUMENT.
 * - filter: an id for which filter returns false is not a result and does not count
 *   toward k. The filter is called at most once per id per search, and only for ids
 *   whose distance could still place them in the result, so it may be called for far
 *   fewer ids than size. It must not mutate the index.
 * - stats are cumulative counters since construction or resetStats(); see HammingStats.
 */
import { alreadyExists, invalidArgument } from '../../core/errors';

/** Supported code lengths in bits. */
export type CodeBits = 64 | 128 | 256;

export interface HammingHit {
  id: number;
  /** Hamming distance in bits, 0..bits. */
  distance: number;
}

export interface HammingSearchOptions {
  filter?: (id: number) => boolean;
  /** The query's coarse vector: an engine with coarse lists (src/search/coarse-lists.ts)
   *  then scans only the lists nearest to it, which is approximate; the others ignore it. */
  near?: Float32Array;
  /** In place of `near`: its distances to the coarse lists' centroids, as
   *  CoarseListIndex.distancesOf gives them for many queries at once. */
  nearDistances?: Float32Array;
  /** With `near`: the share of the lists it would scan that this search scans (default 1,
   *  at least one list), for a query's secondary regions (product-set-index.ts). */
  probeScale?: number;
}

/**
 * Work counters, so tests can pin pruning and not only answers (cf. FAISS's
 * IndexBinaryHashStats). All are totals over every search since the last reset.
 */
export interface HammingStats {
  searches: number;
  /** Full Hamming distances computed. A scan computes each code's once; MIH verifies every
   *  bucket entry it fetches, so a code found in several tables counts once per table. */
  codesScanned: number;
  /** Entries considered as results: for a scan, codes within the current k-th distance;
   *  for MIH, bucket entries fetched (a code found in several tables counts each time). */
  candidatesChecked: number;
  /** Hash buckets looked up (always 0 for a linear scan). */
  bucketsProbed: number;
}

export interface HammingIndex {
  readonly bits: CodeBits;
  /** Number of live (added and not removed) entries. */
  readonly size: number;
  readonly stats: Readonly<HammingStats>;
  /** Bytes of typed-array and WebAssembly memory held (capacity, not just size); JS object
   *  overhead is not counted. process.memoryUsage() misses WASM memory, hence this. */
  readonly memoryBytes: number;
  /** Adds ids[i] with code bytes codes[i*bits/8 .. (i+1)*bits/8). All-or-nothing. */
  add(ids: Uint32Array | readonly number[], codes: Uint8Array): void;
  /** Removes id; returns whether it was present. */
  remove(id: number): boolean;
  /** The k nearest live entries to query, sorted by (distance, id). */
  search(query: Uint8Array, k: number, opts?: HammingSearchOptions): HammingHit[];
  /** The ids of search's answer, in its order, with no hit objects (a 30-region query takes
   *  thousands): valid until the index's next search. */
  searchIds(query: Uint8Array, k: number, opts?: HammingSearchOptions): Uint32Array;
  resetStats(): void;
}

export function emptyStats(): HammingStats {
  return { searches: 0, codesScanned: 0, candidatesChecked: 0, bucketsProbed: 0 };
}

export function checkBits(bits: number): CodeBits {
  if (bits !== 64 && bits !== 128 && bits !== 256) {
    throw invalidArgument(`Code length must be 64, 128 or 256 bits, got ${bits}.`);
  }
  return bits;
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 0) throw invalidArgument(`k must be a non-negative integer, got ${k}.`);
}

export function checkQuery(query: Uint8Array, bits: number): void {
  if (query.length !== bits / 8) {
    throw invalidArgument(`Query must be ${bits / 8} bytes (${bits} bits), got ${query.length}.`);
  }
}

/** Validates a batch for add (lengths, id range) and returns the ids as a Uint32Array.
 *  Duplicate ids are detected by IdTable.insertBatch, which rolls back. */
export function checkBatch(ids: Uint32Array | readonly number[], codes: Uint8Array, bits: number): Uint32Array {
  const bytes = bits / 8;
  if (codes.length !== ids.length * bytes) {
    throw invalidArgument(`Expected ${ids.length} codes of ${bytes} bytes (${ids.length * bytes}), got ${codes.length} bytes.`);
  }
  if (ids instanceof Uint32Array) return ids;
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw invalidArgument(`Id must be a uint32, got ${id}.`);
    out[i] = id;
  }
  return out;
}

export function duplicateId(id: number): Error {
  return alreadyExists(`Id ${id} is already in the index (or twice in the batch).`);
}

/** What every engine shares: its work counters, and how a batch's ids are checked and
 *  claimed in its id -> slot map. */
export abstract class EngineBase {
  protected readonly counters: HammingStats = emptyStats();

  abstract search(query: Uint8Array, k: number, opts?: HammingSearchOptions): HammingHit[];

  searchIds(query: Uint8Array, k: number, opts?: HammingSearchOptions): Uint32Array {
    return Uint32Array.from(this.search(query, k, opts), (hit) => hit.id);
  }

  get stats(): Readonly<HammingStats> {
    return this.counters;
  }

  resetStats(): void {
    Object.assign(this.counters, emptyStats());
  }

  /** The batch's ids, entered in `slots` from `firstSlot` on (checkBatch first); all or
   *  none: an id already there, or twice in the batch, throws and enters nothing. */
  protected claim(
    slots: { insertBatch(ids: Uint32Array, firstSlot: number): number },
    ids: Uint32Array | readonly number[],
    codes: Uint8Array,
    bits: number,
    firstSlot: number,
  ): Uint32Array {
    const batch = checkBatch(ids, codes, bits);
    const dup = slots.insertBatch(batch, firstSlot);
    if (dup >= 0) throw duplicateId(dup);
    return batch;
  }
}
