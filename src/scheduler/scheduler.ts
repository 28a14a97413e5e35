// Block-STM's collaborative scheduler (Gelashvili et al. 2022, Algorithms 4-5) over one
// SharedArrayBuffer region, so every Bun Worker attached to it shares the same state.
// The region layout is documented in layout.ts.
//
// Invariant kept throughout: every claimed task holds one unit of activeTasks; handing a
// follow-up task back to the caller (finishExecution/finishValidation returning true) passes
// that unit on, otherwise the unit is released exactly once. check_done relies on it.
import { defaultAllocator, type SharedAllocator } from "../shm/region.ts";
import * as L from "./layout.ts";
import type { SchedulerStats } from "./stats.ts";
import { incarnationOf, packStatus, statusOf, TxStatus } from "./status.ts";
import { type Task, TaskKind } from "./task.ts";

/** Where the scheduler's words live (src/shm/region.ts; the engine passes the cache-line allocator). */
export type SchedulerAllocator = SharedAllocator;

/** Plain data: survives postMessage, and Scheduler.attach rebuilds the scheduler from it. */
export interface SchedulerDescriptor {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  maxTxs: number;
}

/** How a thread with nothing to do waits; per thread, so workers may differ. */
export interface IdleOptions {
  /** Atomics.load checks before parking (each ~ns; a cross-thread hand-off by spinning is ~0.3 µs). */
  spinLimit?: number;
  /** Upper bound on one Atomics.wait; only a safety net, since wakers notify parked threads. */
  parkTimeoutMs?: number;
}

export const HALT_NONE = 0;
/** Conventional halt code for "a worker threw". Any non-zero code works. */
export const HALT_WORKER_ERROR = 1;

const DEFAULT_SPIN_LIMIT = 2000;
const DEFAULT_PARK_TIMEOUT_MS = 5;
/** A lock holder is only preempted mid-section when threads outnumber cores; then sleep, don't burn its CPU. */
const LOCK_SPINS_BEFORE_SLEEP = 128;
const LOCK_SLEEP_MS = 0.02;


export class Scheduler {
  private readonly words: Int32Array;
  private readonly spinLimit: number;
  private readonly parkTimeoutMs: number;

  private constructor(
    private readonly desc: SchedulerDescriptor,
    idle: IdleOptions,
  ) {
    this.words = new Int32Array(desc.buffer, desc.byteOffset, L.regionWords(desc.maxTxs));
    this.spinLimit = idle.spinLimit ?? DEFAULT_SPIN_LIMIT;
    this.parkTimeoutMs = idle.parkTimeoutMs ?? DEFAULT_PARK_TIMEOUT_MS;
  }

  /** A scheduler for blocks of up to maxTxs transactions, reset for an empty block. */
  static create(maxTxs: number, allocator: SchedulerAllocator = defaultAllocator, idle: IdleOptions = {}): Scheduler {
    if (!Number.isInteger(maxTxs) || maxTxs < 0 || maxTxs > 0x3fff_ffff) throw new RangeError(`bad maxTxs ${maxTxs}`);
    const byteLength = L.regionWords(maxTxs) * 4;
    const { buffer, byteOffset } = allocator(byteLength);
    if (byteOffset % 4 !== 0 || byteOffset + byteLength > buffer.byteLength) {
      throw new RangeError(`allocator returned an unusable region (offset ${byteOffset}, need ${byteLength} bytes)`);
    }
    const scheduler = new Scheduler({ buffer, byteOffset, maxTxs }, idle);
    Atomics.store(scheduler.words, L.MAX_TXS, maxTxs);
    scheduler.reset(0);
    return scheduler;
  }

  /** The same shared scheduler, seen from another thread. */
  static attach(descriptor: SchedulerDescriptor, idle: IdleOptions = {}): Scheduler {
    return new Scheduler(descriptor, idle);
  }

  descriptor(): SchedulerDescriptor {
    return { buffer: this.desc.buffer, byteOffset: this.desc.byteOffset, maxTxs: this.desc.maxTxs };
  }

  get maxTxs(): number {
    return this.desc.maxTxs;
  }

  get txCount(): number {
    return Atomics.load(this.words, L.TX_COUNT);
  }

