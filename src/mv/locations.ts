// Lock-free insert-or-get hash table from a location key to a dense id 0..n-1, shared by
// all workers of a block. Ids index the per-location arrays of MultiVersionMemory.
import { finishHash, mixWord } from "../shm/hash.ts";
import { allocateRegion, CACHE_LINE_WORDS, defaultAllocator, int32View, nextPowerOfTwo, type SharedAllocator, type SharedRegion } from "../shm/region.ts";
import { addressToWords, bigintToWords, wordsToAddress, wordsToBigInt } from "../shm/words.ts";
import { MvCapacityError } from "./capacity.ts";

/** WIPE(address): written by a transaction that wiped the account's storage (see parallel/mv-source.ts). */
export const LocationKind = { ACCOUNT: 1, CODE: 2, STORAGE: 3, WIPE: 4 } as const;
export type LocationKind = (typeof LocationKind)[keyof typeof LocationKind];

/*
 * Shared layout (Int32 words):
 *
 * header: one cache line (16 words)
 *   [0]  count: the next dense id, taken with Atomics.add (the table's only hot counter)
 *
 * slots: tableSize slots of 2 words; tableSize is a power of two >= 2 * capacity (load <= 1/2)
 *   [2i]     state: 0 EMPTY, -1 CLAIMED (the claimer is writing the key), -2 ABANDONED
 *            (claimed when the table was already full; probes skip it), id + 1 READY
 *   [2i + 1] hash of the key, written before READY so probes skip other keys without
 *            touching `keys`
 *
 * keys: KEY_WORDS words per id
 *   [0]      kind (LocationKind)
 *   [1..5]   address as 5 words, each the big-endian value of 4 address bytes (word 1 = bytes 0..3)
 *   [6..13]  storage slot as 8 big-endian words (word 6 = the top 32 bits); 0 unless STORAGE
 * (the word order of src/shm/words.ts, like every shared value)
 *
 * A key is written only by the thread that CAS-ed its slot from EMPTY to CLAIMED, and is
 * published by the Atomics.store of READY; readers that see CLAIMED spin until READY.
 */
const COUNT = 0;
const HEADER_WORDS = CACHE_LINE_WORDS;
const EMPTY = 0;
const CLAIMED = -1;
const ABANDONED = -2;
export const KEY_WORDS = 14;
export const KEY_ADDRESS = 1;
export const KEY_SLOT = 6;

export interface LocationTableDescriptor {
  header: SharedRegion;
  slots: SharedRegion;
  keys: SharedRegion;
  capacity: number;
  tableSize: number;
}

/** A decoded key, for building the post-state diff. */
export interface LocationKey {
  kind: LocationKind;
  address: `0x${string}`;
  /** Present for STORAGE locations only. */
  slot?: bigint;
}

/** A table's keys and filled slots (LocationTable.snapshot): plain data, owned by the calling thread. */
export interface LocationSnapshot {
  tableSize: number;
  count: number;
  /** Per filled slot: its word index, its state word (id + 1) and its hash word. */
  slots: Int32Array;
  /** KEY_WORDS words per id, ids 0..count-1. */
  keys: Int32Array;
}

type Words = ArrayLike<number>;
const NO_SLOT: Words = new Uint32Array(8);

export class LocationTable {
  readonly descriptor: LocationTableDescriptor;
  readonly capacity: number;
  private readonly header: Int32Array;
  private readonly slots: Int32Array;
  private readonly keys: Int32Array;
  private readonly mask: number;
  // Per-thread scratch for the hex/bigint helpers.
  private readonly addressScratch = new Uint32Array(5);
  private readonly slotScratch = new Uint32Array(8);

