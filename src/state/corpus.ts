import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { InputError } from "../chain/errors.ts";
import { parseBlock, readerFor } from "../chain/json.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { MemoryStorage } from "./memory.ts";
import { EMPTY_CODE_HASH } from "./types.ts";

/**
 * Loading of the corpus format: a directory with `block.json` (JSON-RPC block with full
 * transactions) and `pre_state.json`, plus `bytecodes.json` (code by hash) and
 * `block_hashes.json` (number -> hash), found next to block.json or two levels up.
 */

export function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`malformed JSON: ${(e as Error).message}`, file);
  }
}

const jsonCache = new Map<string, Record<string, unknown>>();
function readJsonObjectCached(file: string): Record<string, unknown> {
  const key = resolve(file);
  let v = jsonCache.get(key);
  if (v === undefined) {
    v = readerFor(file, readJson(file)).obj;
    jsonCache.set(key, v);
  }
  return v;
}

/** Finds a side file next to block.json, else at the corpus root two levels up. */
export function findSideFile(blockDir: string, name: string): string | undefined {
  for (const candidate of [join(blockDir, name), join(blockDir, "..", "..", name)]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface LoadOptions {
  bytecodes?: string;
  blockHashes?: string;
}

export interface LoadedBlock {
  dir: string;
  block: Block;
  storage: MemoryStorage;
}

export function loadPreState(file: string, json: unknown, codes: Record<string, unknown> | undefined, codesFile: string | undefined): MemoryStorage {
  const storage = new MemoryStorage();
  const r = readerFor(file, json);
  for (const [address, value] of Object.entries(r.obj)) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(address)) r.fail(address, "expected a 20-byte hex address as key");
    const a = r.child(address, value);
    // The corpus shape names code by hash (code in bytecodes.json); the prestateTracer's shape
    // carries it inline without a hash. Inline code must match a code_hash given with it.
    const inline = a.has("code") ? a.bytes("code") : undefined;
    const inlineHash = inline === undefined || inline.length === 0 ? EMPTY_CODE_HASH : (bytesToHex(keccak_256(inline)) as Hex);
    const codeHash = a.has("code_hash") ? a.hash("code_hash") : inlineHash;
    if (inline !== undefined && codeHash !== inlineHash) {
      a.fail("code_hash", `${codeHash} is not the hash of the account's code (${inlineHash})`);
    }
    const slots = new Map<bigint, bigint>();
    if (a.has("storage")) {
      const s = a.child("storage", a.raw("storage"));
      for (const [slot, v] of Object.entries(s.obj)) {
        if (typeof v !== "string" || !/^0x[0-9a-fA-F]*$/.test(v)) s.fail(slot, "expected a hex value");
        if (!/^0x[0-9a-fA-F]{1,64}$/.test(slot)) s.fail(slot, "expected a hex slot");
        const value = BigInt(v as string);
        if (value !== 0n) slots.set(BigInt(slot), value);
      }
    }
    // The prestateTracer leaves out a zero nonce.
    const nonce = a.has("nonce") ? a.raw("nonce") : 0;
    storage.setAccount(
      address.toLowerCase() as AddressHex,
      {
        balance: a.quantity("balance"),
        nonce: typeof nonce === "number" ? BigInt(nonce) : a.quantity("nonce"),
        codeHash,
      },
      slots,
    );
    if (codeHash !== EMPTY_CODE_HASH && !storage.codes.has(codeHash)) {
      const hex = codes?.[codeHash];
      if (inline === undefined && typeof hex !== "string") {
        throw new InputError(`code ${codeHash} of ${address} is not in ${codesFile ?? "any bytecodes.json"}`, file, `${address}.code_hash`);
      }
      storage.codes.set(codeHash, inline ?? hexToBytes(hex as Hex));
    }
  }
  return storage;
}

export function loadBlockDir(dir: string, options: LoadOptions = {}): LoadedBlock {
  const blockFile = join(dir, "block.json");
  const preFile = join(dir, "pre_state.json");
  if (!existsSync(blockFile)) throw new InputError("missing block.json", dir);
  if (!existsSync(preFile)) throw new InputError("missing pre_state.json", dir);
  const block = parseBlock(blockFile, readJson(blockFile));
  const codesFile = options.bytecodes ?? findSideFile(dir, "bytecodes.json");
  const codes = codesFile ? readJsonObjectCached(codesFile) : undefined;
  const storage = loadPreState(preFile, readJson(preFile), codes, codesFile);
  const hashesFile = options.blockHashes ?? findSideFile(dir, "block_hashes.json");
  if (hashesFile) {
    for (const [n, h] of Object.entries(readJsonObjectCached(hashesFile))) {
      if (typeof h !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(h)) {
        throw new InputError(`expected a 32-byte hash for block ${n}`, hashesFile, n);
      }
      storage.blockHashes.set(BigInt(n), h.toLowerCase() as Hex);
    }
  }
  return { dir, block, storage };
}

export const DEFAULT_CORPUS = resolve(dirname(import.meta.dir), "..", "data", "mainnet");