  /**
   * Prepare for a block of txCount transactions. Only while no worker is inside the scheduler
   * (between runs); the final generation store publishes everything to threads that load it.
   */
  reset(txCount: number): void {
    if (!Number.isInteger(txCount) || txCount < 0 || txCount > this.desc.maxTxs) {
      throw new RangeError(`txCount ${txCount} outside [0, ${this.desc.maxTxs}]`);
    }
    const w = this.words;
    for (const word of [L.EXECUTION_IDX, L.VALIDATION_IDX, L.DECREASE_CNT, L.ACTIVE_TASKS, L.DONE_MARKER, L.HALT_CODE, L.STOPPED]) {
      Atomics.store(w, word, 0);
    }
    for (let s = L.STATS; s < L.STATS + L.LINE_WORDS; s++) Atomics.store(w, s, 0);
    Atomics.store(w, L.SLEEPERS, 0);
    Atomics.store(w, L.TX_COUNT, txCount);
    for (let tx = 0; tx < txCount; tx++) {
      const base = L.TX_BASE + tx * L.TX_WORDS;
      w[base + L.TX_STATUS] = packStatus(TxStatus.ReadyToExecute, 0);
      w[base + L.TX_LOCK] = 0;
      w[base + L.TX_DEP_HEAD] = L.NO_TX;
      w[base + L.TX_DEP_NEXT] = L.NO_TX;
    }
    Atomics.add(w, L.GENERATION, 1);
  }

  /** Increments on every reset; a worker loading it also sees the reset's plain writes. */
  generation(): number {
    return Atomics.load(this.words, L.GENERATION);
  }

  // ---------------------------------------------------------------- task claiming

  /**
   * Claim the next task (Block-STM next_task). Never blocks: RetryLater means nothing is
   * claimable right now but the block is not finished; call waitForWork() and retry.
   */
  nextTask(out: Task): void {
    const w = this.words;
    const txCount = Atomics.load(w, L.TX_COUNT);
    for (;;) {
      if (Atomics.load(w, L.STOPPED) !== 0) {
        out.set(TaskKind.Done, -1, -1);
        return;
      }
      const validationIdx = Atomics.load(w, L.VALIDATION_IDX);
      const executionIdx = Atomics.load(w, L.EXECUTION_IDX);
      if (validationIdx < executionIdx) {
        if (validationIdx >= txCount) break;
        if (this.tryClaimValidation(out, txCount)) return;
      } else {
        if (executionIdx >= txCount) break;
        if (this.tryClaimExecution(out, txCount)) return;
      }
    }
    this.checkDone(txCount);
    out.set(Atomics.load(w, L.STOPPED) !== 0 ? TaskKind.Done : TaskKind.RetryLater, -1, -1);
  }

  /** next_version_to_execute, after the caller saw executionIdx < txCount. */
  private tryClaimExecution(out: Task, txCount: number): boolean {
    Atomics.add(this.words, L.ACTIVE_TASKS, 1);
    const tx = Atomics.add(this.words, L.EXECUTION_IDX, 1);
    if (tx < txCount && this.tryIncarnate(tx, out)) return true;
    Atomics.sub(this.words, L.ACTIVE_TASKS, 1);
    return false;
  }

  /** next_version_to_validate, after the caller saw validationIdx < txCount. */
  private tryClaimValidation(out: Task, txCount: number): boolean {
    Atomics.add(this.words, L.ACTIVE_TASKS, 1);
    const tx = Atomics.add(this.words, L.VALIDATION_IDX, 1);
    if (tx < txCount) {
      const word = Atomics.load(this.words, statusWord(tx));
      if (statusOf(word) === TxStatus.Executed) {
        out.set(TaskKind.Validate, tx, incarnationOf(word));
        return true;
      }
    }
    Atomics.sub(this.words, L.ACTIVE_TASKS, 1);
    return false;
  }

