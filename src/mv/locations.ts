// Lock-free insert-or-get hash table from a location key to a dense id 0..n-1, shared by
// all workers of a block. Ids index the per-location arrays of MultiVersionMemory.
import {
  allocateRegion,
  CACHE_LINE_WORDS,
  defaultAllocator,
  int32View,
  MvCapacityError,
  nextPowerOfTwo,
  type SharedAllocator,
  type SharedRegion,
} from "./shared.ts";

export const LocationKind = { ACCOUNT: 1, CODE: 2, STORAGE: 3 } as const;
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
 *   [6..13]  storage slot as 8 words, little-endian word order (word 6 = low 32 bits); 0 unless STORAGE
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
const KEY_ADDRESS = 1;
const KEY_SLOT = 6;

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
    if (slot !== undefined) slotToWords(slot, this.slotScratch);
    return this.idOf(kind, this.addressScratch, slot === undefined ? undefined : this.slotScratch);
  }

  findHex(kind: LocationKind, address: string, slot?: bigint): number {
    addressToWords(address, this.addressScratch);
    if (slot !== undefined) slotToWords(slot, this.slotScratch);
    return this.find(kind, this.addressScratch, slot === undefined ? undefined : this.slotScratch);
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
    const address = wordsToAddress(words.subarray(KEY_ADDRESS, KEY_SLOT));
    if (kind !== LocationKind.STORAGE) return { kind, address };
    return { kind, address, slot: wordsToSlot(words.subarray(KEY_SLOT, KEY_WORDS)) };
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

/** murmur3-style mixing of the key words; accounts and code skip the (zero) slot words. */
function hashKey(kind: number, address: Words, slot: Words): number {
  let h = mixWord(0x5bd1e995, kind);
  for (let i = 0; i < 5; i++) h = mixWord(h, address[i]! | 0);
  if (kind === LocationKind.STORAGE) for (let i = 0; i < 8; i++) h = mixWord(h, slot[i]! | 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function mixWord(h: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  throw new SyntaxError(`not a hex digit: ${String.fromCharCode(code)}`);
}

/** "0x" + 40 hex digits -> 5 big-endian words (key layout), without allocating. */
export function addressToWords(address: string, out: Uint32Array = new Uint32Array(5)): Uint32Array {
  if (address.length !== 42) throw new SyntaxError(`not a 20-byte hex address: ${address}`);
  for (let word = 0; word < 5; word++) {
    let value = 0;
    for (let i = 0; i < 8; i++) value = value * 16 + hexDigit(address.charCodeAt(2 + word * 8 + i));
    out[word] = value;
  }
  return out;
}

export function wordsToAddress(words: ArrayLike<number>): `0x${string}` {
  let hex = "0x";
  for (let i = 0; i < 5; i++) hex += (words[i]! >>> 0).toString(16).padStart(8, "0");
  return hex as `0x${string}`;
}

const U32_MASK = 0xffffffffn;

/** A 256-bit slot -> 8 little-endian-ordered words (key layout). */
export function slotToWords(slot: bigint, out: Uint32Array = new Uint32Array(8)): Uint32Array {
  if (slot < 0n || slot >> 256n !== 0n) throw new RangeError(`storage slot out of range: ${slot}`);
  if (slot <= U32_MASK) {
    // Common for plain Solidity variables: no bigint shifting.
    out.fill(0);
    out[0] = Number(slot);
    return out;
  }
  let rest = slot;
  for (let i = 0; i < 8; i++) {
    out[i] = Number(rest & U32_MASK);
    rest >>= 32n;
  }
  return out;
}

export function wordsToSlot(words: ArrayLike<number>): bigint {
  let hex = "0x";
  for (let i = 7; i >= 0; i--) hex += (words[i]! >>> 0).toString(16).padStart(8, "0");
  return BigInt(hex);
}
