import { Account, bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes, type Address } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Hex } from "../chain/types.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import { internCode } from "./code-cache.ts";
import type { AccountWrite, StateSource, TxWrites } from "./source.ts";

const EMPTY_CODE = new Uint8Array(0);
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

/** One account as the current transaction sees it: what it read, overlaid with what it wrote. */
class TxAccount {
  exists: boolean;
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
  ) {
    this.exists = info !== undefined;
    this.balance = info?.balance ?? 0n;
    this.nonce = info?.nonce ?? 0n;
    this.codeHash = info?.codeHash ?? EMPTY_CODE_HASH;
    this.existedWithCodeOrNonce = info !== undefined && (info.nonce !== 0n || info.codeHash !== EMPTY_CODE_HASH);
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
  }

  // ---- reads and writes in our own terms (used by transaction processing) ----

  load(address: AddressHex): TxAccount {
    let acc = this.accounts.get(address);
    if (acc === undefined) {
      acc = new TxAccount(address, this.source.account(address));
      this.accounts.set(address, acc);
    }
    return acc;
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
    const acc = this.load(address);
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
    const acc = this.load(addressKey(address));
    if (!acc.exists) return undefined;
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
    return this.codeOf(this.load(addressKey(address)));
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
    const acc = this.load(addressKey(address));
    const slot = bytesToBigInt(key);
    const had = acc.storage.has(slot);
    const old = acc.storage.get(slot);
    this.undo.push(() => (had ? acc.storage.set(slot, old!) : acc.storage.delete(slot)));
    acc.storage.set(slot, value.length === 0 ? 0n : bytesToBigInt(value));
  }

  async clearStorage(address: Address): Promise<void> {
    const acc = this.load(addressKey(address));
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

  writes(beneficiaryFee: bigint, beneficiaryTouch: boolean, credit?: TxWrites["credit"]): TxWrites {
    const accounts = new Map<AddressHex, AccountWrite>();
    for (const acc of this.accounts.values()) {
      if (!acc.infoChanged && !acc.codeChanged && !acc.storageCleared && acc.storage.size === 0) continue;
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
        storage: acc.storage,
      });
    }
    return { accounts, beneficiaryFee, beneficiaryTouch, credit };
  }
}

export type { TxAccount };

function toStorageBytes(v: bigint): Uint8Array {
  return v === 0n ? EMPTY_BYTES : bigIntToBytes(v);
}
