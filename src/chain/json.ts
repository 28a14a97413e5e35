import { hexToBytes } from "@ethereumjs/util";
import { InputError } from "./errors.ts";
import { signedTransactionHash } from "./tx-hash.ts";
import type { AccessListItem, AddressHex, Authorization, Block, BlockHeader, Hex, Transaction, Withdrawal } from "./types.ts";

/**
 * Parsing of JSON-RPC shaped blocks (`eth_getBlockByNumber(n, true)`), the corpus format.
 * Every reader names the file, the field (as a JSON path) and the value it refused, so that
 * malformed input is refused here, before execution, and the executors can trust the Block.
 */

type Json = Record<string, unknown>;

/** Largest values of the fields' encodings: Ethereum quantities are 64 or 256 bits. */
export const MAX_UINT8 = 0xffn;
export const MAX_UINT64 = (1n << 64n) - 1n;
export const MAX_UINT256 = (1n << 256n) - 1n;

const HEX_QUANTITY = /^0x[0-9a-fA-F]+$/;
const HEX_BYTES = /^0x([0-9a-fA-F]{2})*$/;
const HEX_HASH = /^0x[0-9a-fA-F]{64}$/;
const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The value as it appears in a message: JSON, cut short. */
export function show(value: unknown): string {
  const text = typeof value === "bigint" ? `${value}n` : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function maxName(max: bigint): string {
  if (max === MAX_UINT64) return "2^64-1";
  if (max === MAX_UINT256) return "2^256-1";
  return max.toString();
}

// ---- typed value readers: (path, value) -> value or InputError(file, path) ----

/**
 * A non-negative integer no larger than `max`: a hex quantity ("0x1b"; "0x" alone is not a
 * number) or a JSON number that is a safe integer.
 */
export function quantity(file: string, path: string, value: unknown, max: bigint = MAX_UINT256): bigint {
  let v: bigint;
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) throw new InputError(`expected a non-negative integer, got ${show(value)}`, file, path);
    if (!Number.isSafeInteger(value)) throw new InputError(`${show(value)} is not exact as a JSON number; write it as a hex quantity`, file, path);
    v = BigInt(value);
  } else if (typeof value === "string" && HEX_QUANTITY.test(value)) v = BigInt(value);
  else if (value === undefined) throw new InputError("missing", file, path);
  else if (value === "0x") throw new InputError(`expected a hex quantity, got "0x" (no digits; zero is "0x0")`, file, path);
  else throw new InputError(`expected a hex quantity, got ${show(value)}`, file, path);
  if (v > max) throw new InputError(`${show(value)} is over ${maxName(max)}, the largest value of this field`, file, path);
  return v;
}

/** 0x-prefixed hex bytes, an even number of digits; exactly `length` bytes when given. */
export function hexBytes(file: string, path: string, value: unknown, length?: number): Uint8Array {
  if (typeof value !== "string" || !HEX_BYTES.test(value)) {
    if (value === undefined) throw new InputError("missing", file, path);
    const why = typeof value === "string" && /^0x[0-9a-fA-F]*$/.test(value) ? "an odd number of hex digits" : "not hex bytes";
    throw new InputError(`expected hex bytes, got ${show(value)} (${why})`, file, path);
  }
  const bytes = hexToBytes(value as Hex);
  if (length !== undefined && bytes.length !== length) {
    throw new InputError(`expected ${length} bytes, got ${bytes.length}: ${show(value)}`, file, path);
  }
  return bytes;
}

/** A 32-byte hash, returned in lowercase. */
export function hash32(file: string, path: string, value: unknown): Hex {
  if (typeof value !== "string" || !HEX_HASH.test(value)) {
    if (value === undefined) throw new InputError("missing", file, path);
    throw new InputError(`expected a 32-byte hex hash, got ${show(value)}`, file, path);
  }
  return value.toLowerCase() as Hex;
}

/** A 20-byte address in any letter case (checksummed or not), returned in lowercase. */
export function address(file: string, path: string, value: unknown): AddressHex {
  if (typeof value !== "string" || !HEX_ADDRESS.test(value)) {
    if (value === undefined) throw new InputError("missing", file, path);
    throw new InputError(`expected a 20-byte hex address, got ${show(value)}`, file, path);
  }
  return value.toLowerCase() as AddressHex;
}

/** A storage slot or key: a quantity of at most 256 bits written as hex (1 to 64 digits). */
export function slotKey(file: string, path: string, value: unknown): bigint {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(value)) {
    throw new InputError(`expected a hex storage key of at most 32 bytes, got ${show(value)}`, file, path);
  }
  return BigInt(value);
}

