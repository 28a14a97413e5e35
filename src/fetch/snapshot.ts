import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { bytesToHex } from "@ethereumjs/util";
import { InputError } from "../chain/errors.ts";
import type { Hex } from "../chain/types.ts";
import type { MemoryStorage } from "../state/memory.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";

/**
 * Writing a fetched block as a corpus directory (the format `bun run pevm <dir>` reads):
 * block.json, pre_state.json, bytecodes.json and block_hashes.json, plus fetch.json (how it
 * was fetched: chain id, fork, path). The directory appears whole or not at all: everything is
 * fetched into memory first, then written into a temporary directory next to it, which is
 * renamed into place (an interrupted fetch leaves at most a `.<name>.fetch-*` directory).
 */

export const SNAPSHOT_FILES = ["block.json", "pre_state.json", "bytecodes.json", "block_hashes.json", "fetch.json"] as const;

export interface FetchMeta {
  chainId: string;
  /** The fork the block was executed with (a --fork name). */
  fork: string;
  /** Where the pre-state came from. */
  prestate: "tracer" | "rpc";
  /** The pre-state holds the whole state (the state root can be checked). */
  fullState: boolean;
  number: string;
  hash: Hex;
}

/** The hash of the block a directory holds a snapshot of, undefined when it holds none. */
export function snapshotBlockHash(dir: string): Hex | undefined {
  const file = join(dir, "block.json");
  if (!existsSync(file)) return undefined;
  try {
    const hash = (JSON.parse(readFileSync(file, "utf8")) as { hash?: unknown }).hash;
    return typeof hash === "string" ? (hash.toLowerCase() as Hex) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `out` may receive the snapshot of block `hash`: it does not exist, is an empty
 * directory, or already holds a snapshot of the same block. Throws InputError otherwise.
 */
export function checkOutDir(out: string, hash: Hex, number: bigint): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new InputError("exists and is not a directory", out, "--out");
  if (readdirSync(out).length === 0) return;
  const held = snapshotBlockHash(out);
  if (held === hash) return;
  throw new InputError(
    held === undefined
      ? `not empty and not a block snapshot; refusing to write block ${number} there`
      : `holds a snapshot of another block (${held}); refusing to overwrite it with block ${number} (${hash})`,
    out,
    "--out",
  );
}

function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

function sortedBigInts(values: Iterable<bigint>): bigint[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** pre_state.json, bytecodes.json and block_hashes.json of a pre-state, keys sorted (diffable). */
export function serializeSnapshot(storage: MemoryStorage): { preState: string; bytecodes: string; blockHashes: string } {
  const pre: Record<string, unknown> = {};
  const codes: Record<string, string> = {};
  for (const address of [...storage.accounts.keys()].sort()) {
    const a = storage.accounts.get(address)!;
    const slots: Record<string, string> = {};
    for (const slot of sortedBigInts(a.storage.keys())) {
      const v = a.storage.get(slot)!;
      if (v !== 0n) slots[hex(slot)] = hex(v);
    }
    pre[address] = {
      balance: hex(a.balance),
      nonce: a.nonce <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a.nonce) : hex(a.nonce),
      ...(a.codeHash === EMPTY_CODE_HASH ? {} : { code_hash: a.codeHash }),
      storage: slots,
    };
    if (a.codeHash !== EMPTY_CODE_HASH) {
      const code = storage.codes.get(a.codeHash);
      if (code === undefined) throw new Error(`snapshot: no code for ${address} (${a.codeHash})`);
      codes[a.codeHash] = bytesToHex(code);
    }
  }
  const hashes: Record<string, string> = {};
  for (const n of sortedBigInts(storage.blockHashes.keys())) hashes[n.toString()] = storage.blockHashes.get(n)!;
  return { preState: JSON.stringify(pre, null, 1) + "\n", bytecodes: JSON.stringify(codes, null, 1) + "\n", blockHashes: JSON.stringify(hashes, null, 1) + "\n" };
}

function writeSynced(file: string, text: string): void {
  const fd = openSync(file, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Returns the number of bytes written. */
export function writeSnapshot(out: string, blockJson: unknown, storage: MemoryStorage, meta: FetchMeta): number {
  const target = resolve(out);
  checkOutDir(target, meta.hash, BigInt(meta.number));
  mkdirSync(dirname(target), { recursive: true });
  const temp = join(dirname(target), `.${basename(target)}.fetch-${process.pid}-${Date.now()}`);
  let bytes = 0;
  try {
    mkdirSync(temp);
    const { preState, bytecodes, blockHashes } = serializeSnapshot(storage);
    const files: [string, string][] = [
      ["block.json", JSON.stringify(blockJson, null, 1) + "\n"],
      ["pre_state.json", preState],
      ["bytecodes.json", bytecodes],
      ["block_hashes.json", blockHashes],
      ["fetch.json", JSON.stringify(meta, null, 1) + "\n"],
    ];
    for (const [name, text] of files) {
      writeSynced(join(temp, name), text);
      bytes += Buffer.byteLength(text);
    }
    // Replace: an empty directory or an older snapshot of the same block (checked above).
    let old: string | undefined;
    if (existsSync(target)) {
      old = `${temp}.old`;
      renameSync(target, old);
    }
    renameSync(temp, target);
    if (old !== undefined) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    rmSync(temp, { recursive: true, force: true });
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot write the snapshot: ${(e as Error).message}`, out, "--out");
  }
  return bytes;
}

export function readFetchMeta(dir: string): FetchMeta | undefined {
  const file = join(dir, "fetch.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as FetchMeta;
  } catch {
    return undefined;
  }
}
