import type { InvalidBlockReason, InvalidTxReason } from "../chain/errors.ts";

/**
 * What an execution-spec-tests `expectException` name means in pevm's typed errors: a block
 * expected to fail with that name must be rejected with one of these reasons. Names may come
 * joined by "|" (any of them).
 */
export const EXCEPTION_REASONS: Record<string, (InvalidTxReason | InvalidBlockReason | "INPUT")[]> = {
  "TransactionException.INTRINSIC_GAS_TOO_LOW": ["INTRINSIC_GAS_TOO_LOW", "CALLDATA_FLOOR_TOO_LOW"],
  "TransactionException.INTRINSIC_GAS_BELOW_FLOOR_GAS_COST": ["CALLDATA_FLOOR_TOO_LOW", "INTRINSIC_GAS_TOO_LOW"],
  "TransactionException.SENDER_NOT_EOA": ["SENDER_NOT_EOA"],
  "TransactionException.GAS_LIMIT_EXCEEDS_MAXIMUM": ["GAS_LIMIT_ABOVE_CAP"],
  "TransactionException.GAS_ALLOWANCE_EXCEEDED": ["GAS_LIMIT_EXCEEDS_BLOCK"],
  "TransactionException.TYPE_3_TX_BLOB_COUNT_EXCEEDED": ["BLOB_COUNT_EXCEEDED", "BLOB_GAS_EXCEEDS_BLOCK"],
  "TransactionException.TYPE_3_TX_MAX_BLOB_GAS_ALLOWANCE_EXCEEDED": ["BLOB_GAS_EXCEEDS_BLOCK"],
  "TransactionException.TYPE_3_TX_ZERO_BLOBS": ["BLOB_INVALID"],
  "TransactionException.TYPE_3_TX_CONTRACT_CREATION": ["BLOB_INVALID"],
  "TransactionException.TYPE_3_TX_INVALID_BLOB_VERSIONED_HASH": ["BLOB_INVALID"],
  "TransactionException.TYPE_3_TX_PRE_FORK": ["TYPE_NOT_SUPPORTED"],
  "TransactionException.INSUFFICIENT_MAX_FEE_PER_BLOB_GAS": ["BLOB_FEE_CAP_TOO_LOW"],
  "TransactionException.TYPE_4_TX_CONTRACT_CREATION": ["SET_CODE_CREATE"],
  "TransactionException.TYPE_4_EMPTY_AUTHORIZATION_LIST": ["SET_CODE_EMPTY_AUTHORIZATIONS"],
  "TransactionException.TYPE_4_TX_PRE_FORK": ["TYPE_NOT_SUPPORTED"],
  "TransactionException.NONCE_MISMATCH_TOO_LOW": ["NONCE_TOO_LOW"],
  "TransactionException.NONCE_MISMATCH_TOO_HIGH": ["NONCE_TOO_HIGH"],
  "TransactionException.NONCE_IS_MAX": ["NONCE_MAX"],
  "TransactionException.INSUFFICIENT_ACCOUNT_FUNDS": ["INSUFFICIENT_FUNDS"],
  "TransactionException.INSUFFICIENT_MAX_FEE_PER_GAS": ["FEE_CAP_BELOW_BASE_FEE"],
  "TransactionException.PRIORITY_GREATER_THAN_MAX_FEE_PER_GAS": ["PRIORITY_FEE_ABOVE_FEE_CAP"],
  "TransactionException.INITCODE_SIZE_EXCEEDED": ["INIT_CODE_TOO_LARGE"],
  "TransactionException.INVALID_CHAINID": ["WRONG_CHAIN_ID"],
  "TransactionException.TYPE_NOT_SUPPORTED": ["TYPE_NOT_SUPPORTED"],
  "BlockException.INVALID_REQUESTS": ["INVALID_REQUESTS"],
  "BlockException.INVALID_DEPOSIT_EVENT_LAYOUT": ["INVALID_DEPOSIT_EVENT_LAYOUT"],
  "BlockException.SYSTEM_CONTRACT_EMPTY": ["SYSTEM_CONTRACT_EMPTY"],
  "BlockException.SYSTEM_CONTRACT_CALL_FAILED": ["SYSTEM_CONTRACT_CALL_FAILED"],
  "BlockException.RLP_BLOCK_LIMIT_EXCEEDED": ["RLP_BLOCK_TOO_LARGE"],
  "BlockException.BLOB_GAS_USED_ABOVE_LIMIT": ["BLOB_GAS_EXCEEDS_BLOCK"],
};

/** The reasons an expectException string accepts, or undefined when a name is unknown to us. */
export function acceptedReasons(expectException: string): Set<string> | undefined {
  const accepted = new Set<string>();
  for (const name of expectException.split("|")) {
    const reasons = EXCEPTION_REASONS[name.trim()];
    if (reasons === undefined) return undefined;
    for (const r of reasons) accepted.add(r);
  }
  return accepted;
}

