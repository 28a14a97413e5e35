// The Bun Worker that executes transactions for the parallel engine (src/parallel/engine.ts).
import { SharedBlockView } from "../chain/block-codec.ts";
import { MultiVersionMemory } from "../mv/index.ts";
import { CodeStore } from "../parallel/code-store.ts";
import { EvmTxExecutor } from "../parallel/executor.ts";
import { HALT_FALLBACK, type BlockJob, type WorkerReport } from "../parallel/job.ts";
import { TxResults } from "../parallel/results.ts";
import { NeedsSequentialFallback } from "../parallel/writes.ts";
import { HALT_WORKER_ERROR, Scheduler } from "../scheduler/index.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { environmentFor } from "../vm/block.ts";
import { forkVm } from "../vm/evm.ts";
import { runWorkerLoop } from "./loop.ts";
import { serveWorker } from "./serve.ts";

let cachedStorage: { id: number; storage: SharedStorage } | undefined;
let cachedBlock: { id: number; view: SharedBlockView } | undefined;

function attachStorage(job: BlockJob): SharedStorage {
  if (cachedStorage?.id !== job.storageId) cachedStorage = { id: job.storageId, storage: SharedStorage.attach(job.storage) };
  return cachedStorage.storage;
}

function attachBlock(job: BlockJob): SharedBlockView {
  if (cachedBlock?.id !== job.blockId) cachedBlock = { id: job.blockId, view: new SharedBlockView(job.block) };
  return cachedBlock.view;
}

serveWorker<null, BlockJob, WorkerReport>({
  async run(job) {
    const started = performance.now();
    const storage = attachStorage(job);
    const block = attachBlock(job);
    const mv = MultiVersionMemory.attach(job.mv);
    const scheduler = Scheduler.attach(job.scheduler);
    const codes = new CodeStore(job.codes);
    const vm = await forkVm(job.fork);
    const env = environmentFor({ header: block.header, transactions: [], uncles: [], withdrawals: undefined }, job.fork);
    const executor = new EvmTxExecutor(job, vm, env, block, mv, codes, storage, new TxResults(job.results));
    let fallback: string | undefined;
    let stats;
    try {
      stats = await runWorkerLoop(scheduler, executor, {
        haltCodeOnError: (error) => (error instanceof NeedsSequentialFallback ? HALT_FALLBACK : HALT_WORKER_ERROR),
      });
    } catch (error) {
      if (!(error instanceof NeedsSequentialFallback)) throw error;
      fallback = error.message;
      stats = scheduler.stats();
    }
    return {
      details: [...executor.details.values()],
      stats,
      fallback,
      executeMs: executor.executeMs,
      runMs: performance.now() - started,
    };
  },
});

