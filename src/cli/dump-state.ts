import { lstatSync, readlinkSync, renameSync, rmSync, statSync, type Stats } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { constants as osConstants } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
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

/**
 * Writes the dump to `file` so that a failure never leaves a damaged file behind:
 * - a regular file (or a new one) is written to a temporary file next to it, synced, then
 *   renamed over it: a full disk or an error leaves the old file as it was, and the temporary
 *   file is removed, also when the run is interrupted (SIGINT, SIGTERM);
 * - a symbolic link is followed: the file it points to is replaced, the link stays;
 * - a FIFO or a character device (/dev/stdout, a pipe) is written to as a stream;
 * - anything else (a directory, a socket) is refused.
 * Every failure is an InputError naming the file, one line.
 */
export async function writeDump(file: string, text: string): Promise<void> {
  const fail = (message: string): never => {
    throw new InputError(message, file, "--dump-state");
  };
  const bytes = Buffer.from(text);
  const stat = statOrUndefined(file); // through symbolic links
  if (stat?.isDirectory()) fail("is a directory");
  if (stat !== undefined && (stat.isFIFO() || stat.isCharacterDevice())) {
    await writeStream(file, bytes).catch((e: Error) => fail(`cannot write: ${reason(e)}`));
    return;
  }
  if (stat !== undefined && !stat.isFile()) fail("is not a regular file, a FIFO or a character device");
  const target = followLinks(file, fail);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(temp, { force: true });
    process.exit(128 + (osConstants.signals[signal] ?? 15));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const handle = await open(temp, "wx", stat === undefined ? 0o666 : stat.mode & 0o7777);
    try {
      await writeAll(handle, bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    fail(`cannot write: ${reason(e as Error)}`);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * What can be known before the block runs: the target is not a directory or a socket, and
 * the directory it will be written in exists. Throws InputError.
 */
export function checkDumpTarget(file: string): void {
  const fail = (message: string): never => {
    throw new InputError(message, file, "--dump-state");
  };
  const stat = statOrUndefined(file);
  if (stat?.isDirectory()) fail("is a directory");
  if (stat !== undefined && !(stat.isFile() || stat.isFIFO() || stat.isCharacterDevice())) fail("is not a regular file, a FIFO or a character device");
  if (stat === undefined) {
    const dir = dirname(followLinks(file, fail));
    if (!statOrUndefined(dir)?.isDirectory()) fail(`cannot write: the directory ${dir} does not exist`);
  }
}

/** An fs error without the temporary file's name (which differs from run to run). */
function reason(e: Error): string {
  return e.message.replace(/, \w+ '[^']*'$/, "");
}

/** Written in pieces, so that a signal is handled while a large dump is being written. */
const CHUNK_BYTES = 1 << 20;

/** Every byte, or an error: a write may take fewer bytes than offered (a full disk does that first). */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, at, Math.min(CHUNK_BYTES, bytes.length - at));
    if (bytesWritten <= 0) throw new Error(`ENOSPC: no space left on device, wrote ${at} of ${bytes.length} bytes`);
    at += bytesWritten;
  }
}

async function writeStream(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "w");
  try {
    await writeAll(handle, bytes);
  } finally {
    await handle.close();
  }
}

/** The path a chain of symbolic links ends at (which need not exist yet). */
function followLinks(file: string, fail: (message: string) => never): string {
  let path = resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(path).isSymbolicLink()) return path;
      link = readlinkSync(path);
    } catch {
      return path; // does not exist: the new file is created here
    }
    path = resolve(dirname(path), link);
  }
  return fail("too many levels of symbolic links");
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function hex(v: bigint): string {
  return "0x" + v.toString(16);
}

function compareBigInt(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
