/**
 * Deterministic account addresses. Each generator draws from its own namespace, so that the
 * pre-states of different kinds can be merged (the mixed block) without collisions.
 * The addresses are keccak-derived: far from the precompile range and never holding code.
 */
import { bytesToHex, keccak } from "./hex.ts";
import type { Hex } from "./types.ts";

export function mockAddress(namespace: string, index: number): Hex {
  return bytesToHex(keccak(`pevm-mock/${namespace}/${index}`).subarray(12));
}

export function mockAddresses(namespace: string, count: number): Hex[] {
  return Array.from({ length: count }, (_, index) => mockAddress(namespace, index));
}

/** The beneficiary of every mocked block. */
export const MOCK_COINBASE: Hex = mockAddress("coinbase", 0);

/** Ether amounts in wei. */
export const ETHER = 10n ** 18n;
export const GWEI = 10n ** 9n;
