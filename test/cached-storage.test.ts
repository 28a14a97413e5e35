/**
 * The MissingState protocol (CachedStorage over an AsyncStorage, sequential execution that
 * loads on a miss) on a mainnet corpus block, and the loader's reading of the prestateTracer
 * shape (code inline, no code_hash).
 */
import { describe, expect, test } from "bun:test";
import { bytesToHex } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Hex } from "../src/chain/types.ts";
import { serializeSnapshot } from "../src/fetch/snapshot.ts";
import { CachedStorage, executeBlock, InputError, loadBlockDir, loadPreState, MemoryStorage, MissingState, type AsyncStorage, type StateKey } from "../src/index.ts";
import { executeBlockOnAsyncStorage } from "../src/vm/block-async.ts";
import { executeBlockSequential } from "../src/vm/block.ts";
import { DEFAULT_CORPUS } from "../src/state/corpus.ts";
import { join } from "node:path";

/** An AsyncStorage over a MemoryStorage that counts what it was asked. */
class SlowMemory implements AsyncStorage {
  readonly isAsync = true;
  asked = 0;
  prefetched = 0;
  constructor(readonly inner: MemoryStorage) {}
  async account(a: AddressHex) {
    this.asked++;
    await Bun.sleep(0);
    return this.inner.account(a);
  }
  async code(h: Hex) {
    this.asked++;
    return this.inner.code(h);
  }
  async storage(a: AddressHex, s: bigint) {
    this.asked++;
    return this.inner.storage(a, s);
  }
  async blockHash(n: bigint) {
    this.asked++;
    return this.inner.blockHash(n);
  }
  async prefetch(keys: StateKey[]) {
    this.prefetched += keys.length;
  }
}

const A = "0x00000000000000000000000000000000000000aa" as AddressHex;

describe("CachedStorage", () => {
  test("throws MissingState naming the location, answers after load, snapshots only what it served", async () => {
    const memory = new MemoryStorage();
    memory.setAccount(A, { balance: 5n, nonce: 1n, codeHash: "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470" }, new Map([[1n, 7n], [2n, 9n]]));
    const cached = new CachedStorage(new SlowMemory(memory));
    let miss: unknown;
    try {
      cached.storage(A, 1n);
    } catch (e) {
      miss = e;
    }
    expect(miss).toBeInstanceOf(MissingState);
    expect((miss as MissingState).keys).toEqual([{ kind: "storage", address: A, slot: 1n }]);
    await cached.load([{ kind: "account", address: A }, { kind: "storage", address: A, slot: 1n }, { kind: "storage", address: A, slot: 2n }]);
    expect(cached.storage(A, 1n)).toBe(7n);
    expect(cached.account(A)?.balance).toBe(5n);
    // Slot 2 was loaded but never read: not in the snapshot.
    const snap = cached.snapshot();
    expect([...snap.accounts.get(A)!.storage]).toEqual([[1n, 7n]]);
  });

  test("a corpus block executed on an async source: same result as in memory, and its snapshot re-executes to it", async () => {
    const dir = join(DEFAULT_CORPUS, "blocks", "19932703");
    const { block, storage } = loadBlockDir(dir);
    const fromMemory = await executeBlock(block, storage, { sequential: true });
    const raw = await executeBlockSequential(block, storage);
    const source = new SlowMemory(storage);
    const run = await executeBlockOnAsyncStorage(block, source);
    expect(run.result.receipts).toEqual(raw.receipts);
    expect(run.result.changes).toEqual(raw.changes);
    expect(source.prefetched).toBeGreaterThan(0);
    expect(run.missRounds).toBeGreaterThan(0); // contract storage is found on the way
    // executeBlock takes the AsyncStorage itself too.
    const viaApi = await executeBlock(block, new SlowMemory(storage), { sequential: true });
    expect(viaApi.receipts).toEqual(fromMemory.receipts);
    // The snapshot (what was read) is enough: executed from it, the block gives the same result.
    const snapshot = run.storage.snapshot();
    const again = await executeBlock(block, snapshot, { sequential: true });
    expect(again.receipts).toEqual(fromMemory.receipts);
    expect(again.changes).toEqual(fromMemory.changes);
    // And it round-trips through the files the fetcher writes.
    const files = serializeSnapshot(snapshot);
    const reloaded = loadPreState("pre_state.json", JSON.parse(files.preState), JSON.parse(files.bytecodes), "bytecodes.json");
    for (const [n, h] of Object.entries(JSON.parse(files.blockHashes))) reloaded.blockHashes.set(BigInt(n), h as Hex);
    const fromFiles = await executeBlock(block, reloaded, { workers: 2 });
    expect(fromFiles.receipts).toEqual(fromMemory.receipts);
  }, 120_000);
});

describe("loadPreState and the prestateTracer's shape", () => {
  const code = "0x6001600055";
  const codeHash = bytesToHex(keccak_256(Buffer.from(code.slice(2), "hex")));

  test("inline code without code_hash keeps its code; a missing nonce is 0", () => {
    const s = loadPreState("p.json", { [A]: { balance: "0x1", code, storage: { "0x1": "0x2" } } }, undefined, undefined);
    expect(s.account(A)).toMatchObject({ balance: 1n, nonce: 0n, codeHash: codeHash as Hex });
    expect(bytesToHex(s.code(codeHash as Hex)!)).toBe(code);
    expect(s.storage(A, 1n)).toBe(2n);
  });

  test("a code_hash that is not the hash of the inline code is an InputError naming the account", () => {
    const wrong = `0x${"11".repeat(32)}`;
    expect(() => loadPreState("p.json", { [A]: { balance: "0x1", nonce: 1, code, code_hash: wrong, storage: {} } }, undefined, undefined)).toThrow(
      new InputError(`the code hashes to ${codeHash}, not to code_hash ${wrong}`, "p.json", `${A}.code`),
    );
  });
});
