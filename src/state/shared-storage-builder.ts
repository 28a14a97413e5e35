import type { Hex } from "../chain/types.ts";
import { hashWords } from "../shm/hash.ts";
import { cacheLineAllocator, type SharedAllocator } from "../shm/region.ts";
import type { MemoryStorage } from "./memory.ts";
import {
  A_ADDRESS,
  A_BALANCE,
  A_NONCE,
  A_STATE,
  ACCOUNT_WORDS,
  B_HASH,
  B_NUMBER,
  B_STATE,
  BLOCK_HASH_WORDS,
  C_HASH,
  C_LENGTH,
  C_OFFSET,
  C_STATE,
  CODE_PRESENT,
  CODE_UNKNOWN,
  CODE_WORDS,
  H_ACCOUNTS,
  H_ARENA_LENGTH,
  H_ARENA_OFFSET,
  H_BLOCK_HASHES,
  H_CODES,
  H_MAGIC,
  H_STORAGE,
  H_VERSION,
  HEADER_WORDS,
  MAGIC,
  roundUpToLine,
  S_SLOT,
  S_STATE,
  S_VALUE,
  SLOT_WORDS,
  tableCapacity,
  VERSION,
} from "./shared-layout.ts";
import { ADDRESS_WORDS, addressToWords, bigintToWords, hexToWords, WORD256_WORDS, WORD64_WORDS } from "../shm/words.ts";

