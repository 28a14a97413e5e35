// Unit tests of the EVM-side pieces of the parallel engine: value encodings in the
// multi-version memory, the shared code store, location-id memo, and the automatic choice.
import { describe, expect, test } from "bun:test";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex } from "@ethereumjs/util";
import { Fork } from "../src/chain/forks.ts";
import type { AddressHex, Hex } from "../src/chain/types.ts";
import { LocationKind, LocationTable, applyDelta } from "../src/mv/index.ts";
import { AutoChooser, automaticChoice, chooseExecution, COLD_PROCESS_GAS, RETRY_EVERY, WORKER_SLOWDOWN } from "../src/parallel/auto.ts";
import { CodeStore } from "../src/parallel/code-store.ts";
import { LocationIds } from "../src/parallel/location-ids.ts";
import {
  ACCOUNT_EXISTS,
  ACCOUNT_TOUCHED,
  decodeAccount,
  decodeCodeHash,
  encodeAccount,
  encodeCodeHash,
  encodeDelta,
  readU256,
  writeU256,
} from "../src/parallel/values.ts";
import { loadBlockDir } from "../src/state/corpus.ts";
import { EMPTY_CODE_HASH } from "../src/state/types.ts";
import { executeBlock, loadPreState, parseBlock } from "../src/index.ts";
import type { MultiVersionMemory } from "../src/mv/index.ts";
import { ParallelEngine } from "../src/parallel/engine.ts";
import { shareStorage } from "../src/parallel/prepare.ts";
import { settleState } from "../src/parallel/settle.ts";
import { CHUNK_IDS, RowFiller, SettleRows, accountHandleResolver, chunksOf } from "../src/parallel/settle-rows.ts";
import { executeBlockSequential } from "../src/vm/block.ts";
import { erc20Transfers, rawTransfers } from "./mock/index.ts";

describe("values in the multi-version memory", () => {
  test("256-bit words round-trip at every width", () => {
    const words = new Uint32Array(8);
    const values = [0n, 1n, 0xffffffffn, 1n << 32n, (1n << 64n) - 1n, 1n << 64n, 1n << 200n, (1n << 256n) - 1n];
    for (let bits = 2; bits < 256; bits += 7) values.push((1n << BigInt(bits)) - 3n);
    for (const v of values) {
      writeU256(v, words);
      expect(readU256(words)).toBe(v);
      let plain = 0n;
      for (let i = 0; i < 8; i++) plain = (plain << 32n) | BigInt(words[i]!);
      expect(plain).toBe(v); // big-endian word order, as every shared value (src/shm/words.ts)
    }
  });

  test("accounts and code hashes round-trip", () => {
    const out = new Uint32Array(11);
    const hash = bytesToHex(keccak_256(new Uint8Array([1, 2, 3]))) as Hex;
    expect(decodeCodeHash(encodeCodeHash(hash, out))).toBe(hash);
    encodeAccount(true, 10n ** 30n, 2n ** 40n + 5n, out);
    expect(decodeAccount(out, hash)).toEqual({ exists: true, balance: 10n ** 30n, nonce: 2n ** 40n + 5n });
    encodeAccount(false, 0n, 0n, out);
    expect(decodeAccount(out, EMPTY_CODE_HASH).exists).toBe(false);
  });

  test("a lazy credit on top of an account follows the EIP-161 touch rules", () => {
    const account = new Uint32Array(11);
    const delta = new Uint32Array(11);
    // An existing empty account touched by a zero credit after EIP-161 is removed...
    encodeAccount(true, 0n, 0n, account);
    encodeDelta(0n, ACCOUNT_TOUCHED, delta);
    applyDelta(account, delta, delta[10]!);
    expect(decodeAccount(account, EMPTY_CODE_HASH).exists).toBe(false);
    // ...but not when it has code.
    encodeAccount(true, 0n, 0n, account);
    applyDelta(account, delta, delta[10]!);
    expect(decodeAccount(account, "0x01" as Hex).exists).toBe(true);
    // A non-zero credit creates a missing account; credits add up with carries.
    encodeAccount(false, 0n, 0n, account);
    encodeDelta((1n << 32n) - 1n, ACCOUNT_EXISTS | ACCOUNT_TOUCHED, delta);
    applyDelta(account, delta, delta[10]!);
    applyDelta(account, delta, delta[10]!);
    expect(decodeAccount(account, EMPTY_CODE_HASH)).toEqual({ exists: true, balance: 2n * ((1n << 32n) - 1n), nonce: 0n });
  });
});

