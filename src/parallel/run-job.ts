// One share of a parallel run (a BlockJob): what each pool worker does, and what the calling
// thread does when it joins the run (engine.ts). Caches here are per thread.
import { SharedBlockView } from "./block-codec.ts";
import { MultiVersionMemory, MvCapacityError } from "../mv/index.ts";
import { CodeStore, CodeStoreFullError } from "./code-store.ts";
import { EvmTxExecutor } from "./executor.ts";
import { RemoteStorage, StorageReader, type PreStateReader } from "./pre-state.ts";
import { profiled } from "./profile.ts";
import type { AddressHex } from "../chain/types.ts";
import { HALT_CAPACITY, HALT_FALLBACK, type BlockJob, type WorkerReport } from "./protocol.ts";
import { TxResults } from "./results.ts";
import { NeedsSequentialFallback } from "./writes.ts";
import { HALT_NONE, HALT_WORKER_ERROR, Scheduler } from "../scheduler/index.ts";
import { RowFiller, SettleRows, accountHandleResolver } from "./settle-rows.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { environmentFor } from "../vm/block.ts";
import { forkVm, type ForkVm } from "../vm/evm.ts";
import { runWorkerLoop } from "../scheduler/worker-loop.ts";

let cachedStorage: { id: number; storage: SharedStorage; storageOnly: Set<string> } | undefined;
let cachedBlock: { id: number; view: SharedBlockView } | undefined;

/** The pre-state reader for this run, and the EIP-7610 storage-only test that goes with it. */
function preStateFor(job: BlockJob, workerIndex: number): { reader: PreStateReader; isStorageOnly: (address: AddressHex) => boolean } {
  const source = job.preState;
  if (source.kind === "remote") {
    // Answers are kept for this run only: the Storage is the caller's, and may differ next time.
    const reader = new StorageReader(new RemoteStorage(source.mailboxes, workerIndex));
    return { reader, isStorageOnly: (address) => reader.isStorageOnly(address) };
  }
  if (cachedStorage?.id !== source.storageId) {
    cachedStorage = { id: source.storageId, storage: SharedStorage.attach(source.storage), storageOnly: new Set(source.storageOnlyAccounts) };
  }
  const storageOnly = cachedStorage.storageOnly;
  return { reader: cachedStorage.storage, isStorageOnly: (address) => storageOnly.has(address) };
}

function attachBlock(job: BlockJob): SharedBlockView {
  if (cachedBlock?.id !== job.blockId) cachedBlock = { id: job.blockId, view: new SharedBlockView(job.block) };
  return cachedBlock.view;
}

/** What the calling thread brings to its own share of a run (engine.ts). */
export interface CallerShare {
  /** The engine's own VM for this fork: never the one sequential runs use, which may interleave with this share at its awaits. */
  vm: Promise<ForkVm>;
  /** The pre-state read directly, when it is not in shared memory (this thread owns the Storage). */
  preState?: { reader: PreStateReader; isStorageOnly: (address: AddressHex) => boolean };
}

/**
 * Executes and validates transactions of the job until the block is done or halted: a pool
 * worker's whole job, or (with `caller`) the calling thread's share. Errors the engine handles
 * (fallback, an arena too small) come back in the report; others are thrown.
 */
export async function runBlockJob(job: BlockJob, workerIndex: number, caller?: CallerShare): Promise<WorkerReport> {
  const started = performance.now();
  const { reader, isStorageOnly } = caller?.preState ?? preStateFor(job, workerIndex);
  const block = attachBlock(job);
  const mv = MultiVersionMemory.attach(job.mv);
  const scheduler = Scheduler.attach(job.scheduler);
  const codes = new CodeStore(job.codes);
  const vm = await (caller?.vm ?? forkVm(job.fork));
  const env = environmentFor({ header: block.header, transactions: [], uncles: [], withdrawals: undefined }, job.fork);
  const executor = new EvmTxExecutor(job, vm, env, block, mv, codes, reader, isStorageOnly, new TxResults(job.results));
  const report: WorkerReport = { details: [], conflicts: [], stats: scheduler.stats(), executeMs: 0, runMs: 0, settleChunks: 0 };
  const loop = () =>
    runWorkerLoop(scheduler, executor, {
      parkAsync: caller !== undefined,
      haltCodeOnError: (error) =>
        error instanceof NeedsSequentialFallback ? HALT_FALLBACK : capacityOf(error) !== undefined ? HALT_CAPACITY : HALT_WORKER_ERROR,
    });
  try {
    // The calling thread is not profiled: the sampling profiler would be the user's process's.
    report.stats = job.profileDir === undefined || caller !== undefined ? await loop() : await profiled(job.profileDir, workerIndex, loop);
  } catch (error) {
    // What the engine handles (fallback, a too small arena) is reported as data; the rest fails the run.
    if (error instanceof NeedsSequentialFallback) {
      report.fallback = error.message;
      report.fallbackTx = error.txIndex;
    } else if ((report.capacity = capacityOf(error)) === undefined) throw error;
  }
  // The block is done: help the calling thread settle it (the calling thread fills its own rows).
  if (job.settleRows !== undefined && caller === undefined && scheduler.isDone() && scheduler.haltCode() === HALT_NONE) {
    report.settleChunks = new SettleRows(job.settleRows).fillWhileUnclaimed(new RowFiller(mv, reader, accountHandleResolver(reader)));
  }
  report.details = [...executor.details.values()];
  report.conflicts = executor.conflicts();
  report.executeMs = executor.executeMs;
  report.runMs = performance.now() - started;
  return report;
}

function capacityOf(error: unknown): WorkerReport["capacity"] {
  if (error instanceof MvCapacityError) return error.resource;
  if (error instanceof CodeStoreFullError) return "codeStore";
  return undefined;
}
