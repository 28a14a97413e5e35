import type { AddressHex, Hex } from "../chain/types.ts";

/**
 * Conversions between the JS-side values (hex strings, bigint) and the u32 words the shared
 * tables store. Every multi-word number or byte string is in big-endian word order: word 0
 * holds the first 4 bytes / the most significant 32 bits, exactly as they read in hex.
 */

export const ADDRESS_WORDS = 5;
export const WORD256_WORDS = 8;
export const WORD64_WORDS = 2;

const TWO_POW_32 = 4294967296;
/** Values up to this fit a double exactly, so bigint <-> number is lossless. */
const MAX_EXACT = 0x1fffffffffffffn;
const MAX_EXACT_HIGH_WORD = 0x200000; // high word of a 2-word value below 2^53

const HEX_DIGIT_CODES = Uint8Array.from("0123456789abcdef", (c) => c.charCodeAt(0));

// Hex strings are built as char codes in this per-thread scratch and made into one flat
// string: concatenating 2-digit pieces builds ropes, which measured ~10x slower.
let scratch = Buffer.alloc(2 + 2 * 256, "0x");

function hexScratch(length: number): Buffer {
  if (scratch.length < length) scratch = Buffer.alloc(length, "0x");
  return scratch;
}

/** Nibble value per char code ('0'-'9', 'a'-'f', 'A'-'F'), -1 otherwise. */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[97 + i] = 10 + i;
  NIBBLE[65 + i] = 10 + i;
}

/**
 * Parse exactly `count` words (8*count hex digits after "0x") into out[offset..].
 * Throws on a wrong length or a non-hex digit.
 */
export function hexToWords(hex: string, out: Uint32Array, offset: number, count: number): void {
  if (hex.length !== 2 + 8 * count) throw new RangeError(`expected ${4 * count} hex bytes, got ${JSON.stringify(hex)}`);
  let at = 2;
  let bad = 0;
  for (let w = 0; w < count; w++) {
    let word = 0;
    for (let k = 0; k < 8; k++) {
      const code = hex.charCodeAt(at++);
      const nibble = code < 128 ? NIBBLE[code] : -1;
      bad |= nibble;
      word = (word << 4) | (nibble & 15);
    }
    out[offset + w] = word;
  }
  if (bad < 0) throw new RangeError(`not hex: ${JSON.stringify(hex)}`);
}

/** "0x" + 8*count lowercase hex digits. */
export function wordsToHex(words: Uint32Array, offset: number, count: number): Hex {
  const chars = hexScratch(2 + 8 * count);
  let at = 2;
  for (let w = 0; w < count; w++) {
    const word = words[offset + w];
    for (let shift = 28; shift >= 0; shift -= 4) chars[at++] = HEX_DIGIT_CODES[(word >>> shift) & 15];
  }
  return chars.toString("latin1", 0, at) as Hex;
}

/** The cheap address conversion of the hot path: 40 hex digits -> 5 words. */
export function addressToWords(address: AddressHex | string, out: Uint32Array, offset = 0): void {
  hexToWords(address, out, offset, ADDRESS_WORDS);
}

export function wordsToAddress(words: Uint32Array, offset = 0): AddressHex {
  return wordsToHex(words, offset, ADDRESS_WORDS);
}

// bigint <-> 64-bit chunks through a DataView: one bigint allocation per chunk instead of
// one per 32-bit word and operator (measured ~3x faster for 256-bit values).
const chunkView = new DataView(new ArrayBuffer(8));

/**
 * Write an unsigned value as `count` (>= 2) words. Throws when it is negative or
 * does not fit: a silent truncation would alias two different slots.
 */