describe("shared code store", () => {
  test("code put by one thread's view is found by another's, and reset forgets it", () => {
    const writer = CodeStore.create(1 << 12);
    const reader = new CodeStore(writer.buffer);
    const codes = [new Uint8Array([0x60, 0x00]), new Uint8Array(101).fill(7), new Uint8Array([0xfe])];
    const hashes = codes.map((c) => bytesToHex(keccak_256(c)) as Hex);
    codes.forEach((c, i) => writer.put(hashes[i]!, c));
    codes.forEach((c, i) => expect(reader.get(hashes[i]!)).toEqual(c));
    expect(reader.get(bytesToHex(keccak_256(new Uint8Array([9]))) as Hex)).toBeUndefined();
    writer.reset();
    expect(writer.get(hashes[0]!)).toBeUndefined();
    expect(new CodeStore(writer.buffer).get(hashes[1]!)).toBeUndefined();
  });

  test("reset clears the last block's records, so a reader cannot take one for a record still being written", () => {
    const store = CodeStore.create(1 << 12);
    store.put(bytesToHex(keccak_256(new Uint8Array(64).fill(1))) as Hex, new Uint8Array(64).fill(1));
    store.reset();
    // Past the 16-word header (code-store.ts) every word is 0 again: a reader meeting a record
    // reserved by this block's writer waits for its ready word instead of reading stale data.
    expect(new Int32Array(store.buffer).subarray(16).every((w) => w === 0)).toBe(true);
  });

  test("a full store fails with a typed error", () => {
    const store = CodeStore.create(256);
    expect(() => store.put(("0x" + "11".repeat(32)) as Hex, new Uint8Array(1000))).toThrow("exceeds the shared code store");
  });
});

test("location-id memo agrees with the shared table", () => {
  const table = LocationTable.create(1024);
  const ids = new LocationIds(table);
  const a = "0x00000000000000000000000000000000000000aa" as AddressHex;
  const b = "0x00000000000000000000000000000000000000bb" as AddressHex;
  const seen = new Set([ids.account(a), ids.code(a), ids.storage(a, 1n), ids.storage(a, 2n), ids.account(b), ids.storage(b, 1n)]);
  expect(seen.size).toBe(6);
  expect(ids.account(a)).toBe(table.idOfHex(LocationKind.ACCOUNT, a));
  expect(ids.storage(b, 1n)).toBe(table.idOfHex(LocationKind.STORAGE, b, 1n));
  expect(ids.code(a)).toBe(ids.code(a));
});

