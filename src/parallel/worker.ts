// The Bun Worker that executes transactions for the parallel engine (engine.ts): one per pool slot.
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
import { HALT_WORKER_ERROR, Scheduler } from "../scheduler/index.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { environmentFor } from "../vm/block.ts";
import { forkVm } from "../vm/evm.ts";
import { runWorkerLoop } from "../scheduler/worker-loop.ts";
import { serveWorker } from "../workers/serve.ts";

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

serveWorker<null, BlockJob, WorkerReport>({
  async run(job, context) {
    const started = performance.now();
    const { reader, isStorageOnly } = preStateFor(job, context.workerIndex);
    const block = attachBlock(job);
    const mv = MultiVersionMemory.attach(job.mv);
    const scheduler = Scheduler.attach(job.scheduler);
    const codes = new CodeStore(job.codes);
    const vm = await forkVm(job.fork);
    const env = environmentFor({ header: block.header, transactions: [], uncles: [], withdrawals: undefined }, job.fork);
    const executor = new EvmTxExecutor(job, vm, env, block, mv, codes, reader, isStorageOnly, new TxResults(job.results));
    const report: WorkerReport = { details: [], conflicts: [], stats: scheduler.stats(), executeMs: 0, runMs: 0 };
    const loop = () =>
      runWorkerLoop(scheduler, executor, {
        haltCodeOnError: (error) =>
          error instanceof NeedsSequentialFallback ? HALT_FALLBACK : capacityOf(error) !== undefined ? HALT_CAPACITY : HALT_WORKER_ERROR,
      });
    try {
      report.stats = job.profileDir === undefined ? await loop() : await profiled(job.profileDir, context.workerIndex, loop);
    } catch (error) {
      // What the engine handles (fallback, a too small arena) is reported as data; the rest fails the run.
      if (error instanceof NeedsSequentialFallback) {
        report.fallback = error.message;
        report.fallbackTx = error.txIndex;
      }
      else if ((report.capacity = capacityOf(error)) === undefined) throw error;
    }
    report.details = [...executor.details.values()];
    report.conflicts = executor.conflicts();
    report.executeMs = executor.executeMs;
    report.runMs = performance.now() - started;
    return report;
  },
});

function capacityOf(error: unknown): WorkerReport["capacity"] {
  if (error instanceof MvCapacityError) return error.resource;
  if (error instanceof CodeStoreFullError) return "codeStore";
  return undefined;
}
