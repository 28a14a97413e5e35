import { bytesToHex, hexToBytes, privateToAddress } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { InputError } from "../chain/errors.ts";
import { JsonReader, parseAuthorizationList } from "../chain/json.ts";
import { Fork } from "../chain/forks.ts";
import type { AccessListItem, AddressHex, Block, BlockHeader, Hex, Transaction } from "../chain/types.ts";
import { MemoryStorage } from "../state/memory.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { PostIndexes, StateTestAccountJson, StateTestEnvJson, StateTestTransactionJson } from "./json.ts";

/** Turns the parts of a state test into our block model: pre-state, header, transaction. */

const MAX_UINT64 = (1n << 64n) - 1n;
const MAX_UINT256 = (1n << 256n) - 1n;
/** What the reference clients default to when a London-or-later test omits the base fee. */
const DEFAULT_BASE_FEE = 10n;

function quantity(value: string | undefined, field: string): bigint {
  if (value === undefined) throw new InputError("missing", undefined, field);
  if (value === "0x") return 0n;
  try {
    return BigInt(value);
  } catch {
    throw new InputError(`not a number: "${value}"`, undefined, field);
  }
}

/** A transaction field that a real transaction encodes in `bits` bits: anything larger cannot exist. */
function boundedQuantity(value: string | undefined, field: string, max: bigint): bigint {
  const v = quantity(value, field);
  if (v > max) throw new InputError(`${value} does not fit the field`, undefined, field);
  return v;
}

function bytes(value: string, field: string): Uint8Array {
  try {
    return hexToBytes((value.length % 2 === 1 ? `0x0${value.slice(2)}` : value) as Hex);
  } catch {
    throw new InputError(`not hex: "${value.slice(0, 40)}"`, undefined, field);
  }
}

function address(value: string): AddressHex {
  return value.toLowerCase() as AddressHex;
}

/**
 * BLOCKHASH in state tests: the reference clients answer keccak256 of the decimal block number,
 * for the 256 blocks before the current one.
 */
function stateTestBlockHash(n: bigint): Hex {
  return bytesToHex(keccak_256(new TextEncoder().encode(n.toString()))) as Hex;
}

export function buildPreState(pre: Record<string, StateTestAccountJson>, env: StateTestEnvJson): MemoryStorage {
  const storage = new MemoryStorage();
  for (const [addr, account] of Object.entries(pre)) {
    const field = `pre.${addr}`;
    const code = bytes(account.code ?? "0x", `${field}.code`);
    let codeHash = EMPTY_CODE_HASH;
    if (code.length > 0) {
      codeHash = bytesToHex(keccak_256(code)) as Hex;
      storage.codes.set(codeHash, code);
    }
    const slots = new Map<bigint, bigint>();
    for (const [slot, value] of Object.entries(account.storage ?? {})) {
      const v = quantity(value, `${field}.storage`);
      if (v !== 0n) slots.set(quantity(slot, `${field}.storage`), v);
    }
    const info = {
      balance: quantity(account.balance, `${field}.balance`),
      nonce: quantity(account.nonce, `${field}.nonce`),
      codeHash,
    };
    storage.setAccount(address(addr), info, slots);
  }
  const number = quantity(env.currentNumber, "env.currentNumber");
  for (let n = number - 1n; n >= 0n && n >= number - 256n; n--) storage.blockHashes.set(n, stateTestBlockHash(n));
  return storage;
}

export function buildHeader(env: StateTestEnvJson, fork: Fork): BlockHeader {
  const random = env.currentRandom === undefined ? new Uint8Array(32) : bytes(env.currentRandom, "env.currentRandom");
  const baseFee = env.currentBaseFee === undefined ? undefined : quantity(env.currentBaseFee, "env.currentBaseFee");
  const excessBlobGas = env.currentExcessBlobGas === undefined ? undefined : quantity(env.currentExcessBlobGas, "env.currentExcessBlobGas");
  return {
    number: quantity(env.currentNumber, "env.currentNumber"),
    parentHash: `0x${"00".repeat(32)}`,
    coinbase: address(env.currentCoinbase),
    timestamp: quantity(env.currentTimestamp, "env.currentTimestamp"),
    gasLimit: quantity(env.currentGasLimit, "env.currentGasLimit"),
    difficulty: env.currentDifficulty === undefined ? 0n : quantity(env.currentDifficulty, "env.currentDifficulty"),
    mixHash: random,
    baseFeePerGas: baseFee ?? (fork >= Fork.London ? DEFAULT_BASE_FEE : undefined),
    excessBlobGas: excessBlobGas ?? (fork >= Fork.Cancun ? 0n : undefined),
    blobGasUsed: undefined,
    parentBeaconBlockRoot: undefined,
    expected: { gasUsed: undefined, receiptsRoot: undefined, logsBloom: undefined, stateRoot: undefined },
  };
}

