/**
 * Typed errors. Every failure a user can cause names what is wrong: the file, the field,
 * or the transaction index, so that the CLI can print one clear line instead of a stack.
 */

/** Input that cannot be read or parsed: a file, a JSON field, an unknown fork name. */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    message: string,
    readonly file?: string,
    readonly field?: string,
  ) {
    super([file, field].filter(Boolean).join(": ") + (file || field ? ": " : "") + message);
  }
}

/** Why a transaction cannot be included in a block at all (not a revert: the block is invalid). */
export type InvalidTxReason =
  | "NONCE_TOO_LOW"
  | "NONCE_TOO_HIGH"
  | "NONCE_MAX"
  | "INSUFFICIENT_FUNDS"
  | "INTRINSIC_GAS_TOO_LOW"
  | "GAS_LIMIT_EXCEEDS_BLOCK"
  | "FEE_CAP_BELOW_BASE_FEE"
  | "PRIORITY_FEE_ABOVE_FEE_CAP"
  | "SENDER_NOT_EOA"
  | "WRONG_CHAIN_ID"
  | "TYPE_NOT_SUPPORTED"
  | "INIT_CODE_TOO_LARGE"
  | "BLOB_INVALID"
  | "BLOB_FEE_CAP_TOO_LOW"
  | "BLOB_GAS_EXCEEDS_BLOCK"
  | "BLOB_COUNT_EXCEEDED"
  | "GAS_OVERFLOW"
  | "CALLDATA_FLOOR_TOO_LOW"
  | "GAS_LIMIT_ABOVE_CAP"
  | "SET_CODE_CREATE"
  | "SET_CODE_EMPTY_AUTHORIZATIONS";

/** A transaction that the chain's rules reject; the block containing it is invalid. */
export class InvalidTransactionError extends Error {
  override name = "InvalidTransactionError";
  constructor(
    readonly txIndex: number,
    readonly reason: InvalidTxReason,
    readonly detail: string,
  ) {
    super(`transaction ${txIndex}: ${reason}: ${detail}`);
  }
}

/** Why a block is invalid as a whole, outside any one transaction. */
export type InvalidBlockReason =
  | "INVALID_REQUESTS"
  | "INVALID_DEPOSIT_EVENT_LAYOUT"
  | "SYSTEM_CONTRACT_EMPTY"
  | "SYSTEM_CONTRACT_CALL_FAILED"
  | "RLP_BLOCK_TOO_LARGE";

/** A block the chain's rules reject for something no single transaction did. */
export class InvalidBlockError extends Error {
  override name = "InvalidBlockError";
  constructor(
    readonly reason: InvalidBlockReason,
    detail: string,
  ) {
    super(`block: ${reason}: ${detail}`);
  }
}
