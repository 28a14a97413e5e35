import type { AddressHex, Hex } from "../chain/types.ts";
import type { AccountInfo, Storage } from "./types.ts";

/** One account of a pre-state with its storage, as held in memory. */
export interface MemoryAccount extends AccountInfo {
  storage: Map<bigint, bigint>;
}

/**
 * A pre-state held in JS maps: what the corpus loader, the state-test runner and the mock
 * generators produce. Single-threaded; the parallel engine copies it into shared memory.
 */
export class MemoryStorage implements Storage {
  readonly accounts = new Map<AddressHex, MemoryAccount>();
  readonly codes = new Map<Hex, Uint8Array>();
  readonly blockHashes = new Map<bigint, Hex>();

  account(address: AddressHex): AccountInfo | undefined {
    return this.accounts.get(address);
  }

  code(codeHash: Hex): Uint8Array | undefined {
    return this.codes.get(codeHash);
  }

  storage(address: AddressHex, slot: bigint): bigint {
    return this.accounts.get(address)?.storage.get(slot) ?? 0n;
  }

  blockHash(number: bigint): Hex | undefined {
    return this.blockHashes.get(number);
  }

  hasStorage(address: AddressHex): boolean {
    return (this.accounts.get(address)?.storage.size ?? 0) > 0;
  }

  setAccount(address: AddressHex, info: AccountInfo, storage = new Map<bigint, bigint>()): MemoryAccount {
    const account: MemoryAccount = { ...info, storage };
    this.accounts.set(address, account);
    return account;
  }
}
