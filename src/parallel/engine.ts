// The parallel engine: Block-STM over the calling thread and a pool of Bun Workers. This class
// owns the shared structures a run needs (multi-version memory, scheduler, code store,
// results), hands a block to the workers (prepare.ts, protocol.ts, worker.ts), executes its
// own share of it (run-job.ts) and settles it (settle.ts).
import { Fork } from "../chain/forks.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { MultiVersionMemory, defaultCapacities } from "../mv/index.ts";
import { HALT_NONE, Scheduler, addStatsInto, emptyStats, type SchedulerStats } from "../scheduler/index.ts";
import { cacheLineAllocator } from "../shm/region.ts";
import { MemoryStorage } from "../state/memory.ts";
import type { StateChanges, Storage } from "../state/types.ts";
import { BlockState } from "../vm/block-state.ts";
import { blockFork, executeBlockSequential, finishBlock, type BlockResult, type ExecuteOptions } from "../vm/block.ts";
import { createForkVm, type ForkVm } from "../vm/evm.ts";
import { storageWipesPossible } from "./writes.ts";
import { WorkerPool } from "../workers/pool.ts";
import { workerScriptUrl } from "./worker-script.ts";
import { CodeStore } from "./code-store.ts";
import { STATIC_IDS_PER_TX, shareBlock, shareStorage, staticLocations, withPrologue } from "./prepare.ts";
import { createMailboxes, PreStateServer, StorageReader, type PreStateReader } from "./pre-state.ts";
import { HALT_CAPACITY, HALT_FALLBACK, type BlockJob, type ConflictCount, type PreStateSource, type WorkerReport } from "./protocol.ts";
import { TxResults } from "./results.ts";
import { runBlockJob, type CallerShare } from "./run-job.ts";
import { yieldRuntimeThreads } from "../native/runtime-threads.ts";
import { finalDetails, settleReceipts, settleState } from "./settle.ts";
import { SettleRows, accountHandleResolver, chunksOf } from "./settle-rows.ts";

/** How parallel the block really was. */
export interface ParallelStats extends SchedulerStats {
  workers: number;
  /** Why the block was re-run sequentially, when it was. */
  fallback: string | null;
  /** The transaction whose writes made the block fall back (-1 when none did, or unknown). */
  fallbackTx: number;
  /** Summed over workers: ms inside transaction execution, and ms of whole worker runs. */
  executeMs: number;
  workerMs: number;
  /** Main thread: ms from the call to the workers' start (prologue, sizing, dispatch), the whole
   * run as seen from here, and the in-order settle after it (receipts, final state, rewards;
   * the final state is usually settled inside the run, while the workers' reports arrive). */
  prepareMs: number;
  runMs: number;
  settleMs: number;
  /** Of runMs or settleMs: ms building the final state from the multi-version memory (settleState). */
  stateSettleMs: number;
  /** Chunks of the settle's account rows (settle-rows.ts) the workers filled, of all the block's. */
  settleChunksByWorkers: number;
  settleChunks: number;
  /** How often the block was run again with grown shared arenas (the growth stays for later blocks). */
  arenaGrowths: number;
  /** Accounts whose locations made transactions wait or fail validation, most first. */
  conflicts: ConflictCount[];
  /** The runtime's JIT and heap warm-up threads at background priority during the run (native/runtime-threads.ts). */
  runtimeThreadsYielded: number;
  /** Each executor's own share: the pool's workers in order, then the calling thread when it executed. */
  executors: ExecutorShare[];
}

/** One executor's part of a parallel run (its time per execution shows contention between executors). */
export interface ExecutorShare {
  /** "worker N" or "calling thread". */
  thread: string;
  executions: number;
  validations: number;
  executeMs: number;
  runMs: number;
}

export interface ParallelOptions extends ExecuteOptions {
  /** Internal: how often this block was re-run with grown shared arenas. */
  capacityRetries?: number;
  /** Test hooks (see BlockJob). */
  injectDelayMicros?: number;
  injectThrowAtTx?: number;
  injectWorkerExit?: boolean;
  /** Watchdog for one block (default 10 minutes): a stuck run fails instead of hanging. */
  timeoutMs?: number;
}

