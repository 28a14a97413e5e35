import { describe, expect, test } from "bun:test";
import { addressToWords as addressWords, bigintToWords } from "../src/shm/words.ts";
import {
  BASE_ORIGIN,
  defaultCapacities,
  EntryFlag,
  LocationKind,
  LocationTable,
  MultiVersionMemory,
  MvCapacityError,
  ReadResult,
  ReadSet,
  ReadStatus,
  VALUE_WORDS,
  WriteSet,
  type MvCapacities,
} from "../src/mv/index.ts";
import {
  BARRIER_WORDS,
  BENEFICIARY_SLOT,
  HAMMER_ROUNDS,
  HAMMER_SLOT,
  HAMMER_TX,
  MAX_WORKERS,
  INCARNATIONS,
  KEY_COUNT,
  keyOfIndex,
  stampOf,
  TX_COUNT,
  VERSIONED_LOCATIONS,
  versionedKey,
  writes,
  type StressReply,
  type StressRequest,
} from "./fixtures/mv-stress-plan.ts";

const SMALL: MvCapacities = { txCapacity: 64, locationCapacity: 64, entryCapacity: 256, writeArenaWords: 4096, readArenaWords: 4096 };

function wordsOfAddress(address: string): Uint32Array {
  const out = new Uint32Array(5);
  addressWords(address, out);
  return out;
}

function filled(word: number): Uint32Array {
  return new Uint32Array(VALUE_WORDS).fill(word);
}

/** A DELTA value adding `amount` (256-bit) and ORing `flags` into word 10. */
function deltaOf(amount: bigint, flags = 0): Uint32Array {
  const value = new Uint32Array(VALUE_WORDS);
  bigintToWords(BigInt.asUintN(256, amount), value, 0, 8);
  value[10] = flags;
  return value;
}

function balanceOf(value: ArrayLike<number>): bigint {
  let result = 0n;
  for (let i = 0; i < 8; i++) result = (result << 32n) | BigInt(value[i]! >>> 0); // big-endian words
  return result;
}

function fullBalance(amount: bigint, word10 = 0): Uint32Array {
  const value = deltaOf(amount, word10);
  value[8] = 0x88;
  value[9] = 0x99;
  return value;
}

function write(memory: MultiVersionMemory, tx: number, inc: number, items: [loc: number, value: Uint32Array, isDelta?: boolean][]): boolean {
  const set = new WriteSet();
  for (const [loc, value, isDelta] of items) set.add(loc, value, isDelta ?? false);
  return memory.recordWrites(tx, inc, set).wroteNewLocation;
}

/** Reads as tx would and records the reads, returning the statuses. */
function readAndRecord(memory: MultiVersionMemory, tx: number, inc: number, locs: number[]): ReadStatus[] {
  const set = new ReadSet();
  const result = new ReadResult();
  const statuses = locs.map((loc) => {
    const status = memory.read(loc, tx, result);
    if (status !== ReadStatus.ESTIMATE) set.add(loc, result);
    return status;
  });
  memory.recordReads(tx, inc, set);
  return statuses;
}

