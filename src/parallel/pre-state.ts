// The pre-state as the parallel engine reads it, whatever Storage the caller gave.
//
// A MemoryStorage is copied once into shared memory (SharedStorage) and every worker reads
// the copy. Any other Storage (a database, a cache over a node, a caller's own class) cannot
// be copied, and workers cannot call it: it lives on the calling thread. So workers ask the
// calling thread for each location they need, through a per-worker mailbox in shared memory,
// and wait for the answer (Atomics.wait: a worker may block, the calling thread never does;
// it serves with Atomics.waitAsync). Answers are cached per worker and run, so each location
// crosses once per worker. When the Storage throws, the calling thread keeps the error, every
// waiting worker is answered "failed", the run fails, and the engine rethrows the Storage's
// own error: the same error sequential execution raises.
import type { AddressHex, Hex } from "../chain/types.ts";
import { addressToWords, bigintToWords, hexToWords, wordsToAddress, wordsToBigInt, wordsToHex } from "../shm/words.ts";
import { NO_ACCOUNT } from "../state/shared-storage.ts";
import { EMPTY_CODE_HASH, type AccountInfo, type Storage } from "../state/types.ts";
import { ACCOUNT_EXISTS, FLAGS_WORD } from "./values.ts";

/** What the workers and the settle read of the pre-state (SharedStorage implements it too). */
export interface PreStateReader {
  /** A stable integer for an existing account, or NO_ACCOUNT. */
  accountHandle(address: AddressHex): number;
  /** accountHandle, given the address also as 5 words at words[offset..]: each reader looks it up by the form it keys on. */
  accountHandleAt(address: AddressHex, words: Uint32Array, offset: number): number;
  /** Balance (8 words) then nonce (2 words), in the shared word order, into out[offset..]. */
  readAccount(handle: number, out: Uint32Array, offset: number): void;
  codeHashOf(handle: number): Hex;
  /** A small integer naming the code of account `handle` (not NO_ACCOUNT), for codeHashOfRef: cheap to keep in a row. */
  codeRefOf(handle: number): number;
  codeHashOfRef(ref: number): Hex;
  account(address: AddressHex): AccountInfo | undefined;
  storage(address: AddressHex, slot: bigint): bigint;
  code(codeHash: Hex): Uint8Array | undefined;
  blockHash(number: bigint): Hex | undefined;
}

/**
 * The pre-state account `handle` as an ACCOUNT value (values.ts): its words are the value's,
 * with the EXISTS flag; zeros (no account) for NO_ACCOUNT.
 */
export function readAccountValue(base: PreStateReader, handle: number, out: Uint32Array): void {
  if (handle === NO_ACCOUNT) out.fill(0);
  else {
    base.readAccount(handle, out, 0);
    out[FLAGS_WORD] = ACCOUNT_EXISTS;
  }
}

/** The pre-state code hash of `handle` (the empty code's for NO_ACCOUNT). */
export function codeHashOfHandle(base: PreStateReader, handle: number): Hex {
  return handle === NO_ACCOUNT ? EMPTY_CODE_HASH : base.codeHashOf(handle);
}

/** A PreStateReader over any Storage, remembering every answer (one reader per thread and run). */
export class StorageReader implements PreStateReader {
  private readonly handles = new Map<AddressHex, number>();
  private readonly infos: AccountInfo[] = [];
  private readonly slots = new Map<AddressHex, Map<bigint, bigint>>();
  private readonly codes = new Map<Hex, Uint8Array | undefined>();
  private readonly hashes = new Map<bigint, Hex | undefined>();
  private readonly withStorage = new Map<AddressHex, boolean>();

  constructor(private readonly source: Storage) {}

  accountHandle(address: AddressHex): number {
    let handle = this.handles.get(address);
    if (handle === undefined) {
      const info = this.source.account(address);
      handle = info === undefined ? NO_ACCOUNT : this.infos.push(info) - 1;
      this.handles.set(address, handle);
    }
    return handle;
  }

  accountHandleAt(address: AddressHex): number {
    return this.accountHandle(address);
  }

  readAccount(handle: number, out: Uint32Array, offset: number): void {
    const info = this.infos[handle]!;
    bigintToWords(info.balance, out, offset, 8);
    bigintToWords(info.nonce, out, offset + 8, 2);
  }

  codeHashOf(handle: number): Hex {
    return this.infos[handle]!.codeHash;
  }

  codeRefOf(handle: number): number {
    return handle;
  }

  codeHashOfRef(ref: number): Hex {
    return this.infos[ref]!.codeHash;
  }

  account(address: AddressHex): AccountInfo | undefined {
    const handle = this.accountHandle(address);
    return handle === NO_ACCOUNT ? undefined : this.infos[handle];
  }

  storage(address: AddressHex, slot: bigint): bigint {
    let known = this.slots.get(address);
    if (known === undefined) this.slots.set(address, (known = new Map()));
    let value = known.get(slot);
    if (value === undefined) known.set(slot, (value = this.source.storage(address, slot)));
    return value;
  }