function senderOf(tx: StateTestTransactionJson): AddressHex {
  if (tx.sender !== undefined && tx.sender !== "") return address(tx.sender);
  if (tx.secretKey === undefined) throw new InputError("neither sender nor secretKey", undefined, "transaction");
  return bytesToHex(privateToAddress(bytes(tx.secretKey, "transaction.secretKey"))) as AddressHex;
}

function accessList(list: StateTestTransactionJson["accessLists"], index: number): AccessListItem[] | undefined {
  const items = list?.[index];
  if (items === undefined || items === null) return undefined;
  return items.map((item) => ({
    address: address(item.address),
    storageKeys: item.storageKeys.map((k) => quantity(k, "transaction.accessLists")),
  }));
}

function typeOf(tx: StateTestTransactionJson, list: AccessListItem[] | undefined): number {
  if (tx.authorizationList !== undefined) return 4;
  if (tx.blobVersionedHashes !== undefined) return 3;
  if (tx.maxFeePerGas !== undefined) return 2;
  return list === undefined ? 0 : 1;
}

/**
 * The transaction that `indexes` pick. Throws InputError for a field no real transaction can
 * carry (e.g. a value of 2^256): the tests expect such a transaction to be rejected.
 */
export function buildTransaction(tx: StateTestTransactionJson, indexes: PostIndexes): Transaction {
  const pick = <T>(vector: T[], i: number, field: string): T => {
    const v = vector[i];
    if (v === undefined) throw new InputError(`index ${i} out of range`, undefined, `transaction.${field}`);
    return v;
  };
  const list = accessList(tx.accessLists, indexes.data);
  const type = typeOf(tx, list);
  const gasPrice = tx.gasPrice === undefined ? undefined : boundedQuantity(tx.gasPrice, "transaction.gasPrice", MAX_UINT256);
  const maxFeePerGas = type >= 2 ? boundedQuantity(tx.maxFeePerGas, "transaction.maxFeePerGas", MAX_UINT256) : gasPrice;
  const maxPriorityFeePerGas = type >= 2 ? boundedQuantity(tx.maxPriorityFeePerGas, "transaction.maxPriorityFeePerGas", MAX_UINT256) : gasPrice;
  if (maxFeePerGas === undefined || maxPriorityFeePerGas === undefined) throw new InputError("missing", undefined, "transaction.gasPrice");
  return {
    index: 0,
    type,
    from: senderOf(tx),
    to: tx.to === "" ? undefined : address(tx.to),
    nonce: boundedQuantity(tx.nonce, "transaction.nonce", MAX_UINT64),
    gasLimit: boundedQuantity(pick(tx.gasLimit, indexes.gas, "gasLimit"), "transaction.gasLimit", MAX_UINT64),
    value: boundedQuantity(pick(tx.value, indexes.value, "value"), "transaction.value", MAX_UINT256),
    data: bytes(pick(tx.data, indexes.data, "data"), "transaction.data"),
    gasPrice: gasPrice ?? maxFeePerGas,
    maxFeePerGas,
    maxPriorityFeePerGas,
    chainId: type === 0 ? undefined : 1n,
    accessList: list ?? [],
    maxFeePerBlobGas: type === 3 ? boundedQuantity(tx.maxFeePerBlobGas, "transaction.maxFeePerBlobGas", MAX_UINT256) : 0n,
    blobVersionedHashes: (tx.blobVersionedHashes ?? []).map((h) => h.toLowerCase() as Hex),
    ...(type === 4 ? { authorizationList: parseAuthorizationList(new JsonReader("", "transaction", tx as never)) } : {}),
  };
}

export function buildBlock(header: BlockHeader, transaction: Transaction): Block {
  return { header, transactions: [transaction], uncles: [], withdrawals: undefined };
}