describe("LocationTable", () => {
  const address = "0x00000000000000000000000000000000000000aa";
  const other = "0xffffffffffffffffffffffffffffffffffffff01";

  test("hands out dense ids, once per key, distinguishing kind and slot", () => {
    const table = LocationTable.create(16);
    const account = table.idOfHex(LocationKind.ACCOUNT, address);
    const code = table.idOfHex(LocationKind.CODE, address);
    const slot1 = table.idOfHex(LocationKind.STORAGE, address, 1n);
    const slot2 = table.idOfHex(LocationKind.STORAGE, address, 2n);
    const bigSlot = table.idOfHex(LocationKind.STORAGE, other, (1n << 255n) + 7n);
    expect([account, code, slot1, slot2, bigSlot]).toEqual([0, 1, 2, 3, 4]);
    expect(table.idOfHex(LocationKind.STORAGE, address, 2n)).toBe(slot2);
    expect(table.idOf(LocationKind.ACCOUNT, wordsOfAddress(address))).toBe(account);
    expect(table.idOfHex(LocationKind.ACCOUNT, address.toUpperCase().replace("0X", "0x"))).toBe(account);
    expect(table.count).toBe(5);
  });

  test("find returns -1 for absent keys and does not insert", () => {
    const table = LocationTable.create(16);
    expect(table.findHex(LocationKind.ACCOUNT, address)).toBe(-1);
    const id = table.idOfHex(LocationKind.STORAGE, address, 5n);
    expect(table.findHex(LocationKind.STORAGE, address, 5n)).toBe(id);
    expect(table.findHex(LocationKind.STORAGE, address, 6n)).toBe(-1);
    expect(table.findHex(LocationKind.ACCOUNT, address)).toBe(-1);
    expect(table.count).toBe(1);
  });

  test("keyOf decodes what was inserted", () => {
    const table = LocationTable.create(16);
    const slot = (1n << 200n) | 0xdeadbeefn;
    const storage = table.idOfHex(LocationKind.STORAGE, other, slot);
    const code = table.idOfHex(LocationKind.CODE, address);
    expect(table.keyOf(storage)).toEqual({ kind: LocationKind.STORAGE, address: other, slot });
    expect(table.keyOf(code)).toEqual({ kind: LocationKind.CODE, address });
    expect(() => table.keyOf(2)).toThrow(RangeError);
  });

  test("throws MvCapacityError when full, and reset empties it", () => {
    const table = LocationTable.create(3);
    for (let i = 0; i < 3; i++) table.idOfHex(LocationKind.STORAGE, address, BigInt(i));
    expect(table.idOfHex(LocationKind.STORAGE, address, 1n)).toBe(1); // hits still work when full
    let error: unknown;
    try {
      table.idOfHex(LocationKind.STORAGE, address, 99n);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MvCapacityError);
    expect((error as MvCapacityError).resource).toBe("locations");
    table.reset();
    expect(table.count).toBe(0);
    expect(table.findHex(LocationKind.STORAGE, address, 1n)).toBe(-1);
    expect(table.idOfHex(LocationKind.STORAGE, address, 99n)).toBe(0);
  });

  test("a snapshot restored after a reset gives the same ids, and later inserts continue after them", () => {
    const table = LocationTable.create(64);
    const keys: [LocationKind, string, bigint?][] = [
      [LocationKind.ACCOUNT, address],
      [LocationKind.CODE, address],
      [LocationKind.STORAGE, other, 3n],
      [LocationKind.ACCOUNT, other],
    ];
    const ids = keys.map(([kind, a, slot]) => table.idOfHex(kind, a, slot));
    const snapshot = table.snapshot();
    expect(snapshot.count).toBe(4);
    table.idOfHex(LocationKind.STORAGE, address, 9n); // a run's own key, not in the snapshot
    table.reset();
    table.restore(snapshot);
    expect(table.count).toBe(4);
    expect(keys.map(([kind, a, slot]) => table.findHex(kind, a, slot))).toEqual(ids);
    expect(table.findHex(LocationKind.STORAGE, address, 9n)).toBe(-1);
    expect(table.keyOf(ids[2]!)).toEqual({ kind: LocationKind.STORAGE, address: other, slot: 3n });
    expect(table.idOfHex(LocationKind.STORAGE, address, 9n)).toBe(4);
    // Only into an empty table of the same size.
    expect(() => table.restore(snapshot)).toThrow(RangeError);
    expect(() => LocationTable.create(1024).restore(snapshot)).toThrow(RangeError);
  });

  test("rejects malformed hex", () => {
    const table = LocationTable.create(4);
    expect(() => table.idOfHex(LocationKind.ACCOUNT, "0x1234")).toThrow(RangeError);
    expect(() => table.idOfHex(LocationKind.ACCOUNT, `0x${"g".repeat(40)}`)).toThrow(RangeError);
  });
});

