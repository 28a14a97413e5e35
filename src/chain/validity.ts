import { GAS_PER_BLOB, maxBlobGasPerBlock, maxBlobsPerTransaction } from "./blobs.ts";
import { InvalidTransactionError, type InvalidTxReason } from "./errors.ts";
import { Fork, forkName } from "./forks.ts";
import { BLOB_VERSION_KZG, MAX_INIT_CODE_SIZE, MAX_RLP_BLOCK_SIZE_OSAKA, MAX_TX_GAS_LIMIT_OSAKA, calldataFloorGas } from "./rules.ts";
import { InvalidBlockError } from "./errors.ts";
import type { Transaction } from "./types.ts";

/**
 * Whether a transaction may be included in a block, per fork: every rule in one place, used by
 * sequential execution (vm/transaction.ts) and by the parallel settle (parallel/engine.ts).
 *
 * The checks come in the order sequential execution runs them, in three groups:
 *  1. checkTransactionAlone: the transaction on its own (type, chain id, gas, sizes).
 *  2. checkBlockGasAvailable: the gas the transactions before it left in the block. Workers
 *     cannot know it; the settle runs it, after raising any group-1 reason (REASONS_ALONE).
 *  3. checkFees, checkSender: against the block's fees and the sender's account.
 */

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;

/** The block-level facts validity depends on. */
export interface ValidityEnv {
  fork: Fork;
  chainId: bigint;
  baseFee: bigint;
  blobGasPrice: bigint;
}

function invalid(tx: Transaction, reason: InvalidTxReason, detail: string): never {
  throw new InvalidTransactionError(tx.index, reason, detail);
}

/** The fork from which each transaction type (the index) is valid. */
const FIRST_FORK_OF_TYPE = [Fork.Frontier, Fork.Berlin, Fork.London, Fork.Cancun, Fork.Prague];

/** The reasons checkTransactionAlone raises: the settle raises these before the block-gas check. */
export const REASONS_ALONE: ReadonlySet<InvalidTxReason> = new Set<InvalidTxReason>([
  "TYPE_NOT_SUPPORTED",
  "WRONG_CHAIN_ID",
  "NONCE_MAX",
  "SET_CODE_CREATE",
  "SET_CODE_EMPTY_AUTHORIZATIONS",
  "BLOB_INVALID",
  "BLOB_COUNT_EXCEEDED",
  "BLOB_GAS_EXCEEDS_BLOCK",
  "GAS_LIMIT_ABOVE_CAP",
  "INTRINSIC_GAS_TOO_LOW",
  "CALLDATA_FLOOR_TOO_LOW",
  "GAS_OVERFLOW",
  "INIT_CODE_TOO_LARGE",
]);

/** Group 1: what makes a transaction invalid whatever the block and state around it. */
export function checkTransactionAlone(tx: Transaction, env: ValidityEnv, intrinsicGas: bigint): void {
  const fork = env.fork;
  const firstFork = FIRST_FORK_OF_TYPE[tx.type];
  if (firstFork === undefined || fork < firstFork) invalid(tx, "TYPE_NOT_SUPPORTED", `type ${tx.type} is not valid in ${forkName(fork)}`);
  if (tx.chainId !== undefined && tx.chainId !== env.chainId) {
    invalid(tx, "WRONG_CHAIN_ID", `chain id ${tx.chainId}, expected ${env.chainId}`);
  }
  if (tx.chainId !== undefined && tx.type === 0 && fork < Fork.SpuriousDragon) {
    invalid(tx, "WRONG_CHAIN_ID", "EIP-155 transactions are valid from Spurious Dragon");
  }
  if (tx.nonce >= MAX_UINT64) invalid(tx, "NONCE_MAX", `nonce ${tx.nonce} is at the 2^64-1 limit`);
  if (tx.type === 3) checkBlobTransaction(tx, fork);
  if (tx.type === 4) {
    if (tx.to === undefined) invalid(tx, "SET_CODE_CREATE", "a set-code transaction cannot create a contract");
    if ((tx.authorizationList?.length ?? 0) === 0) invalid(tx, "SET_CODE_EMPTY_AUTHORIZATIONS", "a set-code transaction needs at least one authorization");
  }
  if (fork >= Fork.Osaka && tx.gasLimit > MAX_TX_GAS_LIMIT_OSAKA) {
    invalid(tx, "GAS_LIMIT_ABOVE_CAP", `gas limit ${tx.gasLimit} exceeds the cap of ${MAX_TX_GAS_LIMIT_OSAKA} (EIP-7825)`);
  }
  if (tx.gasLimit < intrinsicGas) invalid(tx, "INTRINSIC_GAS_TOO_LOW", `gas limit ${tx.gasLimit} is below the intrinsic ${intrinsicGas}`);
  if (fork >= Fork.Prague) {
    const floor = calldataFloorGas(tx);
    if (tx.gasLimit < floor) invalid(tx, "CALLDATA_FLOOR_TOO_LOW", `gas limit ${tx.gasLimit} is below the calldata floor ${floor} (EIP-7623)`);
  }
  if (tx.gasLimit * tx.maxFeePerGas > MAX_UINT256) invalid(tx, "GAS_OVERFLOW", "gas limit * fee overflows 256 bits");
  if (tx.to === undefined && fork >= Fork.Shanghai && tx.data.length > MAX_INIT_CODE_SIZE) {
    invalid(tx, "INIT_CODE_TOO_LARGE", `init code of ${tx.data.length} bytes exceeds ${MAX_INIT_CODE_SIZE}`);
  }
}

