// Micro benchmarks of the shared pre-state and the block codec.
//   bun bench/micro/shared-storage.bench.ts            # everything
//   bun bench/micro/shared-storage.bench.ts storage    # lookups only
//   bun bench/micro/shared-storage.bench.ts codec      # block transfer only
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { decodeBlock, encodeBlock } from "../../src/parallel/block-codec.ts";
import type { AddressHex, Block } from "../../src/chain/types.ts";
import { MemoryStorage } from "../../src/state/memory.ts";
import { addressToWords, bigintToWords, wordsToAddress } from "../../src/shm/words.ts";
import { ACCOUNT_OUT_WORDS, SharedStorage } from "../../src/state/shared-storage.ts";
import { EMPTY_CODE_HASH } from "../../src/state/types.ts";
import { loadPreState, pseudoRandomAddress, syntheticMainnetLikeBlock, syntheticTransferBlock } from "../../test/fixtures/shared-corpus.ts";
import type { SharedWorkerReply, SharedWorkerRequest } from "../../test/fixtures/shared-worker.ts";

const only = process.argv[2];
const KEYS = 1024; // rotate over this many keys so one hot entry does not flatter the tables
// Benchmarks hand mitata a boolean, not the bigint: passing large bigints through
// do_not_optimize measured ~1 us of its own under JSC, swamping the lookups.
const SENTINEL = 0x5e471e1n;

function timeOnce<T>(label: string, f: () => T): T {
  const start = performance.now();
  const result = f();
  console.log(`${label}: ${(performance.now() - start).toFixed(1)} ms`);
  return result;
}

/** ~95,000 accounts and as many token slots: the shape of the 1-gigagas mocked block. */
function gigagasLikeState(): MemoryStorage {
  const memory = new MemoryStorage();
  const token = memory.setAccount(pseudoRandomAddress(7_000_000), { balance: 0n, nonce: 1n, codeHash: EMPTY_CODE_HASH });
  for (let i = 1; i <= 95_000; i++) {
    memory.setAccount(pseudoRandomAddress(i), { balance: 10n ** 20n + BigInt(i), nonce: BigInt(i % 7), codeHash: EMPTY_CODE_HASH });
    token.storage.set(BigInt(`0x${pseudoRandomAddress(i).slice(2).padStart(64, "1")}`), BigInt(i) * 10n ** 18n);
  }
  return memory;
}

function storageBenches(name: string, memory: MemoryStorage, shared: SharedStorage): void {
  const present = [...memory.accounts.keys()];
  const hits = Array.from({ length: KEYS }, (_, i) => present[(i * 7919) % present.length]);
  const misses = Array.from({ length: KEYS }, (_, i) => pseudoRandomAddress(50_000_000 + i));
  const slotPairs = [...memory.accounts].flatMap(([a, acc]) => [...acc.storage.keys()].map((s) => [a, s] as [AddressHex, bigint]));
  const slotHits = Array.from({ length: KEYS }, (_, i) => slotPairs[(i * 7919) % slotPairs.length]);
  const slotMisses = slotHits.map(([a, s]) => [a, s ^ 0xdeadn] as [AddressHex, bigint]);

  // Word-level inputs prepared up front, as the hot path would hold them.
  const hitWords = new Uint32Array(5 * KEYS);
  const missWords = new Uint32Array(5 * KEYS);
  hits.forEach((a, i) => addressToWords(a, hitWords, 5 * i));
  misses.forEach((a, i) => addressToWords(a, missWords, 5 * i));
  const slotHandles = slotHits.map(([a]) => shared.accountHandle(a));
  const slotHitWords = new Uint32Array(8 * KEYS);
  const slotMissWords = new Uint32Array(8 * KEYS);
  slotHits.forEach(([, s], i) => bigintToWords(s, slotHitWords, 8 * i, 8));
  slotMisses.forEach(([, s], i) => bigintToWords(s, slotMissWords, 8 * i, 8));
  const out = new Uint32Array(ACCOUNT_OUT_WORDS);

  let i = 0;
  const next = () => (i = (i + 1) & (KEYS - 1));
  // A reader attached afresh every KEYS reads: every read decodes (no per-reader memo yet).
  let fresh = SharedStorage.attach(shared.descriptor());
  const nextFresh = () => {
    if (next() === 0) fresh = SharedStorage.attach(shared.descriptor());
    return i;
  };
  group(`${name}: account()`, () => {
    summary(() => {
      bench("memory hit", () => do_not_optimize(memory.account(hits[next()])));
      bench("shared hit (memoized)", () => do_not_optimize(shared.account(hits[next()])));
      bench("shared hit, first read", () => do_not_optimize(fresh.account(hits[nextFresh()])));
      bench("memory miss", () => do_not_optimize(memory.account(misses[next()])));
      bench("shared miss (memoized)", () => do_not_optimize(shared.account(misses[next()])));
      bench("shared miss, first read", () => do_not_optimize(fresh.account(misses[nextFresh()])));
      bench("words hit (accountWords)", () => do_not_optimize(shared.accountWords(hitWords, 5 * next(), out)));
      bench("words miss (findAccount)", () => do_not_optimize(shared.findAccount(missWords, 5 * next())));
    });
  });
  group(`${name}: storage()`, () => {
    summary(() => {
      bench("memory hit", () => {
        const [a, s] = slotHits[next()];
        return do_not_optimize(memory.storage(a, s) === SENTINEL);
      });
      bench("shared hit (memoized)", () => {
        const [a, s] = slotHits[next()];
        return do_not_optimize(shared.storage(a, s) === SENTINEL);
      });
      bench("shared hit, first read", () => {
        const [a, s] = slotHits[nextFresh()];
        return do_not_optimize(fresh.storage(a, s) === SENTINEL);
      });
      bench("memory miss", () => {
        const [a, s] = slotMisses[next()];
        return do_not_optimize(memory.storage(a, s) === SENTINEL);
      });
      bench("shared miss, first read", () => {
        const [a, s] = slotMisses[nextFresh()];
        return do_not_optimize(fresh.storage(a, s) === SENTINEL);
      });
      bench("words hit (storageWords by handle)", () => {
        const k = next();
        return do_not_optimize(shared.storageWords(slotHandles[k], slotHitWords, 8 * k, out));
      });
      bench("words miss (storageWords by handle)", () => {
        const k = next();
        return do_not_optimize(shared.storageWords(slotHandles[k], slotMissWords, 8 * k, out));
      });
    });
  });
  group(`${name}: conversions`, () => {
    bench("addressToWords", () => addressToWords(hits[next()], out, 0));
    bench("wordsToAddress", () => do_not_optimize(wordsToAddress(hitWords, 5 * next())));
  });
}