describe("MultiVersionMemory reads", () => {
  test("a read sees the highest lower writer, regardless of insertion order", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const loc = 0;
    for (const tx of [5, 1, 3]) write(memory, tx, 0, [[loc, filled(100 + tx)]]);
    expect(memory.entriesOf(loc).map((entry) => entry.txIdx)).toEqual([1, 3, 5]);

    const result = new ReadResult();
    expect(memory.read(loc, 0, result)).toBe(ReadStatus.BASE);
    expect(result.txIdx).toBe(BASE_ORIGIN);
    expect(memory.read(loc, 1, result)).toBe(ReadStatus.BASE);
    for (const [reader, writer] of [[2, 1], [3, 1], [4, 3], [5, 3], [6, 5], [60, 5]] as const) {
      expect(memory.read(loc, reader, result)).toBe(ReadStatus.VALUE);
      expect([result.txIdx, result.incarnation, result.value[0], result.value[10]]).toEqual([writer, 0, 100 + writer, 100 + writer]);
    }
    expect(memory.read(1, 10, result)).toBe(ReadStatus.BASE); // untouched location
  });

  test("ESTIMATE entries block readers above them only", () => {
    const memory = MultiVersionMemory.create(SMALL);
    write(memory, 1, 0, [[0, filled(1)]]);
    write(memory, 3, 0, [[0, filled(3)], [1, filled(33)]]);
    memory.convertWritesToEstimates(3);
    const result = new ReadResult();
    expect(memory.read(0, 4, result)).toBe(ReadStatus.ESTIMATE);
    expect(result.blockingTx).toBe(3);
    expect(memory.read(1, 9, result)).toBe(ReadStatus.ESTIMATE);
    expect(memory.read(0, 3, result)).toBe(ReadStatus.VALUE);
    expect(result.txIdx).toBe(1);
    // The next incarnation rewrites the entry and clears the estimate.
    write(memory, 3, 1, [[0, filled(4)], [1, filled(44)]]);
    expect(memory.read(0, 4, result)).toBe(ReadStatus.VALUE);
    expect([result.txIdx, result.incarnation, result.value[5]]).toEqual([3, 1, 4]);
  });

  test("entries the latest incarnation did not write are DELETED and skipped; entries are reused", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const [a, b] = [0, 1];
    write(memory, 1, 0, [[b, filled(11)]]);
    expect(write(memory, 3, 0, [[a, filled(30)], [b, filled(31)]])).toBe(true);
    const entries = memory.entryCount;
    expect(write(memory, 3, 1, [[a, filled(40)]])).toBe(false);
    expect(memory.entryCount).toBe(entries);

    const result = new ReadResult();
    expect(memory.read(b, 4, result)).toBe(ReadStatus.VALUE);
    expect([result.txIdx, result.value[0]]).toEqual([1, 11]);
    expect(memory.entriesOf(b).map((entry) => entry.flags)).toEqual([0, EntryFlag.DELETED]);
    expect(memory.read(a, 4, result)).toBe(ReadStatus.VALUE);
    expect([result.txIdx, result.incarnation, result.value[0]]).toEqual([3, 1, 40]);

    // Writing b again revives the same entry, and counts as a new location.
    expect(write(memory, 3, 2, [[b, filled(50)], [a, filled(51)]])).toBe(true);
    expect(memory.entryCount).toBe(entries);
    expect(memory.read(b, 4, result)).toBe(ReadStatus.VALUE);
    expect([result.txIdx, result.incarnation, result.value[0]]).toEqual([3, 2, 50]);
    // Same set again (any order): nothing new.
    expect(write(memory, 3, 3, [[a, filled(60)], [b, filled(61)]])).toBe(false);
    // A never-written location is new.
    expect(write(memory, 3, 4, [[a, filled(60)], [b, filled(61)], [2, filled(62)]])).toBe(true);
  });

  test("an empty write set deletes every previous entry", () => {
    const memory = MultiVersionMemory.create(SMALL);
    write(memory, 2, 0, [[0, filled(2)], [1, filled(2)]]);
    expect(write(memory, 2, 1, [])).toBe(false);
    const result = new ReadResult();
    expect(memory.read(0, 5, result)).toBe(ReadStatus.BASE);
    expect(memory.read(1, 5, result)).toBe(ReadStatus.BASE);
    expect(memory.lastWriter(0)).toBeNull();
  });

  test("DELTA entries accumulate with carries onto the full value below", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const loc = 0;
    const base = (1n << 64n) - 1n; // all-ones low words: adding 1 carries into word 2
    write(memory, 1, 0, [[loc, fullBalance(base, 0x10)]]);
    write(memory, 2, 0, [[loc, fullBalance(7n)]]);
    write(memory, 2, 1, [[loc, deltaOf(1n, 0x1), true]]); // the reused entry turns into a DELTA
    write(memory, 4, 0, [[loc, deltaOf((1n << 100n) + 5n, 0x4), true]]);

    const result = new ReadResult();
    expect(memory.read(loc, 5, result)).toBe(ReadStatus.VALUE);
    expect(result.txIdx).toBe(1);
    expect(result.deltaCount).toBe(2);
    expect(balanceOf(result.delta)).toBe((1n << 100n) + 6n);
    expect(result.deltaFlags).toBe(0x5);
    expect(balanceOf(result.value)).toBe(base + (1n << 100n) + 6n);
    expect([result.value[8], result.value[9], result.value[10]]).toEqual([0x88, 0x99, 0x15]);

    // Below the deltas: the plain value, and no stale delta from the previous read.
    expect(memory.read(loc, 2, result)).toBe(ReadStatus.VALUE);
    expect(result.deltaCount).toBe(0);
    expect(balanceOf(result.delta)).toBe(0n);
    expect(balanceOf(result.value)).toBe(base);
  });

  test("DELTA sums wrap mod 2^256 and ride on BASE when no full value is below", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const max = (1n << 256n) - 1n;
    write(memory, 0, 0, [[0, fullBalance(max)]]);
    write(memory, 1, 0, [[0, deltaOf(2n), true], [1, deltaOf(max, 0x2), true]]);
    write(memory, 2, 0, [[1, deltaOf(3n, 0x1), true]]);
    const result = new ReadResult();
    expect(memory.read(0, 2, result)).toBe(ReadStatus.VALUE);
    expect(balanceOf(result.value)).toBe(1n);
    expect(memory.read(1, 3, result)).toBe(ReadStatus.BASE);
    expect([result.deltaCount, balanceOf(result.delta), result.deltaFlags]).toEqual([2, 2n, 0x3]);
    expect(result.txIdx).toBe(BASE_ORIGIN);
    // An ESTIMATE anywhere in the walk blocks the read.
    memory.convertWritesToEstimates(1);
    expect(memory.read(1, 3, result)).toBe(ReadStatus.ESTIMATE);
    expect(result.blockingTx).toBe(1);
    // finalValue settles the whole chain.
    write(memory, 1, 1, [[1, deltaOf(4n), true]]);
    expect(memory.finalValue(1, result)).toBe(ReadStatus.BASE);
    expect(balanceOf(result.delta)).toBe(7n);
  });

  test("lastWriter and entriesOf expose the settled entries", () => {
    const memory = MultiVersionMemory.create(SMALL);
    write(memory, 2, 0, [[0, filled(2)]]);
    write(memory, 7, 0, [[0, deltaOf(9n), true]]);
    const last = memory.lastWriter(0)!;
    expect([last.txIdx, last.incarnation, last.flags, last.value[7]]).toEqual([7, 0, EntryFlag.DELTA, 9]);
    expect(memory.entriesOf(0).map((entry) => [entry.txIdx, entry.flags])).toEqual([[2, 0], [7, EntryFlag.DELTA]]);
  });
});

