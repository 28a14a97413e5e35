// Block-STM multi-version memory in shared memory: per location, the values written by the
// block's transactions, plus each transaction's last write set and read set so that any
// worker can abort or validate any transaction. Knows nothing about the EVM.
import { LocationTable, type LocationTableDescriptor } from "./locations.ts";
import {
  addWords256,
  BASE_ORIGIN,
  DELTA_FLAGS_WORD,
  DELTA_WORDS,
  READ_RECORD_DELTA_WORDS,
  READ_RECORD_WORDS,
  ReadResult,
  ReadStatus,
  VALUE_WORDS,
  type ReadSet,
  type WriteBatch,
} from "./sets.ts";
import { allocateRegion, CACHE_LINE_WORDS, defaultAllocator, int32View, type SharedAllocator, type SharedRegion } from "../shm/region.ts";
import { MvCapacityError, type MvResource } from "./capacity.ts";

export const EntryFlag = {
  /** Written by an aborted incarnation: readers must wait for the transaction. */
  ESTIMATE: 1,
  /** Not written by the transaction's latest incarnation: readers skip it. */
  DELETED: 2,
  /** value words 0..7 are added to the value below, word 10 is ORed into it. */
  DELTA: 4,
} as const;

/*
 * Shared layout (Int32 words).
 *
 * header: three cache lines, one hot bump cursor each
 *   [0]   entry cursor: next free entry ref (ref 0 is the null ref, so it starts at 1)
 *   [16]  write-arena cursor (word 0 is never handed out: offset 0 means "no set")
 *   [32]  read-arena cursor (likewise starts at 1)
 *
 * heads: one word per location id: ref of the list's first entry (highest txIdx), 0 = empty
 *
 * entries: ENTRY_WORDS (16 words = 64 bytes) per entry, entry `ref` at ref * 16
 *   [0]  seq: seqlock, odd while the owner rewrites incarnation/flags/value
 *   [1]  txIdx (immutable once linked)
 *   [2]  incarnation that last wrote the entry
 *   [3]  flags (EntryFlag)
 *   [4]  next: ref of the next entry (lower txIdx), 0 = end; set by CAS when linking
 *   [5..15] the 11 value words
 *   An entry has one writer at a time: the thread that owns its transaction (executing,
 *   or aborting it). Other threads only CAS `next` to link their own entries behind it.
 *
 * txMeta: TX_META_WORDS per transaction
 *   [0] offset of its last write set in writeArena (0 = none)
 *   [1] offset of its last read set in readArena (0 = none)
 *   A set is published by one Atomics.store of its offset; the set itself is immutable.
 *
 * writeArena, one write set: [count, incarnation, then per write: locId, entry ref]
 * readArena, one read set:   [wordCount, incarnation, then read records (sets.ts layout)]
 * A new incarnation always gets fresh arena space (sets differ in length).
 */
const ENTRY_CURSOR = 0;
const WRITE_CURSOR = CACHE_LINE_WORDS;
const READ_CURSOR = 2 * CACHE_LINE_WORDS;
const HEADER_WORDS = 3 * CACHE_LINE_WORDS;

const ENTRY_WORDS = 16;
const SEQ = 0;
const TX = 1;
const INCARNATION = 2;
const FLAGS = 3;
const NEXT = 4;
const VALUE = 5;

const TX_META_WORDS = 2;
const META_WRITE_SET = 0;
const META_READ_SET = 1;

const SET_HEADER_WORDS = 2;
const WRITE_RECORD_WORDS = 2;

/** txIdx for reading "after the whole block" (final values). */
const AFTER_BLOCK = 0x7fffffff;

export interface MvCapacities {
  /** Max transactions per block. */
  txCapacity: number;
  /** Max distinct locations per block. */
  locationCapacity: number;
  /** Max distinct (transaction, location) pairs written per block. */
  entryCapacity: number;
  /** Int32 words for all write sets of all incarnations. */
  writeArenaWords: number;
  /** Int32 words for all read sets of all incarnations. */
  readArenaWords: number;
}

