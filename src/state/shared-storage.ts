import type { AddressHex, Hex } from "../chain/types.ts";
import type { MemoryStorage } from "./memory.ts";
import {
  A_BALANCE,
  A_NONCE,
  A_STATE,
  ACCOUNT_WORDS,
  B_HASH,
  B_STATE,
  BLOCK_HASH_WORDS,
  C_LENGTH,
  C_OFFSET,
  C_STATE,
  CODE_PRESENT,
  CODE_WORDS,
  H_ACCOUNTS,
  H_ARENA_LENGTH,
  H_ARENA_OFFSET,
  H_BLOCK_HASHES,
  H_CODES,
  H_MAGIC,
  H_STORAGE,
  H_VERSION,
  MAGIC,
  S_SLOT,
  S_STATE,
  S_VALUE,
  SLOT_WORDS,
  VERSION,
} from "./shared-layout.ts";
import { hashWords } from "../shm/hash.ts";
import { cacheLineAllocator, type SharedAllocator } from "../shm/region.ts";
import { type SharedStorageDescriptor, writeSharedStorage } from "./shared-storage-builder.ts";
import {
  ADDRESS_WORDS,
  addressToWords,
  bigintToWords,
  hexToWords,
  WORD256_WORDS,
  WORD64_WORDS,
  wordsToBigInt,
  wordsToHex,
} from "../shm/words.ts";
import type { AccountInfo, Storage } from "./types.ts";

export type { SharedStorageDescriptor } from "./shared-storage-builder.ts";

/** findAccount()/accountHandle() result for an absent account. */
export const NO_ACCOUNT = -1;
/** Words readAccount()/accountWords() write: balance (8, big-endian) then nonce (2). */
export const ACCOUNT_OUT_WORDS = 10;
export const OUT_BALANCE = 0;
export const OUT_NONCE = 8;

/**
 * An immutable pre-state in shared memory (layout: shared-layout.ts). Built once per block
 * with fromMemory(); every Worker attach()es to the same buffer without copying.
 *
 * Two interfaces: the Storage one (hex strings, bigint; allocates its results) and a
 * word-level one for the hot path (addresses as 5 u32 words, slots and values as 8, results
 * written into the caller's Uint32Array, accounts named by a stable integer handle).
 * Returned code is a view into the shared arena: callers must not write to it.
 */
export class SharedStorage implements Storage {
  readonly accountCount: number;
  readonly slotCount: number;
  readonly codeCount: number;
  /** Handles are in [0, accountCapacity): usable as indexes of per-account arrays. */
  readonly accountCapacity: number;

  private readonly words: Uint32Array;
  private readonly accountTable: number;
  private readonly accountMask: number;
  private readonly storageTable: number;
  private readonly storageMask: number;
  private readonly codeTable: number;
  private readonly codeMask: number;
  private readonly blockTable: number;
  private readonly blockMask: number;
  private readonly arena: Uint8Array;
  /** Address string -> handle (or NO_ACCOUNT) for addresses already looked up by string. */
  private readonly handlesByAddress = new Map<string, number>();
  /**
   * Per handle: the decoded AccountInfo, made on first account() (bigint decoding measured
   * ~5x the probe). Shared between calls, like MemoryStorage's: callers must not mutate it.
   */
  private readonly accountInfos: (AccountInfo | undefined)[] = [];
  /**
   * Per handle: slot -> value for slots storage()/storageOf() already answered (including
   * absent ones as 0n). bigint <-> words costs ~1 us a read, a repeated read ~0.1 us.
   */
  private readonly slotValues: (Map<bigint, bigint> | undefined)[] = [];
  /** Per code entry: its hash as hex and its code view, made on first use. */
  private readonly codeHashes: (Hex | undefined)[] = [];
  private readonly codeViews: (Uint8Array | undefined)[] = [];
  private readonly scratch = new Uint32Array(WORD256_WORDS);

  private constructor(private readonly shared: SharedStorageDescriptor) {
    const { buffer, byteOffset, byteLength } = shared;
    const words = new Uint32Array(buffer, byteOffset, byteLength >>> 2);
    if (words[H_MAGIC] !== MAGIC || words[H_VERSION] !== VERSION) throw new Error("not a SharedStorage region (bad magic or version)");
    this.words = words;
    this.accountCapacity = words[H_ACCOUNTS];
    this.accountCount = words[H_ACCOUNTS + 1];
    this.accountTable = words[H_ACCOUNTS + 2];
    this.accountMask = this.accountCapacity - 1;
    this.slotCount = words[H_STORAGE + 1];
    this.storageMask = words[H_STORAGE] - 1;
    this.storageTable = words[H_STORAGE + 2];
    this.codeCount = words[H_CODES + 1];
    this.codeMask = words[H_CODES] - 1;
    this.codeTable = words[H_CODES + 2];
    this.blockMask = words[H_BLOCK_HASHES] - 1;
    this.blockTable = words[H_BLOCK_HASHES + 2];
    this.arena = new Uint8Array(buffer, byteOffset + words[H_ARENA_OFFSET], words[H_ARENA_LENGTH]);
  }