/** Reads the fields of one JSON object; `path` is where the object sits in its file. */
export class JsonReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly obj: Json,
  ) {}

  /** The JSON path of a field of this object. */
  at(field: string): string {
    if (this.path === "") return field;
    return field.startsWith("[") ? `${this.path}${field}` : `${this.path}.${field}`;
  }

  fail(field: string, message: string): never {
    throw new InputError(message, this.file, this.at(field));
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  raw(field: string): unknown {
    return this.obj[field];
  }

  quantity(field: string, max: bigint = MAX_UINT256): bigint {
    return quantity(this.file, this.at(field), this.obj[field], max);
  }

  optQuantity(field: string, max: bigint = MAX_UINT256): bigint | undefined {
    return this.has(field) ? this.quantity(field, max) : undefined;
  }

  bytes(field: string, length?: number): Uint8Array {
    return hexBytes(this.file, this.at(field), this.obj[field], length);
  }

  hash(field: string): Hex {
    return hash32(this.file, this.at(field), this.obj[field]);
  }

  optHash(field: string): Hex | undefined {
    return this.has(field) ? this.hash(field) : undefined;
  }

  address(field: string): AddressHex {
    return address(this.file, this.at(field), this.obj[field]);
  }

  array(field: string): unknown[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, v === undefined ? "missing" : `expected an array, got ${show(v)}`);
    return v;
  }

  /** A reader for the object `value` found at `field` of this one. */
  child(field: string, value: unknown): JsonReader {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(field, value === undefined ? "missing" : `expected an object, got ${show(value)}`);
    }
    return new JsonReader(this.file, this.at(field), value as Json);
  }
}

export function readerFor(file: string, value: unknown): JsonReader {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError(`expected a JSON object, got ${show(value)}`, file);
  }
  return new JsonReader(file, "", value as Json);
}

function parseAccessList(r: JsonReader): AccessListItem[] {
  if (!r.has("accessList")) return [];
  return r.array("accessList").map((item, i) => {
    const e = r.child(`accessList[${i}]`, item);
    return {
      address: e.address("address"),
      storageKeys: e.array("storageKeys").map((k, j) => slotKey(e.file, e.at(`storageKeys[${j}]`), k)),
    };
  });
}

/** EIP-7702's list of signed authorizations; the authority is recovered when the transaction runs. */
export function parseAuthorizationList(r: JsonReader): Authorization[] {
  return r.array("authorizationList").map((item, i) => {
    const e = r.child(`authorizationList[${i}]`, item);
    return {
      chainId: e.quantity("chainId"),
      address: e.address("address"),
      nonce: e.quantity("nonce", MAX_UINT64),
      yParity: e.quantity(e.has("yParity") ? "yParity" : "v", MAX_UINT8),
      r: e.quantity("r"),
      s: e.quantity("s"),
    };
  });
}

/** Transaction types pevm executes (EIP-2718): legacy, access list, dynamic fee, blob, set-code. */
const MAX_TX_TYPE = 4;

export function parseTransaction(r: JsonReader, index: number): Transaction {
  const type = r.has("type") ? Number(r.quantity("type", MAX_UINT8)) : 0;
  if (type > MAX_TX_TYPE) r.fail("type", `unsupported transaction type ${type}`);
  const dynamicFee = type >= 2;
  const gasPrice = r.has("gasPrice") ? r.quantity("gasPrice") : 0n;
  const to = r.has("to") ? r.address("to") : undefined;
  const tx: Transaction = {
    index,
    type,
    hash: r.optHash("hash"),
    from: r.address("from"),
    to,
    nonce: r.quantity("nonce", MAX_UINT64),
    gasLimit: r.quantity("gas", MAX_UINT64),
    value: r.quantity("value"),
    data: r.bytes(r.has("input") ? "input" : "data"),
    gasPrice: dynamicFee ? 0n : r.quantity("gasPrice"),
    maxFeePerGas: dynamicFee ? r.quantity("maxFeePerGas") : gasPrice,
    maxPriorityFeePerGas: dynamicFee ? r.quantity("maxPriorityFeePerGas") : gasPrice,
    chainId: type === 0 ? legacyChainId(r) : r.quantity("chainId"),
    accessList: parseAccessList(r),
    maxFeePerBlobGas: type === 3 ? r.quantity("maxFeePerBlobGas") : 0n,
    blobVersionedHashes: type === 3 ? r.array("blobVersionedHashes").map((h, i) => hash32(r.file, r.at(`blobVersionedHashes[${i}]`), h)) : [],
    ...(type === 4 ? { authorizationList: parseAuthorizationList(r) } : {}),
  };
  tx.hash = checkedHash(r, tx);
  return tx;
}

/**
 * The transaction's hash. With a signature (r, s and v or yParity) it is computed from the
 * signed transaction, and a given `hash` must agree: a transaction edited after signing is
 * refused here. Without a signature (mocked or hand-made blocks) the given hash is taken as is.
 */
