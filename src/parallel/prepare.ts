// Preparing a block for the workers: the pre-state and the block in shared memory, each made
// once per object and reused by every later run of it (a benchmark's loading step).
import { Fork } from "../chain/forks.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { MemoryStorage } from "../state/memory.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { EMPTY_CODE_HASH, type AccountInfo, type StateChanges, type Storage } from "../state/types.ts";
import { BlockState } from "../vm/block-state.ts";
import { applyBlockPrologue } from "../vm/block.ts";
import { LocationKind, type LocationSnapshot, type LocationTable } from "../mv/index.ts";
import { encodeBlock } from "./block-codec.ts";

let nextId = 1;
const sharedStorages = new WeakMap<Storage, SharedPreState>();
const encodedBlocks = new WeakMap<Block, SharedBlock>();

export interface SharedBlock {
  id: number;
  buffer: SharedArrayBuffer;
  previousFromSender: SharedArrayBuffer;
  /** The block's static locations, by location table size (see staticLocations). */
  staticLocations: Map<number, StaticLocations>;
}

/**
 * The locations every block knows before it runs: the beneficiary's account, and each
 * transaction's sender and recipient (account and code). The first run of a block inserts
 * them into the run's (empty) location table and keeps a snapshot of it; later runs restore
 * the snapshot instead of inserting again, and workers take each transaction's ids from
 * `ids` instead of looking its addresses up.
 */
export interface StaticLocations {
  snapshot: LocationSnapshot;
  /**
   * Int32 per transaction and STATIC_IDS_PER_TX: sender ACCOUNT, sender CODE, recipient
   * ACCOUNT, recipient CODE (-1 for a creation), then the beneficiary's ACCOUNT at the end.
   */
  ids: SharedArrayBuffer;
  /**
   * For the calling thread's settle: each static ACCOUNT location's address as the block
   * spells it (lowercase), by location id, so that it is not rebuilt from the key's words.
   */
  addresses: (AddressHex | undefined)[];
}

export const STATIC_IDS_PER_TX = 4;

/**
 * Puts the block's static locations into `table` (just reset) and returns their ids, or
 * undefined when they would fill more than half of it (then the workers insert them).
 */
export function staticLocations(block: Block, shared: SharedBlock, table: LocationTable): StaticLocations | undefined {
  if (block.transactions.length * STATIC_IDS_PER_TX + 1 > table.capacity / 2) return undefined;
  const key = table.tableSize;
  let known = shared.staticLocations.get(key);
  if (known !== undefined) {
    table.restore(known.snapshot);
    return known;
  }
  const txs = block.transactions;
  const ids = new Int32Array(new SharedArrayBuffer(4 * (txs.length * STATIC_IDS_PER_TX + 1)));
  const addresses: (AddressHex | undefined)[] = [];
  const account = (address: AddressHex): number => {
    const id = table.idOfHex(LocationKind.ACCOUNT, address);
    addresses[id] = address;
    return id;
  };
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]!;
    const at = i * STATIC_IDS_PER_TX;
    ids[at] = account(tx.from);
    ids[at + 1] = table.idOfHex(LocationKind.CODE, tx.from);
    ids[at + 2] = tx.to === undefined ? -1 : account(tx.to);
    ids[at + 3] = tx.to === undefined ? -1 : table.idOfHex(LocationKind.CODE, tx.to);
  }
  ids[txs.length * STATIC_IDS_PER_TX] = account(block.header.coinbase);
  known = { snapshot: table.snapshot(), ids: ids.buffer as SharedArrayBuffer, addresses };
  shared.staticLocations.set(key, known);
  return known;
}

/**
 * The pre-state in shared memory, built once per Storage object (the "loading" step a
 * benchmark does not time). The Storage must not change afterwards.
 */
export interface SharedPreState {
  id: number;
  storage: SharedStorage;
  /** EIP-7610 storage-only accounts (storage, but neither code nor nonce): as sent to workers, and as a set. */
  storageOnly: string[];
  storageOnlySet: ReadonlySet<string>;
}

export function shareStorage(storage: Storage): SharedPreState {
  let shared = sharedStorages.get(storage);
  if (shared === undefined) {
    if (!(storage instanceof MemoryStorage)) {
      throw new TypeError("the parallel engine needs a MemoryStorage pre-state (it copies it into shared memory)");
    }
    const storageOnly: string[] = [];
    for (const [address, acc] of storage.accounts) {
      if (acc.storage.size > 0 && acc.nonce === 0n && acc.codeHash === EMPTY_CODE_HASH) storageOnly.push(address);
    }
    shared = { id: nextId++, storage: SharedStorage.fromMemory(storage), storageOnly, storageOnlySet: new Set(storageOnly) };
    sharedStorages.set(storage, shared);
  }
  return shared;
}

