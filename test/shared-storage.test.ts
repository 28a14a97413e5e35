import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { AddressHex, Hex } from "../src/chain/types.ts";
import { MemoryStorage } from "../src/state/memory.ts";
import { addressToWords, bigintToWords, bytesToWords, wordsToAddress, wordsToBigInt, wordsToBytes } from "../src/shm/words.ts";
import { ACCOUNT_OUT_WORDS, NO_ACCOUNT, SharedStorage } from "../src/state/shared-storage.ts";
import { EMPTY_CODE_HASH } from "../src/state/types.ts";
import { loadPreState, pseudoRandomAddress } from "./fixtures/shared-corpus.ts";
import type { SharedWorkerRequest, StorageAnswers } from "./fixtures/shared-worker.ts";
import { askSharedWorker, startSharedWorker } from "./support/shared-worker.ts";

const BLOCK = 19932703;
const ABSENT_ADDRESSES: AddressHex[] = ["0x0000000000000000000000000000000000000000", pseudoRandomAddress(42), "0xffffffffffffffffffffffffffffffffffffffff"];
const UNKNOWN_HASH = `0x${"ab".repeat(32)}` as Hex;
const MAX_256 = (1n << 256n) - 1n;

let memory: MemoryStorage;
let shared: SharedStorage;
let allSlots: [AddressHex, bigint][];

beforeAll(() => {
  memory = loadPreState(BLOCK);
  shared = SharedStorage.fromMemory(memory);
  allSlots = [...memory.accounts].flatMap(([address, account]) => [...account.storage.keys()].map((slot): [AddressHex, bigint] => [address, slot]));
});

