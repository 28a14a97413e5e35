import { createCustomCommon, Hardfork, Mainnet, type Common } from "@ethereumjs/common";
import { createTx, type TypedTxData } from "@ethereumjs/tx";
import { bytesToHex, type KZG } from "@ethereumjs/util";
import type { Hex, Transaction } from "./types.ts";

/**
 * The hash of a signed transaction, computed by @ethereumjs/tx from its JSON-RPC fields
 * (hex strings as `eth_getBlockByNumber` returns them). `tx` is the parsed transaction: it
 * supplies the type and the chain id the encoding needs.
 */
export function signedTransactionHash(rpc: Record<string, unknown>, tx: Transaction): Hex {
  const data: Record<string, unknown> = { ...rpc, type: tx.type, gasLimit: rpc.gas, data: rpc.input ?? rpc.data };
  if (tx.type === 0) {
    // A pre-EIP-155 legacy transaction encodes no chain id, whatever the node reports.
    if (tx.chainId === undefined) delete data.chainId;
  } else if (rpc.yParity !== undefined && rpc.yParity !== null) {
    data.v = rpc.yParity;
  }
  return bytesToHex(createTx(data as TypedTxData, { common: commonFor(tx.chainId ?? 1n) }).hash()) as Hex;
}

// The latest rules know every transaction type; the chain id must be the transaction's own
// (a legacy EIP-155 transaction's v is checked against it).
const commons = new Map<bigint, Common>();
function commonFor(chainId: bigint): Common {
  let common = commons.get(chainId);
  if (common === undefined) {
    common = createCustomCommon({ chainId: chainId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(chainId) : chainId.toString() }, Mainnet, { hardfork: Hardfork.Prague, customCrypto: { kzg: NO_KZG } });
    commons.set(chainId, common);
  }
  return common;
}

/**
 * A blob transaction without its network wrapper (as blocks hold it) needs no KZG operation,
 * but @ethereumjs/tx refuses to build one unless the Common names a KZG implementation.
 */
const NO_KZG = new Proxy(
  {},
  {
    get: (_target, name) => () => {
      throw new Error(`KZG ${String(name)} is not available when hashing transactions`);
    },
  },
) as KZG;