describe("MultiVersionMemory validation", () => {
  function setup() {
    const memory = MultiVersionMemory.create(SMALL);
    write(memory, 1, 0, [[0, filled(1)]]);
    write(memory, 2, 0, [[2, deltaOf(5n), true]]);
    // tx 5 reads loc 0 (from tx 1), loc 1 (BASE) and loc 2 (BASE + delta 5).
    expect(readAndRecord(memory, 5, 0, [0, 1, 2])).toEqual([ReadStatus.VALUE, ReadStatus.BASE, ReadStatus.BASE]);
    expect(memory.validateReads(5)).toBe(true);
    return memory;
  }

  test("stays valid when nothing below changed, or only higher transactions wrote", () => {
    const memory = setup();
    write(memory, 6, 0, [[0, filled(6)], [1, filled(6)], [2, filled(6)]]);
    write(memory, 5, 0, [[0, filled(5)]]); // its own write is not a read dependency
    expect(memory.validateReads(5)).toBe(true);
    expect(memory.validateReads(9)).toBe(true); // nothing recorded
  });

  test("fails when a lower transaction writes a location that was read from BASE", () => {
    const memory = setup();
    write(memory, 3, 0, [[1, filled(3)]]);
    expect(memory.validateReads(5)).toBe(false);
  });

  test("fails when a lower transaction writes between the reader and the origin", () => {
    const memory = setup();
    write(memory, 4, 0, [[0, filled(4)]]);
    expect(memory.validateReads(5)).toBe(false);
  });

  test("fails when the origin re-executes, even with the same value", () => {
    const memory = setup();
    write(memory, 1, 1, [[0, filled(1)]]);
    expect(memory.validateReads(5)).toBe(false);
  });

  test("fails when the origin aborts (ESTIMATE) or stops writing (DELETED)", () => {
    const aborted = setup();
    aborted.convertWritesToEstimates(1);
    expect(aborted.validateReads(5)).toBe(false);
    const deleted = setup();
    write(deleted, 1, 1, []);
    expect(deleted.validateReads(5)).toBe(false);
  });

  test("fails when the accumulated delta changes, passes when it only changes hands", () => {
    const changed = setup();
    write(changed, 2, 1, [[2, deltaOf(6n), true]]);
    expect(changed.validateReads(5)).toBe(false);

    const added = setup();
    write(added, 3, 0, [[0, deltaOf(1n), true]]); // a new delta on a location read as a full value
    expect(added.validateReads(5)).toBe(false);

    const sameSum = setup();
    write(sameSum, 2, 1, [[2, deltaOf(2n), true]]);
    write(sameSum, 3, 0, [[2, deltaOf(3n), true]]);
    expect(sameSum.validateReads(5)).toBe(true); // the observed sum is still 5 on BASE
  });

  test("validates the latest recorded incarnation's reads", () => {
    const memory = setup();
    write(memory, 3, 0, [[1, filled(3)]]);
    expect(memory.validateReads(5)).toBe(false);
    readAndRecord(memory, 5, 1, [0, 1]);
    expect(memory.validateReads(5)).toBe(true);
  });
});