/** Starting sizes of the shared arenas (tests start them small to exercise their growth). */
export interface EngineSizing {
  /** Multiplies the multi-version memory's capacities estimated from each block (default 1). */
  arenaScale?: number;
  /** Bytes for the code the block's transactions create (default 4 MiB). */
  codeStoreBytes?: number;
}

/**
 * Block-STM over n executors: the calling thread and n - 1 Bun Workers. Each executes and
 * validates transactions against the shared multi-version memory; the calling thread then
 * settles the block in order.
 *
 * Why the calling thread executes too, instead of n workers while it waits: measured with the
 * CLI over the corpus on the 2-core machine, 2 workers beside an idle calling thread were
 * slower than the calling thread and 1 worker, most of all in the automatic mode, where the
 * calling thread also runs the blocks chosen sequential. Every thread that runs the EVM has
 * its own JIT and heap: a third one (the calling thread for sequential blocks, the workers for
 * parallel ones) meant a third copy of the compile work (JIT threads kept compiling for a
 * dozen runs of one block) and GC tails that landed in the other mode's blocks.
 *
 * The calling thread executes only when the pre-state is in shared memory (a MemoryStorage).
 * Another Storage is read on the calling thread for the workers (pre-state.ts), so it serves
 * and the n - 1 workers execute; with n = 1 it executes alone, reading the Storage directly.
 * While it executes, it parks with Atomics.waitAsync, so that its event loop keeps serving
 * the pool: a worker that fails still halts the run (onFailure) and the watchdog still fires.
 */
export class ParallelEngine {
  private mv: MultiVersionMemory | undefined;
  private scheduler: Scheduler | undefined;
  private codes: CodeStore;
  /** Grows when a block overflowed the multi-version memory's arenas. */
  private growthFactor: number;
  private results = TxResults.create(1024);
  /** The settle's account rows (settle-rows.ts), for as many locations as the multi-version memory holds. */
  private settleRows: SettleRows | undefined;

  /** The calling thread's own VM per fork (createForkVm): one per engine, so two engines' shares never share one. */
  private readonly callerVms = new Map<number, Promise<ForkVm>>();

  private constructor(
    /** n - 1 workers; none for an engine of one executor. */
    private readonly pool: WorkerPool<null, BlockJob, WorkerReport> | undefined,
    sizing: EngineSizing,
  ) {
    this.growthFactor = sizing.arenaScale ?? 1;
    this.codes = CodeStore.create(sizing.codeStoreBytes ?? 4 << 20);
  }

  /** An engine of `workers` executors: the calling thread and `workers - 1` Bun Workers. */
  static async start(workers: number, pin = true, sizing: EngineSizing = {}): Promise<ParallelEngine> {
    const pool = workers > 1 ? await WorkerPool.start<null, BlockJob, WorkerReport>(workers - 1, workerScriptUrl(), null, { pin }) : undefined;
    return new ParallelEngine(pool, sizing);
  }

  /** Executors: the calling thread and the pool's workers. */
  get workers(): number {
    return (this.pool?.size ?? 0) + 1;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }

  private callerVm(fork: Fork): Promise<ForkVm> {
    let vm = this.callerVms.get(fork);
    if (vm === undefined) {
      vm = createForkVm(fork);
      this.callerVms.set(fork, vm);
    }
    return vm;
  }

  /** `await using engine = await ParallelEngine.start(n)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** The run in progress (settled or not): the next one waits for it, since they share memory. */
  private running: Promise<unknown> = Promise.resolve();

