import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { blobGasPrice } from "../chain/blobs.ts";
import { DAO_DRAINED_ACCOUNTS, DAO_REFUND_CONTRACT } from "../chain/dao.ts";
import { InvalidBlockError } from "../chain/errors.ts";
import { DAO_FORK_BLOCK, Fork, mainnetFork } from "../chain/forks.ts";
import { logsBloom, orBloom, type Receipt } from "../chain/receipts.ts";
import {
  CONSOLIDATION_REQUEST_TYPE,
  DEPOSIT_REQUEST_TYPE,
  WITHDRAWAL_REQUEST_TYPE,
  depositRequests,
  requestsHash,
  type Request,
} from "../chain/requests.ts";
import {
  BEACON_ROOTS_ADDRESS,
  CONSOLIDATION_REQUEST_ADDRESS,
  HISTORY_STORAGE_ADDRESS,
  WITHDRAWAL_REQUEST_ADDRESS,
  minerReward,
} from "../chain/rules.ts";
import type { AddressHex, Block, Hex, Transaction } from "../chain/types.ts";
import { checkBlockBlobGas } from "../chain/validity.ts";
import { EMPTY_CODE_HASH, type StateChanges, type Storage } from "../state/types.ts";
import { BlockState } from "./block-state.ts";
import { forkVm } from "./evm.ts";
import { systemCall } from "./system-calls.ts";
import { blockEnv, executeTransaction, type BlockEnv, type TxOutcome } from "./transaction.ts";

export interface ExecuteOptions {
  /** Run with these rules instead of the mainnet schedule for the block's number and time. */
  fork?: Fork;
  /**
   * Execute the transactions only: no DAO transfer, system call, mining reward or withdrawals
   * (what the ethereum/tests state tests expect).
   */
  transactionsOnly?: boolean;
  /**
   * The pre-state is the whole state (as in the blockchain tests), so the block is checked as
   * the chain checks it: an EIP-7002/7251 system contract without code makes it invalid
   * (SYSTEM_CONTRACT_EMPTY), and a header requestsHash that differs from the block's requests
   * is INVALID_REQUESTS. Without it (a partial snapshot), a missing system contract is an empty
   * account and the requests hash is reported, not enforced.
   */
  fullPreState?: boolean;
}

export interface BlockResult {
  number: bigint;
  fork: Fork;
  receipts: Receipt[];
  gasUsed: bigint;
  blobGasUsed: bigint;
  logsBloom: Hex;
  /** Every account the block changed, with final values. */
  changes: StateChanges;
  /** Uncle miners could not be rewarded: the block carried uncle hashes, not headers. */
  unrewardedUncles: number;
  /** EIP-7685 (Prague on): the commitment to the block's requests. */
  requestsHash?: Hex;
}

export function blockFork(block: Block, options: ExecuteOptions = {}): Fork {
  return options.fork ?? mainnetFork(block.header.number, block.header.timestamp);
}

export function environmentFor(block: Block, fork: Fork): BlockEnv {
  const h = block.header;
  const price = fork >= Fork.Cancun ? blobGasPrice(h.excessBlobGas ?? 0n, fork) : 0n;
  return blockEnv(h, fork, price);
}

/**
 * Block-level changes before the first transaction: the DAO fork, EIP-4788's beacon root and
 * (Prague) EIP-2935's parent hash.
 */
export async function applyBlockPrologue(block: Block, fork: Fork, state: BlockState, storage: Storage): Promise<void> {
  if (block.header.number === DAO_FORK_BLOCK && fork >= Fork.Dao && fork < Fork.TangerineWhistle) {
    let total = 0n;
    for (const address of DAO_DRAINED_ACCOUNTS) {
      const acc = state.account(address as AddressHex);
      if (acc === undefined || acc.balance === 0n) continue;
      total += acc.balance;
      state.credit(address as AddressHex, -acc.balance, true);
    }
    state.credit(DAO_REFUND_CONTRACT as AddressHex, total, true);
  }
  const root = block.header.parentBeaconBlockRoot;
  if (fork >= Fork.Prague) {
    // Real system calls from Prague on: whatever code the contracts hold runs.
    const vm = await forkVm(fork);
    const env = environmentFor(block, fork);
    if (root !== undefined) await systemCall(vm, env, state, BEACON_ROOTS_ADDRESS, root);
    await systemCall(vm, env, state, HISTORY_STORAGE_ADDRESS, hexToBytes(block.header.parentHash));
    return;
  }
  if (fork >= Fork.Cancun && root !== undefined) {
    // The system call stores (timestamp, root) in two ring buffers; when the contract is not
    // deployed (or not in a partial pre-state) the call fails silently, as EIP-4788 says.
    const contract = storage.account(BEACON_ROOTS_ADDRESS);
    if (contract !== undefined && contract.codeHash !== EMPTY_CODE_HASH) {
      const ring = 8191n;
      const timestampSlot = block.header.timestamp % ring;
      state.setStorage(BEACON_ROOTS_ADDRESS, timestampSlot, block.header.timestamp);
      state.setStorage(BEACON_ROOTS_ADDRESS, timestampSlot + ring, BigInt(bytesToHex(root)));
    }
  }
}

/** Block-level changes after the last transaction: mining rewards and withdrawals. */
export function applyBlockEpilogue(block: Block, fork: Fork, state: BlockState): number {
  const reward = minerReward(fork);
  const uncleCount = block.uncleCount ?? block.uncles.length;
  let unrewarded = 0;
  if (reward > 0n) {
    state.credit(block.header.coinbase, reward + (reward / 32n) * BigInt(uncleCount), true);
    for (const uncle of block.uncles) {
      state.credit(uncle.coinbase, ((uncle.number + 8n - block.header.number) * reward) / 8n, true);
    }
    unrewarded = uncleCount - block.uncles.length;
  }
  for (const w of block.withdrawals ?? []) state.credit(w.address, w.amount * 1_000_000_000n, w.amount > 0n);
  return unrewarded;
}

