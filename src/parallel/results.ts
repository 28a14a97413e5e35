/**
 * Per-transaction results of the parallel run in shared memory, so that 50,000 receipts do
 * not travel back as postMessage object graphs. Each transaction's slot is written by the
 * execution of its latest incarnation (incarnations of one transaction never overlap in
 * time, so there is one writer at a time); the main thread reads it after the run.
 *
 * Layout, RESULT_WORDS Int32 words per transaction (Float64 fields on 8-byte boundaries):
 *   [0] incarnation + 1 (0 = never executed)
 *   [1] flags: STATUS_SUCCESS, HAS_DETAILS (logs, a created contract or an invalidity,
 *       reported by the worker in its final message)
 *   [2..3] gasUsed as a Float64 (gas fits 2^53)
 *   [4..5] blobGasUsed as a Float64
 */
export const RESULT_WORDS = 6;
export const STATUS_SUCCESS = 1;
export const HAS_DETAILS = 2;

export class TxResults {
  readonly words: Int32Array;
  readonly floats: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.floats = new Float64Array(buffer);
  }

  static create(txCapacity: number): TxResults {
    return new TxResults(new SharedArrayBuffer(Math.max(1, txCapacity) * RESULT_WORDS * 4));
  }

  get capacity(): number {
    return this.words.length / RESULT_WORDS;
  }

  reset(txCount: number): void {
    this.words.fill(0, 0, txCount * RESULT_WORDS);
  }

  write(tx: number, incarnation: number, success: boolean, hasDetails: boolean, gasUsed: bigint, blobGasUsed: bigint): void {
    const at = tx * RESULT_WORDS;
    this.words[at + 1] = (success ? STATUS_SUCCESS : 0) | (hasDetails ? HAS_DETAILS : 0);
    this.floats[(at + 2) / 2] = Number(gasUsed);
    this.floats[(at + 4) / 2] = Number(blobGasUsed);
    Atomics.store(this.words, at, incarnation + 1);
  }

  incarnation(tx: number): number {
    return Atomics.load(this.words, tx * RESULT_WORDS) - 1;
  }

  flags(tx: number): number {
    return this.words[tx * RESULT_WORDS + 1]!;
  }

  gasUsed(tx: number): bigint {
    return BigInt(this.floats[(tx * RESULT_WORDS + 2) / 2]!);
  }

  blobGasUsed(tx: number): bigint {
    return BigInt(this.floats[(tx * RESULT_WORDS + 4) / 2]!);
  }
}
