import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { bytesToHex } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { InputError } from "../chain/errors.ts";
import { address, hash32, hexBytes, MAX_UINT256, MAX_UINT64, parseBlock, readerFor, slotKey } from "../chain/json.ts";
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

/** Code by hash from a bytecodes.json, each entry checked (hex, and hashing to its key) on first use. */
class CodeSource {
  private readonly checked = new Map<string, Uint8Array>();

  constructor(
    readonly file: string | undefined,
    private readonly entries: Record<string, unknown> | undefined,
  ) {}

  get(codeHash: Hex): Uint8Array | undefined {
    const known = this.checked.get(codeHash);
    if (known !== undefined) return known;
    if (this.entries === undefined) return undefined;
    const key = Object.hasOwn(this.entries, codeHash) ? codeHash : findKey(this.entries, codeHash);
    if (key === undefined) return undefined;
    // Codes given without a file (a caller's object) are named as such in an error.
    const file = this.file ?? "bytecodes";
    const code = hexBytes(file, key, this.entries[key]);
    const actual = keccakHex(code);
    if (actual !== codeHash) throw new InputError(`the code hashes to ${actual}, not to its key`, file, key);
    this.checked.set(codeHash, code);
    return code;
  }
}

/** A key of `entries` equal to `hash` but for letter case (a checksummed or uppercase key). */
function findKey(entries: Record<string, unknown>, hash: Hex): string | undefined {
  return Object.keys(entries).find((k) => k.toLowerCase() === hash);
}

const codeSources = new WeakMap<Record<string, unknown>, CodeSource>();
function codeSourceFor(codes: Record<string, unknown> | undefined, file: string | undefined): CodeSource {
  if (codes === undefined) return new CodeSource(file, undefined);
  let source = codeSources.get(codes);
  if (source === undefined) {
    source = new CodeSource(file, codes);
    codeSources.set(codes, source);
  }
  return source;
}

function keccakHex(bytes: Uint8Array): Hex {
  return bytesToHex(keccak_256(bytes)) as Hex;
}

/**
 * A pre_state.json: `{ address: { balance, nonce, code_hash?, code?, storage? } }`. Addresses
 * may be in any letter case, but one account may appear only once; inline code must hash to
 * `code_hash`, and code only referenced by hash must be in bytecodes.json.
 */
export function loadPreState(file: string, json: unknown, codes: Record<string, unknown> | undefined, codesFile: string | undefined): MemoryStorage {
  const storage = new MemoryStorage();
  const codeSource = codeSourceFor(codes, codesFile);
  const r = readerFor(file, json);
  const seen = new Map<AddressHex, string>();
  for (const [key, value] of Object.entries(r.obj)) {
    // The corpus shape names code by hash (code in bytecodes.json); the prestateTracer's shape
    // carries it inline without a hash and leaves out a zero nonce.
    const addr = address(file, key, key);
    const earlier = seen.get(addr);
    if (earlier !== undefined) throw new InputError(`the same account as ${JSON.stringify(earlier)} (addresses are case-insensitive)`, file, key);
    seen.set(addr, key);
    const a = r.child(key, value);
    const inline = a.has("code") ? a.bytes("code") : undefined;
    let codeHash = a.has("code_hash") ? a.hash("code_hash") : undefined;
    if (inline !== undefined) {
      const actual = inline.length === 0 ? EMPTY_CODE_HASH : keccakHex(inline);
      if (codeHash !== undefined && codeHash !== actual) a.fail("code", `the code hashes to ${actual}, not to code_hash ${codeHash}`);
      codeHash = actual;
    }
    codeHash ??= EMPTY_CODE_HASH;
    const slots = new Map<bigint, bigint>();
    if (a.has("storage")) {
      const s = a.child("storage", a.raw("storage"));
      for (const [slot, v] of Object.entries(s.obj)) {
        const k = slotKey(file, s.at(slot), slot);
        if (slots.has(k)) s.fail(slot, "the same slot twice (slots are numbers: 0x01 and 0x1 are one slot)");
        const slotValue = s.quantity(slot, MAX_UINT256);
        if (slotValue !== 0n) slots.set(k, slotValue);
      }
    }
    storage.setAccount(addr, { balance: a.quantity("balance", MAX_UINT256), nonce: a.has("nonce") ? a.quantity("nonce", MAX_UINT64) : 0n, codeHash }, slots);
    if (codeHash !== EMPTY_CODE_HASH && !storage.codes.has(codeHash)) {
      const code = inline ?? codeSource.get(codeHash);
      if (code === undefined) {
        throw new InputError(`code ${codeHash} of ${addr} is not in ${codesFile ?? "any bytecodes.json"}`, file, `${key}.code_hash`);
      }
      storage.codes.set(codeHash, code);
    }
  }
  return storage;
}

/** block_hashes.json: `{ "<decimal block number>": "0x<32-byte hash>" }`. */
export function loadBlockHashes(file: string, json: Record<string, unknown>, storage: MemoryStorage): void {
  for (const [n, h] of Object.entries(json)) {
    const number = /^(0|[1-9][0-9]*)$/.test(n) ? BigInt(n) : /^0x[0-9a-fA-F]+$/.test(n) ? BigInt(n) : undefined;
    if (number === undefined || number > MAX_UINT64) throw new InputError(`expected a block number as key, got ${JSON.stringify(n)}`, file, n);
    storage.blockHashes.set(number, hash32(file, n, h));
  }
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
  if (hashesFile) loadBlockHashes(hashesFile, readJsonObjectCached(hashesFile), storage);
  return { dir, block, storage };
}

export const DEFAULT_CORPUS = resolve(dirname(import.meta.dir), "..", "data", "mainnet");
