// The word half of settling the accounts, shared out over the executors once a run is done:
// each written account's final value, read from the multi-version memory and merged with its
// pre-state and credits, as words in shared memory. The calling thread builds the JS objects
// from these rows (settle.ts), chunk after chunk, while the workers fill the chunks ahead of
// it. Why: on the block of 47,620 plain transfers the settle took ~30 % of a 2-executor run,
// on the calling thread alone while the worker sat idle, and about half of it is this word
// work, which any thread can do.
import { KEY_ADDRESS, KEY_WORDS, LocationKind, ReadResult, ReadStatus, VALUE_WORDS, applyDelta, type MultiVersionMemory } from "../mv/index.ts";
import type { AddressHex } from "../chain/types.ts";
import { wordsToAddress } from "../shm/words.ts";
import { NO_ACCOUNT, SharedStorage } from "../state/shared-storage.ts";
import { readAccountValue, type PreStateReader } from "./pre-state.ts";

/**
 * Layout, one SharedArrayBuffer of Int32 words, made for `chunks` chunks:
 *   [0]                    the next chunk to claim (Atomics.add)
 *   [1 .. 1 + chunks)      chunk k's rows are complete: 1 (Atomics.store after its rows)
 *   then ROW_WORDS per location id; chunk k holds the rows of ids [k * CHUNK_IDS, (k + 1) * CHUNK_IDS)
 *   (only ACCOUNT locations' rows are filled; the others are left as they are):
 *     [0] ROW_WRITTEN; 0 when no transaction wrote the account (nothing else set)
 *     [1] the pre-state code's ref (PreStateReader.codeRefOf; NO_CODE_REF without an account):
 *         read here, so that the calling thread need not touch the pre-state's account again
 *     [2 .. 2 + VALUE_WORDS) the final ACCOUNT value, merged with the pre-state and credits
 * A chunk's rows are written before its flag and read after it, never half-written: a thread
 * that finds a chunk claimed but not complete fills it again into rows of its own.
 */
export const CHUNK_IDS = 1024;
export const ROW_WORDS = 2 + VALUE_WORDS;
export const ROW_WRITTEN = 1;
export const ROW_CODE_REF = 1;
export const ROW_VALUE = 2;
export const NO_CODE_REF = -1;

const CURSOR = 0;
const COMPLETE_FLAGS = 1;

export class SettleRows {
  readonly words: Int32Array;
  /** The same words, unsigned (values are read as such). */
  readonly values: Uint32Array;
  readonly maxChunks: number;
  private readonly rowsAt: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.values = new Uint32Array(buffer);
    this.maxChunks = (this.words.length - COMPLETE_FLAGS) / (1 + CHUNK_IDS * ROW_WORDS);
    this.rowsAt = COMPLETE_FLAGS + this.maxChunks;
  }

  /** Rows for `locationCapacity` location ids. */
  static create(locationCapacity: number): SettleRows {
    const chunks = Math.ceil(Math.max(1, locationCapacity) / CHUNK_IDS);
    return new SettleRows(new SharedArrayBuffer(4 * (COMPLETE_FLAGS + chunks * (1 + CHUNK_IDS * ROW_WORDS))));
  }

  get idCapacity(): number {
    return this.maxChunks * CHUNK_IDS;
  }

  /** Before a run: nothing claimed, nothing complete. */
  reset(): void {
    this.words.fill(0, 0, this.rowsAt);
  }

  /** The word offset of the row of location `id`. */
  rowOf(id: number): number {
    return this.rowsAt + id * ROW_WORDS;
  }

  /** Claims the next chunk of `chunks`, or returns -1 when all are claimed. */
  claim(chunks: number): number {
    const chunk = Atomics.add(this.words, CURSOR, 1);
    return chunk < chunks ? chunk : -1;
  }

  isComplete(chunk: number): boolean {
    return Atomics.load(this.words, COMPLETE_FLAGS + chunk) === 1;
  }

  /** Fills a claimed chunk's rows, then flags it complete (the store publishes the rows). */
  fillClaimed(chunk: number, filler: RowFiller): void {
    filler.fill(chunk, this.values, this.rowOf(chunk * CHUNK_IDS));
    Atomics.store(this.words, COMPLETE_FLAGS + chunk, 1);
  }

  /**
   * A worker's part, once the run is done (the rows are final values): claims and fills chunks
   * until none is left. Returns how many it filled.
   */
  fillWhileUnclaimed(filler: RowFiller): number {
    const chunks = chunksOf(filler.mv);
    let filled = 0;
    for (let chunk = this.claim(chunks); chunk >= 0; chunk = this.claim(chunks)) {
      this.fillClaimed(chunk, filler);
      filled++;
    }
    return filled;
  }
}

