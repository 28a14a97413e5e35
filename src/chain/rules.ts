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
export const BLOB_VERSION_KZG = 0x01;
/** EIP-7702: intrinsic gas per authorization, and what is refunded when the authority already exists. */
export const PER_EMPTY_ACCOUNT_COST = 25_000n;
export const PER_AUTH_BASE_COST = 12_500n;
/** EIP-7825 (Osaka): no transaction may ask for more gas than this. */
export const MAX_TX_GAS_LIMIT_OSAKA = 16_777_216n;
/** EIP-7934 (Osaka): the RLP encoding of a block is at most 10 MiB less a 2 MiB margin. */
export const MAX_RLP_BLOCK_SIZE_OSAKA = 8_388_608;

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
  if (tx.authorizationList !== undefined) gas += PER_EMPTY_ACCOUNT_COST * BigInt(tx.authorizationList.length);
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

/** EIP-4788: the contract that keeps beacon roots, and the caller of system calls. */
export const BEACON_ROOTS_ADDRESS = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02";
export const SYSTEM_ADDRESS = "0xfffffffffffffffffffffffffffffffffffffffe";
export const SYSTEM_CALL_GAS = 30_000_000n;

/** Prague system contracts (EIP-2935, EIP-7002, EIP-7251) and the deposit contract (EIP-6110). */
export const HISTORY_STORAGE_ADDRESS = "0x0000f90827f1c53a10cb7a02335b175320002935";
export const WITHDRAWAL_REQUEST_ADDRESS = "0x00000961ef480eb55e80d19ad83579a64c007002";
export const CONSOLIDATION_REQUEST_ADDRESS = "0x0000bbddc7ce488642fb579f8b00f3a590007251";
export const MAINNET_DEPOSIT_CONTRACT_ADDRESS = "0x00000000219ab540356cbb839cbe05303d7705fa";
