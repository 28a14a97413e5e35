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
  /** Without logs, the one shared NO_LOGS_BLOOM: never write into a receipt's bloom. */
  logsBloom: Uint8Array;
  contractAddress?: Hex;
}

/**
 * The bloom of a receipt without logs (all zero), shared by every such receipt of both
 * modes: a block of 47,620 plain transfers allocated 12 MB of blooms for nothing, and
 * public results carry the bloom as hex anyway (execute.ts). Never written.
 */
export const NO_LOGS_BLOOM = new Uint8Array(256);

/**
 * The bloom's bit indices of recent values, per thread: logs repeat their addresses and
 * topics (a token's address, the Transfer event's signature), and one keccak-256 here costs
 * ~2.4 µs where a cache probe costs a few dozen byte compares. Direct-mapped; a slot holds
 * the value's bytes (compared in full) and its three 11-bit indices.
 */
const BLOOM_CACHE_SLOTS = 4096;
const MAX_CACHED_BYTES = 32;
const cachedValues = new Uint8Array(BLOOM_CACHE_SLOTS * MAX_CACHED_BYTES);
const cachedLengths = new Uint8Array(BLOOM_CACHE_SLOTS); // 0 = empty slot
const cachedBits = new Uint16Array(BLOOM_CACHE_SLOTS * 3);

/** Sets the three bloom bits of one value: three 11-bit indices from its keccak-256. */
function addToBloom(bloom: Uint8Array, value: Uint8Array): void {
  const length = value.length;
  if (length === 0 || length > MAX_CACHED_BYTES) {
    const hash = keccak_256(value);
    for (let i = 0; i < 6; i += 2) setBloomBit(bloom, (hash[i]! << 8) | hash[i + 1]!);
    return;
  }
  // The last bytes vary most (topics are often left-padded addresses or amounts).
  const slot = ((value[length - 1]! | (value[length - 2]! << 8) | (value[length - 3]! << 16)) ^ (value[0]! * 31 + length)) & (BLOOM_CACHE_SLOTS - 1);
  const at = slot * MAX_CACHED_BYTES;
  let hit = cachedLengths[slot] === length;
  for (let i = 0; hit && i < length; i++) hit = cachedValues[at + i] === value[i];
  if (!hit) {
    const hash = keccak_256(value);
    cachedValues.set(value, at);
    cachedLengths[slot] = length;
    for (let i = 0; i < 3; i++) cachedBits[slot * 3 + i] = (hash[2 * i]! << 8) | hash[2 * i + 1]!;
  }
  for (let i = 0; i < 3; i++) setBloomBit(bloom, cachedBits[slot * 3 + i]!);
}

function setBloomBit(bloom: Uint8Array, hashBits: number): void {
  const bit = hashBits & 2047;
  bloom[256 - 1 - (bit >> 3)]! |= 1 << (bit & 7);
}

export function logsBloom(logs: Log[]): Uint8Array {
  if (logs.length === 0) return NO_LOGS_BLOOM;
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
