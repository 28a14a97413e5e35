import { Fork } from "../chain/forks.ts";
import type { AddressHex } from "../chain/types.ts";
import type { WriteSet } from "../mv/index.ts";
import type { LocationIds } from "./location-ids.ts";
import type { TxWrites } from "../vm/source.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { CodeStore } from "./code-store.ts";
import { ACCOUNT_EXISTS, ACCOUNT_TOUCHED, encodeAccount, encodeCodeHash, encodeDelta, encodeStorage } from "./values.ts";

/**
 * Whether a transaction can wipe the storage of a contract that existed before it: before
 * Cancun a SELFDESTRUCT does; from Cancun (EIP-6780) only a contract created in the same
 * transaction is destroyed. Wipes are then WIPE writes (here), reads order slots by them
 * (mv-source.ts) and the settle drops the slots they removed (settle.ts).
 */
export function storageWipesPossible(fork: Fork): boolean {
  return fork < Fork.Cancun;
}

/** The value of a WIPE write: only its writer matters. */
const WIPE_VALUE = new Uint32Array(11);

/**
 * A transaction wiped storage that may hold values from before it, in a fork where wipes are
 * not versioned (from Cancun a self-destruct cannot wipe an existing contract): the block
 * runs sequentially.
 */
export class NeedsSequentialFallback extends Error {
  override name = "NeedsSequentialFallback";
  /** The transaction whose writes asked for it (set by the executor). */
  txIndex = -1;
}

/**
 * Translates one transaction's writes into multi-version memory writes (layout: values.ts).
 * The beneficiary's fee becomes a DELTA, so transactions do not depend on each other through it.
 */
export function collectWrites(
  writes: TxWrites,
  ids: LocationIds,
  codes: CodeStore,
  coinbase: AddressHex,
  eip161: boolean,
  /** Pre-state accounts with storage but neither code nor nonce (EIP-7610). */
  isStorageOnly: (address: AddressHex) => boolean,
  /** Before Cancun: a wipe is a WIPE write that readers order their slots by (mv-source.ts). */
  wipesInParallel: boolean,
  out: WriteSet,
  scratch: Uint32Array,
): void {
  out.clear();
  const fee = writes.beneficiaryFee;
  for (const [address, w] of writes.accounts) {
    // Every created contract has its storage cleared; that matters only where storage could
    // already exist: at an account that had code or a nonce, or storage without either.
    if (w.storageCleared && (w.existedWithCodeOrNonce || isStorageOnly(address))) {
      if (!wipesInParallel) throw new NeedsSequentialFallback(`transaction wipes the storage of ${address}`);
      out.add(ids.wipe(address), WIPE_VALUE);
    }
    if (address === coinbase && (w.infoChanged || w.deleted)) {
      // The transaction wrote the beneficiary itself (having read it): fold the fee in now,
      // with the rules a sequential credit applies (BlockState.credit).
      let exists = !w.deleted || fee !== 0n || !eip161;
      const balance = (w.deleted ? 0n : w.balance) + fee;
      const nonce = w.deleted ? 0n : w.nonce;
      if (eip161 && balance === 0n && nonce === 0n && w.finalCodeHash === EMPTY_CODE_HASH) exists = false;
      out.add(ids.account(address), encodeAccount(exists, balance, nonce, scratch));
    } else if (w.infoChanged || w.deleted) {
      out.add(ids.account(address), encodeAccount(!w.deleted, w.balance, w.nonce, scratch));
    }
    if (w.codeHash !== undefined) {
      if (w.code !== undefined && w.code.length > 0) codes.put(w.codeHash, w.code);
      out.add(ids.code(address), encodeCodeHash(w.codeHash, scratch, w.deleted));
    }
    for (const [slot, value] of w.storage) {
      out.add(ids.storage(address, slot), encodeStorage(value, scratch));
    }
  }
  const own = writes.accounts.get(coinbase);
  const folded = own !== undefined && (own.infoChanged || own.deleted);
  // One DELTA per location and transaction: a credit to the beneficiary adds to its fee.
  let coinbaseAmount = fee;
  for (const credit of writes.credits) {
    if (credit.address === coinbase) coinbaseAmount += credit.amount;
    else out.add(ids.account(credit.address), encodeDelta(credit.amount, creditFlags(credit.amount, eip161), scratch), true);
  }
  if (!folded && (coinbaseAmount !== 0n || writes.beneficiaryTouch)) {
    out.add(ids.account(coinbase), encodeDelta(coinbaseAmount, creditFlags(coinbaseAmount, eip161), scratch), true);
  }
}

/** A credit creates the account unless it is zero after EIP-161, and after it counts as a touch. */
function creditFlags(amount: bigint, eip161: boolean): number {
  return (amount !== 0n || !eip161 ? ACCOUNT_EXISTS : 0) | (eip161 ? ACCOUNT_TOUCHED : 0);
}