describe("SharedStorage on a real pre-state (block 19932703)", () => {
  test("the corpus pre-state is non-trivial", () => {
    expect(memory.accounts.size).toBeGreaterThan(300);
    expect(allSlots.length).toBeGreaterThan(500);
    expect(memory.codes.size).toBeGreaterThan(100);
    expect(memory.blockHashes.size).toBeGreaterThan(10);
    expect(shared.accountCount).toBe(memory.accounts.size);
    expect(shared.slotCount).toBe(allSlots.length);
  });

  test("every account equals MemoryStorage's", () => {
    for (const address of memory.accounts.keys()) {
      const { balance, nonce, codeHash } = memory.account(address)!;
      expect(shared.account(address)).toEqual({ balance, nonce, codeHash });
    }
  });

  test("every slot equals MemoryStorage's", () => {
    for (const [address, slot] of allSlots) expect(shared.storage(address, slot)).toBe(memory.storage(address, slot));
  });

  test("every code equals MemoryStorage's and is a view of the shared arena", () => {
    for (const [hash, code] of memory.codes) {
      const view = shared.code(hash)!;
      expect(view).toEqual(code);
      expect(view.buffer).toBe(shared.descriptor().buffer);
    }
    for (const account of memory.accounts.values()) expect(shared.code(account.codeHash)).toEqual(memory.code(account.codeHash));
  });

  test("every block hash equals MemoryStorage's", () => {
    for (const [number, hash] of memory.blockHashes) expect(shared.blockHash(number)).toBe(hash);
  });

  test("absent accounts, slots, codes and block hashes", () => {
    for (const address of ABSENT_ADDRESSES) {
      expect(memory.account(address)).toBeUndefined();
      expect(shared.account(address)).toBeUndefined();
      expect(shared.storage(address, 0n)).toBe(0n);
      expect(shared.accountHandle(address)).toBe(NO_ACCOUNT);
    }
    const [someAddress, someSlot] = allSlots[0];
    expect(shared.storage(someAddress, someSlot + 1n)).toBe(memory.storage(someAddress, someSlot + 1n));
    expect(shared.storage(someAddress, MAX_256)).toBe(0n);
    // A slot of one account is not visible through another.
    const other = [...memory.accounts.keys()].find((a) => !memory.accounts.get(a)!.storage.has(someSlot))!;
    expect(shared.storage(other, someSlot)).toBe(0n);
    expect(shared.code(UNKNOWN_HASH)).toBeUndefined();
    expect(shared.blockHash(1n)).toBeUndefined();
    expect(shared.blockHash(-1n)).toBeUndefined();
  });

  test("word-level lookups agree with the Storage interface", () => {
    const address = new Uint32Array(5);
    const slot = new Uint32Array(8);
    const out = new Uint32Array(ACCOUNT_OUT_WORDS + 2);
    const value = new Uint32Array(8);
    for (const [hex, account] of memory.accounts) {
      addressToWords(hex, address);
      out.fill(0xdeadbeef);
      const handle = shared.accountWords(address, 0, out, 2);
      expect(handle).toBeGreaterThanOrEqual(0);
      expect(handle).toBeLessThan(shared.accountCapacity);
      expect(out[0]).toBe(0xdeadbeef); // nothing before outOffset
      expect(wordsToBigInt(out, 2, 8)).toBe(account.balance);
      expect(wordsToBigInt(out, 10, 2)).toBe(account.nonce);
      expect(shared.codeHashOf(handle)).toBe(account.codeHash);
      for (const [key, stored] of account.storage) {
        bigintToWords(key, slot, 0, 8);
        expect(shared.storageWords(handle, slot, 0, value, 0)).toBe(true);
        expect(wordsToBigInt(value, 0, 8)).toBe(stored);
      }
      bigintToWords(MAX_256, slot, 0, 8);
      value.fill(7);
      expect(shared.storageWords(handle, slot, 0, value, 0)).toBe(false);
      expect([...value]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    }
    addressToWords(ABSENT_ADDRESSES[1], address);
    out.fill(9);
    expect(shared.accountWords(address, 0, out)).toBe(NO_ACCOUNT);
    expect(out[0]).toBe(9);
  });
});

describe("SharedStorage edge cases", () => {
  test("extreme values, code-less code hashes, empty storage and an empty pre-state", () => {
    const mem = new MemoryStorage();
    const big: AddressHex = "0x00000000000000000000000000000000000000ff";
    mem.setAccount(big, { balance: MAX_256, nonce: (1n << 64n) - 1n, codeHash: UNKNOWN_HASH }, new Map([[MAX_256, MAX_256], [0n, 1n]]));
    mem.setAccount("0x0000000000000000000000000000000000000001", { balance: 0n, nonce: 0n, codeHash: EMPTY_CODE_HASH });
    mem.codes.set(`0x${"cd".repeat(32)}` as Hex, new Uint8Array(0));
    mem.blockHashes.set((1n << 64n) - 1n, `0x${"ef".repeat(32)}` as Hex);
    const s = SharedStorage.fromMemory(mem);
    expect(s.account(big)).toEqual({ balance: MAX_256, nonce: (1n << 64n) - 1n, codeHash: UNKNOWN_HASH });
    expect(s.storage(big, MAX_256)).toBe(MAX_256);
    expect(s.storage(big, 0n)).toBe(1n);
    expect(s.code(UNKNOWN_HASH)).toBeUndefined(); // named by an account, not in the pre-state
    expect(s.code(EMPTY_CODE_HASH)).toBeUndefined(); // as MemoryStorage: codes holds no empty code
    expect(s.code(`0x${"cd".repeat(32)}` as Hex)).toEqual(new Uint8Array(0));
    expect(s.blockHash((1n << 64n) - 1n)).toBe(`0x${"ef".repeat(32)}`);
    expect(s.blockHash(1n << 64n)).toBeUndefined();

    const empty = SharedStorage.fromMemory(new MemoryStorage());
    expect(empty.account(big)).toBeUndefined();
    expect(empty.storage(big, 0n)).toBe(0n);
    expect(empty.code(EMPTY_CODE_HASH)).toBeUndefined();
    expect(empty.blockHash(0n)).toBeUndefined();
  });

  test("rejects values that do not fit", () => {
    const mem = new MemoryStorage();
    mem.setAccount(pseudoRandomAddress(1), { balance: 1n << 256n, nonce: 0n, codeHash: EMPTY_CODE_HASH });
    expect(() => SharedStorage.fromMemory(mem)).toThrow(RangeError);
    const negative = new MemoryStorage();
    negative.setAccount(pseudoRandomAddress(1), { balance: -1n, nonce: 0n, codeHash: EMPTY_CODE_HASH });
    expect(() => SharedStorage.fromMemory(negative)).toThrow(RangeError);
  });

  test("many sequential addresses and slots (the mocked-block shape) all resolve", () => {
    const mem = new MemoryStorage();
    const count = 5000;
    const addressOf = (i: number) => `0x${i.toString(16).padStart(40, "0")}` as AddressHex;
    const token = mem.setAccount(addressOf(0xffff_ffff), { balance: 0n, nonce: 1n, codeHash: EMPTY_CODE_HASH });
    for (let i = 1; i <= count; i++) {
      mem.setAccount(addressOf(i), { balance: BigInt(i) * 10n ** 18n, nonce: BigInt(i), codeHash: EMPTY_CODE_HASH });
      token.storage.set(BigInt(i), BigInt(i) * 3n);
    }
    const s = SharedStorage.fromMemory(mem);
    for (let i = 1; i <= count; i++) {
      expect(s.account(addressOf(i))?.balance).toBe(BigInt(i) * 10n ** 18n);
      expect(s.storage(addressOf(0xffff_ffff), BigInt(i))).toBe(BigInt(i) * 3n);
    }
    expect(s.account(addressOf(count + 1))).toBeUndefined();
    expect(s.storage(addressOf(0xffff_ffff), BigInt(count + 1))).toBe(0n);
  });

  test("bigint <-> words conversion at every width", () => {
    const words = new Uint32Array(9);
    for (const count of [2, 3, 5, 8]) {
      for (let bits = 0; bits <= 32 * count; bits += 7) {
        const value = bits === 0 ? 0n : (1n << BigInt(bits)) - 1n - (BigInt(bits) << BigInt(bits >> 1));
        const expected = value < 0n ? 0n : value;
        bigintToWords(expected, words, 1, count);
        expect(wordsToBigInt(words, 1, count)).toBe(expected);
        expect(wordsToBigInt(words, 1, count)).toBe(BigInt(`0x${[...words.subarray(1, 1 + count)].map((w) => w.toString(16).padStart(8, "0")).join("")}`));
      }
      expect(() => bigintToWords(1n << BigInt(32 * count), words, 0, count)).toThrow(RangeError);
    }
  });

  test("bytes <-> words conversion", () => {
    const bytes = Uint8Array.from({ length: 34 }, (_, i) => (i * 37 + 200) & 255);
    const words = new Uint32Array(8);
    bytesToWords(bytes, 2, words, 0, 8);
    expect(words[0]).toBe(((bytes[2] << 24) | (bytes[3] << 16) | (bytes[4] << 8) | bytes[5]) >>> 0);
    expect(wordsToBigInt(words, 0, 8)).toBe(BigInt(`0x${Buffer.from(bytes.subarray(2)).toString("hex")}`));
    const back = new Uint8Array(34);
    wordsToBytes(words, 0, 8, back, 2);
    expect([...back.subarray(2)]).toEqual([...bytes.subarray(2)]);
  });

  test("account() caches its decoded result per account", () => {
    const [address] = memory.accounts.keys();
    expect(shared.account(address)).toBe(shared.account(address));
  });

  test("address <-> words conversion", () => {
    const words = new Uint32Array(6);
    const address = "0x000000000022d473030f116ddee9f6b43ac78ba3" as AddressHex;
    addressToWords(address, words, 1);
    expect([...words]).toEqual([0, 0x00000000, 0x0022d473, 0x030f116d, 0xdee9f6b4, 0x3ac78ba3]);
    expect(wordsToAddress(words, 1)).toBe(address);
    addressToWords("0x000000000022D473030F116DDEE9F6B43AC78BA3", words, 1);
    expect(wordsToAddress(words, 1)).toBe(address);
    expect(() => addressToWords("0x1234", words)).toThrow(RangeError);
    expect(() => addressToWords(`0x${"zz".repeat(20)}`, words)).toThrow(RangeError);
  });

  test("a custom allocator decides where the region lives", () => {
    const buffer = new SharedArrayBuffer(4 << 20);
    const s = SharedStorage.fromMemory(memory, (byteLength) => {
      expect(byteLength).toBeLessThanOrEqual(buffer.byteLength - 128);
      return { buffer, byteOffset: 128 };
    });
    expect(s.descriptor().buffer).toBe(buffer);
    expect(s.descriptor().byteOffset).toBe(128);
    const [address, slot] = allSlots[3];
    expect(s.storage(address, slot)).toBe(memory.storage(address, slot));
    expect(() => SharedStorage.attach({ ...s.descriptor(), byteOffset: 0 })).toThrow(/magic/);
  });
});

describe("SharedStorage in a Worker", () => {
  let worker: Worker;
  beforeAll(() => {
    worker = startSharedWorker();
  });
  afterAll(() => worker.terminate());

  const ask = (request: SharedWorkerRequest) => askSharedWorker(worker, request);

  test("attach() sees the same accounts, slots, codes and block hashes", async () => {
    const addresses = [...memory.accounts.keys(), ...ABSENT_ADDRESSES];
    const slots: [AddressHex, bigint][] = [...allSlots, [allSlots[0][0], MAX_256], [ABSENT_ADDRESSES[1], 1n]];
    const codeHashes = [...memory.codes.keys(), UNKNOWN_HASH];
    const blockNumbers = [...memory.blockHashes.keys(), 1n];
    const reply = await ask({ kind: "storage", descriptor: shared.descriptor(), addresses, slots, codeHashes, blockNumbers });
    if (reply.kind !== "storage") throw new Error(`unexpected reply ${reply.kind}`);
    const a: StorageAnswers = reply.answers;
    expect(a.accounts).toEqual(
      addresses.map((x) => {
        const info = memory.account(x);
        return info && { balance: info.balance, nonce: info.nonce, codeHash: info.codeHash };
      }),
    );
    expect(a.accountWords.map(([, balance, nonce]) => [balance, nonce])).toEqual(addresses.map((x) => [memory.account(x)?.balance ?? 0n, memory.account(x)?.nonce ?? 0n]));
    expect(a.accountWords.map(([handle]) => handle)).toEqual(addresses.map((x) => shared.accountHandle(x)));
    expect(a.slots).toEqual(slots.map(([x, s]) => memory.storage(x, s)));
    expect(a.slotWords).toEqual(slots.map(([x, s]) => [memory.accounts.get(x)?.storage.has(s) ?? false, memory.storage(x, s)]));
    expect(a.codes).toEqual(codeHashes.map((h) => memory.code(h)));
    expect(a.codeIsSharedView.every(Boolean)).toBe(true);
    expect(a.blockHashes).toEqual(blockNumbers.map((n) => memory.blockHash(n)));
  });
});