export function shareBlock(block: Block): SharedBlock {
  let encoded = encodedBlocks.get(block);
  if (encoded === undefined) {
    const previousFromSender = new SharedArrayBuffer(Math.max(4, block.transactions.length * 4));
    const previous = new Int32Array(previousFromSender);
    const last = new Map<string, number>();
    for (const tx of block.transactions) {
      previous[tx.index] = last.get(tx.from) ?? -1;
      last.set(tx.from, tx.index);
    }
    encoded = { id: nextId++, buffer: encodeBlock(block), previousFromSender, staticLocations: new Map() };
    encodedBlocks.set(block, encoded);
  }
  return encoded;
}


const prologues = new WeakMap<Block, { storage: Storage; fork: Fork; base: Storage; prologue: StateChanges | undefined }>();

/**
 * Block-level writes before the transactions (DAO fork, beacon root, Prague's block-hash
 * history) become part of the pre-state the workers see; built once per block and pre-state,
 * like the shared copy.
 */
export async function withPrologue(block: Block, fork: Fork, storage: Storage): Promise<{ base: Storage; prologue: StateChanges | undefined }> {
  const cached = prologues.get(block);
  if (cached !== undefined && cached.storage === storage && cached.fork === fork) return cached;
  const pre = new BlockState(storage, fork >= Fork.SpuriousDragon);
  await applyBlockPrologue(block, fork, pre, storage);
  const prologue = pre.result().size > 0 ? pre.result() : undefined;
  const base = prologue === undefined ? storage : storage instanceof MemoryStorage ? overlayMemory(storage, prologue) : new OverlayStorage(storage, prologue);
  const entry = { storage, fork, base, prologue };
  prologues.set(block, entry);
  return entry;
}

/**
 * A MemoryStorage with block-level changes applied, to be copied into shared memory (a
 * shallow copy: untouched accounts are shared with the original).
 */
function overlayMemory(storage: MemoryStorage, changes: StateChanges): MemoryStorage {
  const copy = new MemoryStorage();
  for (const [a, acc] of storage.accounts) copy.accounts.set(a, acc);
  for (const [h, c] of storage.codes) copy.codes.set(h, c);
  for (const [n, h] of storage.blockHashes) copy.blockHashes.set(n, h);
  for (const [address, c] of changes) {
    if (c.deleted) {
      copy.accounts.delete(address);
      continue;
    }
    const old = storage.accounts.get(address);
    const slots = new Map(c.storageCleared ? [] : (old?.storage ?? []));
    for (const [k, v] of c.storage) slots.set(k, v);
    copy.setAccount(address, { balance: c.balance, nonce: c.nonce, codeHash: c.codeHash }, slots);
    if (c.code) copy.codes.set(c.codeHash, c.code);
  }
  return copy;
}

/** Per transaction, the details (logs, contract, invalidity) of its final incarnation. */

/** Any Storage with block-level changes laid over it (read through, nothing copied). */
export class OverlayStorage implements Storage {
  constructor(
    private readonly base: Storage,
    private readonly changes: StateChanges,
  ) {}

  account(address: AddressHex): AccountInfo | undefined {
    const c = this.changes.get(address);
    if (c === undefined) return this.base.account(address);
    return c.deleted ? undefined : { balance: c.balance, nonce: c.nonce, codeHash: c.codeHash };
  }

  code(codeHash: Hex): Uint8Array | undefined {
    for (const c of this.changes.values()) if (c.code !== undefined && c.codeHash === codeHash) return c.code;
    return this.base.code(codeHash);
  }

  storage(address: AddressHex, slot: bigint): bigint {
    const c = this.changes.get(address);
    if (c !== undefined) {
      const value = c.storage.get(slot);
      if (value !== undefined) return value;
      if (c.storageCleared || c.deleted) return 0n;
    }
    return this.base.storage(address, slot);
  }

  blockHash(number: bigint): Hex | undefined {
    return this.base.blockHash(number);
  }

  hasStorage(address: AddressHex): boolean {
    const c = this.changes.get(address);
    if (c !== undefined) {
      for (const value of c.storage.values()) if (value !== 0n) return true;
      if (c.storageCleared || c.deleted) return false;
    }
    return this.base.hasStorage?.(address) ?? false;
  }
}