export interface MvSizingHints {
  txCount: number;
  estimatedLocations?: number;
  /** Average distinct locations written per transaction (default 4). */
  writesPerTx?: number;
  /** Average reads recorded per transaction (default 8). */
  readsPerTx?: number;
  /** Average incarnations per transaction the arenas must hold (default 2). */
  incarnationsPerTx?: number;
}

/** Capacities for a block; minimums keep small blocks from ever hitting a limit. */
export function defaultCapacities(hints: MvSizingHints): MvCapacities {
  const txCount = Math.max(1, hints.txCount);
  const writes = hints.writesPerTx ?? 4;
  const reads = hints.readsPerTx ?? 8;
  const incarnations = hints.incarnationsPerTx ?? 2;
  return {
    txCapacity: txCount,
    locationCapacity: hints.estimatedLocations ?? Math.max(1 << 16, txCount * 8),
    entryCapacity: Math.max(1 << 16, txCount * writes * 2),
    writeArenaWords: Math.max(1 << 18, txCount * incarnations * (SET_HEADER_WORDS + writes * WRITE_RECORD_WORDS)),
    readArenaWords: Math.max(1 << 21, txCount * incarnations * (SET_HEADER_WORDS + reads * READ_RECORD_WORDS)),
  };
}

export interface MultiVersionMemoryDescriptor {
  capacities: MvCapacities;
  locations: LocationTableDescriptor;
  header: SharedRegion;
  heads: SharedRegion;
  entries: SharedRegion;
  txMeta: SharedRegion;
  writeArena: SharedRegion;
  readArena: SharedRegion;
}

export interface WriteOutcome {
  /** Some location was not written by the previous incarnation (Block-STM wrote_new_location). */
  readonly wroteNewLocation: boolean;
}
const WROTE_NEW: WriteOutcome = Object.freeze({ wroteNewLocation: true });
const WROTE_NOTHING_NEW: WriteOutcome = Object.freeze({ wroteNewLocation: false });

/** One entry as seen at the end of the block. */
export interface EntrySnapshot {
  txIdx: number;
  incarnation: number;
  flags: number;
  value: Uint32Array;
}

export class MultiVersionMemory {
  readonly descriptor: MultiVersionMemoryDescriptor;
  readonly capacities: MvCapacities;
  readonly locations: LocationTable;
  private readonly header: Int32Array;
  private readonly heads: Int32Array;
  private readonly entries: Int32Array;
  private readonly txMeta: Int32Array;
  private readonly writeArena: Int32Array;
  private readonly readArena: Int32Array;
  // Per-thread scratch.
  private readonly words = new Int32Array(VALUE_WORDS);
  private readonly validation = new ReadResult();
  private lastUpsertWasNew = false;

