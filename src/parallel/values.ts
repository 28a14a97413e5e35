import type { Hex } from "../chain/types.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";

/**
 * How EVM state is laid out in the multi-version memory's 11-word values (src/mv).
 *
 * ACCOUNT(address) location:
 *   words 0..7  balance, 256-bit little-endian (a DELTA entry adds here: lazy credits)
 *   words 8..9  nonce, 64-bit little-endian
 *   word 10     flags: EXISTS, TOUCHED (a DELTA entry ORs its flags in)
 * CODE(address) location:
 *   words 0..7  code hash, 32 bytes as 8 big-endian u32 (word 0 = first 4 bytes)
 * STORAGE(address, slot) location:
 *   words 0..7  value, 256-bit little-endian
 *
 * A lazy credit (the beneficiary's fee) is a DELTA on ACCOUNT with flags:
 *   EXISTS  when the credit creates the account (before EIP-161 any credit does; after it,
 *           a non-zero one), TOUCHED after EIP-161 (an empty account touched is removed).
 */
export const ACCOUNT_EXISTS = 1;
export const ACCOUNT_TOUCHED = 2;
export const FLAGS_WORD = 10;

// BigInt arithmetic is slow in JSC; 64-bit chunks through a BigUint64Array halve the work,
// and values below 2^64 (most balances, nonces and slots) take one chunk.
const chunk64 = new BigUint64Array(1);
const chunk32 = new Uint32Array(chunk64.buffer);

export function writeU256(value: bigint, out: Uint32Array, offset = 0): void {
  let v = value;
  for (let i = 0; i < 8; i += 2) {
    if (v === 0n) {
      for (let j = i; j < 8; j++) out[offset + j] = 0;
      return;
    }
    chunk64[0] = BigInt.asUintN(64, v);
    out[offset + i] = chunk32[0]!;
    out[offset + i + 1] = chunk32[1]!;
    v >>= 64n;
  }
}

export function readU256(words: ArrayLike<number>, offset = 0): bigint {
  let top = 7;
  while (top >= 0 && words[offset + top] === 0) top--;
  if (top < 0) return 0n;
  if (top < 2) return readU64(words, offset);
  let v = 0n;
  for (let i = top | 1; i > 0; i -= 2) {
    chunk32[0] = words[offset + i - 1]!;
    chunk32[1] = words[offset + i]!;
    v = (v << 64n) | chunk64[0]!;
  }
  return v;
}

/** Small values (nonces, most slots) avoid the 8-word bigint loop. */
export function readU64(words: ArrayLike<number>, offset: number): bigint {
  const lo = words[offset]! >>> 0;
  const hi = words[offset + 1]! >>> 0;
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

export function encodeAccount(exists: boolean, balance: bigint, nonce: bigint, out: Uint32Array): Uint32Array {
  writeU256(balance, out, 0);
  out[8] = Number(nonce & 0xffffffffn);
  out[9] = Number(nonce >> 32n);
  out[FLAGS_WORD] = exists ? ACCOUNT_EXISTS : 0;
  return out;
}

export function encodeDelta(amount: bigint, flags: number, out: Uint32Array): Uint32Array {
  writeU256(amount, out, 0);
  out[8] = 0;
  out[9] = 0;
  out[FLAGS_WORD] = flags;
  return out;
}

export function encodeStorage(value: bigint, out: Uint32Array): Uint32Array {
  writeU256(value, out, 0);
  out[8] = out[9] = out[10] = 0;
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function encodeCodeHash(hash: Hex, out: Uint32Array): Uint32Array {
  for (let i = 0; i < 8; i++) out[i] = Number.parseInt(hash.slice(2 + i * 8, 10 + i * 8), 16) >>> 0;
  out[8] = out[9] = out[10] = 0;
  return out;
}

export function decodeCodeHash(words: ArrayLike<number>): Hex {
  let s = "0x";
  for (let i = 0; i < 8; i++) {
    const w = words[i]! >>> 0;
    s += HEX[w >>> 24]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!;
  }
  return s as Hex;
}

/** Decoded ACCOUNT value; applies the EIP-161 rule for touched empty accounts. */
export function decodeAccount(
  words: ArrayLike<number>,
  codeHash: Hex,
): { exists: boolean; balance: bigint; nonce: bigint } {
  const flags = words[FLAGS_WORD]!;
  const balance = readU256(words, 0);
  const nonce = readU64(words, 8);
  let exists = (flags & ACCOUNT_EXISTS) !== 0;
  if (exists && (flags & ACCOUNT_TOUCHED) !== 0 && balance === 0n && nonce === 0n && codeHash === EMPTY_CODE_HASH) {
    exists = false;
  }
  return { exists, balance, nonce };
}
