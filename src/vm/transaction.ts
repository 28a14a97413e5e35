import { Address, hexToBytes } from "@ethereumjs/util";
import { authorityOf, delegationCode, delegationTarget } from "../chain/authorization.ts";
import { GAS_PER_BLOB } from "../chain/blobs.ts";
import { Fork } from "../chain/forks.ts";
import type { Log } from "../chain/receipts.ts";
import { PER_AUTH_BASE_COST, PER_EMPTY_ACCOUNT_COST, calldataFloorGas, intrinsicGas, refundQuotient } from "../chain/rules.ts";
import type { AddressHex, BlockHeader, Hex, Transaction } from "../chain/types.ts";
import { checkSender, checkTransaction } from "../chain/validity.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { ForkVm } from "./evm.ts";
import type { Credit, StateSource, TxWrites } from "./source.ts";

const MAX_UINT64 = (1n << 64n) - 1n;
const CHAIN_ID = 1n;

/** The block-level facts every transaction of a block shares. */
export interface BlockEnv {
  fork: Fork;
  header: BlockHeader;
  chainId: bigint;
  /** The block object @ethereumjs/evm reads the block opcodes from. */
  evmBlock: unknown;
  coinbase: AddressHex;
  baseFee: bigint;
  blobGasPrice: bigint;
}

export function blockEnv(header: BlockHeader, fork: Fork, blobGasPriceValue: bigint, chainId = CHAIN_ID): BlockEnv {
  const coinbase = new Address(hexToBytes(header.coinbase));
  const prevRandao = header.mixHash.length === 32 ? header.mixHash : new Uint8Array(32);
  const evmBlock = {
    header: {
      number: header.number,
      coinbase,
      timestamp: header.timestamp,
      difficulty: fork >= Fork.Paris ? 0n : header.difficulty,
      prevRandao,
      gasLimit: header.gasLimit,
      baseFeePerGas: header.baseFeePerGas ?? 0n,
      getBlobGasPrice: () => blobGasPriceValue,
    },
  };
  return {
    fork,
    header,
    chainId,
    evmBlock,
    coinbase: header.coinbase,
    baseFee: header.baseFeePerGas ?? 0n,
    blobGasPrice: blobGasPriceValue,
  };
}

export interface TxOutcome {
  status: 0 | 1;
  /** Gas the block is charged for this transaction (after refunds). */
  gasUsed: bigint;
  blobGasUsed: bigint;
  logs: Log[];
  contractAddress?: Hex;
  writes: TxWrites;
}

const addressCache = new Map<string, Address>();
function toAddress(hex: AddressHex): Address {
  let a = addressCache.get(hex);
  if (a === undefined) {
    if (addressCache.size > 100_000) addressCache.clear();
    a = new Address(hexToBytes(hex));
    addressCache.set(hex, a);
  }
  return a;
}

/** Precompiles and system addresses sit at 0x00..00XX: calls there always go through the EVM. */
function isLowAddress(hex: AddressHex): boolean {
  return hex.startsWith("0x000000000000000000000000000000000000");
}

function effectiveGasPrice(tx: Transaction, env: BlockEnv): bigint {
  if (tx.type < 2) return tx.gasPrice;
  const tip = tx.maxFeePerGas - env.baseFee;
  return env.baseFee + (tx.maxPriorityFeePerGas < tip ? tx.maxPriorityFeePerGas : tip);
}

/**
 * Executes one transaction against `source` and returns its receipt data and writes.
 * Throws InvalidTransactionError when the chain's rules reject it.
 *
 * Nothing here reads the beneficiary to pay it: the fee is returned in `writes` for the
 * caller to credit, sequentially or lazily.
 */