/** Receipt of one transaction, given the gas used by all before it. */
export function receiptOf(type: number, outcome: TxOutcome, cumulativeGasUsed: bigint): Receipt {
  return {
    type,
    status: outcome.status,
    gasUsed: outcome.gasUsed,
    cumulativeGasUsed,
    logs: outcome.logs,
    logsBloom: logsBloom(outcome.logs),
    contractAddress: outcome.contractAddress,
  };
}

/** Executes a block on the calling thread, one transaction after another. */
export async function executeBlockSequential(block: Block, storage: Storage, options: ExecuteOptions = {}): Promise<BlockResult> {
  const fork = blockFork(block, options);
  const env = environmentFor(block, fork);
  const vm = await forkVm(fork);
  const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
  if (!options.transactionsOnly) await applyBlockPrologue(block, fork, state, storage);

  const totals = newTotals();
  for (const tx of block.transactions) {
    const pending = executeTransaction(vm, env, tx, state, block.header.gasLimit - totals.gasUsed);
    applyTransaction(state, env, tx, pending instanceof Promise ? await pending : pending, totals);
  }
  return finishBlock(block, fork, options, state, totals.receipts, totals.gasUsed, totals.blobGasUsed, totals.bloom);
}

/** What the transactions of a block add up to, as a sequential run goes. */
export interface BlockTotals {
  receipts: Receipt[];
  bloom: Uint8Array;
  gasUsed: bigint;
  blobGasUsed: bigint;
}

export function newTotals(): BlockTotals {
  return { receipts: [], bloom: new Uint8Array(256), gasUsed: 0n, blobGasUsed: 0n };
}

/** One executed transaction, in block order: its writes and lazy credits, its receipt, the block's checks. */
export function applyTransaction(state: BlockState, env: BlockEnv, tx: Transaction, outcome: TxOutcome, totals: BlockTotals): void {
  state.apply(outcome.writes);
  for (const credit of outcome.writes.credits) state.credit(credit.address, credit.amount, true);
  state.credit(env.coinbase, outcome.writes.beneficiaryFee, outcome.writes.beneficiaryTouch);
  totals.gasUsed += outcome.gasUsed;
  totals.blobGasUsed += outcome.blobGasUsed;
  checkBlockBlobGas(env.fork, totals.blobGasUsed, tx.index);
  const receipt = receiptOf(tx.type, outcome, totals.gasUsed);
  if (outcome.logs.length > 0) orBloom(totals.bloom, receipt.logsBloom);
  totals.receipts.push(receipt);
}

/**
 * After the transactions (however they ran, in both modes): rewards and withdrawals, then
 * (Prague) the execution-layer requests, then the result.
 */
export async function finishBlock(
  block: Block,
  fork: Fork,
  options: ExecuteOptions,
  state: BlockState,
  receipts: Receipt[],
  gasUsed: bigint,
  blobGasUsed: bigint,
  bloom: Uint8Array,
): Promise<BlockResult> {
  const unrewardedUncles = options.transactionsOnly ? 0 : applyBlockEpilogue(block, fork, state);
  const requests = !options.transactionsOnly && fork >= Fork.Prague ? requestsHash(await blockRequests(block, fork, options, state, receipts)) : undefined;
  const expectedRequests = block.header.expected.requestsHash;
  if (options.fullPreState && requests !== undefined && expectedRequests !== undefined && requests !== expectedRequests) {
    throw new InvalidBlockError("INVALID_REQUESTS", `the block's requests hash to ${requests}, the header says ${expectedRequests}`);
  }
  return {
    number: block.header.number,
    fork,
    receipts,
    gasUsed,
    blobGasUsed,
    logsBloom: bytesToHex(bloom) as Hex,
    changes: state.result(),
    unrewardedUncles,
    ...(requests !== undefined ? { requestsHash: requests } : {}),
  };
}

/**
 * EIP-7685's requests: deposits from the receipts' logs (EIP-6110), then the system calls that
 * dequeue withdrawal requests (EIP-7002) and consolidations (EIP-7251), which read what the
 * block's transactions queued. A failing call makes the block invalid.
 */
async function blockRequests(block: Block, fork: Fork, options: ExecuteOptions, state: BlockState, receipts: Receipt[]): Promise<Request[]> {
  const requests: Request[] = [{ type: DEPOSIT_REQUEST_TYPE, data: depositRequests(receipts.flatMap((r) => r.logs)) }];
  const vm = await forkVm(fork);
  const env = environmentFor(block, fork);
  for (const [type, contract] of [
    [WITHDRAWAL_REQUEST_TYPE, WITHDRAWAL_REQUEST_ADDRESS],
    [CONSOLIDATION_REQUEST_TYPE, CONSOLIDATION_REQUEST_ADDRESS],
  ] as const) {
    const call = await systemCall(vm, env, state, contract, new Uint8Array(0));
    if (!call.ran) {
      if (options.fullPreState) throw new InvalidBlockError("SYSTEM_CONTRACT_EMPTY", `system contract ${contract} has no code`);
      requests.push({ type, data: new Uint8Array(0) });
      continue;
    }
    if (!call.success) throw new InvalidBlockError("SYSTEM_CONTRACT_CALL_FAILED", `the system call to ${contract} failed`);
    requests.push({ type, data: call.output });
  }
  return requests;
}
