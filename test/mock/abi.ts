/**
 * A minimal ABI encoder for calls whose arguments are all static (addresses, integers, bools,
 * static structs flattened in order): that is every call the generators make.
 */
import { bytesToHex, keccak } from "./hex.ts";
import { wordDigits } from "./hex.ts";
import type { Hex } from "./types.ts";

export type StaticArg = bigint | number | boolean | Hex;

export function selector(signature: string): Hex {
  return bytesToHex(keccak(signature).subarray(0, 4));
}

export function encodeArgs(args: readonly StaticArg[]): string {
  return args.map(encodeWord).join("");
}

/** `encodeCall("transfer(address,uint256)", [to, amount])` */
export function encodeCall(signature: string, args: readonly StaticArg[] = []): Hex {
  return `${selector(signature)}${encodeArgs(args)}`;
}

function encodeWord(arg: StaticArg): string {
  if (typeof arg === "boolean") return wordDigits(arg ? 1n : 0n);
  if (typeof arg === "number") return wordDigits(BigInt(arg));
  if (typeof arg === "bigint") return wordDigits(arg);
  // A hex string: an address (or any value up to 32 bytes), right-aligned.
  return wordDigits(BigInt(arg));
}

/** Decodes a single static word returned by a call. */
export function decodeWord(returnData: Uint8Array, index = 0): bigint {
  const word = returnData.subarray(index * 32, index * 32 + 32);
  return word.length === 0 ? 0n : BigInt(bytesToHex(word));
}
