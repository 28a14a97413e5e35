import type { AddressHex } from "../chain/types.ts";
import { LocationKind, type LocationTable } from "../mv/index.ts";

/**
 * Per-thread memo of location ids for one block. The shared table hashes words, so every
 * lookup by hex address would parse the hex again; transactions of a block touch the same
 * accounts over and over (a sender's account is read, written, validated), so a JS map in
 * front of it pays for itself.
 */
export class LocationIds {
  private readonly accounts = new Map<AddressHex, number>();
  private readonly codes = new Map<AddressHex, number>();
  private readonly slots = new Map<AddressHex, Map<bigint, number>>();

  constructor(readonly table: LocationTable) {}

  account(address: AddressHex): number {
    let id = this.accounts.get(address);
    if (id === undefined) {
      id = this.table.idOfHex(LocationKind.ACCOUNT, address);
      this.accounts.set(address, id);
    }
    return id;
  }

  code(address: AddressHex): number {
    let id = this.codes.get(address);
    if (id === undefined) {
      id = this.table.idOfHex(LocationKind.CODE, address);
      this.codes.set(address, id);
    }
    return id;
  }

  storage(address: AddressHex, slot: bigint): number {
    let slots = this.slots.get(address);
    if (slots === undefined) {
      slots = new Map();
      this.slots.set(address, slots);
    }
    let id = slots.get(slot);
    if (id === undefined) {
      id = this.table.idOfHex(LocationKind.STORAGE, address, slot);
      slots.set(slot, id);
    }
    return id;
  }
}
