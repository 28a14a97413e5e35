// Everything that crosses the thread boundary between the parallel engine (engine.ts, on the
// calling thread) and its EVM workers (worker.ts): the job posted per block, the report each
// worker sends back, and the scheduler halt codes a worker may set. Large data never crosses
// as messages: the pre-state, block, multi-version memory, scheduler, code store and results
// live in shared memory and cross as descriptors. Failures cross as data (halt codes, a
// capacity resource, an invalid-transaction reason), never as error text parsed back.
import type { InvalidTxReason } from "../chain/errors.ts";
import type { Fork } from "../chain/forks.ts";
import type { Log } from "../chain/receipts.ts";
import type { Hex } from "../chain/types.ts";
import type { MultiVersionMemoryDescriptor, MvResource } from "../mv/index.ts";
import type { SchedulerDescriptor, SchedulerStats } from "../scheduler/index.ts";
import type { SharedStorageDescriptor } from "../state/shared-storage.ts";

/** What the calling thread posts to every worker for one block (buffers are shared, not copied). */
export interface BlockJob {
  fork: Fork;
  /** Where the workers read the pre-state (pre-state.ts). */
  preState: PreStateSource;
  /** Ids let workers keep attached views and decoded transactions across runs of the same block. */
  blockId: number;
  block: SharedArrayBuffer;
  /**
   * Int32 per transaction: the index of the previous transaction from the same sender, or -1.
   * A transaction waits for that one before its first execution: its nonce and balance
   * depend on it, so running it earlier would only be aborted.
   */
  previousFromSender: SharedArrayBuffer;
  /**
   * Location ids known before the run (prepare.ts, staticLocations): per transaction its
   * sender's and recipient's ACCOUNT and CODE ids, then the beneficiary's ACCOUNT id; the
   * run's location table starts with these keys. Absent when the block did not use a template.
   */
  staticIds?: SharedArrayBuffer;
  mv: MultiVersionMemoryDescriptor;
  scheduler: SchedulerDescriptor;
  codes: SharedArrayBuffer;
  /** Per-transaction results (layout: results.ts). */
  results: SharedArrayBuffer;
  /**
   * The accounts' rows of the final-state settle (layout: settle-rows.ts), which a worker
   * fills once the run is done. Absent when the pre-state is not in shared memory (a worker's
   * account handles would not be the calling thread's).
   */
  settleRows?: SharedArrayBuffer;
  /** Write a JSC sampling profile of this worker's run to this directory (PEVM_PROFILE_WORKERS). */
  profileDir?: string;
  /** Test hooks: random delays (µs, up to) and a transaction whose execution throws. */
  injectDelayMicros?: number;
  injectThrowAtTx?: number;
  /** Test hook: a pool worker's thread exits (no JS error to catch) at its first execution. */
  injectWorkerExit?: boolean;
}

/**
 * The pre-state: a MemoryStorage copied into shared memory once (storageId lets workers keep
 * their attached view across runs), or any other Storage, asked through mailboxes.
 */
export type PreStateSource =
  | {
      kind: "shared";
      storageId: number;
      storage: SharedStorageDescriptor;
      /** Accounts of the pre-state with storage but neither code nor nonce (see writes.ts). */
      storageOnlyAccounts: string[];
    }
  | { kind: "remote"; mailboxes: SharedArrayBuffer };

/**
 * What the shared results (results.ts) cannot hold: logs, a created contract, invalidity.
 * Kept by the worker for the incarnation it executed; the calling thread uses the one whose
 * incarnation is the final one.
 */
export interface TxDetails {
  tx: number;
  incarnation: number;
  logs: Log[];
  /** The logs' bloom, made by the executing thread so that the in-order settle need not hash (absent without logs). */
  bloom?: Uint8Array;
  contractAddress?: Hex;
  /** The transaction is invalid in this incarnation's view of the state. */
  invalid?: { reason: InvalidTxReason; detail: string };
}

/** An account whose locations made transactions wait or fail validation, and how often. */
export interface ConflictCount {
  address: string;
  count: number;
}

export interface WorkerReport {
  details: TxDetails[];
  /** The most conflicting accounts of this worker's share of the run. */
  conflicts: ConflictCount[];
  stats: SchedulerStats;
  /** Set when the block must be re-run sequentially, with the reason and the transaction that asked. */
  fallback?: string;
  fallbackTx?: number;
  /** Set when a shared arena was too small for the block: grow it and run the block again. */
  capacity?: MvResource | "codeStore";
  /** Milliseconds inside executeTransaction (the EVM and our processing) vs. the whole run. */
  executeMs: number;
  runMs: number;
  /** Chunks of the settle's account rows this worker filled after the run (settle-rows.ts). */
  settleChunks: number;
}

/** Halt codes (the scheduler's HALT_WORKER_ERROR = 1 is taken): why a worker stopped the block. */
export const HALT_FALLBACK = 2;
export const HALT_CAPACITY = 3;