  code(codeHash: Hex): Uint8Array | undefined {
    if (!this.codes.has(codeHash)) this.codes.set(codeHash, this.source.code(codeHash));
    return this.codes.get(codeHash);
  }

  blockHash(number: bigint): Hex | undefined {
    if (!this.hashes.has(number)) this.hashes.set(number, this.source.blockHash(number));
    return this.hashes.get(number);
  }

  /** EIP-7610: an account without code and nonce that holds storage (see writes.ts). */
  isStorageOnly(address: AddressHex): boolean {
    let answer = this.withStorage.get(address);
    if (answer === undefined) {
      const info = this.account(address);
      answer = info !== undefined && info.nonce === 0n && info.codeHash === EMPTY_CODE_HASH && (this.source.hasStorage?.(address) ?? false);
      this.withStorage.set(address, answer);
    }
    return answer;
  }
}

/*
 * Mailboxes: one region per worker, MAILBOX_BYTES each, in one SharedArrayBuffer; word 0 of the
 * buffer's first cache line is the doorbell the calling thread waits on.
 *
 * A mailbox (Int32 words, then bytes):
 *   [0]      state: IDLE, ASKED (the worker wrote a request), ANSWERED, FAILED (the Storage threw)
 *   [1]      kind: ACCOUNT, STORAGE, CODE, BLOCK_HASH, HAS_STORAGE
 *   [2..6]   address (5 words)
 *   [7..14]  slot / code hash / block number (8 words)
 *   [16]     answer: 1 = present (account exists, block hash known, code found, has storage), 0 = not
 *   [17..24] balance, storage value or block hash (8 words)
 *   [25..26] nonce
 *   [27..34] code hash
 *   [35]     code length in bytes; the code at byte CODE_AT
 */
const DOORBELL_BYTES = 64;
const MAILBOX_BYTES = 1 << 20;
const CODE_AT = 256;
const MAX_CODE = MAILBOX_BYTES - CODE_AT;
const IDLE = 0;
const ASKED = 1;
const ANSWERED = 2;
const FAILED = 3;
const Kind = { ACCOUNT: 1, STORAGE: 2, CODE: 3, BLOCK_HASH: 4, HAS_STORAGE: 5 } as const;
const KIND = 1;
const ADDRESS = 2;
const KEY = 7;
const PRESENT = 16;
const VALUE = 17;
const NONCE = 25;
const CODE_HASH = 27;
const CODE_LENGTH = 35;
/** A worker that hears nothing for this long fails its run instead of waiting forever. */
const ANSWER_TIMEOUT_MS = 60_000;

export function createMailboxes(workers: number): SharedArrayBuffer {
  return new SharedArrayBuffer(DOORBELL_BYTES + workers * MAILBOX_BYTES);
}

/** One worker's mailbox, seen as words (signed, for Atomics; unsigned, for the codecs) and bytes. */
class Mailbox {
  readonly words: Int32Array;
  readonly u32: Uint32Array;
  readonly bytes: Uint8Array;

  constructor(mailboxes: SharedArrayBuffer, workerIndex: number) {
    const at = DOORBELL_BYTES + workerIndex * MAILBOX_BYTES;
    this.words = new Int32Array(mailboxes, at, MAILBOX_BYTES / 4);
    this.u32 = new Uint32Array(mailboxes, at, MAILBOX_BYTES / 4);
    this.bytes = new Uint8Array(mailboxes, at, MAILBOX_BYTES);
  }
}

/** The calling thread had no answer: the Storage threw (the engine rethrows its error). */
export class PreStateUnavailable extends Error {
  override name = "PreStateUnavailable";
}

/** Worker side: a Storage whose every read is a question to the calling thread. */
export class RemoteStorage implements Storage {
  private readonly box: Mailbox;
  private readonly doorbell: Int32Array;
  private readonly scratch = new Uint32Array(8);

  constructor(mailboxes: SharedArrayBuffer, workerIndex: number) {
    this.box = new Mailbox(mailboxes, workerIndex);
    this.doorbell = new Int32Array(mailboxes, 0, 1);
  }

  account(address: AddressHex): AccountInfo | undefined {
    this.ask(Kind.ACCOUNT, address);
    const u = this.box.u32;
    if (u[PRESENT] === 0) return undefined;
    return { balance: wordsToBigInt(u, VALUE, 8), nonce: wordsToBigInt(u, NONCE, 2), codeHash: wordsToHex(u, CODE_HASH, 8) };
  }

  storage(address: AddressHex, slot: bigint): bigint {
    bigintToWords(slot, this.scratch, 0, 8);
    this.ask(Kind.STORAGE, address, this.scratch);
    return wordsToBigInt(this.box.u32, VALUE, 8);
  }

  code(codeHash: Hex): Uint8Array | undefined {
    hexToWords(codeHash, this.scratch, 0, 8);
    this.ask(Kind.CODE, undefined, this.scratch);
    const u = this.box.u32;
    if (u[PRESENT] === 0) return undefined;
    return this.box.bytes.slice(CODE_AT, CODE_AT + u[CODE_LENGTH]!);
  }

