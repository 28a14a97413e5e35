// Micro-benchmarks of the multi-version memory, single-threaded: bun bench/micro/mv.bench.ts
import { bench, do_not_optimize, run, summary } from "mitata";
import {
  defaultCapacities,
  LocationKind,
  LocationTable,
  MultiVersionMemory,
  ReadResult,
  ReadSet,
  ReadStatus,
  VALUE_WORDS,
  WriteSet,
} from "../../src/mv/index.ts";

const address = new Uint32Array([0x11111111, 0x22222222, 0x33333333, 0x44444444, 0x55555555]);
const slot = new Uint32Array(8);
const value = new Uint32Array(VALUE_WORDS).fill(7);
const delta = new Uint32Array(VALUE_WORDS);
delta[0] = 1;

// --- location table ---------------------------------------------------------------------
const TABLE_KEYS = 100_000;
const table = LocationTable.create(TABLE_KEYS * 2);
for (let i = 0; i < TABLE_KEYS; i++) {
  slot[0] = i;
  table.idOf(LocationKind.STORAGE, address, slot);
}
const hexAddresses = Array.from({ length: 1024 }, (_, i) => `0x${i.toString(16).padStart(40, "0")}`);
for (const hex of hexAddresses) table.idOfHex(LocationKind.ACCOUNT, hex);

let hitKey = 0;
bench("location idOf hit (storage key, words)", () => {
  slot[0] = hitKey++ % TABLE_KEYS;
  do_not_optimize(table.idOf(LocationKind.STORAGE, address, slot));
});
let hexKey = 0;
bench("location idOfHex hit (account, hex string)", () => {
  do_not_optimize(table.idOfHex(LocationKind.ACCOUNT, hexAddresses[hexKey++ & 1023]!));
});
let missKey = 0;
bench("location find miss (storage key)", () => {
  slot[0] = TABLE_KEYS + (missKey++ % TABLE_KEYS);
  do_not_optimize(table.find(LocationKind.STORAGE, address, slot));
});

const INSERT_CAPACITY = 1 << 20;
const insertTable = LocationTable.create(INSERT_CAPACITY);
const insertAddress = address.slice();
let inserted = 0;
bench("location idOf miss = insert (storage key; amortized reset)", () => {
  if (inserted === INSERT_CAPACITY) {
    insertTable.reset();
    inserted = 0;
    insertAddress[0]!++;
  }
  slot[0] = inserted++;
  do_not_optimize(insertTable.idOf(LocationKind.STORAGE, insertAddress, slot));
});
slot[0] = 0;

// --- reads ------------------------------------------------------------------------------
const memory = MultiVersionMemory.create({ txCapacity: 4096, locationCapacity: 4096, entryCapacity: 1 << 16, writeArenaWords: 1 << 24, readArenaWords: 1 << 24 });
const writeSet = new WriteSet();
const result = new ReadResult();

function writeOne(tx: number, loc: number, isDelta: boolean): void {
  writeSet.clear();
  writeSet.add(loc, isDelta ? delta : value, isDelta);
  memory.recordWrites(tx, 0, writeSet);
}

/** Location `base + n` gets entries of txs 0..n-1: full values, or a full value under n-1 deltas. */
const FULL_LISTS = 0;
const DELTA_LISTS = 100;
for (const n of [1, 8, 64]) {
  for (let tx = 0; tx < n; tx++) writeOne(tx, FULL_LISTS + n, false);
  for (let tx = 0; tx < n; tx++) writeOne(tx, DELTA_LISTS + n, tx > 0);
}

summary(() => {
  for (const n of [1, 8, 64]) {
    bench(`read: skip ${n - 1} higher entries, copy value (list ${n})`, () => {
      if (memory.read(FULL_LISTS + n, 1, result) !== ReadStatus.VALUE) throw new Error("expected a value");
    });
  }
});
summary(() => {
  for (const n of [1, 8, 64]) {
    bench(`read: accumulate ${n - 1} deltas onto a value (list ${n})`, () => {
      if (memory.read(DELTA_LISTS + n, n, result) !== ReadStatus.VALUE) throw new Error("expected a value");
    });
  }
});

