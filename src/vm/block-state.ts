import type { AddressHex, Hex } from "../chain/types.ts";
import { EMPTY_CODE_HASH, type AccountChange, type AccountInfo, type StateChanges, type Storage } from "../state/types.ts";
import type { StateSource, TxWrites } from "./source.ts";

/**
 * The state of a block being executed sequentially: the pre-state overlaid with the changes of
 * the transactions applied so far. It is the StateSource of the next transaction.
 */
export class BlockState implements StateSource {
  private changes: StateChanges = new Map();

  constructor(
    readonly base: Storage,
    /** EIP-161: an account left empty by a touch is removed. */
    private readonly clearEmptyAccounts: boolean,
  ) {}

  codeHash(address: AddressHex): Hex {
    return this.account(address)?.codeHash ?? EMPTY_CODE_HASH;
  }

  account(address: AddressHex): AccountInfo | undefined {
    const c = this.changes.get(address);
    if (c === undefined) return this.base.account(address);
    return c.deleted ? undefined : c;
  }

  storage(address: AddressHex, slot: bigint): bigint {
    const c = this.changes.get(address);
    if (c !== undefined) {
      const v = c.storage.get(slot);
      if (v !== undefined) return v;
      if (c.storageCleared) return 0n;
    }
    return this.base.storage(address, slot);
  }

  private codes = new Map<Hex, Uint8Array>();

  code(codeHash: Hex): Uint8Array {
    const created = this.codes.get(codeHash);
    if (created !== undefined) return created;
    const code = this.base.code(codeHash);
    if (code === undefined) throw new Error(`code ${codeHash} missing from the pre-state`);
    return code;
  }

  blockHash(number: bigint): Hex | undefined {
    return this.base.blockHash(number);
  }

  hasStorage(address: AddressHex): boolean {
    const c = this.changes.get(address);
    if (c !== undefined) {
      for (const v of c.storage.values()) if (v !== 0n) return true;
      if (c.storageCleared) return false;
    }
    return this.base.hasStorage?.(address) ?? false;
  }

  private change(address: AddressHex): AccountChange {
    let c = this.changes.get(address);
    if (c === undefined) {
      const info = this.base.account(address);
      c = {
        deleted: info === undefined,
        balance: info?.balance ?? 0n,
        nonce: info?.nonce ?? 0n,
        codeHash: info?.codeHash ?? EMPTY_CODE_HASH,
        storageCleared: false,
        storage: new Map(),
      };
      this.changes.set(address, c);
    }
    return c;
  }

  apply(writes: TxWrites): void {
    for (const [address, w] of writes.accounts) {
      const c = this.change(address);
      if (w.storageCleared) {
        c.storageCleared = true;
        c.storage.clear();
      }
      for (const [slot, value] of w.storage) c.storage.set(slot, value);
      if (w.deleted) {
        c.deleted = true;
        c.balance = 0n;
        c.nonce = 0n;
        c.codeHash = EMPTY_CODE_HASH;
        c.code = undefined;
        continue;
      }
      c.deleted = false;
      // Without infoChanged the fields are not the transaction's to set (an unread contract).
      if (w.infoChanged) {
        c.balance = w.balance;
        c.nonce = w.nonce;
      }
      if (w.codeHash !== undefined) {
        c.codeHash = w.codeHash;
        c.code = w.code;
        if (w.code !== undefined) this.codes.set(w.codeHash, w.code);
      }
    }
  }

  /** Credits an account without a read by the transaction (fees, rewards, withdrawals). */
  credit(address: AddressHex, amount: bigint, touch: boolean): void {
    if (amount === 0n && !touch) return;
    const c = this.change(address);
    if (c.deleted) {
      if (amount === 0n && this.clearEmptyAccounts) return;
      c.deleted = false;
      c.balance = 0n;
      c.nonce = 0n;
      c.codeHash = EMPTY_CODE_HASH;
    }
    c.balance += amount;
    if (this.clearEmptyAccounts && c.balance === 0n && c.nonce === 0n && c.codeHash === EMPTY_CODE_HASH) {
      c.deleted = true;
    }
  }

  /**
   * Lays changes computed elsewhere (the parallel engine's settled state) over this state:
   * their account fields are final values; their slots add to the slots already changed.
   */
  overlay(changes: StateChanges, skipAdopted = false): void {
    for (const [address, c] of changes) {
      // Code created by the block must be readable by what runs after (end-of-block system calls).
      if (c.code !== undefined && c.code.length > 0) this.codes.set(c.codeHash, c.code);
      const mine = this.changes.get(address);
      if (mine === c && skipAdopted) continue;
      if (mine === undefined) {
        this.changes.set(address, { ...c, storage: new Map(c.storage) });
        continue;
      }
      mine.deleted = c.deleted;
      mine.balance = c.balance;
      mine.nonce = c.nonce;
      mine.codeHash = c.codeHash;
      if (c.code !== undefined) mine.code = c.code;
      if (c.storageCleared) {
        mine.storageCleared = true;
        mine.storage.clear();
      }
      for (const [slot, value] of c.storage) mine.storage.set(slot, value);
    }
  }

  /** overlay() for changes the caller hands over: accounts new to this state are taken as they are, not copied. */
  adopt(changes: StateChanges): void {
    if (this.changes.size === 0) {
      this.changes = changes;
      return;
    }
    for (const [address, c] of changes) if (!this.changes.has(address)) this.changes.set(address, c);
    this.overlay(changes, true);
  }

  /** A block-level storage write (system contracts), outside any transaction. */
  setStorage(address: AddressHex, slot: bigint, value: bigint): void {
    this.change(address).storage.set(slot, value);
  }

  /**
   * The block's effect on the state: every account written, with its final values.
   * `storageCleared` is reported only where it wiped something: every contract creation
   * clears storage, which at a fresh address changes nothing (and is not a change).
   */
  result(): StateChanges {
    for (const [address, c] of this.changes) {
      if (!c.storageCleared) continue;
      const before = this.base.account(address);
      const hadStorage = before !== undefined && (before.nonce !== 0n || before.codeHash !== EMPTY_CODE_HASH || (this.base.hasStorage?.(address) ?? true));
      if (!hadStorage) c.storageCleared = false;
    }
    return this.changes;
  }
}