  static create(capacity: number, allocate: SharedAllocator = defaultAllocator): LocationTable {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`location capacity must be >= 1, got ${capacity}`);
    const tableSize = nextPowerOfTwo(capacity * 2);
    return new LocationTable({
      header: allocateRegion(allocate, HEADER_WORDS),
      slots: allocateRegion(allocate, tableSize * 2),
      keys: allocateRegion(allocate, capacity * KEY_WORDS),
      capacity,
      tableSize,
    });
  }

  /** Attaches to a table created elsewhere (e.g. in a Worker, from a posted descriptor). */
  static attach(descriptor: LocationTableDescriptor): LocationTable {
    return new LocationTable(descriptor);
  }

  private constructor(descriptor: LocationTableDescriptor) {
    this.descriptor = descriptor;
    this.capacity = descriptor.capacity;
    this.header = int32View(descriptor.header);
    this.slots = int32View(descriptor.slots);
    this.keys = int32View(descriptor.keys);
    this.mask = descriptor.tableSize - 1;
  }

  /** Number of ids handed out (ids are 0..count-1). */
  get count(): number {
    return Math.min(Atomics.load(this.header, COUNT), this.capacity);
  }

  /**
   * The id of the key, inserting it if absent. `address` is 5 words and `slot` 8 words in
   * the layout documented above; `slot` is ignored unless kind is STORAGE.
   * Throws MvCapacityError when a new key does not fit.
   */
  idOf(kind: LocationKind, address: Words, slot?: Words): number {
    const slotWords = kind === LocationKind.STORAGE && slot !== undefined ? slot : NO_SLOT;
    const hash = hashKey(kind, address, slotWords);
    const slots = this.slots;
    let index = hash & this.mask;
    for (let probes = 0; probes <= this.mask; probes++, index = (index + 1) & this.mask) {
      const at = index * 2;
      let state = Atomics.load(slots, at);
      if (state === EMPTY) {
        state = Atomics.compareExchange(slots, at, EMPTY, CLAIMED);
        if (state === EMPTY) return this.fillClaimed(at, hash, kind, address, slotWords);
      }
      while (state === CLAIMED) state = Atomics.load(slots, at);
      if (state > 0 && slots[at + 1] === hash && this.keyEquals(state - 1, kind, address, slotWords)) return state - 1;
    }
    throw new MvCapacityError("locations", this.capacity);
  }

  /** The id of the key, or -1 when it was never inserted. */
  find(kind: LocationKind, address: Words, slot?: Words): number {
    const slotWords = kind === LocationKind.STORAGE && slot !== undefined ? slot : NO_SLOT;
    const hash = hashKey(kind, address, slotWords);
    const slots = this.slots;
    let index = hash & this.mask;
    for (let probes = 0; probes <= this.mask; probes++, index = (index + 1) & this.mask) {
      const at = index * 2;
      let state = Atomics.load(slots, at);
      if (state === EMPTY) return -1;
      while (state === CLAIMED) state = Atomics.load(slots, at);
      if (state > 0 && slots[at + 1] === hash && this.keyEquals(state - 1, kind, address, slotWords)) return state - 1;
    }
    return -1;
  }

  /** idOf with the address as 0x-hex and the slot as a bigint (STORAGE only). */
  idOfHex(kind: LocationKind, address: string, slot?: bigint): number {
    addressToWords(address, this.addressScratch);
    if (slot !== undefined) bigintToWords(slot, this.slotScratch, 0, 8);
    return this.idOf(kind, this.addressScratch, slot === undefined ? undefined : this.slotScratch);
  }

  findHex(kind: LocationKind, address: string, slot?: bigint): number {
    addressToWords(address, this.addressScratch);
    if (slot !== undefined) bigintToWords(slot, this.slotScratch, 0, 8);
    return this.find(kind, this.addressScratch, slot === undefined ? undefined : this.slotScratch);
  }

  /** The kind of location `id` is (its key's first word). */
  kindOf(id: number): LocationKind {
    this.checkId(id);
    return this.keys[id * KEY_WORDS] as LocationKind;
  }

  /** Copies the KEY_WORDS raw key words of `id` into `out` (layout above). */
  keyWordsOf(id: number, out: Uint32Array): Uint32Array {
    this.checkId(id);
    const base = id * KEY_WORDS;
    for (let i = 0; i < KEY_WORDS; i++) out[i] = this.keys[base + i]!;
    return out;
  }

  keyOf(id: number): LocationKey {
    const words = this.keyWordsOf(id, new Uint32Array(KEY_WORDS));
    const kind = words[0] as LocationKind;
    const address = wordsToAddress(words, KEY_ADDRESS);
    if (kind !== LocationKind.STORAGE) return { kind, address };
    return { kind, address, slot: wordsToBigInt(words, KEY_SLOT, 8) };
  }

  /**
   * The keys inserted so far, in a compact form that restore() puts back into a table of the
   * same size after a reset: the block's known locations are inserted once, and later runs
   * of the block copy their filled slots and keys back instead of hashing and inserting each
   * again. Only while no other thread inserts.
   */
  snapshot(): LocationSnapshot {
    const slots = this.slots;
    const filled: number[] = [];
    for (let at = 0; at < slots.length; at += 2) if (slots[at]! > 0) filled.push(at, slots[at]!, slots[at + 1]!);
    const count = this.count;
    return { tableSize: this.mask + 1, count, slots: Int32Array.from(filled), keys: this.keys.slice(0, count * KEY_WORDS) };
  }

  /** Puts a snapshot of a table of this size back into this table, just reset. Only while no other thread uses it. */
  restore(snapshot: LocationSnapshot): void {
    if (snapshot.tableSize !== this.mask + 1 || snapshot.count > this.capacity || this.count !== 0) {
      throw new RangeError(`location snapshot of ${snapshot.count} keys / ${snapshot.tableSize} slots does not fit this empty table of ${this.capacity} / ${this.mask + 1}`);
    }
    const slots = this.slots;
    const filled = snapshot.slots;
    for (let i = 0; i < filled.length; i += 3) {
      const at = filled[i]!;
      slots[at] = filled[i + 1]!;
      slots[at + 1] = filled[i + 2]!;
    }
    this.keys.set(snapshot.keys);
    Atomics.store(this.header, COUNT, snapshot.count); // publishes the words above to later Atomics readers
  }

  get tableSize(): number {
    return this.mask + 1;
  }

  /** Empties the table for the next block. Only while no other thread uses it. */
  reset(): void {
    this.slots.fill(EMPTY);
    Atomics.store(this.header, COUNT, 0);
  }

  private fillClaimed(at: number, hash: number, kind: number, address: Words, slot: Words): number {
    const id = Atomics.add(this.header, COUNT, 1);
    if (id >= this.capacity) {
      Atomics.store(this.slots, at, ABANDONED); // never leave a CLAIMED slot for others to spin on
      throw new MvCapacityError("locations", this.capacity);
    }
    const keys = this.keys;
    const base = id * KEY_WORDS;
    keys[base] = kind;
    for (let i = 0; i < 5; i++) keys[base + KEY_ADDRESS + i] = address[i]!;
    for (let i = 0; i < 8; i++) keys[base + KEY_SLOT + i] = slot[i]!;
    this.slots[at + 1] = hash;
    Atomics.store(this.slots, at, id + 1); // publishes the key words written above
    return id;
  }

  private keyEquals(id: number, kind: number, address: Words, slot: Words): boolean {
    const keys = this.keys;
    const base = id * KEY_WORDS;
    if (keys[base] !== kind) return false;
    for (let i = 0; i < 5; i++) if (keys[base + KEY_ADDRESS + i] !== (address[i]! | 0)) return false;
    if (kind !== LocationKind.STORAGE) return true;
    for (let i = 0; i < 8; i++) if (keys[base + KEY_SLOT + i] !== (slot[i]! | 0)) return false;
    return true;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) throw new RangeError(`unknown location id ${id}`);
  }
}

/** The key's hash: kind as the seed, then the address words (and the slot words for STORAGE). */
function hashKey(kind: number, address: Words, slot: Words): number {
  let h = mixWord(0x5bd1e995, kind);
  for (let i = 0; i < 5; i++) h = mixWord(h, address[i]! | 0);
  if (kind === LocationKind.STORAGE) for (let i = 0; i < 8; i++) h = mixWord(h, slot[i]! | 0);
  return finishHash(h) | 0; // signed: compared with the Int32Array slot word it is stored in
}