  /** READY_TO_EXECUTE(i) -> EXECUTING(i). Does not touch activeTasks; callers own that. */
  private tryIncarnate(tx: number, out: Task): boolean {
    const at = statusWord(tx);
    const word = Atomics.load(this.words, at);
    if (statusOf(word) !== TxStatus.ReadyToExecute) return false;
    const incarnation = incarnationOf(word);
    if (Atomics.compareExchange(this.words, at, word, packStatus(TxStatus.Executing, incarnation)) !== word) return false;
    out.set(TaskKind.Execute, tx, incarnation);
    return true;
  }

  /** check_done: decreaseCnt read before and after makes a concurrent decrease-then-increase visible. */
  private checkDone(txCount: number): void {
    const w = this.words;
    const observedDecreases = Atomics.load(w, L.DECREASE_CNT);
    if (
      Math.min(Atomics.load(w, L.EXECUTION_IDX), Atomics.load(w, L.VALIDATION_IDX)) >= txCount &&
      Atomics.load(w, L.ACTIVE_TASKS) === 0 &&
      observedDecreases === Atomics.load(w, L.DECREASE_CNT)
    ) {
      if (Atomics.compareExchange(w, L.DONE_MARKER, 0, 1) === 0) this.stop();
    }
  }

  // ---------------------------------------------------------------- execution

  /**
   * The executing tx read an ESTIMATE written by blockingTx. True: tx is now ABORTING and
   * parked in blockingTx's dependency list; the task is over (its activeTasks unit released).
   * False: blockingTx has meanwhile executed, so the caller must re-execute tx right away.
   */
  addDependency(tx: number, blockingTx: number): boolean {
    // Estimates only come from lower txs; anything else would deadlock the wait graph.
    if (!(blockingTx >= 0 && blockingTx < tx)) throw new RangeError(`tx ${tx} cannot wait on tx ${blockingTx}`);
    const w = this.words;
    const lock = lockWord(blockingTx);
    this.acquire(lock);
    if (statusOf(Atomics.load(w, statusWord(blockingTx))) === TxStatus.Executed) {
      Atomics.store(w, lock, 0);
      return false;
    }
    // tx is EXECUTING on this thread and nobody else transitions it from there: a store suffices.
    const own = statusWord(tx);
    Atomics.store(w, own, packStatus(TxStatus.Aborting, incarnationOf(Atomics.load(w, own))));
    const head = L.TX_BASE + blockingTx * L.TX_WORDS + L.TX_DEP_HEAD;
    Atomics.store(w, L.TX_BASE + tx * L.TX_WORDS + L.TX_DEP_NEXT, Atomics.load(w, head));
    Atomics.store(w, head, tx);
    Atomics.store(w, lock, 0);
    Atomics.sub(w, L.ACTIVE_TASKS, 1);
    return true;
  }

  /**
   * EXECUTING(incarnation) -> EXECUTED(incarnation), resuming dependents. True when `out` holds a
   * validation of this very version to run next (the paper's shortcut when nothing new was written).
   */
  finishExecution(tx: number, incarnation: number, wroteNewLocation: boolean, out: Task): boolean {
    const w = this.words;
    const lock = lockWord(tx);
    const head = L.TX_BASE + tx * L.TX_WORDS + L.TX_DEP_HEAD;
    this.acquire(lock);
    Atomics.store(w, statusWord(tx), packStatus(TxStatus.Executed, incarnation));
    const firstDependent = Atomics.exchange(w, head, L.NO_TX);
    Atomics.store(w, lock, 0);
    if (firstDependent !== L.NO_TX) this.resumeDependents(firstDependent);

    if (Atomics.load(w, L.VALIDATION_IDX) > tx) {
      if (!wroteNewLocation) {
        out.set(TaskKind.Validate, tx, incarnation);
        return true;
      }
      this.decreaseIndex(L.VALIDATION_IDX, tx);
    }
    Atomics.sub(w, L.ACTIVE_TASKS, 1);
    return false;
  }

  private resumeDependents(first: number): void {
    const w = this.words;
    let lowest = first;
    for (let dependent = first; dependent !== L.NO_TX; ) {
      // Read the link first: once ready, the dependent may block again and reuse its node.
      const next = Atomics.load(w, L.TX_BASE + dependent * L.TX_WORDS + L.TX_DEP_NEXT);
      this.setReady(dependent);
      if (dependent < lowest) lowest = dependent;
      dependent = next;
    }
    this.decreaseIndex(L.EXECUTION_IDX, lowest);
  }

