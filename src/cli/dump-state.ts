import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { bytesToHex } from "@ethereumjs/util";
import { InputError } from "../chain/errors.ts";
import { EMPTY_CODE_HASH } from "../state/types.ts";
import type { MemoryStorage } from "../state/memory.ts";

/**
 * The pre_state.json format, so that a dumped post-state loads as the next block's pre-state:
 * { address: { balance: hex, nonce: number, code_hash?, code?: hex, storage: { slot: value } } }.
 * Keys are sorted so that dumps diff cleanly.
 */
export function serializePreState(storage: MemoryStorage): string {
  const out: Record<string, unknown> = {};
  for (const address of [...storage.accounts.keys()].sort()) {
    const account = storage.accounts.get(address)!;
    const slots: Record<string, string> = {};
    for (const slot of [...account.storage.keys()].sort(compareBigInt)) {
      const value = account.storage.get(slot)!;
      if (value !== 0n) slots[hex(slot)] = hex(value);
    }
    const entry: Record<string, unknown> = {
      balance: hex(account.balance),
      // The loader reads a number or a hex quantity; a number while it is exact.
      nonce: account.nonce <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(account.nonce) : hex(account.nonce),
    };
    if (account.codeHash !== EMPTY_CODE_HASH) {
      const code = storage.code(account.codeHash);
      entry.code_hash = account.codeHash;
      if (code !== undefined) entry.code = bytesToHex(code);
    }
    entry.storage = slots;
    out[address] = entry;
  }
  return JSON.stringify(out) + "\n";
}

/** Writes to a temporary file next to `file`, then renames: readers never see half a file. */
export function writeFileAtomic(file: string, text: string): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, "w");
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new InputError(`cannot write: ${(e as Error).message}`, file, "--dump-state");
  }
}

function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
