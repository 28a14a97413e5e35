import { RLP } from "@ethereumjs/rlp";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from "@ethereumjs/util";
import type { Hex } from "./types.ts";

/** One log entry as the receipt carries it. */
export interface Log {
  address: Uint8Array;
  topics: Uint8Array[];
  data: Uint8Array;
}

export interface Receipt {
  type: number;
  /** Byzantium on: 1 success, 0 failure. Before it, receipts commit to a state root instead. */
  status: 0 | 1;
  gasUsed: bigint;
  cumulativeGasUsed: bigint;
  logs: Log[];
  logsBloom: Uint8Array;
  contractAddress?: Hex;
}

/** Adds the bloom bits of one value: three 11-bit indices from its keccak-256. */
function addToBloom(bloom: Uint8Array, value: Uint8Array): void {
  const hash = keccak_256(value);
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    bloom[256 - 1 - (bit >> 3)]! |= 1 << (bit & 7);
  }
}

export function logsBloom(logs: Log[]): Uint8Array {
  const bloom = new Uint8Array(256);
  for (const log of logs) {
    addToBloom(bloom, log.address);
    for (const topic of log.topics) addToBloom(bloom, topic);
  }
  return bloom;
}

export function orBloom(into: Uint8Array, bloom: Uint8Array): void {
  for (let i = 0; i < 256; i++) into[i]! |= bloom[i]!;
}

/** What the consensus encoding of a receipt needs; the bloom as bytes or as hex (public results). */
export interface EncodableReceipt {
  type: number;
  status: 0 | 1;
  cumulativeGasUsed: bigint;
  logs: Log[];
  logsBloom: Uint8Array | Hex;
}

/** The consensus encoding of a receipt (EIP-2718 typed envelope after Berlin). */
export function encodeReceipt(r: EncodableReceipt, postStateRoot?: Uint8Array): Uint8Array {
  const logs = r.logs.map((l) => [l.address, l.topics, l.data]);
  const first = postStateRoot ?? (r.status === 1 ? Uint8Array.of(1) : new Uint8Array(0));
  const bloom = typeof r.logsBloom === "string" ? hexToBytes(r.logsBloom) : r.logsBloom;
  const body = RLP.encode([first, bigIntToUnpaddedBytes(r.cumulativeGasUsed), bloom, logs]);
  if (r.type === 0) return body;
  const typed = new Uint8Array(body.length + 1);
  typed[0] = r.type;
  typed.set(body, 1);
  return typed;
}

/** Root of the trie of rlp(index) -> encoded receipt. Only meaningful from Byzantium on. */
export async function receiptsRoot(receipts: readonly EncodableReceipt[]): Promise<Hex> {
  const trie = new MerklePatriciaTrie();
  for (let i = 0; i < receipts.length; i++) {
    await trie.put(RLP.encode(i), encodeReceipt(receipts[i]!));
  }
  return bytesToHex(trie.root()) as Hex;
}

/** keccak256(rlp(logs)): what the state tests call the logs hash. */
export function logsHash(logs: Log[]): Hex {
  return bytesToHex(keccak_256(RLP.encode(logs.map((l) => [l.address, l.topics, l.data])))) as Hex;
}

export { hexToBytes };
