import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Hex } from "../chain/types.ts";
import type { MemoryStorage } from "./memory.ts";
import type { AccountChange, AccountInfo, StateChanges } from "./types.ts";

/**
 * The Merkle-Patricia state root of a MemoryStorage, optionally with a block's changes on top:
 * the secure trie keccak(address) -> rlp([nonce, balance, storageRoot, codeHash]) whose storage
 * tries map keccak(slot as 32 bytes) -> rlp(value), zero slots omitted.
 */

const EMPTY_TRIE_ROOT = hexToBytes("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

/**
 * Storage roots of pre-state accounts, keyed by their storage map: a state test computes the
 * root of the same pre-state once per post entry, and most accounts keep their storage.
 * applyChanges drops the entry of every map it mutates.
 */
const storageRootCache = new WeakMap<Map<bigint, bigint>, Uint8Array>();

function slotKey(slot: bigint): Uint8Array {
  return keccak_256(hexToBytes(`0x${slot.toString(16).padStart(64, "0")}`));
}

async function trieRoot(entries: Iterable<[Uint8Array, Uint8Array]>): Promise<Uint8Array> {
  const trie = new MerklePatriciaTrie();
  let empty = true;
  for (const [key, value] of entries) {
    await trie.put(key, value);
    empty = false;
  }
  return empty ? EMPTY_TRIE_ROOT : trie.root();
}

function* storageEntries(slots: Iterable<[bigint, bigint]>): Generator<[Uint8Array, Uint8Array]> {
  for (const [slot, value] of slots) {
    if (value !== 0n) yield [slotKey(slot), RLP.encode(bigIntToUnpaddedBytes(value))];
  }
}

async function baseStorageRoot(slots: Map<bigint, bigint>): Promise<Uint8Array> {
  let root = storageRootCache.get(slots);
  if (root === undefined) {
    root = await trieRoot(storageEntries(slots));
    storageRootCache.set(slots, root);
  }
  return root;
}

/** The account's storage after `change`: the base slots (unless wiped) overlaid with the writes. */
function mergedSlots(base: Map<bigint, bigint> | undefined, change: AccountChange): Map<bigint, bigint> {
  const merged = new Map(change.storageCleared || base === undefined ? [] : base);
  for (const [slot, value] of change.storage) merged.set(slot, value);
  return merged;
}

function encodeAccount(info: AccountInfo, storageRoot: Uint8Array): Uint8Array {
  return RLP.encode([bigIntToUnpaddedBytes(info.nonce), bigIntToUnpaddedBytes(info.balance), storageRoot, hexToBytes(info.codeHash)]);
}

/** The state root of `storage`, or of `storage` with `changes` applied (without modifying it). */
export async function stateRoot(storage: MemoryStorage, changes?: StateChanges): Promise<Hex> {
  const entries: [Uint8Array, Uint8Array][] = [];
  for (const [address, account] of storage.accounts) {
    if (changes?.has(address)) continue;
    entries.push([keccak_256(hexToBytes(address)), encodeAccount(account, await baseStorageRoot(account.storage))]);
  }
  for (const [address, change] of changes ?? []) {
    if (change.deleted) continue;
    const base = storage.accounts.get(address)?.storage;
    const storageRoot =
      !change.storageCleared && change.storage.size === 0
        ? base === undefined
          ? EMPTY_TRIE_ROOT
          : await baseStorageRoot(base)
        : await trieRoot(storageEntries(mergedSlots(base, change)));
    entries.push([keccak_256(hexToBytes(address)), encodeAccount(change, storageRoot)]);
  }
  return bytesToHex(await trieRoot(entries)) as Hex;
}

/** Applies a block's changes to `storage` in place: it becomes the post-state. */
export function applyChanges(storage: MemoryStorage, changes: StateChanges): MemoryStorage {
  for (const [address, change] of changes) applyAccountChange(storage, address, change);
  return storage;
}

function applyAccountChange(storage: MemoryStorage, address: AddressHex, change: AccountChange): void {
  if (change.deleted) {
    storage.accounts.delete(address);
    return;
  }
  const previous = storage.accounts.get(address);
  let slots = previous?.storage;
  if (slots === undefined || change.storageCleared) slots = new Map();
  else storageRootCache.delete(slots);
  for (const [slot, value] of change.storage) {
    if (value === 0n) slots.delete(slot);
    else slots.set(slot, value);
  }
  storage.setAccount(address, { balance: change.balance, nonce: change.nonce, codeHash: change.codeHash }, slots);
  if (change.code !== undefined) storage.codes.set(change.codeHash, change.code);
}