function checkedHash(r: JsonReader, tx: Transaction): Hex | undefined {
  if (!r.has("r") || !r.has("s") || !(r.has("v") || r.has("yParity"))) return tx.hash;
  r.quantity("r");
  r.quantity("s");
  if (r.has("v")) r.quantity("v");
  if (r.has("yParity")) r.quantity("yParity", 1n);
  let computed: Hex;
  try {
    computed = signedTransactionHash(r.obj, tx);
  } catch {
    // @ethereumjs/tx also applies chain rules while encoding (a set-code transaction without a
    // recipient, too many blobs): those are the block's to reject, with chain/validity.ts's
    // typed reason, not the input's. Such a transaction keeps the hash it came with.
    return tx.hash;
  }
  if (tx.hash !== undefined && tx.hash !== computed) {
    r.fail("hash", `${tx.hash} is not the hash of this transaction (its fields hash to ${computed})`);
  }
  return computed;
}

/** A legacy transaction's chain id comes from EIP-155's v = chainId*2 + 35/36; v = 27/28 has none. */
function legacyChainId(r: JsonReader): bigint | undefined {
  // Nodes report a chainId even for some pre-EIP-155 legacy transactions, so v decides.
  if (!r.has("v")) return r.optQuantity("chainId");
  const v = r.quantity("v");
  if (v === 27n || v === 28n) return undefined;
  if (v >= 35n) return (v - 35n) / 2n;
  return r.optQuantity("chainId");
}

export function parseBlock(file: string, json: unknown): Block {
  const r = readerFor(file, json);
  const header: BlockHeader = {
    number: r.quantity("number", MAX_UINT64),
    hash: r.optHash("hash"),
    parentHash: r.has("parentHash") ? r.hash("parentHash") : (`0x${"00".repeat(32)}` as Hex),
    coinbase: r.address("miner"),
    timestamp: r.quantity("timestamp", MAX_UINT64),
    gasLimit: r.quantity("gasLimit", MAX_UINT64),
    difficulty: r.has("difficulty") ? r.quantity("difficulty") : 0n,
    mixHash: r.has("mixHash") ? r.bytes("mixHash", 32) : new Uint8Array(32),
    baseFeePerGas: r.optQuantity("baseFeePerGas"),
    excessBlobGas: r.optQuantity("excessBlobGas", MAX_UINT64),
    blobGasUsed: r.optQuantity("blobGasUsed", MAX_UINT64),
    parentBeaconBlockRoot: r.has("parentBeaconBlockRoot") ? r.bytes("parentBeaconBlockRoot", 32) : undefined,
    expected: {
      gasUsed: r.optQuantity("gasUsed", MAX_UINT64),
      receiptsRoot: r.optHash("receiptsRoot"),
      logsBloom: r.has("logsBloom") ? (bloomHex(r) as Hex) : undefined,
      stateRoot: r.optHash("stateRoot"),
      ...(r.has("requestsHash") ? { requestsHash: r.hash("requestsHash") } : {}),
    },
  };
  const transactions = r.array("transactions").map((tx, i) => {
    if (typeof tx === "string") r.fail(`transactions[${i}]`, "a transaction hash: the block must be fetched with full transactions");
    return parseTransaction(r.child(`transactions[${i}]`, tx), i);
  });
  let withdrawals: Withdrawal[] | undefined;
  if (r.has("withdrawals")) {
    withdrawals = r.array("withdrawals").map((w, i) => {
      const e = r.child(`withdrawals[${i}]`, w);
      return {
        index: e.quantity("index", MAX_UINT64),
        validatorIndex: e.quantity("validatorIndex", MAX_UINT64),
        address: e.address("address"),
        amount: e.quantity("amount", MAX_UINT64),
      };
    });
  }
  // Uncle headers are not part of eth_getBlockByNumber; a block may carry them as objects
  // (our own extension: { number, miner }) so that uncle miners can be rewarded.
  const uncles = r.has("uncles")
    ? r.array("uncles").flatMap((u, i) => {
        if (typeof u === "string") {
          hash32(file, r.at(`uncles[${i}]`), u);
          return [];
        }
        const e = r.child(`uncles[${i}]`, u);
        return [{ number: e.quantity("number", MAX_UINT64), coinbase: e.address("miner") }];
      })
    : [];
  const uncleCount = r.has("uncles") ? r.array("uncles").length : 0;
  const rlpSize = r.has("size") ? Number(r.quantity("size", MAX_UINT64)) : undefined;
  return { header, transactions, uncles, uncleCount, withdrawals, ...(rlpSize !== undefined ? { rlpSize } : {}) };
}

/** The header's logs bloom: 256 bytes of hex, kept as lowercase hex for comparison. */
function bloomHex(r: JsonReader): string {
  r.bytes("logsBloom", 256);
  return String(r.raw("logsBloom")).toLowerCase();
}
