import { hexToBytes } from "@ethereumjs/util";
import { InputError } from "./errors.ts";
import type { AccessListItem, AddressHex, Authorization, Block, BlockHeader, Hex, Transaction, Withdrawal } from "./types.ts";

/**
 * Parsing of JSON-RPC shaped blocks (`eth_getBlockByNumber(n, true)`), the corpus format.
 * Every accessor names the file and the field it failed on.
 */

type Json = Record<string, unknown>;

export class JsonReader {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly obj: Json,
  ) {}

  fail(field: string, message: string): never {
    throw new InputError(message, this.file, this.path ? `${this.path}.${field}` : field);
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  raw(field: string): unknown {
    return this.obj[field];
  }

  quantity(field: string): bigint {
    const v = this.obj[field];
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v !== "string" || !/^0x[0-9a-fA-F]*$/.test(v)) {
      if (v === undefined) this.fail(field, "missing");
      this.fail(field, `expected a hex quantity, got ${JSON.stringify(v)}`);
    }
    return v === "0x" ? 0n : BigInt(v);
  }

  optQuantity(field: string): bigint | undefined {
    return this.has(field) ? this.quantity(field) : undefined;
  }

  bytes(field: string): Uint8Array {
    const v = this.obj[field];
    if (typeof v !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(v)) {
      if (v === undefined) this.fail(field, "missing");
      this.fail(field, `expected hex bytes, got ${JSON.stringify(v).slice(0, 80)}`);
    }
    return hexToBytes(v as Hex);
  }

  hash(field: string): Hex {
    const v = this.obj[field];
    if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) {
      if (v === undefined) this.fail(field, "missing");
      this.fail(field, `expected a 32-byte hex hash, got ${JSON.stringify(v)}`);
    }
    return v.toLowerCase() as Hex;
  }

  optHash(field: string): Hex | undefined {
    return this.has(field) ? this.hash(field) : undefined;
  }

  address(field: string): AddressHex {
    const v = this.obj[field];
    return parseAddress(v, () => this.fail(field, `expected a 20-byte hex address, got ${JSON.stringify(v)}`));
  }

  array(field: string): unknown[] {
    const v = this.obj[field];
    if (!Array.isArray(v)) this.fail(field, v === undefined ? "missing" : "expected an array");
    return v;
  }

  child(field: string, value: unknown): JsonReader {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.fail(field, "expected an object");
    }
    return new JsonReader(this.file, this.path ? `${this.path}.${field}` : field, value as Json);
  }
}

export function parseAddress(v: unknown, onError: () => never): AddressHex {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(v)) onError();
  return (v as string).toLowerCase() as AddressHex;
}

export function readerFor(file: string, value: unknown): JsonReader {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InputError("expected a JSON object", file);
  }
  return new JsonReader(file, "", value as Json);
}

function parseAccessList(r: JsonReader): AccessListItem[] {
  if (!r.has("accessList")) return [];
  return r.array("accessList").map((item, i) => {
    const e = r.child(`accessList[${i}]`, item);
    return {
      address: e.address("address"),
      storageKeys: e.array("storageKeys").map((k, j) => {
        if (typeof k !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(k)) e.fail(`storageKeys[${j}]`, "expected a 32-byte hex key");
        return BigInt(k as string);
      }),
    };
  });
}

/** A quantity that its RLP field holds in at most `bits` bits (EIP-7702: nonce 64, y_parity 8, others 256). */
function boundedQuantity(r: JsonReader, field: string, bits: number): bigint {
  const v = r.quantity(field);
  if (v >= 1n << BigInt(bits)) r.fail(field, `${v} does not fit in ${bits} bits`);
  return v;
}

/** EIP-7702's list of signed authorizations; the authority is recovered when the transaction runs. */
export function parseAuthorizationList(r: JsonReader): Authorization[] {
  return r.array("authorizationList").map((item, i) => {
    const e = r.child(`authorizationList[${i}]`, item);
    return {
      chainId: boundedQuantity(e, "chainId", 256),
      address: e.address("address"),
      nonce: boundedQuantity(e, "nonce", 64),
      yParity: boundedQuantity(e, e.has("yParity") ? "yParity" : "v", 8),
      r: boundedQuantity(e, "r", 256),
      s: boundedQuantity(e, "s", 256),
    };
  });
}

