/**
 * Reads the vendored mainnet corpus (`data/mainnet`) in its raw JSON shape.
 * The shared files (bytecodes, block hashes) are large and identical for every block,
 * so they are parsed once per process.
 */
import { join } from "node:path";

export type HexString = `0x${string}`;

/** `pre_state.json`: an account absent from the map is empty; no code_hash means no code. */
export interface RawPreAccount {
  balance: HexString;
  nonce: number;
  code_hash?: HexString;
  storage: Record<HexString, HexString>;
}
export type RawPreState = Record<HexString, RawPreAccount>;

/** The subset of eth_getBlockByNumber(n, true) the peer reads itself; the rest goes to createBlockFromRPC. */
export interface RawBlock {
  number: HexString;
  timestamp: HexString;
  gasUsed: HexString;
  receiptsRoot: HexString;
  logsBloom: HexString;
  transactions: unknown[];
  [field: string]: unknown;
}

export const MAINNET_DIR = join(import.meta.dir, "..", "..", "data", "mainnet");
export const BLOCKS_DIR = join(MAINNET_DIR, "blocks");

let bytecodes: Map<string, HexString> | undefined;
let blockHashes: Map<bigint, HexString> | undefined;

async function readJson<T>(path: string): Promise<T> {
  return (await Bun.file(path).json()) as T;
}

/** code_hash (lowercase hex) -> code hex. */
export async function corpusBytecodes(): Promise<Map<string, HexString>> {
  if (bytecodes === undefined) {
    const raw = await readJson<Record<string, HexString>>(join(MAINNET_DIR, "bytecodes.json"));
    bytecodes = new Map(Object.entries(raw).map(([hash, code]) => [hash.toLowerCase(), code]));
  }
  return bytecodes;
}

/** block number -> block hash, for BLOCKHASH. */
export async function corpusBlockHashes(): Promise<Map<bigint, HexString>> {
  if (blockHashes === undefined) {
    const raw = await readJson<Record<string, HexString>>(join(MAINNET_DIR, "block_hashes.json"));
    blockHashes = new Map(Object.entries(raw).map(([number, hash]) => [BigInt(number), hash]));
  }
  return blockHashes;
}

export async function readRawBlock(blockDir: string): Promise<RawBlock> {
  return readJson<RawBlock>(join(blockDir, "block.json"));
}

export async function readRawPreState(blockDir: string): Promise<RawPreState> {
  return readJson<RawPreState>(join(blockDir, "pre_state.json"));
}

/** Every corpus block number, ascending. */
export async function corpusBlockNumbers(): Promise<number[]> {
  const { readdir } = await import("node:fs/promises");
  const names = await readdir(BLOCKS_DIR);
  return names.map(Number).filter(Number.isInteger).sort((a, b) => a - b);
}

export function blockDirOf(number: number | bigint): string {
  return join(BLOCKS_DIR, String(number));
}
