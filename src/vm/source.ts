import type { AddressHex, Hex } from "../chain/types.ts";
import type { AccountInfo } from "../state/types.ts";

/**
 * Where a transaction's reads go before they hit its own writes.
 *
 * Sequential execution reads the running block state; a parallel worker reads the
 * multi-version memory as of its transaction index (and records every read for validation).
 * Only EXPLICIT reads come through here: paying the block's beneficiary is not a read of its
 * balance (see TxWrites.beneficiaryFee), which is what lets transactions run in parallel.
 */
export interface StateSource {
  /** `codeHash`: the account's code hash when the caller has just read it with codeHash(). */
  account(address: AddressHex, codeHash?: Hex): AccountInfo | undefined;
  /** Only the code hash (EMPTY_CODE_HASH for no code or no account): what a plain transfer needs. */
  codeHash(address: AddressHex): Hex;
  storage(address: AddressHex, slot: bigint): bigint;
  code(codeHash: Hex): Uint8Array;
  blockHash(number: bigint): Hex | undefined;
  /**
   * EIP-7610: whether the account holds non-zero storage (a creation there collides).
   * Optional: a source that cannot tell is taken to say no.
   */
  hasStorage?(address: AddressHex): boolean;
}

/** Everything one transaction wrote; applied in block order (sequential) or versioned (parallel). */
export interface AccountWrite {
  /** The account does not exist after the transaction. */
  deleted: boolean;
  /** Balance and nonce after the transaction (when the account exists). */
  balance: bigint;
  nonce: bigint;
  infoChanged: boolean;
  /** Set when the transaction changed the code (creation, or deletion to empty). */
  codeHash?: Hex;
  code?: Uint8Array;
  /** All storage of the account before the transaction is gone (destroyed or created anew). */
  storageCleared: boolean;
  /** The code hash after the transaction, changed or not. */
  finalCodeHash: Hex;
  /** True when the account had code or a nonce when the tx started (so a clear is a real wipe). */
  existedWithCodeOrNonce: boolean;
  storage: Map<bigint, bigint>;
}

export interface TxWrites {
  accounts: Map<AddressHex, AccountWrite>;
  /**
   * What the block's beneficiary earns from this transaction, added lazily: the beneficiary is
   * credited without this transaction reading its balance.
   */
  beneficiaryFee: bigint;
  /**
   * Whether crediting the fee would create the beneficiary account if it does not exist
   * (before EIP-161 a zero credit still creates an empty account; after, it does not).
   */
  beneficiaryTouch: boolean;
  /**
   * Values credited without a read of the balance, at most one per address and never the
   * beneficiary's own write: a plain transfer's recipient (an account without code), and each
   * contract paid during execution whose balance the transaction never used (TxState's unread
   * accounts). Transfers to one hot address thus do not conflict. A credit creates an account
   * by the beneficiary's rules; a contract exists already.
   */
  credits: Credit[];
}

export interface Credit {
  address: AddressHex;
  amount: bigint;
}