  static create(capacities: MvCapacities, allocate: SharedAllocator = defaultAllocator): MultiVersionMemory {
    for (const [name, value] of Object.entries(capacities)) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`capacity ${name} must be a positive integer, got ${value}`);
    }
    const memory = new MultiVersionMemory({
      capacities: { ...capacities },
      locations: LocationTable.create(capacities.locationCapacity, allocate).descriptor,
      header: allocateRegion(allocate, HEADER_WORDS),
      heads: allocateRegion(allocate, capacities.locationCapacity),
      // +1: ref 0 is the null ref.
      entries: allocateRegion(allocate, (capacities.entryCapacity + 1) * ENTRY_WORDS),
      txMeta: allocateRegion(allocate, capacities.txCapacity * TX_META_WORDS),
      writeArena: allocateRegion(allocate, capacities.writeArenaWords + 1),
      readArena: allocateRegion(allocate, capacities.readArenaWords + 1),
    });
    memory.initCursors();
    return memory;
  }

  /** Attaches to a memory created elsewhere (e.g. in a Worker, from a posted descriptor). */
  static attach(descriptor: MultiVersionMemoryDescriptor): MultiVersionMemory {
    return new MultiVersionMemory(descriptor);
  }

  private constructor(descriptor: MultiVersionMemoryDescriptor) {
    this.descriptor = descriptor;
    this.capacities = descriptor.capacities;
    this.locations = LocationTable.attach(descriptor.locations);
    this.header = int32View(descriptor.header);
    this.heads = int32View(descriptor.heads);
    this.entries = int32View(descriptor.entries);
    this.txMeta = int32View(descriptor.txMeta);
    this.writeArena = int32View(descriptor.writeArena);
    this.readArena = int32View(descriptor.readArena);
  }

  /**
   * Empties everything for a block of `txCount` transactions, keeping the buffers.
   * Only while no other thread uses the memory. Cost: O(locations used + txCount).
   */
  reset(txCount: number): void {
    if (txCount > this.capacities.txCapacity) throw new MvCapacityError("transactions", this.capacities.txCapacity);
    this.heads.fill(0, 0, this.locations.count);
    this.locations.reset();
    this.txMeta.fill(0, 0, txCount * TX_META_WORDS);
    this.initCursors();
  }

  /**
   * What transaction txIdx reads at locId: walks entries of lower transactions from the
   * highest down, skipping DELETED ones and accumulating DELTA ones (see ReadResult).
   */
  read(locId: number, txIdx: number, out: ReadResult): ReadStatus {
    return this.walk(locId, txIdx, out, true);
  }

  /** The value after the whole block (same conventions as read); for settling the block. */
  finalValue(locId: number, out: ReadResult): ReadStatus {
    return this.walk(locId, AFTER_BLOCK, out, true);
  }

  /**
   * Installs the write set of (txIdx, incarnation): writes every value, marks DELETED the
   * entries the previous incarnation wrote but this one does not, and publishes the set for
   * convertWritesToEstimates. Incarnations must increase; locIds must be distinct.
   */
  recordWrites(txIdx: number, incarnation: number, writes: WriteBatch): WriteOutcome {
    this.checkTx(txIdx);
    const arena = this.writeArena;
    const previous = Atomics.load(this.txMeta, txIdx * TX_META_WORDS + META_WRITE_SET);
    const previousCount = previous === 0 ? 0 : arena[previous]!;
    const count = writes.count;
    const offset = this.reserve(WRITE_CURSOR, SET_HEADER_WORDS + count * WRITE_RECORD_WORDS, "writeArena");
    arena[offset] = count;
    arena[offset + 1] = incarnation;

    let wroteNew = false;
    for (let i = 0; i < count; i++) {
      const locId = writes.locIds[i]!;
      const flags = writes.deltas[i] ? EntryFlag.DELTA : 0;
      const valueAt = i * VALUE_WORDS;
      const previousRecord = previous + SET_HEADER_WORDS + i * WRITE_RECORD_WORDS;
      let ref: number;
      if (i < previousCount && arena[previousRecord] === locId) {
        // Common case: same location at the same position as last time; no list walk.
        ref = arena[previousRecord + 1]!;
        this.overwrite(ref, incarnation, flags, writes.values, valueAt);
      } else {
        ref = this.upsert(locId, txIdx, incarnation, flags, writes.values, valueAt);
        if (this.lastUpsertWasNew) wroteNew = true;
      }
      const record = offset + SET_HEADER_WORDS + i * WRITE_RECORD_WORDS;
      arena[record] = locId;
      arena[record + 1] = ref;
    }

    const entries = this.entries;
    for (let i = 0; i < previousCount; i++) {
      const ref = arena[previous + SET_HEADER_WORDS + i * WRITE_RECORD_WORDS + 1]!;
      // Entries rewritten above carry this incarnation; the rest are no longer written.
      if (entries[ref * ENTRY_WORDS + INCARNATION] !== incarnation) this.setFlags(ref, EntryFlag.DELETED);
    }
    Atomics.store(this.txMeta, txIdx * TX_META_WORDS + META_WRITE_SET, offset);
    return wroteNew ? WROTE_NEW : WROTE_NOTHING_NEW;
  }

  /** On abort: flags every entry of the transaction's last write set ESTIMATE. */
  convertWritesToEstimates(txIdx: number): void {
    this.checkTx(txIdx);
    const offset = Atomics.load(this.txMeta, txIdx * TX_META_WORDS + META_WRITE_SET);
    if (offset === 0) return;
    const arena = this.writeArena;
    const entries = this.entries;
    const count = arena[offset]!;
    for (let i = 0; i < count; i++) {
      const ref = arena[offset + SET_HEADER_WORDS + i * WRITE_RECORD_WORDS + 1]!;
      this.setFlags(ref, entries[ref * ENTRY_WORDS + FLAGS]! | EntryFlag.ESTIMATE);
    }
  }

  /** Publishes the read set of (txIdx, incarnation) for validateReads by any worker. */
  recordReads(txIdx: number, incarnation: number, reads: ReadSet): void {
    this.checkTx(txIdx);
    const length = reads.length;
    const offset = this.reserve(READ_CURSOR, SET_HEADER_WORDS + length, "readArena");
    const arena = this.readArena;
    arena[offset] = length;
    arena[offset + 1] = incarnation;
    arena.set(reads.words.subarray(0, length), offset + SET_HEADER_WORDS);
    Atomics.store(this.txMeta, txIdx * TX_META_WORDS + META_READ_SET, offset);
  }

  /**
   * Re-reads the transaction's last recorded read set: false when any location now reads as
   * ESTIMATE, or from a different origin (writer and incarnation, or BASE), or with a
   * different accumulated delta. A transaction that recorded no reads is valid.
   */
  validateReads(txIdx: number): boolean {
    this.checkTx(txIdx);
    const offset = Atomics.load(this.txMeta, txIdx * TX_META_WORDS + META_READ_SET);
    if (offset === 0) return true;
    const arena = this.readArena;
    const now = this.validation;
    let at = offset + SET_HEADER_WORDS;
    const end = at + arena[offset]!;
    while (at < end) {
      const locId = arena[at]!;
      this.lastInvalidRead = locId;
      const status = this.walk(locId, txIdx, now, false);
      if (status === ReadStatus.ESTIMATE) return false;
      if (now.txIdx !== arena[at + 1] || now.incarnation !== arena[at + 2]) return false;
      // now.delta is all zero when no DELTA was walked, so sums compare directly.
      if (arena[at + 3]! > 0) {
        const recorded = at + READ_RECORD_WORDS;
        for (let i = 0; i < DELTA_WORDS; i++) if ((now.delta[i]! | 0) !== arena[recorded + i]) return false;
        if (now.deltaFlags !== arena[recorded + DELTA_WORDS]) return false;
        at += READ_RECORD_DELTA_WORDS;
      } else {
        if (!isZeroDelta(now)) return false;
        at += READ_RECORD_WORDS;
      }
    }
    this.lastInvalidRead = -1;
    return true;
  }

  /** After validateReads returned false on this thread: the location whose read had changed. */
  lastInvalidRead = -1;

  /** The highest non-DELETED entry of the location, or null. For settling the block. */
  lastWriter(locId: number): EntrySnapshot | null {
    for (let ref = Atomics.load(this.heads, locId); ref !== 0; ref = Atomics.load(this.entries, ref * ENTRY_WORDS + NEXT)) {
      const snapshot = this.snapshot(ref);
      if ((snapshot.flags & EntryFlag.DELETED) === 0) return snapshot;
    }
    return null;
  }

  /** Every entry of the location (DELETED ones included), in ascending txIdx order. */
  entriesOf(locId: number): EntrySnapshot[] {
    const list: EntrySnapshot[] = [];
    for (let ref = Atomics.load(this.heads, locId); ref !== 0; ref = Atomics.load(this.entries, ref * ENTRY_WORDS + NEXT)) {
      list.push(this.snapshot(ref));
    }
    return list.reverse();
  }

  /** Entries allocated so far (for sizing the next block). */
  get entryCount(): number {
    return Math.min(Atomics.load(this.header, ENTRY_CURSOR) - 1, this.capacities.entryCapacity);
  }

  private walk(locId: number, txIdx: number, out: ReadResult, copyValue: boolean): ReadStatus {
    const entries = this.entries;
    const words = this.words;
    if (out.deltaCount !== 0) {
      out.delta.fill(0);
      out.deltaFlags = 0;
      out.deltaCount = 0;
    }
    let ref = Atomics.load(this.heads, locId);
    while (ref !== 0) {
      const base = ref * ENTRY_WORDS;
      const writer = entries[base + TX]!;
      if (writer >= txIdx) {
        ref = entries[base + NEXT]!; // a stale link only means reading as of a moment earlier
        continue;
      }
      // Seqlock: a snapshot of incarnation, flags and (only when used) value words.
      // Plain loads between the two Atomics.load of seq: x86-64 keeps loads in order and JSC
      // never moves memory accesses across an Atomics op, and they are 2-4x faster than
      // Atomics.load here (measured). A weakly ordered CPU (arm64) would need Atomics.load.
      let flags: number;
      let incarnation: number;
      for (;;) {
        const seq = Atomics.load(entries, base + SEQ);
        if ((seq & 1) !== 0) continue;
        flags = entries[base + FLAGS]!;
        incarnation = entries[base + INCARNATION]!;
        if ((flags & EntryFlag.DELTA) !== 0 || (copyValue && flags === 0)) {
          for (let i = 0; i < VALUE_WORDS; i++) words[i] = entries[base + VALUE + i]!;
        }
        if (Atomics.load(entries, base + SEQ) === seq) break;
      }
      if ((flags & EntryFlag.DELETED) !== 0) {
        ref = Atomics.load(entries, base + NEXT);
        continue;
      }
      if ((flags & EntryFlag.ESTIMATE) !== 0) {
        out.blockingTx = writer;
        return ReadStatus.ESTIMATE;
      }
      if ((flags & EntryFlag.DELTA) !== 0) {
        addWords256(out.delta, words);
        out.deltaFlags |= words[DELTA_FLAGS_WORD]!;
        out.deltaCount++;
        ref = Atomics.load(entries, base + NEXT);
        continue;
      }
      out.txIdx = writer;
      out.incarnation = incarnation;
      if (copyValue) {
        const value = out.value;
        for (let i = 0; i < VALUE_WORDS; i++) value[i] = words[i]!;
        if (out.deltaCount > 0) {
          addWords256(value, out.delta);
          value[DELTA_FLAGS_WORD] = value[DELTA_FLAGS_WORD]! | out.deltaFlags;
        }
      }
      return ReadStatus.VALUE;
    }
    out.txIdx = BASE_ORIGIN;
    out.incarnation = BASE_ORIGIN;
    return ReadStatus.BASE;
  }

  /**
   * Finds txIdx's entry in the list (reusing it) or links a new one at its sorted position.
   * Sets lastUpsertWasNew when the location is new to the transaction (created, or revived
   * from DELETED). Lock-free: entries are never unlinked, so a failed CAS resumes at its link.
   */
  private upsert(locId: number, txIdx: number, incarnation: number, flags: number, values: ArrayLike<number>, valueAt: number): number {
    const entries = this.entries;
    let link: Int32Array = this.heads;
    let linkAt = locId;
    let fresh = 0;
    for (;;) {
      let ref = Atomics.load(link, linkAt);
      while (ref !== 0 && entries[ref * ENTRY_WORDS + TX]! > txIdx) {
        link = entries;
        linkAt = ref * ENTRY_WORDS + NEXT;
        ref = Atomics.load(entries, linkAt);
      }
      if (ref !== 0 && entries[ref * ENTRY_WORDS + TX] === txIdx) {
        // Only this transaction links entries for txIdx, so `fresh` is still unused here.
        this.lastUpsertWasNew = (entries[ref * ENTRY_WORDS + FLAGS]! & EntryFlag.DELETED) !== 0;
        this.overwrite(ref, incarnation, flags, values, valueAt);
        return ref;
      }
      if (fresh === 0) fresh = this.newEntry(txIdx, incarnation, flags, values, valueAt);
      Atomics.store(entries, fresh * ENTRY_WORDS + NEXT, ref);
      if (Atomics.compareExchange(link, linkAt, ref, fresh) === ref) {
        this.lastUpsertWasNew = true;
        return fresh;
      }
    }
  }

  private newEntry(txIdx: number, incarnation: number, flags: number, values: ArrayLike<number>, valueAt: number): number {
    const ref = Atomics.add(this.header, ENTRY_CURSOR, 1);
    if (ref > this.capacities.entryCapacity) throw new MvCapacityError("entries", this.capacities.entryCapacity);
    const entries = this.entries;
    const base = ref * ENTRY_WORDS;
    // Not yet visible to anyone: the linking CAS publishes these plain stores.
    entries[base + SEQ] = 0;
    entries[base + TX] = txIdx;
    entries[base + INCARNATION] = incarnation;
    entries[base + FLAGS] = flags;
    for (let i = 0; i < VALUE_WORDS; i++) entries[base + VALUE + i] = values[valueAt + i]!;
    return ref;
  }

  private overwrite(ref: number, incarnation: number, flags: number, values: ArrayLike<number>, valueAt: number): void {
    const entries = this.entries;
    const base = ref * ENTRY_WORDS;
    const seq = entries[base + SEQ]!; // we are the only writer of this entry
    Atomics.store(entries, base + SEQ, seq + 1);
    // Plain stores between the two seq stores (full fences on x86-64; see walk()).
    entries[base + INCARNATION] = incarnation;
    entries[base + FLAGS] = flags;
    for (let i = 0; i < VALUE_WORDS; i++) entries[base + VALUE + i] = values[valueAt + i]!;
    Atomics.store(entries, base + SEQ, seq + 2);
  }

  private setFlags(ref: number, flags: number): void {
    const entries = this.entries;
    const base = ref * ENTRY_WORDS;
    const seq = entries[base + SEQ]!;
    Atomics.store(entries, base + SEQ, seq + 1);
    Atomics.store(entries, base + FLAGS, flags);
    Atomics.store(entries, base + SEQ, seq + 2);
  }

  private snapshot(ref: number): EntrySnapshot {
    const entries = this.entries;
    const base = ref * ENTRY_WORDS;
    const value = new Uint32Array(VALUE_WORDS);
    for (;;) {
      const seq = Atomics.load(entries, base + SEQ);
      if ((seq & 1) !== 0) continue;
      const incarnation = Atomics.load(entries, base + INCARNATION);
      const flags = Atomics.load(entries, base + FLAGS);
      for (let i = 0; i < VALUE_WORDS; i++) value[i] = Atomics.load(entries, base + VALUE + i);
      if (Atomics.load(entries, base + SEQ) === seq) return { txIdx: entries[base + TX]!, incarnation, flags, value };
    }
  }

  /** Bump-allocates `words` arena words; the offset is never 0. */
  private reserve(cursor: number, words: number, resource: MvResource): number {
    const offset = Atomics.add(this.header, cursor, words);
    const capacity = resource === "writeArena" ? this.capacities.writeArenaWords : this.capacities.readArenaWords;
    // Arena word 0 is unused, so valid offsets run 1..capacity.
    if (offset + words > capacity + 1) throw new MvCapacityError(resource, capacity);
    return offset;
  }

  private initCursors(): void {
    Atomics.store(this.header, ENTRY_CURSOR, 1);
    Atomics.store(this.header, WRITE_CURSOR, 1);
    Atomics.store(this.header, READ_CURSOR, 1);
  }

  private checkTx(txIdx: number): void {
    if (!(txIdx >= 0 && txIdx < this.capacities.txCapacity)) throw new RangeError(`transaction index ${txIdx} out of range`);
  }
}

function isZeroDelta(result: ReadResult): boolean {
  if (result.deltaFlags !== 0) return false;
  for (let i = 0; i < DELTA_WORDS; i++) if (result.delta[i] !== 0) return false;
  return true;
}
