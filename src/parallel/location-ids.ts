import type { AddressHex } from "../chain/types.ts";
import { KEY_ADDRESS, KEY_WORDS, LocationKind, type LocationTable } from "../mv/index.ts";
import type { PreStateReader } from "./pre-state.ts";

/** The location ids of one address, filled in as they are first asked for. */
interface AddressIds {
  readonly address: AddressHex;
  account: number;
  code: number;
  wipe: number;
  slots: Map<bigint, number> | undefined;
  /** The pre-state's handle of the account (UNKNOWN_HANDLE until asked for). */
  handle: number;
}

const UNKNOWN_HANDLE = -2;

const RECENT = 4;

/**
 * Per-thread memo of location ids for one block. The shared table hashes words, so every
 * lookup by hex address would parse the hex again; transactions of a block touch the same
 * accounts over and over (a sender's account is read, written, validated), so a JS map in
 * front of it pays for itself. In front of the map, the last few addresses asked for: one
 * transaction asks for its sender and recipient several times in a row, and a 42-character
 * string compare is cheaper than hashing it into a map of thousands of addresses (measured:
 * the map lookups were 15 % of a worker's time on plain transfers).
 */
export class LocationIds {
  private readonly byAddress = new Map<AddressHex, AddressIds>();
  private readonly recent: (AddressIds | undefined)[] = new Array(RECENT).fill(undefined);
  private nextRecent = 0;
  private readonly key = new Uint32Array(KEY_WORDS);

  constructor(readonly table: LocationTable) {}

  account(address: AddressHex): number {
    const ids = this.idsOf(address);
    if (ids.account < 0) ids.account = this.table.idOfHex(LocationKind.ACCOUNT, address);
    return ids.account;
  }

  code(address: AddressHex): number {
    const ids = this.idsOf(address);
    if (ids.code < 0) ids.code = this.table.idOfHex(LocationKind.CODE, address);
    return ids.code;
  }

  /**
   * The pre-state's handle of the address, found by its ACCOUNT key's words (no hex parsed,
   * no per-thread map of every address the block touches, as the reader's own lookup by
   * address keeps) and memoised with the address's ids.
   */
  preStateHandle(address: AddressHex, base: PreStateReader): number {
    const ids = this.idsOf(address);
    if (ids.handle === UNKNOWN_HANDLE) {
      if (ids.account < 0) ids.account = this.table.idOfHex(LocationKind.ACCOUNT, address);
      ids.handle = base.accountHandleAt(address, this.table.keyWordsOf(ids.account, this.key), KEY_ADDRESS);
    }
    return ids.handle;
  }

  wipe(address: AddressHex): number {
    const ids = this.idsOf(address);
    if (ids.wipe < 0) ids.wipe = this.table.idOfHex(LocationKind.WIPE, address);
    return ids.wipe;
  }

  storage(address: AddressHex, slot: bigint): number {
    const ids = this.idsOf(address);
    let slots = ids.slots;
    if (slots === undefined) ids.slots = slots = new Map();
    let id = slots.get(slot);
    if (id === undefined) {
      id = this.table.idOfHex(LocationKind.STORAGE, address, slot);
      slots.set(slot, id);
    }
    return id;
  }

  /**
   * Ids known before the run (the block's static locations): no table lookup for them. The
   * address goes into the recent ones, but into the map only once something else asks for it
   * after it left them: most senders and recipients appear in one transaction, and inserting
   * each into the map cost more than the lookups it saved (measured on 47,620 plain
   * transfers, one executor: its time in the run fell from 194-228 ms to 167-170 ms).
   */
  hint(address: AddressHex, account: number, code: number): void {
    const recent = this.recentIds(address);
    const ids = recent ?? this.byAddress.get(address) ?? { address, account: -1, code: -1, wipe: -1, slots: undefined, handle: UNKNOWN_HANDLE };
    if (ids.account < 0) ids.account = account;
    if (ids.code < 0 && code >= 0) ids.code = code;
    if (recent === undefined) this.pushRecent(ids);
  }

  private recentIds(address: AddressHex): AddressIds | undefined {
    const recent = this.recent;
    for (let i = 0; i < RECENT; i++) {
      const ids = recent[i];
      if (ids !== undefined && ids.address === address) return ids;
    }
    return undefined;
  }

  private pushRecent(ids: AddressIds): void {
    this.recent[this.nextRecent] = ids;
    this.nextRecent = (this.nextRecent + 1) % RECENT;
  }

  private idsOf(address: AddressHex): AddressIds {
    const recent = this.recentIds(address);
    if (recent !== undefined) return recent;
    let ids = this.byAddress.get(address);
    if (ids === undefined) {
      ids = { address, account: -1, code: -1, wipe: -1, slots: undefined, handle: UNKNOWN_HANDLE };
      this.byAddress.set(address, ids);
    }
    this.pushRecent(ids);
    return ids;
  }
}
