import type { Hex } from "../chain/types.ts";
import { bigintToWords, hexToWords, wordsToBigInt, wordsToHex } from "../shm/words.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";

/**
 * How EVM state is laid out in the multi-version memory's 11-word values (src/mv), in the
 * word order of every shared value (src/shm/words.ts: big-endian, word 0 most significant).
 * The account layout is the pre-state's (src/state/shared-layout.ts): words 0..9 of an
 * ACCOUNT value are copied straight from a pre-state account entry.
 *
 * ACCOUNT(address) location:
 *   words 0..7  balance, 256-bit (a DELTA entry adds here: lazy credits)
 *   words 8..9  nonce, 64-bit
 *   word 10     flags: EXISTS, TOUCHED (a DELTA entry ORs its flags in)
 * CODE(address) location:
 *   words 0..7  code hash, 32 bytes
 *   word 8      1 when the code went with the account (a self-destruct), not by a creation
 * STORAGE(address, slot) location:
 *   words 0..7  value, 256-bit
 *
 * A lazy credit (the beneficiary's fee) is a DELTA on ACCOUNT with flags:
 *   EXISTS  when the credit creates the account (before EIP-161 any credit does; after it,
 *           a non-zero one), TOUCHED after EIP-161 (an empty account touched is removed).
 */
export const ACCOUNT_EXISTS = 1;
export const ACCOUNT_TOUCHED = 2;
export const FLAGS_WORD = 10;
export const NONCE_WORD = 8;

export function writeU256(value: bigint, out: Uint32Array, offset = 0): void {
  bigintToWords(value, out, offset, 8);
}

export function readU256(words: Uint32Array, offset = 0): bigint {
  return wordsToBigInt(words, offset, 8);
}

export function encodeAccount(exists: boolean, balance: bigint, nonce: bigint, out: Uint32Array): Uint32Array {
  bigintToWords(balance, out, 0, 8);
  bigintToWords(nonce, out, NONCE_WORD, 2);
  out[FLAGS_WORD] = exists ? ACCOUNT_EXISTS : 0;
  return out;
}

export function encodeDelta(amount: bigint, flags: number, out: Uint32Array): Uint32Array {
  bigintToWords(amount, out, 0, 8);
  out[8] = 0;
  out[9] = 0;
  out[FLAGS_WORD] = flags;
  return out;
}

export function encodeStorage(value: bigint, out: Uint32Array): Uint32Array {
  bigintToWords(value, out, 0, 8);
  out[8] = out[9] = out[10] = 0;
  return out;
}

export const CODE_DELETED_WORD = 8;

export function encodeCodeHash(hash: Hex, out: Uint32Array, deleted = false): Uint32Array {
  hexToWords(hash, out, 0, 8);
  out[CODE_DELETED_WORD] = deleted ? 1 : 0;
  out[9] = out[10] = 0;
  return out;
}

export function decodeCodeHash(words: Uint32Array): Hex {
  return wordsToHex(words, 0, 8);
}

/** Whether the ACCOUNT value is an existing account, with the EIP-161 rule for touched empty ones. */
export function accountExists(words: Uint32Array, codeHash: Hex): boolean {
  const flags = words[FLAGS_WORD]!;
  if ((flags & ACCOUNT_EXISTS) === 0) return false;
  if ((flags & ACCOUNT_TOUCHED) === 0 || codeHash !== EMPTY_CODE_HASH) return true;
  for (let i = 0; i < FLAGS_WORD; i++) if (words[i] !== 0) return true;
  return false; // touched, and balance, nonce and code all empty
}

/** Decoded ACCOUNT value; applies the EIP-161 rule for touched empty accounts. */
export function decodeAccount(words: Uint32Array, codeHash: Hex): { exists: boolean; balance: bigint; nonce: bigint } {
  return { exists: accountExists(words, codeHash), balance: wordsToBigInt(words, 0, 8), nonce: wordsToBigInt(words, NONCE_WORD, 2) };
}
