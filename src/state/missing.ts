import type { AddressHex, Hex } from "../chain/types.ts";
import type { AccountInfo } from "./types.ts";

/**
 * The protocol between a synchronous `Storage` and a source that has to wait (a node over
 * JSON-RPC): a Storage that does not hold a location yet throws `MissingState` naming it; the
 * executor loads the keys (awaiting the source) and re-runs what it was doing.
 */

/** One location of the pre-state. */
export type StateKey =
  | { kind: "account"; address: AddressHex }
  | { kind: "storage"; address: AddressHex; slot: bigint }
  | { kind: "code"; codeHash: Hex }
  | { kind: "blockHash"; number: bigint };

/** A map key for a StateKey (stable, unique per location). */
export function stateKeyId(key: StateKey): string {
  switch (key.kind) {
    case "account":
      return `a${key.address}`;
    case "storage":
      return `s${key.address}${key.slot.toString(16)}`;
    case "code":
      return `c${key.codeHash}`;
    case "blockHash":
      return `b${key.number}`;
  }
}

function describeKey(key: StateKey): string {
  switch (key.kind) {
    case "account":
      return `account ${key.address}`;
    case "storage":
      return `slot 0x${key.slot.toString(16)} of ${key.address}`;
    case "code":
      return `code ${key.codeHash}`;
    case "blockHash":
      return `hash of block ${key.number}`;
  }
}

/** Thrown by a Storage that does not hold these locations yet (never by an in-memory one). */
export class MissingState extends Error {
  override name = "MissingState";
  constructor(readonly keys: StateKey[]) {
    super(`not loaded yet: ${keys.map(describeKey).join(", ")}`);
  }
}

/** The pre-state read from a source that answers asynchronously. Same meaning as `Storage`. */
export interface AsyncStorage {
  /** Tells an AsyncStorage from a (synchronous) Storage at run time: `executeBlock` takes either. */
  readonly isAsync: true;
  /** undefined: the account does not exist. */
  account(address: AddressHex): Promise<AccountInfo | undefined>;
  code(codeHash: Hex): Promise<Uint8Array | undefined>;
  /** A slot that was never written is 0n. */
  storage(address: AddressHex, slot: bigint): Promise<bigint>;
  blockHash(number: bigint): Promise<Hex | undefined>;
  /** Optional: fetch many keys at once (one batch) so that the reads after it are cheap. */
  prefetch?(keys: StateKey[]): Promise<void>;
}

export function isAsyncStorage(storage: object): storage is AsyncStorage {
  return (storage as { isAsync?: unknown }).isAsync === true;
}