  blockHash(number: bigint): Hex | undefined {
    if (number < 0n || number >= 1n << 256n) return undefined;
    bigintToWords(number, this.scratch, 0, 8);
    this.ask(Kind.BLOCK_HASH, undefined, this.scratch);
    if (this.box.u32[PRESENT] === 0) return undefined;
    return wordsToHex(this.box.u32, VALUE, 8);
  }

  hasStorage(address: AddressHex): boolean {
    this.ask(Kind.HAS_STORAGE, address);
    return this.box.u32[PRESENT] === 1;
  }

  private ask(kind: number, address?: AddressHex, key?: Uint32Array): void {
    const { words: w, u32: u } = this.box;
    w[KIND] = kind;
    if (address !== undefined) addressToWords(address, u, ADDRESS);
    if (key !== undefined) u.set(key, KEY);
    // The state store publishes the request words above; the doorbell wakes the calling thread.
    Atomics.store(w, 0, ASKED);
    Atomics.add(this.doorbell, 0, 1);
    Atomics.notify(this.doorbell, 0);
    const deadline = performance.now() + ANSWER_TIMEOUT_MS;
    let state = Atomics.load(w, 0);
    while (state === ASKED) {
      if (Atomics.wait(w, 0, ASKED, Math.max(1, deadline - performance.now())) === "timed-out" && performance.now() >= deadline) {
        throw new PreStateUnavailable(`the calling thread did not answer a pre-state read within ${ANSWER_TIMEOUT_MS} ms`);
      }
      state = Atomics.load(w, 0);
    }
    Atomics.store(w, 0, IDLE);
    if (state === FAILED) throw new PreStateUnavailable("the pre-state Storage failed on the calling thread");
  }
}

/**
 * Calling-thread side: answers the workers' questions from the Storage until stop() is called.
 * The first error the Storage throws is kept (error) and every later question is answered FAILED.
 */
export class PreStateServer {
  error: { value: unknown } | undefined;
  private stopped = false;
  private readonly doorbell: Int32Array;
  private readonly reader: StorageReader;
  private readonly boxes: Mailbox[];

  constructor(mailboxes: SharedArrayBuffer, workers: number, storage: Storage) {
    this.doorbell = new Int32Array(mailboxes, 0, 1);
    this.reader = new StorageReader(storage);
    this.boxes = Array.from({ length: workers }, (_, i) => new Mailbox(mailboxes, i));
  }

  /** Serves until stop(); resolves when the loop has ended. */
  async serve(): Promise<void> {
    let seen = Atomics.load(this.doorbell, 0);
    while (!this.stopped) {
      this.answerAll();
      const wait = Atomics.waitAsync(this.doorbell, 0, seen, 100);
      if (wait.async) await wait.value;
      seen = Atomics.load(this.doorbell, 0);
    }
    this.answerAll();
  }

  stop(): void {
    this.stopped = true;
    Atomics.add(this.doorbell, 0, 1);
    Atomics.notify(this.doorbell, 0);
  }

  private answerAll(): void {
    for (const box of this.boxes) {
      const w = box.words;
      if (Atomics.load(w, 0) !== ASKED) continue;
      let state = ANSWERED;
      if (this.error !== undefined) state = FAILED;
      else {
        try {
          this.answer(box);
        } catch (error) {
          this.error = { value: error };
          state = FAILED;
        }
      }
      Atomics.store(w, 0, state);
      Atomics.notify(w, 0);
    }
  }

  private answer({ words: w, u32: u, bytes }: Mailbox): void {
    const reader = this.reader;
    switch (w[KIND]) {
      case Kind.ACCOUNT: {
        const handle = reader.accountHandle(wordsToAddress(u, ADDRESS));
        w[PRESENT] = handle === NO_ACCOUNT ? 0 : 1;
        if (handle !== NO_ACCOUNT) {
          reader.readAccount(handle, u, VALUE);
          hexToWords(reader.codeHashOf(handle), u, CODE_HASH, 8);
        }
        return;
      }
      case Kind.STORAGE:
        bigintToWords(reader.storage(wordsToAddress(u, ADDRESS), wordsToBigInt(u, KEY, 8)), u, VALUE, 8);
        return;
      case Kind.CODE: {
        const hash = wordsToHex(u, KEY, 8);
        const code = reader.code(hash);
        w[PRESENT] = code === undefined ? 0 : 1;
        if (code !== undefined) {
          if (code.length > MAX_CODE) throw new RangeError(`code ${hash} is ${code.length} bytes, more than the ${MAX_CODE} a worker can be sent`);
          w[CODE_LENGTH] = code.length;
          bytes.set(code, CODE_AT);
        }
        return;
      }
      case Kind.BLOCK_HASH: {
        const hash = reader.blockHash(wordsToBigInt(u, KEY, 8));
        w[PRESENT] = hash === undefined ? 0 : 1;
        if (hash !== undefined) hexToWords(hash, u, VALUE, 8);
        return;
      }
      case Kind.HAS_STORAGE:
        w[PRESENT] = reader.isStorageOnly(wordsToAddress(u, ADDRESS)) ? 1 : 0;
        return;
    }
    throw new Error(`unknown pre-state question ${w[KIND]}`);
  }
}