  /** ABORTING(i) -> READY_TO_EXECUTE(i + 1). Only the thread that owns the abort calls it. */
  private setReady(tx: number): void {
    const at = statusWord(tx);
    const word = Atomics.load(this.words, at);
    if (statusOf(word) !== TxStatus.Aborting) throw new Error(`scheduler: tx ${tx} resumed while not ABORTING`);
    Atomics.store(this.words, at, packStatus(TxStatus.ReadyToExecute, incarnationOf(word) + 1));
  }

  // ---------------------------------------------------------------- validation

  /** EXECUTED(incarnation) -> ABORTING(incarnation); only the first failing validator of a version wins. */
  tryValidationAbort(tx: number, incarnation: number): boolean {
    const executed = packStatus(TxStatus.Executed, incarnation);
    return Atomics.compareExchange(this.words, statusWord(tx), executed, packStatus(TxStatus.Aborting, incarnation)) === executed;
  }

  /**
   * End of a validation task. `aborted` = this thread won tryValidationAbort (and has turned the
   * writes into estimates). True when `out` holds the re-execution of tx to run next.
   */
  finishValidation(tx: number, aborted: boolean, out: Task): boolean {
    const w = this.words;
    if (aborted) {
      this.setReady(tx);
      this.decreaseIndex(L.VALIDATION_IDX, tx + 1);
      if (Atomics.load(w, L.EXECUTION_IDX) > tx && this.tryIncarnate(tx, out)) return true;
    }
    Atomics.sub(w, L.ACTIVE_TASKS, 1);
    return false;
  }

  // ---------------------------------------------------------------- indices, completion, halt

  private decreaseIndex(word: number, target: number): void {
    const w = this.words;
    for (;;) {
      const current = Atomics.load(w, word);
      if (current <= target || Atomics.compareExchange(w, word, current, target) === current) break;
    }
    Atomics.add(w, L.DECREASE_CNT, 1);
    this.wakeSleepers();
  }

  isDone(): boolean {
    return Atomics.load(this.words, L.DONE_MARKER) !== 0;
  }

  /** Stop the block from any thread: every nextTask then returns Done. The first code wins. */
  halt(code: number = HALT_WORKER_ERROR): void {
    if (code === HALT_NONE) throw new RangeError("halt code must be non-zero");
    Atomics.compareExchange(this.words, L.HALT_CODE, HALT_NONE, code);
    this.stop();
  }

  private stop(): void {
    Atomics.store(this.words, L.STOPPED, 1);
    this.wakeSleepers();
  }

  haltCode(): number {
    return Atomics.load(this.words, L.HALT_CODE);
  }

  isHalted(): boolean {
    return Atomics.load(this.words, L.HALT_CODE) !== HALT_NONE;
  }

  /** Status of tx right now (for tests, diagnostics and the final commit). */
  txStatus(tx: number): { status: TxStatus; incarnation: number } {
    this.checkTx(tx);
    const word = Atomics.load(this.words, statusWord(tx));
    return { status: statusOf(word), incarnation: incarnationOf(word) };
  }

  private checkTx(tx: number): void {
    if (!Number.isInteger(tx) || tx < 0 || tx >= this.desc.maxTxs) throw new RangeError(`tx ${tx} out of range`);
  }

  // ---------------------------------------------------------------- idling

  /** Something may be claimable (or the block ended): cheap loads only. */
  private workMaybeAvailable(): boolean {
    const w = this.words;
    const txCount = Atomics.load(w, L.TX_COUNT);
    return (
      Atomics.load(w, L.EXECUTION_IDX) < txCount ||
      Atomics.load(w, L.VALIDATION_IDX) < txCount ||
      Atomics.load(w, L.STOPPED) !== 0
    );
  }

