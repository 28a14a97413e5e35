import type { AddressHex, Hex } from "../chain/types.ts";

/** keccak256 of the empty byte string: the code hash of an account without code. */
export const EMPTY_CODE_HASH: Hex = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

export interface AccountInfo {
  balance: bigint;
  nonce: bigint;
  /** EMPTY_CODE_HASH when the account has no code. */
  codeHash: Hex;
}

/**
 * Read-only view of the state before a block. Every executor (sequential, each parallel
 * worker) reads the pre-state through this interface and nothing else.
 * An account that is absent returns undefined: it does not exist (which pre-EIP-161 forks
 * distinguish from an existing empty account).
 */
export interface Storage {
  account(address: AddressHex): AccountInfo | undefined;
  code(codeHash: Hex): Uint8Array | undefined;
  /** A slot that was never written is 0n. */
  storage(address: AddressHex, slot: bigint): bigint;
  blockHash(number: bigint): Hex | undefined;
  /** Whether the account holds any storage (when unknown, omit: callers then assume it may). */
  hasStorage?(address: AddressHex): boolean;
}

/** What a block did to one account, relative to the pre-state. */
export interface AccountChange {
  /** The account no longer exists after the block (self-destructed or EIP-161 cleaned). */
  deleted: boolean;
  balance: bigint;
  nonce: bigint;
  codeHash: Hex;
  /** Present when the code was set by this block (contract creation). */
  code?: Uint8Array;
  /** True when all pre-state storage of the account was wiped (destroyed, or re-created). */
  storageCleared: boolean;
  /** Slots written by the block, with their final values (0n = cleared). */
  storage: Map<bigint, bigint>;
}

/** The post-state as a diff: every account the block wrote. */
export type StateChanges = Map<AddressHex, AccountChange>;