  /** Copy a pre-state into a new shared region. */
  static fromMemory(memory: MemoryStorage, allocate: SharedAllocator = cacheLineAllocator): SharedStorage {
    return new SharedStorage(writeSharedStorage(memory, allocate));
  }

  /** A reader over a region another thread built; copies nothing. */
  static attach(descriptor: SharedStorageDescriptor): SharedStorage {
    return new SharedStorage(descriptor);
  }

  /** Post this to a Worker and attach() it there. */
  descriptor(): SharedStorageDescriptor {
    return this.shared;
  }

  get byteLength(): number {
    return this.shared.byteLength;
  }

  // ---- Storage interface -------------------------------------------------------------

  account(address: AddressHex): AccountInfo | undefined {
    const handle = this.accountHandle(address);
    if (handle === NO_ACCOUNT) return undefined;
    return this.accountInfos[handle] ?? this.decodeAccount(handle);
  }

  code(codeHash: Hex): Uint8Array | undefined {
    hexToWords(codeHash, this.scratch, 0, WORD256_WORDS);
    const index = this.findCode(this.scratch, 0);
    return index < 0 ? undefined : this.codeAt(index);
  }

  storage(address: AddressHex, slot: bigint): bigint {
    const handle = this.accountHandle(address);
    return handle === NO_ACCOUNT ? 0n : this.storageOf(handle, slot);
  }

  blockHash(number: bigint): Hex | undefined {
    if (number < 0n || number >= 1n << 64n) return undefined;
    bigintToWords(number, this.scratch, 0, WORD64_WORDS);
    const mask = this.blockMask;
    const words = this.words;
    const key = this.scratch;
    for (let index = hashWords(key, 0, WORD64_WORDS, 0) & mask; ; index = (index + 1) & mask) {
      const entry = this.blockTable + index * BLOCK_HASH_WORDS;
      if (words[entry + B_STATE] === 0) return undefined;
      if (words[entry] === key[0] && words[entry + 1] === key[1]) return wordsToHex(words, entry + B_HASH, WORD256_WORDS);
    }
  }

  // ---- handle-based (one address hash for many reads of the same account) -------------

  /** The handle of an address string, or NO_ACCOUNT; memoized per reader. */
  accountHandle(address: AddressHex): number {
    let handle = this.handlesByAddress.get(address);
    if (handle === undefined) {
      addressToWords(address, this.scratch, 0);
      handle = this.findAccount(this.scratch, 0);
      this.handlesByAddress.set(address, handle);
    }
    return handle;
  }

  /** The handle of an address given also as words: found by its words, nothing memoized. */
  accountHandleAt(_address: AddressHex, words: Uint32Array, offset: number): number {
    return this.findAccount(words, offset);
  }

  /** A slot of the account `handle` (from accountHandle/findAccount, not NO_ACCOUNT). */
  storageOf(handle: number, slot: bigint): bigint {
    let known = this.slotValues[handle];
    const cached = known?.get(slot);
    if (cached !== undefined) return cached;
    bigintToWords(slot, this.scratch, 0, WORD256_WORDS);
    const entry = this.findSlot(handle, this.scratch, 0);
    const value = entry < 0 ? 0n : wordsToBigInt(this.words, entry + S_VALUE, WORD256_WORDS);
    if (known === undefined) this.slotValues[handle] = known = new Map();
    known.set(slot, value);
    return value;
  }

  codeHashOf(handle: number): Hex {
    return this.codeHashAt(this.codeRefOf(handle));
  }

  /** The code's index in the code table (the same on every thread). */
  codeRefOf(handle: number): number {
    return this.words[this.accountTable + handle * ACCOUNT_WORDS + A_STATE] - 1;
  }

  codeHashOfRef(ref: number): Hex {
    return this.codeHashAt(ref);
  }

  codeOf(handle: number): Uint8Array | undefined {
    return this.codeAt(this.codeRefOf(handle));
  }

  // ---- word level ----------------------------------------------------------------------

  /** The handle of the account whose address is address[offset..offset+5), or NO_ACCOUNT. */
  findAccount(address: Uint32Array, offset = 0): number {
    const words = this.words;
    const mask = this.accountMask;
    const a0 = address[offset];
    const a1 = address[offset + 1];
    const a2 = address[offset + 2];
    const a3 = address[offset + 3];
    const a4 = address[offset + 4];
    for (let index = hashWords(address, offset, ADDRESS_WORDS, 0) & mask; ; index = (index + 1) & mask) {
      const entry = this.accountTable + index * ACCOUNT_WORDS;
      if (words[entry + A_STATE] === 0) return NO_ACCOUNT;
      if (words[entry] === a0 && words[entry + 1] === a1 && words[entry + 2] === a2 && words[entry + 3] === a3 && words[entry + 4] === a4) {
        return index;
      }
    }
  }