  /**
   * Idle after nextTask returned RetryLater: spin on loads for a bounded count, then park on the
   * futex. Returns when work may be available (or after parkTimeoutMs); the caller retries nextTask.
   *
   * No lost wake-ups: a sleeper increments `sleepers` before reading the futex and re-checking for
   * work; a waker publishes work before reading `sleepers`. So either the waker sees the sleeper and
   * bumps the futex (the wait returns), or the sleeper's re-check sees the work.
   */
  waitForWork(): void {
    const sequence = this.beginPark();
    if (sequence === undefined) return;
    Atomics.wait(this.words, L.FUTEX, sequence, this.parkTimeoutMs);
    Atomics.sub(this.words, L.SLEEPERS, 1);
  }

  /**
   * waitForWork for the calling thread when it executes a share of the run (engine.ts): it parks
   * with Atomics.waitAsync, so its event loop keeps turning while it waits (the pool's failure
   * and timeout handlers run there; a blocking wait would leave a dead worker unnoticed).
   * Returns undefined when the spin found work, else a promise for the end of the park.
   */
  waitForWorkAsync(): Promise<unknown> | undefined {
    const sequence = this.beginPark();
    if (sequence === undefined) return undefined;
    const w = this.words;
    const parked = Atomics.waitAsync(w, L.FUTEX, sequence, this.parkTimeoutMs);
    if (!parked.async) {
      Atomics.sub(w, L.SLEEPERS, 1);
      return undefined;
    }
    return parked.value.then(() => Atomics.sub(w, L.SLEEPERS, 1));
  }

  /**
   * Both waits start here: spin on loads, then count as a sleeper and re-check (the order the
   * no-lost-wake-up argument above needs). Returns the futex sequence to wait on, with this
   * thread counted in `sleepers` (the caller uncounts it after the wait), or undefined when
   * work turned up (not counted).
   */
  private beginPark(): number | undefined {
    for (let i = 0; i < this.spinLimit; i++) if (this.workMaybeAvailable()) return undefined;
    const w = this.words;
    Atomics.add(w, L.SLEEPERS, 1);
    const sequence = Atomics.load(w, L.FUTEX);
    if (!this.workMaybeAvailable()) return sequence;
    Atomics.sub(w, L.SLEEPERS, 1);
    return undefined;
  }

  /** Notify only when someone is parked: a notify with no waiter still costs ~90 ns. */
  private wakeSleepers(): void {
    const w = this.words;
    if (Atomics.load(w, L.SLEEPERS) > 0) {
      Atomics.add(w, L.FUTEX, 1);
      Atomics.notify(w, L.FUTEX);
    }
  }

  // ---------------------------------------------------------------- per-tx spinlock

  private acquire(lock: number): void {
    const w = this.words;
    for (let spins = 0; Atomics.compareExchange(w, lock, 0, 1) !== 0; spins++) {
      if (spins >= LOCK_SPINS_BEFORE_SLEEP) Atomics.wait(w, lock, 1, LOCK_SLEEP_MS);
    }
  }

  // ---------------------------------------------------------------- stats

  /** Add one worker's local counters to the shared totals (once per worker per block). */
  addStats(local: SchedulerStats): void {
    const w = this.words;
    Atomics.add(w, L.STAT_EXECUTIONS, local.executions);
    Atomics.add(w, L.STAT_RE_EXECUTIONS, local.reExecutions);
    Atomics.add(w, L.STAT_VALIDATIONS, local.validations);
    Atomics.add(w, L.STAT_VALIDATION_ABORTS, local.validationAborts);
    Atomics.add(w, L.STAT_DEPENDENCY_WAITS, local.dependencyWaits);
  }

  /** Totals added since the last reset. */
  stats(): SchedulerStats {
    const w = this.words;
    return {
      executions: Atomics.load(w, L.STAT_EXECUTIONS),
      reExecutions: Atomics.load(w, L.STAT_RE_EXECUTIONS),
      validations: Atomics.load(w, L.STAT_VALIDATIONS),
      validationAborts: Atomics.load(w, L.STAT_VALIDATION_ABORTS),
      dependencyWaits: Atomics.load(w, L.STAT_DEPENDENCY_WAITS),
    };
  }
}

function statusWord(tx: number): number {
  return L.TX_BASE + tx * L.TX_WORDS + L.TX_STATUS;
}

function lockWord(tx: number): number {
  return L.TX_BASE + tx * L.TX_WORDS + L.TX_LOCK;
}
