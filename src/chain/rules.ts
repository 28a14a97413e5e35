import { Fork } from "./forks.ts";
import type { Transaction } from "./types.ts";

/**
 * Protocol constants and formulas that transaction and block processing need, per fork.
 * (The interpreter's own gas schedule lives in @ethereumjs/evm; these are the parts around it.)
 */

export const TX_GAS = 21_000n;
const TX_CREATE_EXTRA_GAS = 32_000n;
const ACCESS_LIST_ADDRESS_GAS = 2_400n;
const ACCESS_LIST_SLOT_GAS = 1_900n;
const INIT_CODE_WORD_GAS = 2n;
export const MAX_INIT_CODE_SIZE = 49_152;
export const GAS_PER_BLOB = 131_072n;
export const MAX_BLOB_GAS_PER_BLOCK = 786_432n;
export const MAX_BLOB_GAS_PER_BLOCK_PRAGUE = 1_179_648n;
export const BLOB_VERSION_KZG = 0x01;

/** Gas a transaction pays before its first opcode. */
export function intrinsicGas(tx: Transaction, fork: Fork): bigint {
  // A plain transfer (no data, no access list, no authorizations) in a few cycles: bigint arithmetic is slow.
  if (tx.type < 4 && tx.to !== undefined && tx.data.length === 0 && tx.accessList.length === 0) return TX_GAS;
  let gas = TX_GAS;
  if (tx.to === undefined && fork >= Fork.Homestead) gas += TX_CREATE_EXTRA_GAS;
  const nonZeroCost = fork >= Fork.Istanbul ? 16n : 68n;
  let zeros = 0;
  const data = tx.data;
  for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
  gas += BigInt(zeros) * 4n + BigInt(data.length - zeros) * nonZeroCost;
  for (const item of tx.accessList) {
    gas += ACCESS_LIST_ADDRESS_GAS + ACCESS_LIST_SLOT_GAS * BigInt(item.storageKeys.length);
  }
  if (tx.to === undefined && fork >= Fork.Shanghai) {
    gas += INIT_CODE_WORD_GAS * BigInt(Math.ceil(data.length / 32));
  }
  return gas;
}

/** EIP-7623 (Prague): the minimum a transaction pays for its calldata. */
export function calldataFloorGas(tx: Transaction): bigint {
  if (tx.data.length === 0) return TX_GAS;
  let tokens = 0n;
  for (const b of tx.data) tokens += b === 0 ? 1n : 4n;
  return TX_GAS + tokens * 10n;
}

/** Maximum refund: gasUsed / 2 before London (EIP-3529), gasUsed / 5 from it. */
export function refundQuotient(fork: Fork): bigint {
  return fork >= Fork.London ? 5n : 2n;
}

/** Block reward of a proof-of-work block (none after the merge). */
export function minerReward(fork: Fork): bigint {
  if (fork >= Fork.Paris) return 0n;
  if (fork >= Fork.Constantinople) return 2_000_000_000_000_000_000n;
  if (fork >= Fork.Byzantium) return 3_000_000_000_000_000_000n;
  return 5_000_000_000_000_000_000n;
}

/** EIP-4844's fake_exponential: factor * e^(numerator / denominator), in integers. */
function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  let i = 1n;
  let output = 0n;
  let acc = factor * denominator;
  while (acc > 0n) {
    output += acc;
    acc = (acc * numerator) / (denominator * i);
    i++;
  }
  return output / denominator;
}

export function blobGasPrice(excessBlobGas: bigint, fork: Fork): bigint {
  const fraction = fork >= Fork.Prague ? 5_007_716n : 3_338_477n;
  return fakeExponential(1n, excessBlobGas, fraction);
}

export function maxBlobGasPerBlock(fork: Fork): bigint {
  return fork >= Fork.Prague ? MAX_BLOB_GAS_PER_BLOCK_PRAGUE : MAX_BLOB_GAS_PER_BLOCK;
}

/** EIP-4788: the contract that keeps beacon roots, and the caller of system calls. */
export const BEACON_ROOTS_ADDRESS = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02";
export const SYSTEM_ADDRESS = "0xfffffffffffffffffffffffffffffffffffffffe";
export const SYSTEM_CALL_GAS = 30_000_000n;