function checkBlobTransaction(tx: Transaction, fork: Fork): void {
  if (tx.to === undefined) invalid(tx, "BLOB_INVALID", "a blob transaction cannot create a contract");
  const count = tx.blobVersionedHashes.length;
  if (count === 0) invalid(tx, "BLOB_INVALID", "a blob transaction needs at least one blob");
  for (const h of tx.blobVersionedHashes) {
    if (Number.parseInt(h.slice(2, 4), 16) !== BLOB_VERSION_KZG) invalid(tx, "BLOB_INVALID", `versioned hash ${h} has the wrong version`);
  }
  if (BigInt(count) * GAS_PER_BLOB > maxBlobGasPerBlock(fork)) {
    invalid(tx, "BLOB_GAS_EXCEEDS_BLOCK", `${count} blobs exceed the block's blob gas`);
  }
  const maxPerTx = maxBlobsPerTransaction(fork);
  if (count > maxPerTx) invalid(tx, "BLOB_COUNT_EXCEEDED", `${count} blobs, at most ${maxPerTx} per transaction (EIP-7594)`);
}

/** Group 2: the transaction's gas limit fits what the block has left. */
export function checkBlockGasAvailable(tx: Transaction, gasAvailable: bigint): void {
  if (tx.gasLimit > gasAvailable) {
    invalid(tx, "GAS_LIMIT_EXCEEDS_BLOCK", `gas limit ${tx.gasLimit} exceeds the block's remaining ${gasAvailable}`);
  }
}

/** Group 3a: the fee caps against the block's base fees. */
export function checkFees(tx: Transaction, env: ValidityEnv): void {
  if (env.fork >= Fork.London) {
    if (tx.maxFeePerGas < env.baseFee) {
      invalid(tx, "FEE_CAP_BELOW_BASE_FEE", `max fee ${tx.maxFeePerGas} is below the base fee ${env.baseFee}`);
    }
    if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) {
      invalid(tx, "PRIORITY_FEE_ABOVE_FEE_CAP", `priority fee ${tx.maxPriorityFeePerGas} exceeds max fee ${tx.maxFeePerGas}`);
    }
  }
  if (tx.type === 3 && tx.maxFeePerBlobGas < env.blobGasPrice) {
    invalid(tx, "BLOB_FEE_CAP_TOO_LOW", `max fee per blob gas ${tx.maxFeePerBlobGas} is below ${env.blobGasPrice}`);
  }
}

/** Groups 1 to 3a, in order: everything but the sender's account. */
export function checkTransaction(tx: Transaction, env: ValidityEnv, intrinsicGas: bigint, gasAvailable: bigint): void {
  checkTransactionAlone(tx, env, intrinsicGas);
  checkBlockGasAvailable(tx, gasAvailable);
  checkFees(tx, env);
}

/**
 * Group 3b: the sender's account. `delegated` is whether its code is an EIP-7702 designator
 * (such a sender still sends transactions, EIP-3607 notwithstanding).
 */
export function checkSender(
  tx: Transaction,
  fork: Fork,
  sender: { nonce: bigint; balance: bigint; hasCode: boolean; delegated: boolean },
  maxCost: bigint,
): void {
  if (sender.nonce !== tx.nonce) {
    invalid(tx, sender.nonce > tx.nonce ? "NONCE_TOO_LOW" : "NONCE_TOO_HIGH", `nonce ${tx.nonce}, sender ${tx.from} has ${sender.nonce}`);
  }
  if (sender.hasCode && !(fork >= Fork.Prague && sender.delegated)) invalid(tx, "SENDER_NOT_EOA", `sender ${tx.from} has code`);
  if (sender.balance < maxCost) {
    invalid(tx, "INSUFFICIENT_FUNDS", `sender ${tx.from} has ${sender.balance} wei, the transaction may cost ${maxCost}`);
  }
}

/** After a transaction: the block's blob gas so far stays within the fork's maximum. */
export function checkBlockBlobGas(fork: Fork, blobGasUsed: bigint, txIndex: number): void {
  if (blobGasUsed !== 0n && blobGasUsed > maxBlobGasPerBlock(fork)) {
    throw new InvalidTransactionError(txIndex, "BLOB_GAS_EXCEEDS_BLOCK", `block blob gas ${blobGasUsed} exceeds the maximum`);
  }
}

/** EIP-7934 (Osaka): the block's RLP encoding is at most MAX_RLP_BLOCK_SIZE_OSAKA bytes. */
export function checkBlockSize(fork: Fork, rlpLength: number): void {
  if (fork >= Fork.Osaka && rlpLength > MAX_RLP_BLOCK_SIZE_OSAKA) {
    throw new InvalidBlockError("RLP_BLOCK_TOO_LARGE", `the block's RLP is ${rlpLength} bytes, at most ${MAX_RLP_BLOCK_SIZE_OSAKA} (EIP-7934)`);
  }
}