  /**
   * Executes one block; calls made while a block runs wait their turn (a run resets the
   * shared memory, which must not happen under a run in progress).
   */
  execute(block: Block, storage: Storage, options: ParallelOptions = {}): Promise<BlockResult & { stats: ParallelStats }> {
    const run = this.running.then(() => this.executeNow(block, storage, options));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async executeNow(block: Block, storage: Storage, options: ParallelOptions): Promise<BlockResult & { stats: ParallelStats }> {
    const started = performance.now();
    const fork = blockFork(block, options);
    const txCount = block.transactions.length;

    const { base, prologue } = options.transactionsOnly ? { base: storage, prologue: undefined } : await withPrologue(block, fork, storage);
    // The pre-state the workers read: a MemoryStorage copied once into shared memory, or any
    // other Storage answered from this thread while the block runs (pre-state.ts).
    let preState: PreStateSource;
    let settleReader: PreStateReader;
    let server: PreStateServer | undefined;
    // The calling thread's share, when it executes (see the class comment).
    let caller: CallerShare | undefined;
    // The Storage as the calling thread reads it directly (one executor, not a MemoryStorage).
    let direct: ErrorRecordingStorage | undefined;
    if (base instanceof MemoryStorage) {
      const shared = shareStorage(base);
      preState = { kind: "shared", storageId: shared.id, storage: shared.storage.descriptor(), storageOnlyAccounts: shared.storageOnly };
      settleReader = shared.storage;
      const storageOnly = shared.storageOnlySet;
      caller = { vm: this.callerVm(fork), preState: { reader: shared.storage, isStorageOnly: (address) => storageOnly.has(address) } };
    } else if (this.pool === undefined) {
      direct = new ErrorRecordingStorage(base);
      const reader = new StorageReader(direct);
      preState = { kind: "remote", mailboxes: new SharedArrayBuffer(0) }; // no worker asks
      settleReader = reader;
      caller = { vm: this.callerVm(fork), preState: { reader, isStorageOnly: (address) => reader.isStorageOnly(address) } };
    } else {
      const mailboxes = createMailboxes(this.pool.size);
      server = new PreStateServer(mailboxes, this.pool.size, base);
      preState = { kind: "remote", mailboxes };
      settleReader = new StorageReader(base);
    }
    const encoded = shareBlock(block);
    const mv = this.memoryFor(txCount);
    const statics = staticLocations(block, encoded, mv.locations);
    const settleRows = this.settleRowsFor(mv);
    const scheduler = this.schedulerFor(txCount);
    this.codes.reset();
    if (this.results.capacity < txCount) this.results = TxResults.create(txCount);
    this.results.reset(txCount);

    const job: BlockJob = {
      fork,
      preState,
      blockId: encoded.id,
      block: encoded.buffer,
      previousFromSender: encoded.previousFromSender,
      staticIds: statics?.ids,
      mv: mv.descriptor,
      scheduler: scheduler.descriptor(),
      codes: this.codes.buffer,
      results: this.results.buffer,
      // Workers resolve pre-state handles the calling thread can use only in shared memory.
      settleRows: preState.kind === "shared" ? settleRows.buffer : undefined,
      profileDir: process.env.PEVM_PROFILE_WORKERS || undefined,
      injectDelayMicros: options.injectDelayMicros,
      injectThrowAtTx: options.injectThrowAtTx,
      injectWorkerExit: options.injectWorkerExit,
    };
    const runtimeThreadsYielded = yieldRuntimeThreads();
    const runStarted = performance.now();
    const serving = server?.serve();
    // Once every transaction is validated, the multi-version memory holds its final values:
    // the calling thread settles the state while the workers' reports are on their way (a
    // worker's message takes 1-10 ms to arrive here at the end of a block, measured).
    let stateSettleMs = 0;
    const settleFinalState = (): StateChanges => {
      const t0 = performance.now();
      const knownAddresses = statics?.addresses ?? [];
      const changes = settleState(mv, settleReader, this.codes, storageWipesPossible(fork), {
        knownAddresses,
        sharedRows: job.settleRows === undefined ? undefined : settleRows,
        handleOf: accountHandleResolver(settleReader, knownAddresses),
      });
      stateSettleMs = performance.now() - t0;
      return changes;
    };
    let early: { changes: StateChanges } | { error: unknown } | undefined;
    const settleEarly = () => {
      if (!scheduler.isDone() || scheduler.haltCode() !== HALT_NONE) return;
      try {
        early = { changes: settleFinalState() };
      } catch (error) {
        early = { error }; // thrown where the settle would have thrown it
      }
    };
    let reports: WorkerReport[];
    try {
      reports = await this.runShares(job, caller, scheduler, options.timeoutMs ?? 600_000, settleEarly);
    } catch (error) {
      // A Storage that threw fails the run with its own error, as it would sequentially.
      if (server?.error !== undefined) throw server.error.value;
      if (direct?.error !== undefined) throw direct.error.value;
      throw error;
    } finally {
      server?.stop();
      await serving;
    }
    const capacity = reports.find((r) => r.capacity !== undefined)?.capacity;
    if (capacity !== undefined || scheduler.haltCode() === HALT_CAPACITY) {
      // Shared arenas are sized from the block; one that was too small is grown, and the
      // block runs again from scratch (nothing of the failed run is kept).
      const retries = options.capacityRetries ?? 0;
      if (retries >= 3) throw new Error(`parallel run: the ${capacity} arena is still too small after ${retries} growths`);
      this.growthFactor *= 4;
      if (capacity === "codeStore") this.codes = CodeStore.create(this.codes.buffer.byteLength * 4);
      return this.executeNow(block, storage, { ...options, capacityRetries: retries + 1 });
    }

    const settleStarted = performance.now();
    const stats: ParallelStats = {
      ...emptyStats(),
      workers: reports.length,
      fallback: null,
      fallbackTx: -1,
      executeMs: 0,
      workerMs: 0,
      prepareMs: runStarted - started,
      runMs: settleStarted - runStarted,
      settleMs: 0,
      stateSettleMs: 0,
      settleChunksByWorkers: 0,
      settleChunks: chunksOf(mv),
      arenaGrowths: options.capacityRetries ?? 0,
      conflicts: [],
      runtimeThreadsYielded,
      executors: reports.map((r, index) => ({
        thread: index < (this.pool?.size ?? 0) ? `worker ${index}` : "calling thread",
        executions: r.stats.executions,
        validations: r.stats.validations,
        executeMs: r.executeMs,
        runMs: r.runMs,
      })),
    };
    const conflicts = new Map<string, number>();
    for (const r of reports) {
      stats.executeMs += r.executeMs;
      stats.workerMs += r.runMs;
      stats.settleChunksByWorkers += r.settleChunks;
      for (const c of r.conflicts) conflicts.set(c.address, (conflicts.get(c.address) ?? 0) + c.count);
    }
    stats.conflicts = [...conflicts].sort((a, b) => b[1] - a[1]).map(([address, count]) => ({ address, count }));
    addStatsInto(stats, scheduler.stats());
    const fallbackReport = reports.find((r) => r.fallback !== undefined);
    const fallback = fallbackReport?.fallback;
    stats.fallbackTx = fallbackReport?.fallbackTx ?? -1;
    if (fallback !== undefined || scheduler.haltCode() === HALT_FALLBACK) {
      const result = await executeBlockSequential(block, storage, options);
      stats.fallback = fallback ?? "a worker asked for the sequential fallback";
      return { ...result, stats };
    }
    if (!scheduler.isDone()) throw new Error("parallel run ended before the block was done");

    const details = finalDetails(reports, this.results, scheduler, txCount);
    const { receipts, gasUsed, blobGasUsed, bloom } = settleReceipts(block, fork, this.results, details);
    if (early !== undefined && "error" in early) throw early.error;
    const changes = early?.changes ?? settleFinalState();
    stats.stateSettleMs = stateSettleMs;
    const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
    if (prologue) state.overlay(prologue);
    state.adopt(changes);
    const result = await finishBlock(block, fork, options, state, receipts, gasUsed, blobGasUsed, bloom);
    stats.settleMs = performance.now() - settleStarted;
    return { ...result, stats };
  }

  /**
   * Runs the job on the pool's workers and, when `caller` is given, on this thread too; resolves
   * with every executor's report once all have stopped. This thread starts its share only after
   * the job was posted (its first synchronous stretch would otherwise delay the posting), and a
   * failure on either side is thrown only after both sides stopped, so that the next run never
   * resets shared memory under a share still running. `afterOwnShare` runs when this thread's
   * share ended and the pool's reports may still be on their way.
   */
  private async runShares(job: BlockJob, caller: CallerShare | undefined, scheduler: Scheduler, timeoutMs: number, afterOwnShare: () => void): Promise<WorkerReport[]> {
    const pool = this.pool;
    if (caller === undefined) return pool!.run(job, { timeoutMs, onFailure: () => scheduler.halt() });
    const ownIndex = pool?.size ?? 0;
    if (pool === undefined) return [await asCallerFailure(runBlockJob(job, ownIndex, caller), ownIndex)];
    let posted!: () => void;
    const wasPosted = new Promise<void>((resolve) => (posted = resolve));
    const poolRun = pool.run(job, { timeoutMs, onFailure: () => scheduler.halt(), onPosted: posted });
    const started = await Promise.race([wasPosted.then(() => true), poolRun.then(() => false, () => false)]);
    if (!started) return poolRun; // the pool failed before the job reached the workers
    const ownShare = asCallerFailure(runBlockJob(job, ownIndex, caller), ownIndex).then((report) => {
      afterOwnShare();
      return report;
    });
    const [workers, own] = await Promise.allSettled([poolRun, ownShare]);
    if (own.status === "rejected") throw own.reason; // the cause; the workers only saw the halt
    if (workers.status === "rejected") throw workers.reason;
    return [...workers.value, own.value];
  }

  private memoryFor(txCount: number): MultiVersionMemory {
    // Room for the block's static locations (prepare.ts: 4 per transaction, which it inserts
    // only while they fill at most half of the table) and as many again found while running.
    const estimatedLocations = Math.max(1 << 16, txCount * (2 * STATIC_IDS_PER_TX + 2));
    const base = defaultCapacities({ txCount, readsPerTx: 32, writesPerTx: 8, estimatedLocations });
    const g = this.growthFactor;
    const wanted = {
      ...base,
      locationCapacity: Math.ceil(base.locationCapacity * g),
      entryCapacity: Math.ceil(base.entryCapacity * g),
      writeArenaWords: Math.ceil(base.writeArenaWords * g),
      readArenaWords: Math.ceil(base.readArenaWords * g),
    };
    const mv = this.mv;
    const c = mv?.capacities;
    if (
      mv === undefined ||
      c!.txCapacity < txCount ||
      c!.locationCapacity < wanted.locationCapacity ||
      c!.entryCapacity < wanted.entryCapacity ||
      c!.writeArenaWords < wanted.writeArenaWords ||
      c!.readArenaWords < wanted.readArenaWords
    ) {
      this.mv = MultiVersionMemory.create(wanted, cacheLineAllocator);
    } else {
      mv.reset(txCount);
    }
    return this.mv!;
  }

  private settleRowsFor(mv: MultiVersionMemory): SettleRows {
    if (this.settleRows === undefined || this.settleRows.idCapacity < mv.capacities.locationCapacity) {
      this.settleRows = SettleRows.create(mv.capacities.locationCapacity);
    }
    this.settleRows.reset();
    return this.settleRows;
  }

  private schedulerFor(txCount: number): Scheduler {
    if (this.scheduler === undefined || this.scheduler.maxTxs < txCount) {
      this.scheduler = Scheduler.create(Math.max(txCount, 1024), cacheLineAllocator);
    }
    this.scheduler.reset(txCount);
    return this.scheduler;
  }
}

/** The calling thread's share failed: named like a pool worker's failure ("worker N failed: ..."). */
async function asCallerFailure<T>(share: Promise<T>, index: number): Promise<T> {
  try {
    return await share;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`worker ${index} (the calling thread) failed: ${message}`, { cause: error });
  }
}

/** Passes reads through and keeps the first error the Storage threw, to rethrow it unwrapped. */
class ErrorRecordingStorage implements Storage {
  error: { value: unknown } | undefined;
  /** Only where the source has it: its absence means "unknown" (Storage). */
  readonly hasStorage?: (address: AddressHex) => boolean;
  constructor(private readonly source: Storage) {
    if (source.hasStorage !== undefined) this.hasStorage = (address) => this.read(() => source.hasStorage!(address));
  }
  private read<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      this.error ??= { value: error };
      throw error;
    }
  }
  account(address: AddressHex) {
    return this.read(() => this.source.account(address));
  }
  code(codeHash: Hex) {
    return this.read(() => this.source.code(codeHash));
  }
  storage(address: AddressHex, slot: bigint) {
    return this.read(() => this.source.storage(address, slot));
  }
  blockHash(number: bigint) {
    return this.read(() => this.source.blockHash(number));
  }
}