  /** Balance and nonce of `handle` into out[outOffset..+ACCOUNT_OUT_WORDS). */
  readAccount(handle: number, out: Uint32Array, outOffset = 0): void {
    const words = this.words;
    const from = this.accountTable + handle * ACCOUNT_WORDS + A_BALANCE;
    for (let i = 0; i < ACCOUNT_OUT_WORDS; i++) out[outOffset + i] = words[from + i];
  }

  /** findAccount + readAccount: the handle, or NO_ACCOUNT with `out` untouched. */
  accountWords(address: Uint32Array, addressOffset: number, out: Uint32Array, outOffset = 0): number {
    const handle = this.findAccount(address, addressOffset);
    if (handle !== NO_ACCOUNT) this.readAccount(handle, out, outOffset);
    return handle;
  }

  /**
   * The value of slot[slotOffset..+8) of account `handle` into out[outOffset..+8): true when
   * the pre-state holds the slot, false (and zeros written) when it does not.
   */
  storageWords(handle: number, slot: Uint32Array, slotOffset: number, out: Uint32Array, outOffset = 0): boolean {
    const entry = this.findSlot(handle, slot, slotOffset);
    if (entry < 0) {
      out.fill(0, outOffset, outOffset + WORD256_WORDS);
      return false;
    }
    const words = this.words;
    const value = entry + S_VALUE;
    for (let i = 0; i < WORD256_WORDS; i++) out[outOffset + i] = words[value + i];
    return true;
  }

  // ---- internals -----------------------------------------------------------------------

  /** Word offset of the storage entry, or -1. */
  private findSlot(handle: number, slot: Uint32Array, offset: number): number {
    const words = this.words;
    const mask = this.storageMask;
    const state = handle + 1;
    for (let index = hashWords(slot, offset, WORD256_WORDS, handle) & mask; ; index = (index + 1) & mask) {
      const entry = this.storageTable + index * SLOT_WORDS;
      const entryState = words[entry + S_STATE];
      if (entryState === 0) return -1;
      if (entryState !== state) continue;
      const key = entry + S_SLOT;
      if (
        words[key + 7] === slot[offset + 7] &&
        words[key + 6] === slot[offset + 6] &&
        words[key + 5] === slot[offset + 5] &&
        words[key + 4] === slot[offset + 4] &&
        words[key + 3] === slot[offset + 3] &&
        words[key + 2] === slot[offset + 2] &&
        words[key + 1] === slot[offset + 1] &&
        words[key] === slot[offset]
      ) {
        return entry;
      }
    }
  }

  /** Code-table index of the hash at key[offset..+8), or -1. */
  private findCode(key: Uint32Array, offset: number): number {
    const words = this.words;
    const mask = this.codeMask;
    for (let index = hashWords(key, offset, WORD256_WORDS, 0) & mask; ; index = (index + 1) & mask) {
      const entry = this.codeTable + index * CODE_WORDS;
      if (words[entry + C_STATE] === 0) return -1;
      let same = true;
      for (let i = 0; i < WORD256_WORDS && same; i++) same = words[entry + i] === key[offset + i];
      if (same) return index;
    }
  }

  private decodeAccount(handle: number): AccountInfo {
    const entry = this.accountTable + handle * ACCOUNT_WORDS;
    const info: AccountInfo = {
      balance: wordsToBigInt(this.words, entry + A_BALANCE, WORD256_WORDS),
      nonce: wordsToBigInt(this.words, entry + A_NONCE, WORD64_WORDS),
      codeHash: this.codeHashAt(this.words[entry + A_STATE] - 1),
    };
    this.accountInfos[handle] = info;
    return info;
  }

  private codeHashAt(index: number): Hex {
    let hash = this.codeHashes[index];
    if (hash === undefined) {
      hash = wordsToHex(this.words, this.codeTable + index * CODE_WORDS, WORD256_WORDS);
      this.codeHashes[index] = hash;
    }
    return hash;
  }

  private codeAt(index: number): Uint8Array | undefined {
    let view = this.codeViews[index];
    if (view === undefined) {
      const entry = this.codeTable + index * CODE_WORDS;
      if (this.words[entry + C_STATE] !== CODE_PRESENT) return undefined;
      const start = this.words[entry + C_OFFSET];
      view = this.arena.subarray(start, start + this.words[entry + C_LENGTH]);
      this.codeViews[index] = view;
    }
    return view;
  }
}