/** How many chunks the run's locations take (its location table is final once the run is done). */
export function chunksOf(mv: MultiVersionMemory): number {
  return Math.ceil(mv.locations.count / CHUNK_IDS);
}

/** Resolves an ACCOUNT location to its pre-state handle (key: the location's key words). */
export type HandleOf = (id: number, key: Uint32Array) => number;

/**
 * How a thread resolves account locations against `base`: a pre-state in shared memory by the
 * key's words alone (its handles are the same on every thread); any other reader by the
 * address, made into hex where `knownAddresses` does not have it (only the calling thread's
 * reader answers for the Storage, so only it settles such a run).
 */
export function accountHandleResolver(base: PreStateReader, knownAddresses: readonly (AddressHex | undefined)[] = []): HandleOf {
  if (base instanceof SharedStorage) return (_id, key) => base.findAccount(key, KEY_ADDRESS);
  return (id, key) => base.accountHandle(knownAddresses[id] ?? wordsToAddress(key, KEY_ADDRESS));
}

/** Fills rows for one thread (its own read result and scratch). */
export class RowFiller {
  private readonly result = new ReadResult();
  private readonly key = new Uint32Array(KEY_WORDS);
  private readonly account = new Uint32Array(VALUE_WORDS);

  constructor(
    readonly mv: MultiVersionMemory,
    private readonly base: PreStateReader,
    private readonly handleOf: HandleOf,
  ) {}

  /** The ACCOUNT rows of chunk `chunk` into out[at..] (ROW_WORDS per location id; other ids skipped). */
  fill(chunk: number, out: Uint32Array, at: number): void {
    const { mv, result, key, account } = this;
    const locations = mv.locations;
    const end = Math.min(locations.count, (chunk + 1) * CHUNK_IDS);
    for (let id = chunk * CHUNK_IDS; id < end; id++, at += ROW_WORDS) {
      if (locations.kindOf(id) !== LocationKind.ACCOUNT) continue;
      const status = mv.finalValue(id, result);
      // BASE without deltas: nobody wrote it (only read it, or wrote and then un-wrote it).
      if (status === ReadStatus.BASE && result.deltaCount === 0) {
        out[at] = 0;
        continue;
      }
      out[at] = ROW_WRITTEN;
      const handle = this.handleOf(id, locations.keyWordsOf(id, key));
      out[at + ROW_CODE_REF] = handle === NO_ACCOUNT ? NO_CODE_REF : this.base.codeRefOf(handle);
      if (status === ReadStatus.VALUE) out.set(result.value, at + ROW_VALUE);
      else {
        // The pre-state's account with the final credits on top.
        readAccountValue(this.base, handle, account);
        if (result.deltaCount > 0) applyDelta(account, result.delta, result.deltaFlags);
        out.set(account, at + ROW_VALUE);
      }
    }
  }
}

/**
 * The calling thread's view of the rows while it settles, chunk by chunk in id order: a chunk
 * a worker completed is read where it is; one not claimed yet is claimed and filled here
 * (with any unclaimed chunk before it, which costs nothing when it holds no account); one a
 * worker still fills is filled again into this thread's own rows, so that nothing waits on a
 * worker (one that died mid-chunk cannot hang the settle). Without shared rows (workers that
 * cannot resolve the pre-state's handles), every chunk is filled here.
 */
export class AccountRows {
  /** The rows of the chunk being read: values[at] is the row of its first id. */
  values: Uint32Array;
  private at = 0;
  private chunk = -1;
  private readonly chunks: number;
  private own: Uint32Array | undefined;

  constructor(
    private readonly shared: SettleRows | undefined,
    private readonly filler: RowFiller,
  ) {
    this.chunks = chunksOf(filler.mv);
    this.values = shared?.values ?? new Uint32Array(0);
  }

  /** The word offset, in `values`, of location `id`'s row (ids in ascending order). */
  rowOf(id: number): number {
    const chunk = (id / CHUNK_IDS) | 0;
    if (chunk !== this.chunk) this.enter(chunk);
    return this.at + (id - chunk * CHUNK_IDS) * ROW_WORDS;
  }

  private enter(chunk: number): void {
    this.chunk = chunk;
    const shared = this.shared;
    if (shared !== undefined) {
      while (!shared.isComplete(chunk)) {
        const claimed = shared.claim(this.chunks);
        if (claimed < 0) break; // every chunk claimed: the worker filling this one is not waited for
        shared.fillClaimed(claimed, this.filler);
      }
      if (shared.isComplete(chunk)) {
        this.values = shared.values;
        this.at = shared.rowOf(chunk * CHUNK_IDS);
        return;
      }
    }
    this.own ??= new Uint32Array(CHUNK_IDS * ROW_WORDS);
    this.filler.fill(chunk, this.own, 0);
    this.values = this.own;
    this.at = 0;
  }
}
