/** Small conversions between bigint, hex strings and bytes used throughout the generators. */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex as rawBytesToHex, hexToBytes as rawHexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Hex } from "./types.ts";

export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${rawBytesToHex(bytes)}`;
}

export function hexToBytes(hex: string): Uint8Array {
  return rawHexToBytes(hex.startsWith("0x") ? hex.slice(2) : hex);
}

/** A JSON-RPC quantity: minimal hex, "0x0" for zero. */
export function quantity(value: bigint | number): Hex {
  return `0x${BigInt(value).toString(16)}`;
}

/** A 32-byte word as 64 hex digits, without prefix (two's complement for negatives). */
export function wordDigits(value: bigint): string {
  const unsigned = value < 0n ? (1n << 256n) + value : value;
  if (unsigned >> 256n !== 0n) throw new RangeError(`does not fit a word: ${value}`);
  return unsigned.toString(16).padStart(64, "0");
}

export function keccak(data: Uint8Array | string): Uint8Array {
  return keccak_256(typeof data === "string" ? utf8ToBytes(data) : data);
}

export function keccakHex(data: Uint8Array | string): Hex {
  return bytesToHex(keccak(data));
}

export function keccakBigint(data: Uint8Array): bigint {
  return BigInt(bytesToHex(keccak(data)));
}
