import type { AddressHex, Hex } from "../chain/types.ts";
import type { AccountInfo, Storage } from "./types.ts";

/** One account of a pre-state with its storage, as held in memory. */
export interface MemoryAccount extends AccountInfo {
  storage: Map<bigint, bigint>;
}

/**
 * A Map keyed by 0x-hex strings (addresses, hashes) in any letter case: keys are stored in
 * lowercase, the form every part of pevm uses, so a checksummed address finds its entry.
 * A lowercase lookup costs what a plain Map lookup does; only a miss with uppercase letters
 * pays for the conversion.
 */
export class HexKeyMap<K extends Hex, V> extends Map<K, V> {
  override set(key: K, value: V): this {
    return super.set(key.toLowerCase() as K, value);
  }

  override get(key: K): V | undefined {
    const v = super.get(key);
    if (v !== undefined) return v;
    const lower = key.toLowerCase() as K;
    return lower === key ? undefined : super.get(lower);
  }

  override has(key: K): boolean {
    return super.has(key) || super.has(key.toLowerCase() as K);
  }

  override delete(key: K): boolean {
    return super.delete(key.toLowerCase() as K);
  }
}

/**
 * A pre-state held in JS maps: what the corpus loader, the state-test runner and the mock
 * generators produce. Single-threaded; the parallel engine copies it into shared memory.
 * Addresses and code hashes may be given in any letter case.
 */
export class MemoryStorage implements Storage {
  readonly accounts: Map<AddressHex, MemoryAccount> = new HexKeyMap<AddressHex, MemoryAccount>();
  readonly codes: Map<Hex, Uint8Array> = new HexKeyMap<Hex, Uint8Array>();
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
    const account: MemoryAccount = { ...info, codeHash: info.codeHash.toLowerCase() as Hex, storage };
    this.accounts.set(address, account);
    return account;
  }
}
