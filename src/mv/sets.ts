// Per-thread builders for a transaction's read and write sets. They live in the worker's own
// memory while the transaction executes and are copied into the shared arenas by
// MultiVersionMemory.recordReads / recordWrites.

/** Words in a value (meaning belongs to the engine; DELTA entries use words 0..7 and 10). */
export const VALUE_WORDS = 11;
/** Words of the 256-bit unsigned integer a DELTA adds: words 0..7, big-endian (word 0 = top 32 bits). */
export const DELTA_WORDS = 8;
/** The value word a DELTA ORs its flags into. */
export const DELTA_FLAGS_WORD = 10;

export const ReadStatus = {
  /** A full value written by a lower transaction (see ReadResult for the delta). */
  VALUE: 0,
  /** No full value below: read the pre-state, then add ReadResult.delta. */
  BASE: 1,
  /** A lower transaction's entry is an ESTIMATE: wait for ReadResult.blockingTx. */
  ESTIMATE: 2,
} as const;
export type ReadStatus = (typeof ReadStatus)[keyof typeof ReadStatus];

/** Origin transaction of a read that found no full value in the multi-version memory. */
export const BASE_ORIGIN = -1;

/**
 * Filled by MultiVersionMemory.read. Reuse one per thread.
 * - VALUE: `value` holds the full value WITH the accumulated delta already applied;
 *   txIdx/incarnation identify the full value's writer.
 * - BASE: txIdx = incarnation = BASE_ORIGIN; `value` is untouched; add `delta` (if
 *   deltaCount > 0) to the pre-state value yourself (see applyDelta).
 * - ESTIMATE: blockingTx is the transaction to wait for.
 * In every case `delta`/`deltaFlags` hold the sum of the DELTA entries walked through
 * (all zero when deltaCount is 0).
 */
export class ReadResult {
  readonly value = new Uint32Array(VALUE_WORDS);
  txIdx = BASE_ORIGIN;
  incarnation = BASE_ORIGIN;
  blockingTx = -1;
  readonly delta = new Uint32Array(DELTA_WORDS);
  deltaFlags = 0;
  deltaCount = 0;
}

/** value[0..7] += delta (mod 2^256); value[10] |= flags. */
export function applyDelta(value: Uint32Array, delta: ArrayLike<number>, flags: number): void {
  addWords256(value, delta);
  value[DELTA_FLAGS_WORD] = value[DELTA_FLAGS_WORD]! | flags;
}

/** target[0..7] += addend[0..7], both 256-bit big-endian words; wraps mod 2^256. */
export function addWords256(target: Uint32Array | Int32Array, addend: ArrayLike<number>): void {
  let carry = 0;
  for (let i = DELTA_WORDS - 1; i >= 0; i--) {
    const sum = (target[i]! >>> 0) + (addend[i]! >>> 0) + carry;
    carry = sum > 0xffffffff ? 1 : 0;
    target[i] = sum >>> 0;
  }
}

/** What recordWrites takes: `count` writes, write i is locIds[i] with value words values[11i..11i+10]. */
export interface WriteBatch {
  readonly count: number;
  readonly locIds: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  /** Non-zero: write i is a DELTA (add to the value below instead of replacing it). */
  readonly deltas: ArrayLike<number>;
}

/** A growable WriteBatch. Locations must be distinct within one batch. */
export class WriteSet implements WriteBatch {
  count = 0;
  locIds = new Int32Array(16);
  values = new Uint32Array(16 * VALUE_WORDS);
  deltas = new Uint8Array(16);

  clear(): void {
    this.count = 0;
  }

  add(locId: number, value: ArrayLike<number>, isDelta = false): void {
    const i = this.count;
    if (i === this.locIds.length) this.grow();
    this.locIds[i] = locId;
    this.deltas[i] = isDelta ? 1 : 0;
    const base = i * VALUE_WORDS;
    for (let w = 0; w < VALUE_WORDS; w++) this.values[base + w] = value[w]!;
    this.count = i + 1;
  }

  private grow(): void {
    const capacity = this.locIds.length * 2;
    const locIds = new Int32Array(capacity);
    locIds.set(this.locIds);
    const values = new Uint32Array(capacity * VALUE_WORDS);
    values.set(this.values);
    const deltas = new Uint8Array(capacity);
    deltas.set(this.deltas);
    this.locIds = locIds;
    this.values = values;
    this.deltas = deltas;
  }
}

/*
 * Read record layout (Int32 words), shared by ReadSet and the shared read arena:
 *   [0] locId
 *   [1] origin txIdx (BASE_ORIGIN when the read ended on the pre-state)
 *   [2] origin incarnation (BASE_ORIGIN likewise)
 *   [3] deltaCount: number of DELTA entries walked through
 *   only when deltaCount > 0:
 *   [4..11] accumulated delta words, [12] accumulated delta flags
 */
export const READ_RECORD_WORDS = 4;
export const READ_RECORD_DELTA_WORDS = READ_RECORD_WORDS + DELTA_WORDS + 1;

/** The reads of one incarnation, in the read-record layout above. */
export class ReadSet {
  words = new Int32Array(256);
  /** Words used. */
  length = 0;

  clear(): void {
    this.length = 0;
  }

  /** Records what `read` returned for locId (VALUE or BASE; ESTIMATE reads are not recorded). */
  add(locId: number, result: ReadResult): void {
    const size = result.deltaCount > 0 ? READ_RECORD_DELTA_WORDS : READ_RECORD_WORDS;
    if (this.length + size > this.words.length) {
      const words = new Int32Array(this.words.length * 2);
      words.set(this.words);
      this.words = words;
    }
    const w = this.words;
    const at = this.length;
    w[at] = locId;
    w[at + 1] = result.txIdx;
    w[at + 2] = result.incarnation;
    w[at + 3] = result.deltaCount;
    if (result.deltaCount > 0) {
      for (let i = 0; i < DELTA_WORDS; i++) w[at + READ_RECORD_WORDS + i] = result.delta[i]!;
      w[at + READ_RECORD_WORDS + DELTA_WORDS] = result.deltaFlags;
    }
    this.length = at + size;
  }
}
