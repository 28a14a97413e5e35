import { Address, hexToBytes } from "@ethereumjs/util";
import { InvalidTransactionError } from "../chain/errors.ts";
import { Fork } from "../chain/forks.ts";
import type { Log } from "../chain/receipts.ts";
import {
  BLOB_VERSION_KZG,
  GAS_PER_BLOB,
  MAX_INIT_CODE_SIZE,
  calldataFloorGas,
  intrinsicGas,
  maxBlobGasPerBlock,
  refundQuotient,
} from "../chain/rules.ts";
import type { AddressHex, BlockHeader, Hex, Transaction } from "../chain/types.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { ForkVm } from "./evm.ts";
import type { StateSource, TxWrites } from "./source.ts";

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
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

function invalid(tx: Transaction, reason: ConstructorParameters<typeof InvalidTransactionError>[1], detail: string): never {
  throw new InvalidTransactionError(tx.index, reason, detail);
}

/** The checks that do not depend on state (type, fees, gas, sizes). */
function checkStatic(tx: Transaction, env: BlockEnv, intrinsic: bigint, gasAvailable: bigint): void {
  const fork = env.fork;
  const minType = [Fork.Frontier, Fork.Berlin, Fork.London, Fork.Cancun, Fork.Prague][tx.type];
  if (minType === undefined || fork < minType) invalid(tx, "TYPE_NOT_SUPPORTED", `type ${tx.type} is not valid in ${Fork[fork]}`);
  if (tx.chainId !== undefined && tx.chainId !== env.chainId) {
    invalid(tx, "WRONG_CHAIN_ID", `chain id ${tx.chainId}, expected ${env.chainId}`);
  }
  if (tx.chainId !== undefined && tx.type === 0 && fork < Fork.SpuriousDragon) {
    invalid(tx, "WRONG_CHAIN_ID", "EIP-155 transactions are valid from Spurious Dragon");
  }
  if (tx.nonce >= MAX_UINT64) invalid(tx, "NONCE_MAX", `nonce ${tx.nonce} is at the 2^64-1 limit`);
  if (tx.gasLimit > gasAvailable) {
    invalid(tx, "GAS_LIMIT_EXCEEDS_BLOCK", `gas limit ${tx.gasLimit} exceeds the block's remaining ${gasAvailable}`);
  }
  let minGas = intrinsic;
  if (fork >= Fork.Prague) {
    const floor = calldataFloorGas(tx);
    if (floor > minGas) minGas = floor;
  }
  if (tx.gasLimit < minGas) invalid(tx, "INTRINSIC_GAS_TOO_LOW", `gas limit ${tx.gasLimit} is below the intrinsic ${minGas}`);
  if (tx.gasLimit * tx.maxFeePerGas > MAX_UINT256) invalid(tx, "GAS_OVERFLOW", "gas limit * fee overflows 256 bits");
  if (fork >= Fork.London) {
    if (tx.maxFeePerGas < env.baseFee) {
      invalid(tx, "FEE_CAP_BELOW_BASE_FEE", `max fee ${tx.maxFeePerGas} is below the base fee ${env.baseFee}`);
    }
    if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) {
      invalid(tx, "PRIORITY_FEE_ABOVE_FEE_CAP", `priority fee ${tx.maxPriorityFeePerGas} exceeds max fee ${tx.maxFeePerGas}`);
    }
  }
  if (tx.to === undefined && fork >= Fork.Shanghai && tx.data.length > MAX_INIT_CODE_SIZE) {
    invalid(tx, "INIT_CODE_TOO_LARGE", `init code of ${tx.data.length} bytes exceeds ${MAX_INIT_CODE_SIZE}`);
  }
  if (tx.type === 3) {
    if (tx.to === undefined) invalid(tx, "BLOB_INVALID", "a blob transaction cannot create a contract");
    if (tx.blobVersionedHashes.length === 0) invalid(tx, "BLOB_INVALID", "a blob transaction needs at least one blob");
    for (const h of tx.blobVersionedHashes) {
      if (Number.parseInt(h.slice(2, 4), 16) !== BLOB_VERSION_KZG) invalid(tx, "BLOB_INVALID", `versioned hash ${h} has the wrong version`);
    }
    if (BigInt(tx.blobVersionedHashes.length) * GAS_PER_BLOB > maxBlobGasPerBlock(fork)) {
      invalid(tx, "BLOB_GAS_EXCEEDS_BLOCK", `${tx.blobVersionedHashes.length} blobs exceed the block's blob gas`);
    }
    if (tx.maxFeePerBlobGas < env.blobGasPrice) {
      invalid(tx, "BLOB_FEE_CAP_TOO_LOW", `max fee per blob gas ${tx.maxFeePerBlobGas} is below ${env.blobGasPrice}`);
    }
  }
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
  checkStatic(tx, env, intrinsic, gasAvailable);

  const state = vm.state;
  state.begin(source);

  const sender = state.load(tx.from);
  if (sender.nonce !== tx.nonce) {
    invalid(tx, sender.nonce > tx.nonce ? "NONCE_TOO_LOW" : "NONCE_TOO_HIGH", `nonce ${tx.nonce}, sender ${tx.from} has ${sender.nonce}`);
  }
  // EIP-3607: only externally owned accounts send transactions (7702 delegations excepted).
  if (sender.codeHash !== EMPTY_CODE_HASH) {
    const code = state.codeOf(sender);
    const delegated = fork >= Fork.Prague && code.length === 23 && code[0] === 0xef && code[1] === 0x01 && code[2] === 0x00;
    if (!delegated) invalid(tx, "SENDER_NOT_EOA", `sender ${tx.from} has code`);
  }
  const blobGasUsed = tx.blobVersionedHashes.length === 0 ? 0n : BigInt(tx.blobVersionedHashes.length) * GAS_PER_BLOB;
  const maxCost = tx.gasLimit * tx.maxFeePerGas + tx.value + blobGasUsed * tx.maxFeePerBlobGas;
  if (sender.balance < maxCost) {
    invalid(tx, "INSUFFICIENT_FUNDS", `sender ${tx.from} has ${sender.balance} wei, the transaction may cost ${maxCost}`);
  }

  const gasPrice = effectiveGasPrice(tx, env);
  state.setBalance(sender, sender.balance - tx.gasLimit * gasPrice - blobGasUsed * env.blobGasPrice);
  state.setNonce(sender, sender.nonce + 1n);

  const to = tx.to;
  if (to !== undefined && !isLowAddress(to)) {
    // A plain value transfer (no code at the recipient): no interpreter, nothing awaits, and
    // the recipient is credited lazily (TxWrites.credit) without reading its balance.
    // Sending to oneself goes through the account the transaction already holds.
    const codeHash = state.has(to) ? state.load(to).codeHash : state.codeHashOnly(to);
    if (codeHash === EMPTY_CODE_HASH) {
      const credit = to === tx.from ? undefined : { address: to, amount: tx.value };
      const senderNow = state.load(tx.from);
      if (credit === undefined) state.setBalance(senderNow, senderNow.balance); // value to oneself
      else state.setBalance(senderNow, senderNow.balance - tx.value);
      return finishTransaction(vm, env, tx, { status: 1, executionGasUsed: 0n, refund: 0n, logs: NO_LOGS }, intrinsic, gasPrice, blobGasUsed, credit);
    }
  }
  vm.blockHashes.lookup = (n) => source.blockHash(n);
  return executeInEvm(vm, env, tx, intrinsic, gasPrice, blobGasUsed);
}

const NO_LOGS: Log[] = [];

interface Execution {
  status: 0 | 1;
  executionGasUsed: bigint;
  refund: bigint;
  logs: Log[];
  contractAddress?: Hex;
}

async function executeInEvm(vm: ForkVm, env: BlockEnv, tx: Transaction, intrinsic: bigint, gasPrice: bigint, blobGasUsed: bigint): Promise<TxOutcome> {
  const result = await runInEvm(vm, env, tx, tx.gasLimit - intrinsic, gasPrice);
  const status = result.execResult.exceptionError ? 0 : 1;
  const execution: Execution = {
    status,
    executionGasUsed: result.execResult.executionGasUsed,
    refund: result.execResult.gasRefund ?? 0n,
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
  credit?: TxWrites["credit"],
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

async function runInEvm(vm: ForkVm, env: BlockEnv, tx: Transaction, gasLeft: bigint, gasPrice: bigint): Promise<EvmResult> {
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
      const acc = state.load(`0x${unprefixed}` as AddressHex);
      if (acc.exists && acc.balance === 0n && acc.nonce === 0n && acc.codeHash === EMPTY_CODE_HASH) {
        state.remove(acc, true);
      }
    }
  }
}