describe("MultiVersionMemory capacities and reuse", () => {
  function capacityError(action: () => void): MvCapacityError {
    try {
      action();
    } catch (error) {
      if (error instanceof MvCapacityError) return error;
      throw error;
    }
    throw new Error("expected an MvCapacityError");
  }

  test("entry, arena and transaction capacities throw MvCapacityError", () => {
    const entries = MultiVersionMemory.create({ ...SMALL, entryCapacity: 2 });
    write(entries, 0, 0, [[0, filled(1)], [1, filled(1)]]);
    write(entries, 0, 1, [[0, filled(1)], [1, filled(1)]]); // reuse needs no new entry
    expect(capacityError(() => write(entries, 1, 0, [[0, filled(1)]])).resource).toBe("entries");

    const writeArena = MultiVersionMemory.create({ ...SMALL, writeArenaWords: 10 });
    write(writeArena, 0, 0, [[0, filled(1)], [1, filled(1)]]); // 2 + 2 * 2 words
    expect(capacityError(() => write(writeArena, 0, 1, [[0, filled(1)], [1, filled(1)]])).resource).toBe("writeArena");

    const readArena = MultiVersionMemory.create({ ...SMALL, readArenaWords: 10 });
    readAndRecord(readArena, 0, 0, [0, 1]); // 2 + 2 * 4 words
    expect(capacityError(() => readAndRecord(readArena, 0, 1, [0])).resource).toBe("readArena");

    expect(capacityError(() => readArena.reset(SMALL.txCapacity + 1)).resource).toBe("transactions");
    expect(() => readArena.read(0, 0, new ReadResult())).not.toThrow();
    expect(() => write(readArena, SMALL.txCapacity, 0, [])).toThrow(RangeError);
  });

  test("reset empties everything and keeps the buffers", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const loc = memory.locations.idOfHex(LocationKind.ACCOUNT, "0x1111111111111111111111111111111111111111");
    write(memory, 1, 0, [[loc, filled(1)]]);
    readAndRecord(memory, 3, 0, [loc]);
    memory.convertWritesToEstimates(1);
    const buffer = memory.descriptor.entries.buffer;

    memory.reset(10);
    expect(memory.descriptor.entries.buffer).toBe(buffer);
    expect(memory.locations.count).toBe(0);
    expect(memory.entryCount).toBe(0);
    const result = new ReadResult();
    expect(memory.read(loc, 3, result)).toBe(ReadStatus.BASE);
    expect(memory.validateReads(3)).toBe(true);
    memory.convertWritesToEstimates(1); // no write set any more: a no-op
    expect(write(memory, 1, 0, [[loc, filled(2)]])).toBe(true);
    expect(memory.read(loc, 3, result)).toBe(ReadStatus.VALUE);
    expect(result.value[0]).toBe(2);
  });

  test("a structured-cloned descriptor attaches to the same memory", () => {
    const memory = MultiVersionMemory.create(SMALL);
    const twin = MultiVersionMemory.attach(structuredClone(memory.descriptor));
    const loc = twin.locations.idOfHex(LocationKind.STORAGE, "0x2222222222222222222222222222222222222222", 7n);
    write(twin, 4, 0, [[loc, filled(4)]]);
    expect(memory.locations.findHex(LocationKind.STORAGE, "0x2222222222222222222222222222222222222222", 7n)).toBe(loc);
    const result = new ReadResult();
    expect(memory.read(loc, 5, result)).toBe(ReadStatus.VALUE);
    expect(result.value[3]).toBe(4);
  });

  test("default capacities grow with the block", () => {
    const small = defaultCapacities({ txCount: 10 });
    const large = defaultCapacities({ txCount: 50_000 });
    expect(small.txCapacity).toBe(10);
    expect(large.locationCapacity).toBeGreaterThanOrEqual(50_000 * 5);
    expect(large.entryCapacity).toBeGreaterThanOrEqual(50_000 * 3);
    expect(defaultCapacities({ txCount: 10, estimatedLocations: 123 }).locationCapacity).toBe(123);
  });
});

