import type { AddressHex, Hex } from "../chain/types.ts";
import { MemoryStorage } from "./memory.ts";
import { MissingState, stateKeyId, type AsyncStorage, type StateKey } from "./missing.ts";
import { EMPTY_CODE_HASH, type AccountInfo, type Storage } from "./types.ts";

/**
 * A synchronous `Storage` over an `AsyncStorage`: it answers from its cache and throws
 * `MissingState` for a location it does not hold; `await load(keys)` fills the cache (one
 * prefetch batch, then the individual reads). Every location it answered is recorded, so
 * `snapshot()` is exactly the pre-state the execution read.
 *
 * It offers no `hasStorage` (whether an account holds any slot is not known from the reads):
 * callers then assume what the Storage interface says they assume for an unknown answer.
 *
 * Loading an account also loads its code: a snapshot must carry the code of every account
 * with a code hash (the corpus loader insists), even when only EXTCODEHASH looked at it.
 */
export class CachedStorage implements Storage {
  private readonly accounts = new Map<AddressHex, AccountInfo | undefined>();
  private readonly slots = new Map<AddressHex, Map<bigint, bigint>>();
  private readonly codes = new Map<Hex, Uint8Array | undefined>();
  private readonly hashes = new Map<bigint, Hex | undefined>();

  private readonly servedAccounts = new Set<AddressHex>();
  private readonly servedSlots = new Map<AddressHex, Set<bigint>>();
  private readonly servedCodes = new Set<Hex>();
  private readonly servedHashes = new Set<bigint>();

  /** How many keys `load` fetched from the source (for progress and measurements). */
  loadedKeys = 0;

  constructor(readonly source: AsyncStorage) {}

  account(address: AddressHex): AccountInfo | undefined {
    if (!this.accounts.has(address)) throw new MissingState([{ kind: "account", address }]);
    this.servedAccounts.add(address);
    return this.accounts.get(address);
  }

  code(codeHash: Hex): Uint8Array | undefined {
    if (codeHash === EMPTY_CODE_HASH) return new Uint8Array(0);
    if (!this.codes.has(codeHash)) throw new MissingState([{ kind: "code", codeHash }]);
    this.servedCodes.add(codeHash);
    return this.codes.get(codeHash);
  }

  storage(address: AddressHex, slot: bigint): bigint {
    const value = this.slots.get(address)?.get(slot);
    if (value === undefined) throw new MissingState([{ kind: "storage", address, slot }]);
    let served = this.servedSlots.get(address);
    if (served === undefined) this.servedSlots.set(address, (served = new Set()));
    served.add(slot);
    return value;
  }

  blockHash(number: bigint): Hex | undefined {
    if (!this.hashes.has(number)) throw new MissingState([{ kind: "blockHash", number }]);
    this.servedHashes.add(number);
    return this.hashes.get(number);
  }

  /** Whether the cache holds `key` (a read of it would not throw). */
  has(key: StateKey): boolean {
    switch (key.kind) {
      case "account":
        return this.accounts.has(key.address);
      case "storage":
        return this.slots.get(key.address)?.has(key.slot) ?? false;
      case "code":
        return key.codeHash === EMPTY_CODE_HASH || this.codes.has(key.codeHash);
      case "blockHash":
        return this.hashes.has(key.number);
    }
  }

  /** Fetches the keys the cache does not hold yet: one prefetch for all, then each read. */
  async load(keys: StateKey[]): Promise<void> {
    const seen = new Set<string>();
    const wanted = keys.filter((k) => {
      const id = stateKeyId(k);
      if (seen.has(id) || this.has(k)) return false;
      seen.add(id);
      return true;
    });
    if (wanted.length === 0) return;
    await this.source.prefetch?.(wanted);
    await Promise.all(wanted.map((k) => this.loadOne(k)));
    // The code of every account just loaded (see the class comment).
    const codes: StateKey[] = [];
    for (const k of wanted) {
      const info = k.kind === "account" ? this.accounts.get(k.address) : undefined;
      if (info !== undefined && !this.has({ kind: "code", codeHash: info.codeHash })) codes.push({ kind: "code", codeHash: info.codeHash });
    }
    if (codes.length > 0) await this.load(codes);
  }

  private async loadOne(key: StateKey): Promise<void> {
    this.loadedKeys++;
    switch (key.kind) {
      case "account":
        this.accounts.set(key.address, await this.source.account(key.address));
        return;
      case "storage": {
        const value = await this.source.storage(key.address, key.slot);
        let slots = this.slots.get(key.address);
        if (slots === undefined) this.slots.set(key.address, (slots = new Map()));
        slots.set(key.slot, value);
        return;
      }
      case "code":
        this.codes.set(key.codeHash, await this.source.code(key.codeHash));
        return;
      case "blockHash":
        this.hashes.set(key.number, await this.source.blockHash(key.number));
        return;
    }
  }

  /** How much was served so far. */
  servedCounts(): { accounts: number; slots: number; codes: number; blockHashes: number } {
    let slots = 0;
    for (const s of this.servedSlots.values()) slots += s.size;
    return { accounts: this.servedAccounts.size, slots, codes: this.servedCodes.size, blockHashes: this.servedHashes.size };
  }

  /**
   * The pre-state that was read, as a MemoryStorage: every existing account served (with the
   * code of those that have code), every non-zero slot served, every block hash served.
   * A slot read of an account that does not exist is 0 and needs no entry.
   */
  snapshot(): MemoryStorage {
    const out = new MemoryStorage();
    const addresses = new Set<AddressHex>([...this.servedAccounts, ...this.servedSlots.keys()]);
    for (const address of addresses) {
      const info = this.accounts.get(address);
      const slots = new Map<bigint, bigint>();
      for (const slot of this.servedSlots.get(address) ?? []) {
        const value = this.slots.get(address)!.get(slot)!;
        if (value !== 0n) slots.set(slot, value);
      }
      if (info === undefined) {
        // Served only through its slots (all zero for an absent account), or absent: no entry.
        if (slots.size === 0 || !this.accounts.has(address)) continue;
      }
      out.setAccount(address, info ?? { balance: 0n, nonce: 0n, codeHash: EMPTY_CODE_HASH }, slots);
      const codeHash = info?.codeHash ?? EMPTY_CODE_HASH;
      if (codeHash !== EMPTY_CODE_HASH) {
        const code = this.codes.get(codeHash);
        if (code === undefined) throw new Error(`CachedStorage.snapshot: code ${codeHash} of ${address} was never loaded`);
        out.codes.set(codeHash, code);
      }
    }
    for (const number of this.servedHashes) {
      const hash = this.hashes.get(number);
      if (hash !== undefined) out.blockHashes.set(number, hash);
    }
    return out;
  }
}
