/** Storage slots of Solidity mappings, for writing balances and allowances directly. */
import { hexToBytes, keccakBigint, wordDigits } from "./hex.ts";
import type { Hex } from "./types.ts";

/** Slot of `mapping[key]` for a mapping declared at `slot`: keccak(key . slot). */
export function mappingSlot(slot: bigint | number, key: Hex | bigint): bigint {
  return keccakBigint(hexToBytes(wordDigits(BigInt(key)) + wordDigits(BigInt(slot))));
}

/** Slot of `mapping[outer][inner]`. */
export function nestedMappingSlot(slot: bigint | number, outer: Hex | bigint, inner: Hex | bigint): bigint {
  return mappingSlot(mappingSlot(slot, outer), inner);
}