export function executeTransaction(
  vm: ForkVm,
  env: BlockEnv,
  tx: Transaction,
  source: StateSource,
  gasAvailable: bigint,
): TxOutcome | Promise<TxOutcome> {
  const fork = env.fork;
  const intrinsic = intrinsicGas(tx, fork);
  checkTransaction(tx, env, intrinsic, gasAvailable);

  const state = vm.state;
  state.begin(source);

  const sender = state.load(tx.from);
  const hasCode = sender.codeHash !== EMPTY_CODE_HASH;
  const blobGasUsed = tx.blobVersionedHashes.length === 0 ? 0n : BigInt(tx.blobVersionedHashes.length) * GAS_PER_BLOB;
  const maxCost = tx.gasLimit * tx.maxFeePerGas + tx.value + blobGasUsed * tx.maxFeePerBlobGas;
  // EIP-3607: only externally owned accounts send transactions (EIP-7702 delegations excepted).
  const delegated = hasCode && fork >= Fork.Prague && delegationTarget(state.codeOf(sender)) !== undefined;
  checkSender(tx, fork, { nonce: sender.nonce, balance: sender.balance, hasCode, delegated }, maxCost);

  const gasPrice = effectiveGasPrice(tx, env);
  state.setBalance(sender, sender.balance - tx.gasLimit * gasPrice - blobGasUsed * env.blobGasPrice);
  state.setNonce(sender, sender.nonce + 1n);
  const authorizations = tx.authorizationList !== undefined ? applyAuthorizations(vm, env, tx) : undefined;

  const to = tx.to;
  if (to !== undefined && !isLowAddress(to)) {
    // A plain value transfer (no code at the recipient): no interpreter, nothing awaits, and
    // the recipient is credited lazily (TxWrites.credits) without reading its balance.
    // Sending to oneself goes through the account the transaction already holds, and so does
    // sending to an authority of its own authorizations (one write per account and
    // transaction: a lazy credit next to the authorization's write would be a second one).
    const held = state.has(to);
    const codeHash = held ? state.load(to).codeHash : state.codeHashOnly(to);
    if (codeHash === EMPTY_CODE_HASH) {
      const credit = held ? undefined : { address: to, amount: tx.value };
      const senderNow = state.load(tx.from);
      if (to === tx.from) state.setBalance(senderNow, senderNow.balance); // value to oneself
      else state.setBalance(senderNow, senderNow.balance - tx.value);
      if (held && to !== tx.from && tx.value !== 0n) {
        const recipient = state.load(to);
        state.setBalance(recipient, recipient.balance + tx.value);
      }
      const refund = authorizations?.refund ?? 0n;
      return finishTransaction(vm, env, tx, { status: 1, executionGasUsed: 0n, refund, logs: NO_LOGS }, intrinsic, gasPrice, blobGasUsed, credit);
    }
  }
  vm.blockHashes.lookup = (n) => source.blockHash(n);
  return executeInEvm(vm, env, tx, intrinsic, gasPrice, blobGasUsed, authorizations);
}

interface AppliedAuthorizations {
  /** Refund for authorities that already existed (EIP-7702). */
  refund: bigint;
  /** Every authority whose signature recovered: warm for the transaction. */
  authorities: AddressHex[];
}

/**
 * EIP-7702: each valid authorization sets its authority's code to a delegation designator
 * (or clears it for the zero address) and bumps its nonce. An invalid one is skipped. These
 * are ordinary account writes of the transaction (so, in parallel mode, ordinary
 * multi-version writes), and they stay even when the execution reverts.
 */
function applyAuthorizations(vm: ForkVm, env: BlockEnv, tx: Transaction): AppliedAuthorizations {
  const state = vm.state;
  let refund = 0n;
  const authorities: AddressHex[] = [];
  for (const auth of tx.authorizationList!) {
    if (auth.chainId !== 0n && auth.chainId !== env.chainId) continue;
    if (auth.nonce >= MAX_UINT64) continue;
    const authority = authorityOf(auth);
    if (authority === undefined) continue;
    authorities.push(authority);
    const acc = state.load(authority);
    if (acc.codeHash !== EMPTY_CODE_HASH && delegationTarget(state.codeOf(acc)) === undefined) continue;
    if (acc.nonce !== auth.nonce) continue;
    if (acc.exists) refund += PER_EMPTY_ACCOUNT_COST - PER_AUTH_BASE_COST;
    state.setCode(acc, delegationCode(auth.address));
    state.setNonce(acc, acc.nonce + 1n);
  }
  return { refund, authorities };
}

const NO_LOGS: Log[] = [];

interface Execution {
  status: 0 | 1;
  executionGasUsed: bigint;
  refund: bigint;
  logs: Log[];
  contractAddress?: Hex;
}

async function executeInEvm(
  vm: ForkVm,
  env: BlockEnv,
  tx: Transaction,
  intrinsic: bigint,
  gasPrice: bigint,
  blobGasUsed: bigint,
  authorizations: AppliedAuthorizations | undefined,
): Promise<TxOutcome> {
  const result = await runInEvm(vm, env, tx, tx.gasLimit - intrinsic, gasPrice, authorizations?.authorities);
  // A read the EVM swallowed means this result is not the transaction's.
  vm.state.throwIfReadFailed();
  const status = result.execResult.exceptionError ? 0 : 1;
  const execution: Execution = {
    status,
    executionGasUsed: result.execResult.executionGasUsed,
    refund: (result.execResult.gasRefund ?? 0n) + (authorizations?.refund ?? 0n),
    logs: (result.execResult.logs ?? []).map(([address, topics, data]) => ({ address, topics, data })),
    contractAddress: tx.to === undefined && status === 1 && result.createdAddress ? (result.createdAddress.toString() as Hex) : undefined,
  };
  await finishEvmTransaction(vm, env, result);
  return finishTransaction(vm, env, tx, execution, intrinsic, gasPrice, blobGasUsed);
}