export function parseTransaction(r: JsonReader, index: number): Transaction {
  const type = r.has("type") ? Number(r.quantity("type")) : 0;
  if (type > 4) r.fail("type", `unsupported transaction type ${type}`);
  const dynamicFee = type >= 2;
  const gasPrice = r.has("gasPrice") ? r.quantity("gasPrice") : 0n;
  const to = r.has("to") ? r.address("to") : undefined;
  return {
    index,
    type,
    hash: r.optHash("hash"),
    from: r.address("from"),
    to,
    nonce: r.quantity("nonce"),
    gasLimit: r.quantity("gas"),
    value: r.quantity("value"),
    data: r.bytes(r.has("input") ? "input" : "data"),
    gasPrice: dynamicFee ? 0n : r.quantity("gasPrice"),
    maxFeePerGas: dynamicFee ? r.quantity("maxFeePerGas") : gasPrice,
    maxPriorityFeePerGas: dynamicFee ? r.quantity("maxPriorityFeePerGas") : gasPrice,
    chainId: type === 0 ? legacyChainId(r) : r.quantity("chainId"),
    accessList: parseAccessList(r),
    maxFeePerBlobGas: type === 3 ? r.quantity("maxFeePerBlobGas") : 0n,
    blobVersionedHashes: type === 3 ? r.array("blobVersionedHashes").map((_, i) => r.child("blobVersionedHashes", { h: _ }).hash("h")) : [],
    ...(type === 4 ? { authorizationList: parseAuthorizationList(r) } : {}),
  };
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
    number: r.quantity("number"),
    hash: r.optHash("hash"),
    parentHash: r.has("parentHash") ? r.hash("parentHash") : (`0x${"00".repeat(32)}` as Hex),
    coinbase: r.address("miner"),
    timestamp: r.quantity("timestamp"),
    gasLimit: r.quantity("gasLimit"),
    difficulty: r.has("difficulty") ? r.quantity("difficulty") : 0n,
    mixHash: r.has("mixHash") ? r.bytes("mixHash") : new Uint8Array(32),
    baseFeePerGas: r.optQuantity("baseFeePerGas"),
    excessBlobGas: r.optQuantity("excessBlobGas"),
    blobGasUsed: r.optQuantity("blobGasUsed"),
    parentBeaconBlockRoot: r.has("parentBeaconBlockRoot") ? r.bytes("parentBeaconBlockRoot") : undefined,
    expected: {
      gasUsed: r.optQuantity("gasUsed"),
      receiptsRoot: r.optHash("receiptsRoot"),
      logsBloom: r.has("logsBloom") ? (String(r.raw("logsBloom")).toLowerCase() as Hex) : undefined,
      stateRoot: r.optHash("stateRoot"),
      ...(r.has("requestsHash") ? { requestsHash: r.hash("requestsHash") } : {}),
    },
  };
  const transactions = r.array("transactions").map((tx, i) => {
    if (typeof tx === "string") r.fail(`transactions[${i}]`, "a transaction hash: the block must be fetched with full transactions");
    const t = parseTransaction(r.child(`transactions[${i}]`, tx), i);
    return t;
  });
  let withdrawals: Withdrawal[] | undefined;
  if (r.has("withdrawals")) {
    withdrawals = r.array("withdrawals").map((w, i) => {
      const e = r.child(`withdrawals[${i}]`, w);
      return {
        index: e.quantity("index"),
        validatorIndex: e.quantity("validatorIndex"),
        address: e.address("address"),
        amount: e.quantity("amount"),
      };
    });
  }
  // Uncle headers are not part of eth_getBlockByNumber; a block may carry them as objects
  // (our own extension: { number, miner }) so that uncle miners can be rewarded.
  const uncles = r.has("uncles")
    ? r.array("uncles").flatMap((u, i) => {
        if (typeof u === "string") return [];
        const e = r.child(`uncles[${i}]`, u);
        return [{ number: e.quantity("number"), coinbase: e.address("miner") }];
      })
    : [];
  const uncleCount = r.has("uncles") ? r.array("uncles").length : 0;
  const rlpSize = r.has("size") ? Number(r.quantity("size")) : undefined;
  return { header, transactions, uncles, uncleCount, withdrawals, ...(rlpSize !== undefined ? { rlpSize } : {}) };
}