export function bigintToWords(value: bigint, out: Uint32Array, offset: number, count: number): void {
  if (value >= 0n && value <= MAX_EXACT) {
    const n = Number(value);
    out.fill(0, offset, offset + count - 2);
    out[offset + count - 1] = n >>> 0;
    out[offset + count - 2] = Math.floor(n / TWO_POW_32);
    return;
  }
  if (value < 0n) throw new RangeError(`negative value ${value}`);
  let rest = value;
  let w = offset + count - 2;
  for (; w >= offset; w -= 2) {
    chunkView.setBigUint64(0, BigInt.asUintN(64, rest));
    out[w] = chunkView.getUint32(0);
    out[w + 1] = chunkView.getUint32(4);
    rest >>= 64n;
  }
  if (w === offset - 1) {
    out[offset] = Number(BigInt.asUintN(32, rest));
    rest >>= 32n;
  }
  if (rest !== 0n) throw new RangeError(`value does not fit ${32 * count} bits: ${value}`);
}

/** Inverse of bigintToWords; small values (the common case) avoid bigint arithmetic. */
export function wordsToBigInt(words: Uint32Array, offset: number, count: number): bigint {
  const end = offset + count;
  let at = offset;
  while (at < end && words[at] === 0) at++;
  const remaining = end - at;
  if (remaining === 0) return 0n;
  if (remaining === 1) return BigInt(words[at]);
  const high = words[at];
  if (remaining === 2 && high < MAX_EXACT_HIGH_WORD) return BigInt(high * TWO_POW_32 + words[at + 1]);
  let result = 0n;
  if (remaining & 1) result = BigInt(words[at++]);
  for (; at < end; at += 2) {
    chunkView.setUint32(0, words[at]);
    chunkView.setUint32(4, words[at + 1]);
    result = result === 0n ? chunkView.getBigUint64(0) : (result << 64n) | chunkView.getBigUint64(0);
  }
  return result;
}

/** Lowercase hex of bytes, with "0x". */
export function bytesToHexString(bytes: Uint8Array, start = 0, end = bytes.length): Hex {
  const chars = hexScratch(2 + 2 * (end - start));
  let at = 2;
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    chars[at++] = HEX_DIGIT_CODES[byte >>> 4];
    chars[at++] = HEX_DIGIT_CODES[byte & 15];
  }
  return chars.toString("latin1", 0, at) as Hex;
}

/** Parse "0x"-prefixed hex of `byteLength` bytes into out[offset..]; throws on bad input. */
export function hexToBytesInto(hex: string, out: Uint8Array, offset: number, byteLength: number): void {
  if (hex.length !== 2 + 2 * byteLength) throw new RangeError(`expected ${byteLength} hex bytes, got ${JSON.stringify(hex).slice(0, 90)}`);
  let bad = 0;
  for (let i = 0, at = 2; i < byteLength; i++, at += 2) {
    const a = hex.charCodeAt(at);
    const b = hex.charCodeAt(at + 1);
    const high = a < 128 ? NIBBLE[a] : -1;
    const low = b < 128 ? NIBBLE[b] : -1;
    bad |= high | low;
    out[offset + i] = ((high & 15) << 4) | (low & 15);
  }
  if (bad < 0) throw new RangeError(`not hex: ${JSON.stringify(hex).slice(0, 90)}`);
}

/**
 * Big-endian bytes -> words: the EVM hands addresses (20 bytes) and slots (32 bytes) as
 * Uint8Array, and this is far cheaper than going through bigint.
 */
export function bytesToWords(bytes: Uint8Array, byteOffset: number, out: Uint32Array, offset: number, count: number): void {
  for (let w = 0, at = byteOffset; w < count; w++, at += 4) {
    out[offset + w] = (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3];
  }
}

export function wordsToBytes(words: Uint32Array, offset: number, count: number, out: Uint8Array, byteOffset: number): void {
  for (let w = 0, at = byteOffset; w < count; w++, at += 4) {
    const word = words[offset + w];
    out[at] = word >>> 24;
    out[at + 1] = word >>> 16;
    out[at + 2] = word >>> 8;
    out[at + 3] = word;
  }
}