describe("MultiVersionMemory across Workers", () => {
  test("concurrent inserts, writes and reads stay consistent", async () => {
    const workerCount = 3;
    const memory = MultiVersionMemory.create({
      txCapacity: TX_COUNT + MAX_WORKERS + 1,
      locationCapacity: KEY_COUNT + VERSIONED_LOCATIONS + 2,
      entryCapacity: TX_COUNT * (VERSIONED_LOCATIONS + 1) + workerCount,
      writeArenaWords: 1 << 20,
      readArenaWords: 1 << 20,
    });
    const barrier = new SharedArrayBuffer(BARRIER_WORDS * 4);
    const replies = await Promise.all(
      Array.from({ length: workerCount }, (_, workerIndex) => {
        const worker = new Worker(new URL("./fixtures/mv-stress-worker.ts", import.meta.url).href);
        return new Promise<StressReply>((resolve, reject) => {
          worker.onmessage = (event: MessageEvent<StressReply>) => {
            resolve(event.data);
            worker.terminate();
          };
          worker.onerror = (event) => reject(new Error(event.message));
          const request: StressRequest = { descriptor: memory.descriptor, barrier, workerIndex, workerCount, seed: 0x1234 + workerIndex * 7919 };
          worker.postMessage(request);
        });
      }),
    );
    for (const reply of replies) {
      expect(reply.errors).toEqual([]);
      expect(reply.readsChecked).toBeGreaterThan(0);
    }

    // Phase 1: every worker got the same id per key; ids are dense and unique.
    const table = memory.locations;
    expect(table.count).toBe(KEY_COUNT + VERSIONED_LOCATIONS + 2);
    const ids = replies[0]!.keyIds;
    for (const reply of replies) expect(reply.keyIds).toEqual(ids);
    const versionedIds = Array.from({ length: VERSIONED_LOCATIONS }, (_, j) => {
      const key = versionedKey(j);
      return table.find(key.kind, key.address, key.slot);
    });
    const beneficiaryKey = versionedKey(BENEFICIARY_SLOT);
    const beneficiary = table.find(beneficiaryKey.kind, beneficiaryKey.address, beneficiaryKey.slot);
    const hammerKey = versionedKey(HAMMER_SLOT);
    const hammer = table.find(hammerKey.kind, hammerKey.address, hammerKey.slot);
    const allIds = [...ids, ...versionedIds, beneficiary, hammer].sort((a, b) => a - b);
    expect(allIds).toEqual(Array.from({ length: table.count }, (_, i) => i));
    for (let k = 0; k < KEY_COUNT; k += 97) {
      const key = keyOfIndex(k);
      const words = table.keyWordsOf(ids[k]!, new Uint32Array(14));
      expect(words[0]).toBe(key.kind);
      expect(Array.from(words.subarray(1, 6))).toEqual(Array.from(key.address));
    }

    // Phase 2: each list is sorted, complete, and reflects the last incarnation exactly.
    const last = INCARNATIONS - 1;
    let expectedEntries = 0;
    versionedIds.forEach((loc, j) => {
      const entries = memory.entriesOf(loc);
      const writers: number[] = [];
      for (let tx = 0; tx < TX_COUNT; tx++) {
        if (Array.from({ length: INCARNATIONS }, (_, inc) => writes(tx, inc, j)).some(Boolean)) writers.push(tx);
      }
      expect(entries.map((entry) => entry.txIdx)).toEqual(writers);
      expectedEntries += writers.length;
      for (const entry of entries) {
        if (writes(entry.txIdx, last, j)) {
          expect([entry.incarnation, entry.flags]).toEqual([last, 0]);
          expect(Array.from(entry.value)).toEqual(Array.from(filled(stampOf(entry.txIdx, last))));
        } else {
          expect(entry.flags & EntryFlag.DELETED).toBe(EntryFlag.DELETED);
        }
      }
      const result = new ReadResult();
      const finalWriter = writers.filter((tx) => writes(tx, last, j)).at(-1)!;
      expect(memory.finalValue(loc, result)).toBe(ReadStatus.VALUE);
      expect([result.txIdx, result.value[0]]).toEqual([finalWriter, stampOf(finalWriter, last)]);
    });
    const beneficiaryEntries = memory.entriesOf(beneficiary);
    expect(beneficiaryEntries.map((entry) => entry.txIdx)).toEqual(Array.from({ length: TX_COUNT }, (_, tx) => tx));
    expect(memory.entryCount).toBe(expectedEntries + TX_COUNT + workerCount);
    expect(memory.entriesOf(hammer).map((entry) => [entry.txIdx, entry.incarnation])).toEqual(
      Array.from({ length: workerCount }, (_, w) => [HAMMER_TX + w, HAMMER_ROUNDS - 1]),
    );
    const settled = new ReadResult();
    expect(memory.finalValue(beneficiary, settled)).toBe(ReadStatus.BASE);
    expect([settled.deltaCount, settled.delta[7]]).toEqual([TX_COUNT, TX_COUNT]);
  }, 60_000);
});
