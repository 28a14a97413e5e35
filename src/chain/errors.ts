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
  | "GAS_OVERFLOW";

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
