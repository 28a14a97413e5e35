import { Account, bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes, type Address } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Hex } from "../chain/types.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import { internCode } from "./code-cache.ts";
import type { AccountWrite, Credit, StateSource, TxWrites } from "./source.ts";

const EMPTY_CODE = new Uint8Array(0);
const NO_CREDITS: Credit[] = [];
const EMPTY_BYTES = new Uint8Array(0);
const KECCAK256_RLP = hexToBytes("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
/** Any root other than the empty trie's: the EVM only compares it with KECCAK256_RLP (EIP-7610). */
const NON_EMPTY_STORAGE_ROOT = new Uint8Array(32);

/** Code hash bytes, interned so Account objects share them and equality checks stay cheap. */
const codeHashBytes = new Map<Hex, Uint8Array>();
function hashBytes(hash: Hex): Uint8Array {
  let b = codeHashBytes.get(hash);
  if (b === undefined) {
    b = hexToBytes(hash);
    codeHashBytes.set(hash, b);
  }
  return b;
}

/**
 * One account as the current transaction sees it: what it read, overlaid with what it wrote.
 *
 * A contract's balance and nonce are read only when something uses them ("unread" until then):
 * most calls into a contract never look at its balance, and reading it would make every call
 * into a popular contract (WETH) depend on every earlier payment to it. While unread, `balance`
 * holds only what the transaction paid in (a lazy credit, TxWrites.credits); materialize()
 * adds the balance read to it.
 */
class TxAccount {
  exists: boolean;
  /** Balance and nonce not read yet (an account with code): see the class comment. */
  unread: boolean;
  /** The balance read when the account was materialized (what credits are relative to). */
  readBalance: bigint;
  balance: bigint;
  nonce: bigint;
  codeHash: Hex;
  code: Uint8Array | undefined;
  storageCleared = false;
  readonly storage = new Map<bigint, bigint>();
  infoChanged = false;
  codeChanged = false;
  readonly existedWithCodeOrNonce: boolean;

  constructor(
    readonly address: AddressHex,
    info: { balance: bigint; nonce: bigint; codeHash: Hex } | undefined,
    /** Set instead of `info` for an account with code whose balance and nonce stay unread. */
    unreadCodeHash?: Hex,
  ) {
    this.unread = unreadCodeHash !== undefined;
    this.exists = info !== undefined || this.unread;
    this.balance = info?.balance ?? 0n;
    this.readBalance = this.balance;
    this.nonce = info?.nonce ?? 0n;
    this.codeHash = info?.codeHash ?? unreadCodeHash ?? EMPTY_CODE_HASH;
    this.existedWithCodeOrNonce = this.unread || (info !== undefined && (info.nonce !== 0n || info.codeHash !== EMPTY_CODE_HASH));
  }
}

/**
 * The @ethereumjs/util Account the EVM gets for an unread contract: it knows the code hash,
 * and reads balance and nonce (TxState.materialize) the first time either is used. Until then
 * putting it back changes nothing (TxState.putAccount) and a value paid to it is a lazy credit
 * (installLazyCredits in evm.ts).
 */
export class LazyAccount extends Account {
  private filled = false;
  private lazyBalance = 0n;
  private lazyNonce = 0n;

  constructor(
    private readonly owner: TxState,
    readonly txAccount: TxAccount,
  ) {
    super(null as never, null as never, KECCAK256_RLP, hashBytes(txAccount.codeHash));
  }

  /** Neither field was used through this object, and the account is still unread. */
  get untouched(): boolean {
    return !this.filled && this.txAccount.unread;
  }

  /** What the transaction paid in so far (net of what it paid out): while untouched, a lower bound of the balance. */
  get pendingCredit(): bigint {
    return this.txAccount.balance;
  }

  /** Untouched, and what the transaction paid in covers `value`: the balance is known to suffice without reading it. */
  covers(value: bigint): boolean {
    return this.untouched && this.txAccount.balance >= value;
  }

  /** A balance read that a lower bound answers (the interpreter's "enough to send?"): see patchInterpreter in evm.ts. */
  private lowerBound: bigint | undefined = undefined;
  answerNextBalanceRead(bound: bigint | undefined): void {
    this.lowerBound = bound;
  }

  get isFilled(): boolean {
    return this.filled;
  }

  private fill(): void {
    const acc = this.owner.materialize(this.txAccount);
    this.lazyBalance = acc.balance;
    this.lazyNonce = acc.nonce;
    this.filled = true;
  }

  override get balance(): bigint {
    if (this.lowerBound !== undefined) {
      const bound = this.lowerBound;
      this.lowerBound = undefined;
      return bound;
    }
    if (!this.filled) this.fill();
    return this.lazyBalance;
  }
  override set balance(value: bigint) {
    if (!this.filled) this.fill();
    this.lazyBalance = value;
  }
  override get nonce(): bigint {
    if (!this.filled) this.fill();
    return this.lazyNonce;
  }
  override set nonce(value: bigint) {
    if (!this.filled) this.fill();
    this.lazyNonce = value;
  }

  /** An account with code is never empty (EIP-161): no need to read its balance to say so. */
  override isEmpty(): boolean {
    return false;
  }
}

function addressKey(address: Address): AddressHex {
  return bytesToHex(address.bytes) as AddressHex;
}

/**
 * The state interface @ethereumjs/evm runs against, for one transaction at a time.
 *
 * Reads go to a StateSource once per location (cached, so a parallel read set sees each
 * location once); writes stay in this overlay until the transaction ends, when `writes()`
 * hands them over. Checkpoints are an undo log, not map copies: a revert replays the log
 * backwards, so nested calls cost what they change, not what the transaction touched.
 */
export class TxState {
  private source!: StateSource;
  private readonly readCode = (codeHash: Hex): Uint8Array => this.source.code(codeHash);
  private accounts = new Map<AddressHex, TxAccount>();
  /** Slot values as read from the source, i.e. at the start of the transaction. */
  private originalSlots = new Map<AddressHex, Map<bigint, bigint>>();
  private undo: (() => void)[] = [];
  private checkpoints: number[] = [];
  /**
   * The first error a lazy read threw (a parallel ReadBlocked, an async MissingState). The EVM
   * wraps value transfers in a catch-all try, where such a read can happen; it would turn the
   * error into a failed call, so transaction processing rethrows it from here (throwIfReadFailed).
   */
  private firstReadError: unknown = undefined;

  /** The EVM reads EIP-2200 "original" values through this object. */
  readonly originalStorageCache = {
    get: async (address: Address, key: Uint8Array): Promise<Uint8Array> =>
      toStorageBytes(this.originalSlot(addressKey(address), bytesToBigInt(key))),
    clear: (): void => {},
  };

  begin(source: StateSource): void {
    this.source = source;
    this.accounts.clear();
    this.originalSlots.clear();
    this.undo.length = 0;
    this.checkpoints.length = 0;
    this.firstReadError = undefined;
  }

  /** See firstReadError: rethrows a read that failed inside the EVM, whatever the EVM made of it. */
  throwIfReadFailed(): void {
    if (this.firstReadError !== undefined) throw this.firstReadError;
  }

  // ---- reads and writes in our own terms (used by transaction processing) ----

  /** The account with its balance and nonce read (transaction processing's view). */
  load(address: AddressHex): TxAccount {
    let acc = this.accounts.get(address);
    if (acc === undefined) {
      acc = new TxAccount(address, this.source.account(address));
      this.accounts.set(address, acc);
    } else if (acc.unread) {
      this.materialize(acc);
    }
    return acc;
  }

  /**
   * The account as the EVM first meets it: code hash first, and for an account with code
   * nothing more (balance and nonce stay unread until used).
   */
  acquire(address: AddressHex): TxAccount {
    let acc = this.accounts.get(address);
    if (acc === undefined) {
      const codeHash = this.source.codeHash(address);
      acc =
        codeHash === EMPTY_CODE_HASH
          ? new TxAccount(address, this.source.account(address, codeHash))
          : new TxAccount(address, undefined, codeHash);
      this.accounts.set(address, acc);
    }
    return acc;
  }

  /** Reads an unread account's balance and nonce; what was credited to it stays on top. */
  materialize(acc: TxAccount): TxAccount {
    if (!acc.unread) return acc;
    let info;
    try {
      info = this.source.account(acc.address, acc.codeHash);
    } catch (e) {
      this.firstReadError ??= e;
      throw e;
    }
    acc.unread = false;
    acc.readBalance = info?.balance ?? 0n;
    acc.nonce = info?.nonce ?? 0n;
    const credited = acc.balance;
    acc.balance += acc.readBalance;
    if (credited !== 0n) acc.infoChanged = true;
    return acc;
  }

  /**
   * A value paid to (or, negative, by) an unread account: added to its lazy credit, its
   * balance still unread. A debit must be covered by the credit (the credit stays >= 0).
   */
  creditUnread(acc: TxAccount, value: bigint): void {
    if (value === 0n) return;
    this.undo.push(() => {
      acc.balance -= value;
      // Undone after a materialize (everything after it already undone): what is left of the
      // credit decides whether the balance differs from the one read.
      if (!acc.unread) acc.infoChanged = acc.balance !== acc.readBalance;
    });
    acc.balance += value;
  }

  private originalSlot(address: AddressHex, slot: bigint): bigint {
    let slots = this.originalSlots.get(address);
    if (slots === undefined) {
      slots = new Map();
      this.originalSlots.set(address, slots);
    }
    let v = slots.get(slot);
    if (v === undefined) {
      v = this.source.storage(address, slot);
      slots.set(slot, v);
    }
    return v;
  }

  slot(address: AddressHex, slot: bigint): bigint {
    const acc = this.acquire(address);
    const written = acc.storage.get(slot);
    if (written !== undefined) return written;
    if (acc.storageCleared) return 0n;
    return this.originalSlot(address, slot);
  }

  codeOf(acc: TxAccount): Uint8Array {
    if (acc.code === undefined) {
      acc.code = acc.codeHash === EMPTY_CODE_HASH ? EMPTY_CODE : internCode(acc.codeHash, this.readCode);
    }
    return acc.code;
  }

  setBalance(acc: TxAccount, balance: bigint): void {
    const { balance: b, exists, infoChanged } = acc;
    this.undo.push(() => {
      acc.balance = b;
      acc.exists = exists;
      acc.infoChanged = infoChanged;
    });
    acc.balance = balance;
    acc.exists = true;
    acc.infoChanged = true;
  }

  setNonce(acc: TxAccount, nonce: bigint): void {
    const { nonce: n, exists, infoChanged } = acc;
    this.undo.push(() => {
      acc.nonce = n;
      acc.exists = exists;
      acc.infoChanged = infoChanged;
    });
    acc.nonce = nonce;
    acc.exists = true;
    acc.infoChanged = true;
  }

  /** Marks an existing-or-not account as existing (a zero-value touch before EIP-161). */
  create(acc: TxAccount): void {
    if (acc.exists) return;
    this.setBalance(acc, acc.balance);
  }

  remove(acc: TxAccount, wipeStorage: boolean): void {
    // Deleting an account that never existed and was never written changes nothing; skipping it
    // keeps such touches out of the write set (a parallel conflict for nothing).
    if (!acc.exists && !acc.infoChanged && !acc.codeChanged && !acc.storageCleared && acc.storage.size === 0) return;
    const saved = {
      exists: acc.exists,
      balance: acc.balance,
      nonce: acc.nonce,
      codeHash: acc.codeHash,
      code: acc.code,
      infoChanged: acc.infoChanged,
      codeChanged: acc.codeChanged,
      storageCleared: acc.storageCleared,
      storage: wipeStorage ? new Map(acc.storage) : undefined,
    };
    this.undo.push(() => {
      Object.assign(acc, { ...saved, storage: undefined });
      if (saved.storage) {
        acc.storage.clear();
        for (const [k, v] of saved.storage) acc.storage.set(k, v);
      }
    });
    acc.exists = false;
    acc.balance = 0n;
    acc.nonce = 0n;
    acc.infoChanged = true;
    if (acc.codeHash !== EMPTY_CODE_HASH) {
      acc.codeHash = EMPTY_CODE_HASH;
      acc.code = EMPTY_CODE;
      acc.codeChanged = true;
    }
    if (wipeStorage) {
      acc.storage.clear();
      acc.storageCleared = true;
    }
  }

  // ---- the StateManagerInterface subset @ethereumjs/evm calls ----

  async getAccount(address: Address): Promise<Account | undefined> {
    const acc = this.acquire(addressKey(address));
    if (!acc.exists) return undefined;
    if (acc.unread) return new LazyAccount(this, acc);
    // The storage root only matters for EIP-7610's creation collision, and only when the nonce
    // and code do not already collide: ask about storage in that case alone.
    const storageRoot = acc.nonce === 0n && acc.codeHash === EMPTY_CODE_HASH && this.hasStorage(acc) ? NON_EMPTY_STORAGE_ROOT : KECCAK256_RLP;
    return new Account(acc.nonce, acc.balance, storageRoot, hashBytes(acc.codeHash));
  }

  private hasStorage(acc: TxAccount): boolean {
    for (const v of acc.storage.values()) if (v !== 0n) return true;
    if (acc.storageCleared) return false;
    return this.source.hasStorage?.(acc.address) ?? false;
  }

  async putAccount(address: Address, account: Account | undefined): Promise<void> {
    // An unread account put back as it came (neither field used) changes nothing.
    if (account instanceof LazyAccount && !account.isFilled) return;
    const acc = this.load(addressKey(address));
    if (account === undefined) {
      this.remove(acc, true);
      return;
    }
    if (!acc.exists || acc.balance !== account.balance) this.setBalance(acc, account.balance);
    if (acc.nonce !== account.nonce) this.setNonce(acc, account.nonce);
  }

  async deleteAccount(address: Address): Promise<void> {
    this.remove(this.load(addressKey(address)), true);
  }

  async modifyAccountFields(address: Address, fields: { nonce?: bigint; balance?: bigint }): Promise<void> {
    const acc = this.load(addressKey(address));
    if (fields.balance !== undefined) this.setBalance(acc, fields.balance);
    if (fields.nonce !== undefined) this.setNonce(acc, fields.nonce);
    if (fields.balance === undefined && fields.nonce === undefined) this.create(acc);
  }

  async getCode(address: Address): Promise<Uint8Array> {
    return this.codeOf(this.acquire(addressKey(address)));
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length;
  }

  async putCode(address: Address, code: Uint8Array): Promise<void> {
    this.setCode(this.load(addressKey(address)), code);
  }

  setCode(acc: TxAccount, code: Uint8Array): void {
    const saved = { codeHash: acc.codeHash, code: acc.code, codeChanged: acc.codeChanged, exists: acc.exists };
    this.undo.push(() => Object.assign(acc, saved));
    acc.codeHash = code.length === 0 ? EMPTY_CODE_HASH : (bytesToHex(keccak_256(code)) as Hex);
    acc.code = code;
    acc.codeChanged = true;
    acc.exists = true;
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    return toStorageBytes(this.slot(addressKey(address), bytesToBigInt(key)));
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const acc = this.acquire(addressKey(address));
    const slot = bytesToBigInt(key);
    const had = acc.storage.has(slot);
    const old = acc.storage.get(slot);
    this.undo.push(() => (had ? acc.storage.set(slot, old!) : acc.storage.delete(slot)));
    acc.storage.set(slot, value.length === 0 ? 0n : bytesToBigInt(value));
  }

  async clearStorage(address: Address): Promise<void> {
    const acc = this.acquire(addressKey(address));
    const saved = new Map(acc.storage);
    const cleared = acc.storageCleared;
    this.undo.push(() => {
      acc.storage.clear();
      for (const [k, v] of saved) acc.storage.set(k, v);
      acc.storageCleared = cleared;
    });
    acc.storage.clear();
    acc.storageCleared = true;
  }

  async checkpoint(): Promise<void> {
    this.checkpoints.push(this.undo.length);
  }

  async commit(): Promise<void> {
    this.checkpoints.pop();
  }

  async revert(): Promise<void> {
    const mark = this.checkpoints.pop() ?? 0;
    while (this.undo.length > mark) this.undo.pop()!();
  }

  async getStateRoot(): Promise<Uint8Array> {
    throw new Error("pevm does not compute intermediate state roots (partial pre-state)");
  }

  shallowCopy(): TxState {
    throw new Error("TxState cannot be copied");
  }

  // ---- end of transaction ----

  /** The transaction's writes, for the block state or the multi-version memory. */
  /** Whether the transaction already holds this account (then read it through load()). */
  has(address: AddressHex): boolean {
    return this.accounts.has(address);
  }

  /** The code hash of an account the transaction does not hold yet, read on its own. */
  codeHashOnly(address: AddressHex): Hex {
    return this.source.codeHash(address);
  }

  writes(beneficiaryFee: bigint, beneficiaryTouch: boolean, transferCredit?: Credit): TxWrites {
    const accounts = new Map<AddressHex, AccountWrite>();
    let credits = transferCredit === undefined ? NO_CREDITS : [transferCredit];
    for (const acc of this.accounts.values()) {
      // An unread account's balance is what the transaction paid in: a lazy credit.
      if (acc.unread && acc.balance !== 0n) {
        if (credits === NO_CREDITS) credits = [];
        credits.push({ address: acc.address, amount: acc.balance });
      }
      const storage = acc.storageCleared ? acc.storage : this.changedSlots(acc);
      if (!acc.infoChanged && !acc.codeChanged && !acc.storageCleared && storage.size === 0) continue;
      accounts.set(acc.address, {
        deleted: !acc.exists,
        balance: acc.balance,
        nonce: acc.nonce,
        infoChanged: acc.infoChanged,
        codeHash: acc.codeChanged ? acc.codeHash : undefined,
        code: acc.codeChanged ? acc.code : undefined,
        storageCleared: acc.storageCleared,
        finalCodeHash: acc.codeHash,
        existedWithCodeOrNonce: acc.existedWithCodeOrNonce,
        storage,
      });
    }
    return { accounts, beneficiaryFee, beneficiaryTouch, credits };
  }

  /**
   * The slots whose final value differs from the one read at the start: a slot set and put
   * back within the transaction (a reentrancy lock) is no write, so later readers of it do
   * not wait for this transaction.
   */
  private changedSlots(acc: TxAccount): Map<bigint, bigint> {
    const original = this.originalSlots.get(acc.address);
    if (original === undefined || acc.storage.size === 0) return acc.storage;
    let changed: Map<bigint, bigint> | undefined;
    for (const [slot, value] of acc.storage) {
      if (original.get(slot) !== value) continue;
      changed ??= new Map(acc.storage);
      changed.delete(slot);
    }
    return changed ?? acc.storage;
  }
}

export type { TxAccount };

function toStorageBytes(v: bigint): Uint8Array {
  return v === 0n ? EMPTY_BYTES : bigIntToBytes(v);
}