/** Refunds (capped per fork), the sender's unused gas back, and the beneficiary's fee. */
function finishTransaction(
  vm: ForkVm,
  env: BlockEnv,
  tx: Transaction,
  execution: Execution,
  intrinsic: bigint,
  gasPrice: bigint,
  blobGasUsed: bigint,
  credit?: Credit,
): TxOutcome {
  const fork = env.fork;
  const state = vm.state;
  let gasUsed = intrinsic + execution.executionGasUsed;
  if (execution.refund !== 0n) {
    const maxRefund = gasUsed / refundQuotient(fork);
    gasUsed -= execution.refund < maxRefund ? execution.refund : maxRefund;
  }
  if (fork >= Fork.Prague) {
    const floor = calldataFloorGas(tx);
    if (gasUsed < floor) gasUsed = floor;
  }
  if (tx.gasLimit !== gasUsed) {
    const senderAfter = state.load(tx.from);
    state.setBalance(senderAfter, senderAfter.balance + (tx.gasLimit - gasUsed) * gasPrice);
  }
  const fee = fork >= Fork.London ? gasUsed * (gasPrice - env.baseFee) : gasUsed * gasPrice;
  return {
    status: execution.status,
    gasUsed,
    blobGasUsed,
    logs: execution.logs,
    contractAddress: execution.contractAddress,
    writes: state.writes(fee, true, credit),
  };
}

type EvmResult = Awaited<ReturnType<ForkVm["evm"]["runCall"]>>;

async function runInEvm(
  vm: ForkVm,
  env: BlockEnv,
  tx: Transaction,
  gasLeft: bigint,
  gasPrice: bigint,
  authorities: AddressHex[] | undefined,
): Promise<EvmResult> {
  const { evm } = vm;
  const journal = evm.journal as unknown as {
    cleanJournal(): void;
    addAlwaysWarmAddress(a: string, toAccessList?: boolean): void;
    addAlwaysWarmSlot(a: string, s: string, toAccessList?: boolean): void;
    checkpoint(): Promise<void>;
    commit(): Promise<void>;
  };
  journal.cleanJournal();
  if (env.fork >= Fork.Berlin) {
    for (const precompile of evm.precompiles.keys()) journal.addAlwaysWarmAddress(precompile);
    journal.addAlwaysWarmAddress(tx.from);
    if (tx.to !== undefined) journal.addAlwaysWarmAddress(tx.to);
    if (env.fork >= Fork.Shanghai) journal.addAlwaysWarmAddress(env.coinbase);
    for (const item of tx.accessList) {
      journal.addAlwaysWarmAddress(item.address);
      for (const key of item.storageKeys) journal.addAlwaysWarmSlot(item.address, key.toString(16).padStart(64, "0"));
    }
    if (authorities !== undefined) for (const authority of authorities) journal.addAlwaysWarmAddress(authority);
  }
  await journal.checkpoint();
  const result = await evm.runCall({
    block: env.evmBlock as never,
    gasPrice,
    origin: toAddress(tx.from),
    caller: toAddress(tx.from),
    gasLimit: gasLeft,
    to: tx.to === undefined ? undefined : toAddress(tx.to),
    value: tx.value,
    data: tx.data,
    blobVersionedHashes: tx.blobVersionedHashes.length > 0 ? tx.blobVersionedHashes : undefined,
    skipNonceIncrement: true,
  });
  await journal.commit();
  return result;
}

/** Self-destructs take effect and (EIP-161) touched empty accounts are removed. */
async function finishEvmTransaction(vm: ForkVm, env: BlockEnv, result: EvmResult): Promise<void> {
  const state = vm.state;
  const destroyed = result.execResult.selfdestruct;
  if (destroyed !== undefined) {
    const created = result.execResult.createdAddresses;
    for (const address of destroyed.keys()) {
      // EIP-6780: from Cancun only contracts created in the same transaction are destroyed.
      if (env.fork >= Fork.Cancun && !created?.has(address)) continue;
      state.remove(state.load(address.toLowerCase() as AddressHex), true);
    }
  }
  if (env.fork >= Fork.SpuriousDragon) {
    const touched = (vm.evm.journal as unknown as { touched: Set<string> }).touched;
    for (const unprefixed of touched) {
      // Code first: an account with code is not empty, and its balance may stay unread.
      const acc = state.acquire(`0x${unprefixed}` as AddressHex);
      if (acc.codeHash === EMPTY_CODE_HASH && acc.exists && acc.balance === 0n && acc.nonce === 0n) {
        state.remove(acc, true);
      }
    }
  }
}
