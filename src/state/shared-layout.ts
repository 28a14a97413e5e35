/**
 * Layout of a SharedStorage region: one SharedArrayBuffer region starting at `byteOffset`
 * (64-byte aligned), read as u32 words. All word offsets below are relative to the region's
 * first word; all multi-word keys and numbers are big-endian word order (src/shm/words.ts).
 *
 * Header, 16 words (64 bytes):
 *   0 MAGIC ("PEVS")              1 VERSION
 *   2 account capacity            3 account count            4 account table word offset
 *   5 storage capacity            6 storage count            7 storage table word offset
 *   8 code capacity               9 code count              10 code table word offset
 *  11 block-hash capacity        12 block-hash count        13 block-hash table word offset
 *  14 code arena byte offset     15 code arena byte length
 *
 * Four open-addressing hash tables (linear probing, capacity a power of two, load <= 1/2,
 * so every probe sequence reaches an empty entry). An entry whose state word is 0 is empty;
 * a freshly allocated (zeroed) buffer is therefore an empty table. Each table starts on a
 * 64-byte boundary.
 *
 * Account entry, 16 words (one cache line):
 *   0..4   address (20 bytes)
 *   5      state: 0 empty, else 1 + index of the account's code-hash entry in the code table
 *   6..13  balance (256-bit)
 *   14..15 nonce (64-bit)
 * The entry index of an account is its "handle": storage entries refer to it.
 *
 * Storage entry, 17 words:
 *   0      state: 0 empty, else 1 + account handle
 *   1..8   slot (256-bit)
 *   9..16  value (256-bit)
 *
 * Code entry, 11 words, keyed by code hash:
 *   0..7   code hash
 *   8      state: 0 empty, CODE_PRESENT (code in the arena) or CODE_UNKNOWN (an account has
 *          this hash but the pre-state holds no code for it: code() answers undefined)
 *   9      byte offset of the code in the arena
 *   10     code length in bytes
 *
 * Block-hash entry, 11 words:
 *   0..1   block number (64-bit)
 *   2      state: 0 empty, 1 present
 *   3..10  hash
 *
 * Code arena: the bytes of every code, back to back, at `arena byte offset`.
 */

export const MAGIC = 0x50455653;
export const VERSION = 1;

export const HEADER_WORDS = 16;
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_ACCOUNTS = 2; // capacity, count, word offset
export const H_STORAGE = 5;
export const H_CODES = 8;
export const H_BLOCK_HASHES = 11;
export const H_ARENA_OFFSET = 14;
export const H_ARENA_LENGTH = 15;

export const ACCOUNT_WORDS = 16;
export const A_ADDRESS = 0;
export const A_STATE = 5;
export const A_BALANCE = 6;
export const A_NONCE = 14;

export const SLOT_WORDS = 17;
export const S_STATE = 0;
export const S_SLOT = 1;
export const S_VALUE = 9;

export const CODE_WORDS = 11;
export const C_HASH = 0;
export const C_STATE = 8;
export const C_OFFSET = 9;
export const C_LENGTH = 10;
export const CODE_PRESENT = 1;
export const CODE_UNKNOWN = 2;

export const BLOCK_HASH_WORDS = 11;
export const B_NUMBER = 0;
export const B_STATE = 2;
export const B_HASH = 3;

/** Words per cache line: tables start on these boundaries. */
export const LINE_WORDS = 16;

/** Smallest power of two with load <= 1/2 for `count` keys (at least 8). */
export function tableCapacity(count: number): number {
  let capacity = 8;
  while (capacity < 2 * count) capacity *= 2;
  return capacity;
}

export function roundUpToLine(words: number): number {
  return Math.ceil(words / LINE_WORDS) * LINE_WORDS;
}