describe("automatic choice", () => {
  const block = (n: string) => loadBlockDir(`${import.meta.dir}/../data/mainnet/blocks/${n}`).block;
  test("tiny blocks and one-sender chains run sequentially, busy blocks in parallel", () => {
    expect(chooseExecution(block("46147"), 2)).toMatchObject({ parallel: false });
    expect(chooseExecution(block("13287210"), 2)).toMatchObject({ parallel: false }); // plain transfers: little contract gas
    // The busy block again, as if one sender had sent most of it: a nonce chain.
    const busy = block("19932703");
    const chained = { ...busy, transactions: busy.transactions.map((tx, i) => (i % 3 === 0 ? tx : { ...tx, from: busy.transactions[0]!.from })) };
    expect(chooseExecution(chained, 2).reason).toContain("one sender sends");
    expect(chooseExecution(block("19932703"), 2)).toMatchObject({ parallel: true });
    expect(chooseExecution(block("19932703"), 1)).toMatchObject({ parallel: false });
    expect(chooseExecution(block("19932703"), 1).reason).toContain("one CPU");
    expect(chooseExecution(block("19932703"), 2).reason).toMatch(/^parallel: 143 transactions from \d+ senders/);
  });

  test("a cold process runs its first blocks sequentially, until it has executed the cold gas", () => {
    const chooser = new AutoChooser({ coldGas: COLD_PROCESS_GAS });
    const busy = block("19932703");
    const first = chooser.choose(busy, 2);
    expect(first.parallel).toBe(false);
    expect(first.reason).toBe(
      `sequential: this process has executed 0 gas so far, under the ${COLD_PROCESS_GAS} its first blocks take to compile the EVM; ` +
        "run in parallel now, each worker would compile it again while it executes",
    );
    // The structural rules still come first: a tiny block keeps its own reason.
    expect(chooser.choose(block("46147"), 2).reason).toContain("fewer than the 8");
    chooser.noteExecuted(COLD_PROCESS_GAS - 1n);
    expect(chooser.choose(busy, 2).reason).toContain(`has executed ${COLD_PROCESS_GAS - 1n} gas so far`);
    chooser.noteExecuted(1n);
    expect(chooser.choose(busy, 2)).toMatchObject({ parallel: true });
    // The process-wide chooser is the cold one; a chooser made for a tool assumes a warm process.
    expect(new AutoChooser().choose(busy, 2).parallel).toBe(true);
  });

  test("the process-wide choice counts the gas of every run, whatever its mode", async () => {
    const { block: busy, storage } = loadBlockDir(`${import.meta.dir}/../data/mainnet/blocks/19932703`);
    const sequential = await executeBlock(busy, storage, { sequential: true });
    expect(sequential.gasUsed).toBeGreaterThanOrEqual(COLD_PROCESS_GAS / 2n);
    // Other tests in this process may have executed blocks before: warm, after this one at least.
    const decision = automaticChoice.choose(busy, 2);
    if (decision.parallel) expect(decision.reason).toStartWith("parallel:");
    else expect(decision.reason).toMatch(/^sequential: this process has executed [1-9]\d* gas so far/);
  });

  test("accounts that conflicted in earlier runs make a block that calls them mostly run sequentially", () => {
    const chooser = new AutoChooser();
    const target = block("19932703");
    expect(chooser.choose(target, 2).parallel).toBe(true);
    // The recipients most of its transactions call, reported as conflicting by a parallel run.
    const calls = new Map<string, number>();
    for (const tx of target.transactions) if (tx.to) calls.set(tx.to, (calls.get(tx.to) ?? 0) + 1);
    const conflicts = [...calls].map(([address]) => ({ address, count: target.transactions.length }));
    chooser.learn(target, { executeMs: 100, executions: 150, reExecutions: 7, wallMs: 60, conflicts });
    const decision = chooser.choose(target, 2);
    expect(decision.parallel).toBe(false);
    expect(decision.reason).toContain("conflicted in earlier blocks");
  });

  /** The i-th of several distinct blocks like `b` (what is learned counts each block once). */
  const variant = (b: ReturnType<typeof block>, i: number) => ({ ...b, header: { ...b.header, hash: `0x${i.toString(16).padStart(64, "0")}` as Hex } });

  /** A parallel run of 143 transactions whose stats estimate `speedup` (useful execution time over wall time, less the slowdown of an executor beside another). */
  const runAt = (speedup: number, reExecutions = 0) => {
    const wallMs = 100;
    const executions = 143 + reExecutions;
    return { executeMs: (speedup * WORKER_SLOWDOWN * wallMs) / (1 - reExecutions / executions), executions, reExecutions, wallMs, conflicts: [] };
  };

  test("the speedup estimate is useful execution time over wall time, less an executor's slowdown", () => {
    const chooser = new AutoChooser();
    const target = block("19932703");
    for (let i = 0; i < 3; i++) chooser.learn(variant(target, i), runAt(0.8, 43));
    expect(chooser.choose(target, 2).reason).toContain("ran 0.80x as fast in parallel");
  });

  test("a size class whose parallel runs did not pay runs sequentially, one that paid stays parallel", () => {
    const chooser = new AutoChooser();
    const target = block("19932703");
    for (let i = 0; i < 3; i++) chooser.learn(variant(target, i), runAt(0.6, 43));
    expect(chooser.choose(target, 2)).toMatchObject({ parallel: false });
    expect(chooser.choose(target, 2).reason).toContain("ran 0.");
    const paying = new AutoChooser();
    for (let i = 0; i < 3; i++) paying.learn(variant(target, i), runAt(1.3, 3));
    expect(paying.choose(target, 2).parallel).toBe(true);
    expect(paying.choose(target, 2).reason).toContain("similar blocks ran 1.");
  });

  test("a block run again is not new evidence: its latest run replaces its earlier one", () => {
    const chooser = new AutoChooser();
    const target = block("19932703");
    // Many slow runs of one block, then one more block: two blocks, below the three that decide.
    for (let i = 0; i < 5; i++) chooser.learn(target, runAt(0.6, 43));
    chooser.learn(variant(target, 1), runAt(0.6, 43));
    expect(chooser.choose(target, 2).parallel).toBe(true);
    expect(chooser.choose(target, 2).reason).not.toContain("similar blocks ran");
    // A third block decides; the first block's rerun that paid then counts instead of its slow runs.
    chooser.learn(variant(target, 2), runAt(0.6, 43));
    expect(chooser.choose(target, 2).reason).toContain("ran 0.60x");
    chooser.learn(target, runAt(1.8));
    expect(chooser.choose(target, 2).reason).toContain("similar blocks ran 1.00x");
  });

  test("what is learned holds for blocks of the same size and fork only", () => {
    const chooser = new AutoChooser();
    const target = block("19932703"); // Cancun, 143 transactions
    for (let i = 0; i < 3; i++) chooser.learn(variant(target, i), runAt(0.6, 43));
    const cancun = chooser.choose(target, 2);
    expect(cancun.parallel).toBe(false);
    expect(cancun.reason).toContain("128-511 transactions under Cancun rules ran 0.60x");
    // The same block under older rules, and a Cancun block of another size, start from the prior.
    expect(chooser.choose(target, 2, Fork.Shanghai).parallel).toBe(true);
    expect(chooser.choose(block("15199017"), 2, Fork.Cancun).parallel).toBe(true);
    // Runs under one fork's rules teach that fork's class.
    for (let i = 0; i < 3; i++) chooser.learn(variant(target, i), runAt(0.6, 43), Fork.Shanghai);
    expect(chooser.choose(target, 2, Fork.Shanghai).reason).toContain("under Shanghai rules");
  });

  test("a size class ruled out still runs one block in RETRY_EVERY in parallel, and a run that paid turns it back on", () => {
    const chooser = new AutoChooser();
    const target = block("19932703");
    for (let i = 0; i < 3; i++) chooser.learn(variant(target, i), runAt(0.6, 43));
    const decisions = Array.from({ length: 2 * RETRY_EVERY }, () => chooser.choose(target, 2));
    const retries = decisions.flatMap((d, i) => (d.parallel ? [i] : []));
    expect(retries).toEqual([RETRY_EVERY - 1, 2 * RETRY_EVERY - 1]);
    expect(decisions[RETRY_EVERY - 1]!.reason).toContain(`one in ${RETRY_EVERY} of them runs in parallel again`);
    // Retries that paid (a warm engine: ~1.6x each) lift the estimate from ~0.6x: after one it is
    // still below the bar, after two the class is back.
    chooser.learn(variant(target, 3), runAt(1.6));
    expect(chooser.choose(target, 2).parallel).toBe(false);
    chooser.learn(variant(target, 4), runAt(1.6));
    expect(chooser.choose(target, 2).parallel).toBe(true);
    expect(chooser.choose(target, 2).reason).toContain("similar blocks ran");
  });
});