// --- writes -----------------------------------------------------------------------------
const WRITE_TX = 3000;
const writeLocations = [200, 201, 202];
const threeWrites = new WriteSet();
for (const loc of writeLocations) threeWrites.add(loc, value);
let incarnation = 0;
bench("recordWrites: 3 writes, re-incarnation reusing entries", () => {
  do_not_optimize(memory.recordWrites(WRITE_TX, ++incarnation, threeWrites));
});

const fresh = MultiVersionMemory.create({ txCapacity: 1 << 16, locationCapacity: 256, entryCapacity: 3 << 16, writeArenaWords: 1 << 24, readArenaWords: 16 });
let freshTx = 0;
bench("recordWrites: 3 writes, new entries at list heads (amortized reset)", () => {
  if (freshTx === 1 << 16) {
    fresh.reset(1 << 16);
    freshTx = 0;
  }
  do_not_optimize(fresh.recordWrites(freshTx++, 0, threeWrites).wroteNewLocation);
});

// --- validation -------------------------------------------------------------------------
// Tx 10 read 20 locations; each has entries from txs 2, 5 (its origin), 12 and 20.
const VALIDATING_TX = 10;
const readSet = new ReadSet();
for (let i = 0; i < 20; i++) {
  const loc = 300 + i;
  for (const tx of [2, 5, 12, 20]) writeOne(tx, loc, false);
  memory.read(loc, VALIDATING_TX, result);
  readSet.add(loc, result);
}
memory.recordReads(VALIDATING_TX, 0, readSet);
bench("validateReads: 20 reads (4-entry lists), valid", () => {
  if (!memory.validateReads(VALIDATING_TX)) throw new Error("expected valid");
});
let recorded = 0;
bench("recordReads: 20 reads", () => {
  if (++recorded === 100_000) {
    // keep the read arena from filling up: it holds ~100k sets of 20 reads
    memory.reset(4096);
    recorded = 0;
  }
  memory.recordReads(VALIDATING_TX + 1, 0, readSet);
});

// --- per-block reuse --------------------------------------------------------------------
const blockCapacities = defaultCapacities({ txCount: 50_000 });
const reused = MultiVersionMemory.create(blockCapacities);
function fillBlock(target: MultiVersionMemory): void {
  // 50k transfers touch ~150k locations and write ~150k entries.
  const words = new Uint32Array(5);
  const set = new WriteSet();
  for (let tx = 0; tx < 50_000; tx++) {
    set.clear();
    for (let k = 0; k < 3; k++) {
      words[0] = tx * 3 + k;
      set.add(target.locations.idOf(LocationKind.ACCOUNT, words), value);
    }
    target.recordWrites(tx, 0, set);
  }
}
fillBlock(reused);
bench("reset(50000) + fill a 50k-transfer block (150k locations, 150k entries), single thread", () => {
  reused.reset(50_000);
  fillBlock(reused);
});

await run();

// Reuse vs re-creation, timed by hand: each round allocates a whole block's buffers.
// Fresh SharedArrayBuffers are zeroed lazily by the OS, so their first touch (page faults)
// lands inside the block; reused buffers are already mapped.
for (let round = 0; round < 3; round++) {
  let start = performance.now();
  const created = MultiVersionMemory.create(blockCapacities);
  const createMs = performance.now() - start;
  start = performance.now();
  fillBlock(created);
  const freshFillMs = performance.now() - start;
  start = performance.now();
  reused.reset(50_000);
  const resetMs = performance.now() - start;
  start = performance.now();
  fillBlock(reused);
  const reusedFillMs = performance.now() - start;
  console.log(
    `50k block: create ${createMs.toFixed(2)} ms + fill ${freshFillMs.toFixed(1)} ms | reset ${resetMs.toFixed(2)} ms + fill ${reusedFillMs.toFixed(1)} ms`,
  );
}
