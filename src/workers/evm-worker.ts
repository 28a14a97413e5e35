// The Bun Worker that executes transactions for the parallel engine (src/parallel/engine.ts).
import { InvalidTransactionError } from "../chain/errors.ts";
import { SharedBlockView } from "../chain/block-codec.ts";
import { Fork } from "../chain/forks.ts";
import type { AddressHex } from "../chain/types.ts";
import { MultiVersionMemory, WriteSet } from "../mv/index.ts";
import { CodeStore } from "../parallel/code-store.ts";
import { HALT_FALLBACK, type BlockJob, type TxExecution, type WorkerReport } from "../parallel/job.ts";
import { MvStateSource, ReadBlocked } from "../parallel/mv-source.ts";
import { NeedsSequentialFallback, collectWrites } from "../parallel/writes.ts";
import { HALT_WORKER_ERROR, Scheduler } from "../scheduler/index.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { environmentFor } from "../vm/block.ts";
import { forkVm, type ForkVm } from "../vm/evm.ts";
import { executeTransaction, type BlockEnv } from "../vm/transaction.ts";
import { runWorkerLoop, type ExecOutcome, type TxTaskExecutor } from "./loop.ts";
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

class EvmTxExecutor implements TxTaskExecutor {
  readonly executions = new Map<number, TxExecution>();
  executeMs = 0;
  private readonly source: MvStateSource;
  private readonly writeSet = new WriteSet();
  private readonly scratch = new Uint32Array(11);
  private readonly storageOnly: Set<string>;
  private readonly previousFromSender: Int32Array;
  /** Per tx: 1 once this worker let it wait for its sender's previous transaction. */
  private readonly waitedForSender: Uint8Array;
  private readonly blocked: ExecOutcome & { kind: "blocked" } = { kind: "blocked", blockingTx: -1 };
  private readonly done: ExecOutcome & { kind: "done" } = { kind: "done", wroteNewLocation: false };

  constructor(
    private readonly job: BlockJob,
    private readonly vm: ForkVm,
    private readonly env: BlockEnv,
    private readonly block: SharedBlockView,
    private readonly mv: MultiVersionMemory,
    private readonly codes: CodeStore,
    storage: SharedStorage,
  ) {
    this.source = new MvStateSource(mv, storage, codes);
    this.storageOnly = new Set(job.storageOnlyAccounts);
    this.previousFromSender = new Int32Array(job.previousFromSender);
    this.waitedForSender = new Uint8Array(this.previousFromSender.length);
  }

  async execute(txIdx: number, incarnation: number): Promise<ExecOutcome> {
    const job = this.job;
    if (job.injectDelayMicros) busyWait(Math.random() * job.injectDelayMicros);
    if (job.injectThrowAtTx === txIdx) throw new Error(`injected failure at transaction ${txIdx}`);
    // First execution of a transaction whose sender sent an earlier one: wait for that one
    // (the scheduler answers "already executed" if there is nothing to wait for).
    const previous = this.previousFromSender[txIdx]!;
    if (incarnation === 0 && previous >= 0 && this.waitedForSender[txIdx] === 0) {
      this.waitedForSender[txIdx] = 1;
      this.blocked.blockingTx = previous;
      return this.blocked;
    }
    const tx = this.block.transaction(txIdx);
    this.source.begin(txIdx);
    const t0 = performance.now();
    let execution: TxExecution;
    try {
      const outcome = await executeTransaction(this.vm, this.env, tx, this.source, this.env.header.gasLimit);
      collectWrites(outcome.writes, this.mv, this.codes, this.env.coinbase, this.env.fork >= Fork.SpuriousDragon, this.storageOnly, this.writeSet, this.scratch);
      execution = {
        tx: txIdx,
        incarnation,
        status: outcome.status,
        gasUsed: outcome.gasUsed,
        blobGasUsed: outcome.blobGasUsed,
        logs: outcome.logs,
        contractAddress: outcome.contractAddress,
      };
    } catch (error) {
      if (error instanceof ReadBlocked) {
        this.executeMs += performance.now() - t0;
        resetInterpreter(this.vm);
        this.blocked.blockingTx = error.blockingTx;
        return this.blocked;
      }
      if (!(error instanceof InvalidTransactionError)) throw error;
      // Invalid in this view of the state; validation decides whether that view was right.
      this.writeSet.clear();
      execution = { tx: txIdx, incarnation, status: 0, gasUsed: 0n, blobGasUsed: 0n, logs: [], invalid: { reason: error.reason, message: error.message } };
    } finally {
      this.executeMs += performance.now() - t0;
    }
    this.mv.recordReads(txIdx, incarnation, this.source.reads);
    this.done.wroteNewLocation = this.mv.recordWrites(txIdx, incarnation, this.writeSet).wroteNewLocation;
    this.executions.set(txIdx, execution);
    return this.done;
  }

  validate(txIdx: number): boolean {
    return this.mv.validateReads(txIdx);
  }

  convertWritesToEstimates(txIdx: number): void {
    this.mv.convertWritesToEstimates(txIdx);
  }
}

/** After an execution was cut short by a blocked read, drop the interpreter's half-done call state. */
function resetInterpreter(vm: ForkVm): void {
  const evm = vm.evm as unknown as { transientStorage: { constructor: new () => unknown }; transientStorageReset?: unknown };
  evm.transientStorage = new evm.transientStorage.constructor() as never;
}

function busyWait(micros: number): void {
  const end = performance.now() + micros / 1000;
  while (performance.now() < end) {}
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
    const executor = new EvmTxExecutor(job, vm, env, block, mv, codes, storage);
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
      executions: [...executor.executions.values()],
      stats,
      fallback,
      executeMs: executor.executeMs,
      runMs: performance.now() - started,
    };
  },
});

export type { AddressHex };