describe("settle rows shared out over the executors", () => {
  // The calling thread's settle must give the same state whoever filled the rows: nobody,
  // every chunk filled ahead of it, or a chunk claimed by a worker that never completed it
  // (as one that died mid-chunk): that chunk is filled again, not waited for.
  const cases = [
    { name: "raw transfers", build: () => rawTransfers(3000) },
    { name: "ERC-20 transfers (accounts with storage and code)", build: () => erc20Transfers(400) },
  ];
  for (const { name, build } of cases) {
    test(name, async () => {
      const mock = await build();
      const block = parseBlock("<mock>", mock.block);
      const storage = loadPreState("<mock>", mock.preState, mock.bytecodes, undefined);
      await using engine = await ParallelEngine.start(2);
      const run = await engine.execute(block, storage);
      const sequential = await executeBlockSequential(block, storage);
      expect(Bun.deepEquals(run.changes, sequential.changes)).toBe(true);
      expect(run.stats.settleChunks).toBe(chunksOf((engine as unknown as { mv: MultiVersionMemory }).mv));
      expect(run.stats.settleChunks).toBeGreaterThan(1);
      expect(run.stats.settleChunksByWorkers).toBeGreaterThanOrEqual(0);
      expect(run.stats.settleChunksByWorkers).toBeLessThanOrEqual(run.stats.settleChunks);

      // The multi-version memory still holds the run's final values: settle it again by hand.
      const internals = engine as unknown as { mv: MultiVersionMemory; codes: CodeStore };
      const mv = internals.mv;
      const reader = shareStorage(storage).storage;
      const settle = (sharedRows: SettleRows | undefined) =>
        settleState(mv, reader, internals.codes, false, { knownAddresses: [], sharedRows, handleOf: accountHandleResolver(reader) });
      const alone = settle(undefined);
      expect(alone.size).toBeGreaterThan(0);
      // Sequential changes also hold the beneficiary's reward etc.: every settled account agrees with them.
      for (const [address, change] of alone) expect(Bun.deepEquals(change, sequential.changes.get(address))).toBe(true);

      const rows = SettleRows.create(mv.capacities.locationCapacity);
      rows.reset();
      expect(Bun.deepEquals(settle(rows), alone)).toBe(true); // the calling thread claimed and filled every chunk
      rows.reset();
      const filled = rows.fillWhileUnclaimed(new RowFiller(mv, reader, accountHandleResolver(reader)));
      expect(filled).toBe(chunksOf(mv));
      expect(Bun.deepEquals(settle(rows), alone)).toBe(true); // every chunk filled ahead

      rows.reset();
      expect(rows.claim(chunksOf(mv))).toBe(0); // chunk 0 claimed by a "worker" that never completes it
      rows.values.fill(0xdeadbeef, rows.rowOf(0), rows.rowOf(CHUNK_IDS)); // half-written garbage
      expect(Bun.deepEquals(settle(rows), alone)).toBe(true);
      expect(rows.isComplete(0)).toBe(false);
    });
  }
});