// ---- block transfer: one SharedArrayBuffer vs structured clone of the Block ------------

function roundTrip(worker: Worker, request: SharedWorkerRequest): Promise<{ reply: SharedWorkerReply; postMs: number; totalMs: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let posted = 0;
    worker.onmessage = (event: MessageEvent<SharedWorkerReply>) => resolve({ reply: event.data, postMs: posted - start, totalMs: performance.now() - start });
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(request);
    posted = performance.now();
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function measure(label: string, iterations: number, f: () => Promise<{ postMs: number; totalMs: number }>): Promise<void> {
  for (let i = 0; i < 2; i++) await f();
  const post: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const { postMs, totalMs } = await f();
    post.push(postMs);
    total.push(totalMs);
  }
  console.log(`  ${label.padEnd(44)} round trip ${median(total).toFixed(3).padStart(9)} ms   main thread in postMessage ${median(post).toFixed(3).padStart(8)} ms`);
}

async function codecBenches(): Promise<void> {
  const worker = new Worker(new URL("../../test/fixtures/shared-worker.ts", import.meta.url).href);
  const blocks: [string, Block, number][] = [
    ["1,000-tx mainnet-like", syntheticMainnetLikeBlock(1000), 30],
    ["47,620-tx transfers", syntheticTransferBlock(47_620), 8],
  ];
  await measure("empty message (baseline)", 30, async () => roundTrip(worker, { kind: "block-decode", buffer: encodeBlock(syntheticTransferBlock(0)), all: false }));
  for (const [name, block, iterations] of blocks) {
    console.log(`\n${name}:`);
    const encodeTimes: number[] = [];
    let buffer = encodeBlock(block);
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      buffer = encodeBlock(block);
      encodeTimes.push(performance.now() - start);
    }
    const decodeTimes: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      decodeBlock(buffer);
      decodeTimes.push(performance.now() - start);
    }
    console.log(`  encodeBlock ${median(encodeTimes).toFixed(3)} ms, ${(buffer.byteLength / 1024).toFixed(0)} KiB; decodeBlock (all, main thread) ${median(decodeTimes).toFixed(3)} ms`);
    await measure("structured clone of the Block", iterations, () => roundTrip(worker, { kind: "clone", block }));
    await measure("SharedArrayBuffer, worker decodes header", iterations, () => roundTrip(worker, { kind: "block-decode", buffer, all: false }));
    await measure("SharedArrayBuffer, worker decodes every tx", iterations, () => roundTrip(worker, { kind: "block-decode", buffer, all: true }));
  }
  worker.terminate();
}

if (only !== "codec") {
  const corpus = loadPreState(19932703);
  const corpusShared = timeOnce("fromMemory, block 19932703 pre-state", () => SharedStorage.fromMemory(corpus));
  console.log(`  ${corpus.accounts.size} accounts, ${corpusShared.slotCount} slots, ${corpus.codes.size} codes -> ${(corpusShared.byteLength / 1024).toFixed(0)} KiB`);
  const gigagas = timeOnce("build a 95,000-account MemoryStorage", gigagasLikeState);
  const gigagasShared = timeOnce("fromMemory, 95,000 accounts + 95,000 slots", () => SharedStorage.fromMemory(gigagas));
  console.log(`  -> ${(gigagasShared.byteLength / 1024 / 1024).toFixed(1)} MiB`);
  storageBenches("mainnet 19932703", corpus, corpusShared);
  storageBenches("95k accounts", gigagas, gigagasShared);
  await run();
}
if (only !== "storage") await codecBenches();
