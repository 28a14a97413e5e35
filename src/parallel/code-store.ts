import { bytesToHex } from "@ethereumjs/util";
import type { Hex } from "../chain/types.ts";

/**
 * Code created during the block, shared between workers. Creations are rare (a handful per
 * block), so this is an append-only log scanned linearly, with a per-thread cache.
 *
 * Layout of the SharedArrayBuffer (Int32 words):
 *   [0]  cursor: next free word (starts at HEADER_WORDS)
 *   [HEADER_WORDS..] records: [ready, byteLength, hash (8 words, big-endian), bytes padded to 4]
 * A writer reserves a record with Atomics.add on the cursor, fills it, then publishes it with
 * Atomics.store(ready = 1). The CODE location that names the hash is written only after that,
 * so a reader that finds the hash in the multi-version memory also finds the record. Records
 * are published in any order: a reader that meets a reserved, unpublished one waits for it
 * (its writer is between two stores), or it would miss a published record behind it. A record
 * that did not fit is marked ABANDONED (2): it and everything reserved after it never come.
 */
const PUBLISHED = 1;
const ABANDONED = 2;
const HEADER_WORDS = 16;
const RECORD_HEADER_WORDS = 10;

export class CodeStore {
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly cache = new Map<Hex, Uint8Array>();
  private scanned = HEADER_WORDS;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
  }

  static create(byteLength = 1 << 20): CodeStore {
    const store = new CodeStore(new SharedArrayBuffer(byteLength));
    store.reset();
    return store;
  }

  /**
   * Main thread, between blocks (workers attach a new CodeStore per block). The used records
   * are zeroed, not only forgotten: a reader takes a nonzero ready word as a published record,
   * so one left over from the last block, met where this block's writer has reserved but not
   * yet published, would be read as this block's record (its stale length then misaligns the
   * scan and the new record behind it is missed).
   */
  reset(): void {
    const used = Math.min(Atomics.load(this.words, 0), this.words.length);
    if (used > HEADER_WORDS) this.words.fill(0, HEADER_WORDS, used);
    Atomics.store(this.words, 0, HEADER_WORDS);
    this.cache.clear();
    this.scanned = HEADER_WORDS;
  }

  put(hash: Hex, code: Uint8Array): void {
    if (this.get(hash) !== undefined) return;
    const size = RECORD_HEADER_WORDS + Math.ceil(code.length / 4);
    const at = Atomics.add(this.words, 0, size);
    if ((at + size) * 4 > this.buffer.byteLength) {
      if (at < this.words.length) Atomics.store(this.words, at, ABANDONED);
      throw new CodeStoreFullError(this.buffer.byteLength);
    }
    this.words[at + 1] = code.length;
    for (let i = 0; i < 8; i++) this.words[at + 2 + i] = Number.parseInt(hash.slice(2 + i * 8, 10 + i * 8), 16) | 0;
    this.bytes.set(code, (at + RECORD_HEADER_WORDS) * 4);
    Atomics.store(this.words, at, PUBLISHED);
    this.cache.set(hash, code);
  }

  get(hash: Hex): Uint8Array | undefined {
    const hit = this.cache.get(hash);
    if (hit !== undefined) return hit;
    const end = Math.min(Atomics.load(this.words, 0), this.words.length);
    let at = this.scanned;
    while (at < end) {
      let ready = Atomics.load(this.words, at);
      while (ready === 0) ready = Atomics.load(this.words, at); // reserved: its writer is about to publish
      if (ready === ABANDONED) break;
      const length = this.words[at + 1]!;
      const start = (at + RECORD_HEADER_WORDS) * 4;
      const hashBytes = new Uint8Array(32);
      for (let i = 0; i < 8; i++) hashBytes.set(u32be(this.words[at + 2 + i]!), i * 4);
      const code = this.bytes.slice(start, start + length);
      this.cache.set(bytesToHex(hashBytes) as Hex, code);
      at += RECORD_HEADER_WORDS + Math.ceil(length / 4);
      this.scanned = at;
    }
    return this.cache.get(hash);
  }
}

function u32be(w: number): Uint8Array {
  return Uint8Array.of((w >>> 24) & 255, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
}

export class CodeStoreFullError extends Error {
  override name = "CodeStoreFullError";
  constructor(bytes: number) {
    super(`code created in the block exceeds the shared code store (${bytes} bytes)`);
  }
}
