/**
 * id -> slot map for up to tens of millions of uint32 ids, in two typed arrays (open
 * addressing, linear probing, backward-shift deletion). A JS Map would cost several times
 * the memory at 10 M entries and is capped near 2^24 entries.
 */
import { ColumnsAhead, grownCapacity } from './capacity';

const EMPTY = -1;
const MAX_LOAD = 0.75;

export class IdTable {
  private keys: Uint32Array;
  /** Slot per key, or EMPTY. Slots are < 2^31 (typed-array length limits make that safe). */
  private vals: Int32Array;
  private shift: number;
  private mask: number;
  private count = 0;

  constructor(expected = 16) {
    const cap = capacityFor(expected);
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.shift = 32 - Math.log2(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  get memoryBytes(): number {
    return this.keys.byteLength + this.vals.byteLength;
  }

  get(id: number): number {
    const { keys, vals, mask } = this;
    for (let h = this.home(id); ; h = (h + 1) & mask) {
      if (vals[h] === EMPTY) return EMPTY;
      if (keys[h] === id) return vals[h];
    }
  }

  has(id: number): boolean {
    return this.get(id) !== EMPTY;
  }

  /** Sets id -> slot (overwriting). */
  set(id: number, slot: number): void {
    if (this.count + 1 > MAX_LOAD * this.keys.length) this.resize(capacityFor(this.count + 1));
    this.place(id, slot, true);
  }

  /**
   * Inserts ids[i] -> firstSlot + i. On a duplicate (already present or repeated in the
   * batch) undoes this batch's inserts and returns the offending id; otherwise returns -1.
   */
  insertBatch(ids: Uint32Array, firstSlot: number): number {
    if (this.count + ids.length > MAX_LOAD * this.keys.length) this.resize(capacityFor(this.count + ids.length));
    for (let i = 0; i < ids.length; i++) {
      if (!this.place(ids[i], firstSlot + i, false)) {
        for (let j = 0; j < i; j++) this.delete(ids[j]);
        return ids[i];
      }
    }
    return -1;
  }

  delete(id: number): boolean {
    const { keys, vals, mask } = this;
    let h = this.home(id);
    for (; ; h = (h + 1) & mask) {
      if (vals[h] === EMPTY) return false;
      if (keys[h] === id) break;
    }
    // Backward shift: pull later entries of the probe run into the hole, so lookups never
    // need tombstones and the table does not degrade under churn.
    let hole = h;
    for (let j = (hole + 1) & mask; vals[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.home(keys[j]);
      // j's entry may move to `hole` only if hole lies cyclically in [home, j).
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        keys[hole] = keys[j];
        vals[hole] = vals[j];
        hole = j;
      }
    }
    vals[hole] = EMPTY;
    this.count--;
    return true;
  }

  private home(id: number): number {
    return Math.imul(id, 0x9e3779b1) >>> this.shift;
  }

  /** Returns false (and changes nothing) if id exists and overwrite is false. */
  private place(id: number, slot: number, overwrite: boolean): boolean {
    const { keys, vals, mask } = this;
    let h = this.home(id);
    for (; vals[h] !== EMPTY; h = (h + 1) & mask) {
      if (keys[h] === id) {
        if (!overwrite) return false;
        vals[h] = slot;
        return true;
      }
    }
    keys[h] = id;
    vals[h] = slot;
    this.count++;
    return true;
  }

  private resize(cap: number): void {
    const { keys, vals } = this;
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.shift = 32 - Math.log2(cap);
    this.mask = cap - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (vals[i] !== EMPTY) this.place(keys[i], vals[i], true);
  }
}

function capacityFor(n: number): number {
  let cap = 16;
  while (cap * MAX_LOAD < n) cap *= 2;
  return cap;
}

/**
 * id -> slot for any uint32 ids, in 4 bytes an id while the ids are dense: a plain
 * Int32Array indexed by id as long as every id is below a few times the number held (a
 * ProductSetIndex's row numbers), and an IdTable (about 11-21 bytes an id) from the first
 * id that would make the array sparse. Same interface as IdTable.
 */
export class IdMap {
  private dense: Int32Array | undefined = new Int32Array(0);
  /** The dense array's next one, made and faulted in ahead of its growth. */
  private readonly denseAhead = new ColumnsAhead((cap) => [new Int32Array(cap)] as const);
  private table: IdTable | undefined;
  private count = 0;

  get size(): number {
    return this.table ? this.table.size : this.count;
  }

  get memoryBytes(): number {
    return this.table ? this.table.memoryBytes : this.dense!.byteLength + this.denseAhead.bytes;
  }

  get(id: number): number {
    if (this.table) return this.table.get(id);
    return id < this.dense!.length ? this.dense![id] : EMPTY;
  }

  has(id: number): boolean {
    return this.get(id) !== EMPTY;
  }

  set(id: number, slot: number): void {
    if (this.table || !this.fitDense(id, 1)) return this.table!.set(id, slot);
    if (this.dense![id] === EMPTY) {
      this.count++;
      this.denseAhead.step(id + 1, this.dense!.length);
    }
    this.dense![id] = slot;
  }

  insertBatch(ids: Uint32Array, firstSlot: number): number {
    let max = 0;
    for (let i = 0; i < ids.length; i++) max = Math.max(max, ids[i]);
    if (this.table || !this.fitDense(max, ids.length)) return this.table!.insertBatch(ids, firstSlot);
    const dense = this.dense!;
    for (let i = 0; i < ids.length; i++) {
      if (dense[ids[i]] !== EMPTY) {
        for (let j = 0; j < i; j++) dense[ids[j]] = EMPTY;
        this.count -= i;
        return ids[i];
      }
      dense[ids[i]] = firstSlot + i;
      this.count++;
    }
    this.denseAhead.step(max + 1, dense.length);
    return -1;
  }

  /** Ids already held, now at slots firstSlot, firstSlot + 1, ... (a layout moved them). */
  moveBatch(ids: Uint32Array, firstSlot: number): void {
    if (this.table) {
      for (let i = 0; i < ids.length; i++) this.table.set(ids[i], firstSlot + i);
      return;
    }
    const dense = this.dense!;
    for (let i = 0; i < ids.length; i++) dense[ids[i]] = firstSlot + i;
  }

  delete(id: number): boolean {
    if (this.table) return this.table.delete(id);
    if (id >= this.dense!.length || this.dense![id] === EMPTY) return false;
    this.dense![id] = EMPTY;
    this.count--;
    return true;
  }

  /** Grows the dense array to hold `id`, or moves everything to an IdTable when that
   *  would leave it mostly empty; returns whether the dense array is still in use. */
  private fitDense(id: number, adding: number): boolean {
    const dense = this.dense!;
    if (id < dense.length) return true;
    if (id >= Math.max(65536, 4 * (this.count + adding))) {
      const table = new IdTable(this.count + adding);
      for (let i = 0; i < dense.length; i++) if (dense[i] !== EMPTY) table.set(i, dense[i]);
      this.table = table;
      this.dense = undefined;
      this.denseAhead.take(0); // not needed any more
      return false;
    }
    const cap = grownCapacity(dense.length, id + 1, adding >= this.count);
    const next = this.denseAhead.arraysFor(cap)[0].fill(EMPTY, dense.length);
    next.set(dense);
    this.dense = next;
    return true;
  }
}