/** Where a SharedStorage region lives; postable as is (structured clone shares the buffer). */
export interface SharedStorageDescriptor {
  kind: "pevm.SharedStorage";
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

/** Gives a zero-filled shared region of at least byteLength bytes at a 64-byte aligned byteOffset. */


interface TablePlan {
  capacity: number;
  count: number;
  wordOffset: number;
}

/** Copy a MemoryStorage into one shared region laid out as described in shared-layout.ts. */
export function writeSharedStorage(memory: MemoryStorage, allocate: SharedAllocator = cacheLineAllocator): SharedStorageDescriptor {
  // Every code hash an account names gets a code entry, with or without code.
  const codes = new Map<string, Uint8Array | undefined>();
  for (const [hash, code] of memory.codes) codes.set(hash.toLowerCase(), code);
  let slotCount = 0;
  for (const account of memory.accounts.values()) {
    const hash = account.codeHash.toLowerCase();
    if (!codes.has(hash)) codes.set(hash, undefined);
    slotCount += account.storage.size;
  }
  let arenaLength = 0;
  for (const code of codes.values()) arenaLength += code?.length ?? 0;

  let nextWord = HEADER_WORDS;
  const plan = (count: number, entryWords: number): TablePlan => {
    const capacity = tableCapacity(count);
    const table = { capacity, count, wordOffset: nextWord };
    nextWord = roundUpToLine(nextWord + capacity * entryWords);
    return table;
  };
  const accountTable = plan(memory.accounts.size, ACCOUNT_WORDS);
  const storageTable = plan(slotCount, SLOT_WORDS);
  const codeTable = plan(codes.size, CODE_WORDS);
  const blockTable = plan(memory.blockHashes.size, BLOCK_HASH_WORDS);
  const arenaByteOffset = nextWord * 4;
  const byteLength = arenaByteOffset + arenaLength;

  const { buffer, byteOffset } = allocate(byteLength);
  if (byteOffset % 4 !== 0) throw new RangeError(`allocator returned unaligned byteOffset ${byteOffset}`);
  const words = new Uint32Array(buffer, byteOffset, byteLength >>> 2);
  const arena = new Uint8Array(buffer, byteOffset + arenaByteOffset, arenaLength);

  words[H_MAGIC] = MAGIC;
  words[H_VERSION] = VERSION;
  const tables: [number, TablePlan][] = [
    [H_ACCOUNTS, accountTable],
    [H_STORAGE, storageTable],
    [H_CODES, codeTable],
    [H_BLOCK_HASHES, blockTable],
  ];
  for (const [at, table] of tables) {
    words[at] = table.capacity;
    words[at + 1] = table.count;
    words[at + 2] = table.wordOffset;
  }
  words[H_ARENA_OFFSET] = arenaByteOffset;
  words[H_ARENA_LENGTH] = arenaLength;

  const key = new Uint32Array(WORD256_WORDS);
  const codeIndexByHash = new Map<string, number>();
  let arenaAt = 0;
  for (const [hash, code] of codes) {
    hexToWords(hash, key, 0, WORD256_WORDS);
    const index = claimEntry(words, codeTable, CODE_WORDS, C_STATE, C_HASH, key, WORD256_WORDS, hashWords(key, 0, WORD256_WORDS, 0));
    const entry = codeTable.wordOffset + index * CODE_WORDS;
    words.set(key, entry + C_HASH);
    if (code === undefined) {
      words[entry + C_STATE] = CODE_UNKNOWN;
    } else {
      words[entry + C_STATE] = CODE_PRESENT;
      words[entry + C_OFFSET] = arenaAt;
      words[entry + C_LENGTH] = code.length;
      arena.set(code, arenaAt);
      arenaAt += code.length;
    }
    codeIndexByHash.set(hash, index);
  }

  for (const [address, account] of memory.accounts) {
    addressToWords(address, key, 0);
    const handle = claimEntry(words, accountTable, ACCOUNT_WORDS, A_STATE, A_ADDRESS, key, ADDRESS_WORDS, hashWords(key, 0, ADDRESS_WORDS, 0));
    const entry = accountTable.wordOffset + handle * ACCOUNT_WORDS;
    words.set(key.subarray(0, ADDRESS_WORDS), entry + A_ADDRESS);
    words[entry + A_STATE] = 1 + (codeIndexByHash.get(account.codeHash.toLowerCase()) as number);
    bigintToWords(account.balance, words, entry + A_BALANCE, WORD256_WORDS);
    bigintToWords(account.nonce, words, entry + A_NONCE, WORD64_WORDS);
    for (const [slot, value] of account.storage) {
      bigintToWords(slot, key, 0, WORD256_WORDS);
      const state = handle + 1;
      const index = claimEntry(words, storageTable, SLOT_WORDS, S_STATE, S_SLOT, key, WORD256_WORDS, hashWords(key, 0, WORD256_WORDS, handle), state);
      const slotEntry = storageTable.wordOffset + index * SLOT_WORDS;
      words[slotEntry + S_STATE] = state;
      words.set(key, slotEntry + S_SLOT);
      bigintToWords(value, words, slotEntry + S_VALUE, WORD256_WORDS);
    }
  }

  for (const [number, hash] of memory.blockHashes) {
    bigintToWords(number, key, 0, WORD64_WORDS);
    const index = claimEntry(words, blockTable, BLOCK_HASH_WORDS, B_STATE, B_NUMBER, key, WORD64_WORDS, hashWords(key, 0, WORD64_WORDS, 0));
    const entry = blockTable.wordOffset + index * BLOCK_HASH_WORDS;
    words.set(key.subarray(0, WORD64_WORDS), entry + B_NUMBER);
    words[entry + B_STATE] = 1;
    hexToWords(hash as Hex, words, entry + B_HASH, WORD256_WORDS);
  }

  return { kind: "pevm.SharedStorage", buffer, byteOffset, byteLength };
}

/**
 * The entry index for `key`: the existing one with the same key (and, when `requiredState` is
 * given, that state) or the first empty one on its probe path. Keys that differ only in hex
 * case collapse here, which is why this is find-or-insert rather than insert.
 */
function claimEntry(
  words: Uint32Array,
  table: TablePlan,
  entryWords: number,
  stateAt: number,
  keyAt: number,
  key: Uint32Array,
  keyWords: number,
  hash: number,
  requiredState = 0,
): number {
  const mask = table.capacity - 1;
  for (let index = hash & mask; ; index = (index + 1) & mask) {
    const entry = table.wordOffset + index * entryWords;
    const state = words[entry + stateAt];
    if (state === 0) return index;
    if (requiredState !== 0 && state !== requiredState) continue;
    let same = true;
    for (let i = 0; i < keyWords && same; i++) same = words[entry + keyAt + i] === key[i];
    if (same) return index;
  }
}
