import { InputError } from "./errors.ts";
import { parseBlock, show } from "./json.ts";
import type { Block } from "./types.ts";

/**
 * The blocks `executeBlock` accepts, besides our parsed `Block`:
 * - the JSON-RPC `eth_getBlockByNumber(n, true)` result as it comes (hex strings), and
 * - the same block as viem (or a similar client) returns it: quantities as bigint or number,
 *   transaction types by name ("eip1559"), `null` for absent fields.
 * Both are checked field by field like a corpus block.json (InputError naming the field).
 */
export interface RpcBlock {
  number: unknown;
  miner: unknown;
  transactions: readonly unknown[];
}

export type BlockInput = Block | RpcBlock;

/** viem's names for the EIP-2718 transaction types. */
const TYPE_NAMES: Record<string, number> = { legacy: 0, eip2930: 1, eip1559: 2, eip4844: 3, eip7702: 4 };

/** Our Block, or the RPC / viem block parsed into one (`source` names it in errors). */
export function toBlock(input: BlockInput, source = "block"): Block {
  if (typeof input !== "object" || input === null) throw new InputError(`expected a block object, got ${show(input)}`, source);
  if ("header" in input && typeof input.header === "object") return input as Block;
  return parseBlock(source, rpcShape(input));
}

/** A copy with bigints as hex quantities and type names as type numbers: the JSON-RPC shape. */
function rpcShape(value: unknown, key?: string): unknown {
  if (typeof value === "bigint") return value < 0n ? value : `0x${value.toString(16)}`;
  if (key === "type" && typeof value === "string" && value in TYPE_NAMES) return `0x${TYPE_NAMES[value]!.toString(16)}`;
  if (Array.isArray(value)) return value.map((item) => rpcShape(item));
  if (typeof value === "object" && value !== null && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rpcShape(v, k);
    return out;
  }
  return value;
}
