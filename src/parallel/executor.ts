import { InvalidTransactionError } from "../chain/errors.ts";
import { logsBloom } from "../chain/receipts.ts";
import type { AddressHex } from "../chain/types.ts";
import type { SharedBlockView } from "./block-codec.ts";
import { Fork } from "../chain/forks.ts";
import { type MultiVersionMemory, WriteSet } from "../mv/index.ts";
import type { ForkVm } from "../vm/evm.ts";
import { executeTransaction, type BlockEnv, type TxOutcome } from "../vm/transaction.ts";
import type { ExecOutcome, TxTaskExecutor } from "../scheduler/worker-loop.ts";
import type { CodeStore } from "./code-store.ts";
import type { BlockJob, ConflictCount, TxDetails } from "./protocol.ts";
import type { TxResults } from "./results.ts";
import { LocationIds } from "./location-ids.ts";
import { MvStateSource, ReadBlocked } from "./mv-source.ts";
import type { PreStateReader } from "./pre-state.ts";
import { STATIC_IDS_PER_TX } from "./prepare.ts";
import { collectWrites, NeedsSequentialFallback, storageWipesPossible } from "./writes.ts";

/**
 * Executes and validates transactions of one block inside a worker, against the shared
 * multi-version memory: the EVM side of Block-STM (the generic loop is scheduler/worker-loop.ts).
 */
export class EvmTxExecutor implements TxTaskExecutor {
  readonly details = new Map<number, TxDetails>();
  executeMs = 0;
  private readonly source: MvStateSource;
  private readonly ids: LocationIds;
  private readonly writeSet = new WriteSet();
  private readonly scratch = new Uint32Array(11);
  private readonly isStorageOnly: (address: AddressHex) => boolean;
  private readonly previousFromSender: Int32Array;
  /** The block's static location ids (prepare.ts, staticLocations), when the run has them. */
  private readonly staticIds: Int32Array | undefined;
  /** Per tx: 1 once this worker let it wait for its sender's previous transaction. */
  private readonly waitedForSender: Uint8Array;
  private readonly blocked: ExecOutcome & { kind: "blocked" } = { kind: "blocked", blockingTx: -1 };
  private readonly done: ExecOutcome & { kind: "done" } = { kind: "done", wroteNewLocation: false };
  /** Per location: how often it made a transaction wait (an ESTIMATE) or fail validation. */
  private readonly conflictCounts = new Map<number, number>();

  constructor(
    private readonly job: BlockJob,
    private readonly vm: ForkVm,
    private readonly env: BlockEnv,
    private readonly block: SharedBlockView,
    private readonly mv: MultiVersionMemory,
    private readonly codes: CodeStore,
    preState: PreStateReader,
    isStorageOnly: (address: AddressHex) => boolean,
    private readonly results: TxResults,
  ) {
    this.ids = new LocationIds(mv.locations);
    this.isStorageOnly = isStorageOnly;
    this.source = new MvStateSource(mv, preState, codes, this.ids, isStorageOnly);
    this.source.wipesPossible = storageWipesPossible(env.fork);
    this.previousFromSender = new Int32Array(job.previousFromSender);
    this.staticIds = job.staticIds === undefined ? undefined : new Int32Array(job.staticIds);
    this.waitedForSender = new Uint8Array(this.previousFromSender.length);
  }

  execute(txIdx: number, incarnation: number): ExecOutcome | Promise<ExecOutcome> {
    const job = this.job;
    if (job.injectDelayMicros) busyWait(Math.random() * job.injectDelayMicros);
    if (job.injectThrowAtTx === txIdx) throw new Error(`injected failure at transaction ${txIdx}`);
    if (job.injectWorkerExit && !Bun.isMainThread) process.exit(3);
    // First execution of a transaction whose sender sent an earlier one: wait for that one
    // (the scheduler answers "already executed" if there is nothing to wait for).
    const previous = this.previousFromSender[txIdx]!;
    if (incarnation === 0 && previous >= 0 && this.waitedForSender[txIdx] === 0) {
      this.waitedForSender[txIdx] = 1;
      this.blocked.blockingTx = previous;
      return this.blocked;
    }
    const tx = this.block.transaction(txIdx);
    const statics = this.staticIds;
    if (statics !== undefined) {
      const at = txIdx * STATIC_IDS_PER_TX;
      this.ids.hint(tx.from, statics[at]!, statics[at + 1]!);
      if (tx.to !== undefined) this.ids.hint(tx.to, statics[at + 2]!, statics[at + 3]!);
      this.ids.hint(this.env.coinbase, statics[statics.length - 1]!, -1);
    }
    this.source.begin(txIdx);
    const t0 = performance.now();
    let pending: TxOutcome | Promise<TxOutcome>;
    try {
      pending = executeTransaction(this.vm, this.env, tx, this.source, this.env.header.gasLimit);
    } catch (error) {
      return this.finish(txIdx, incarnation, t0, undefined, error);
    }
    if (pending instanceof Promise) {
      return pending.then(
        (outcome) => this.finish(txIdx, incarnation, t0, outcome, undefined),
        (error) => this.finish(txIdx, incarnation, t0, undefined, error),
      );
    }
    return this.finish(txIdx, incarnation, t0, pending, undefined);
  }

  /** Records the execution's reads, writes and results (or its blocked read, or its invalidity). */
  private finish(txIdx: number, incarnation: number, t0: number, outcome: TxOutcome | undefined, error: unknown): ExecOutcome {
    let details: TxDetails | undefined;
    try {
      if (error !== undefined) throw error;
      const o = outcome!;
      collectWrites(o.writes, this.ids, this.codes, this.env.coinbase, this.env.fork >= Fork.SpuriousDragon, this.isStorageOnly, this.source.wipesPossible, this.writeSet, this.scratch);
      if (o.logs.length > 0 || o.contractAddress !== undefined) {
        const bloom = o.logs.length > 0 ? logsBloom(o.logs) : undefined;
        details = { tx: txIdx, incarnation, logs: o.logs, bloom, contractAddress: o.contractAddress };
      }
      this.results.write(txIdx, incarnation, o.status === 1, details !== undefined, o.gasUsed, o.blobGasUsed);
    } catch (e) {
      if (e instanceof ReadBlocked) {
        this.countConflict(e.locId);
        this.executeMs += performance.now() - t0;
        resetInterpreter(this.vm);
        this.blocked.blockingTx = e.blockingTx;
        return this.blocked;
      }
      if (e instanceof NeedsSequentialFallback) e.txIndex = txIdx;
      if (!(e instanceof InvalidTransactionError)) throw e;
      // Invalid in this view of the state; validation decides whether that view was right.
      this.writeSet.clear();
      details = { tx: txIdx, incarnation, logs: [], invalid: { reason: e.reason, detail: e.detail } };
      this.results.write(txIdx, incarnation, false, true, 0n, 0n);
    }
    this.executeMs += performance.now() - t0;
    if (details !== undefined) this.details.set(txIdx, details);
    this.mv.recordReads(txIdx, incarnation, this.source.reads);
    this.done.wroteNewLocation = this.mv.recordWrites(txIdx, incarnation, this.writeSet).wroteNewLocation;
    return this.done;
  }

  validate(txIdx: number): boolean {
    if (this.mv.validateReads(txIdx)) return true;
    this.countConflict(this.mv.lastInvalidRead);
    return false;
  }

  private countConflict(locId: number): void {
    if (locId >= 0) this.conflictCounts.set(locId, (this.conflictCounts.get(locId) ?? 0) + 1);
  }

  /** The accounts whose locations conflicted most in this run, most first (for the automatic choice). */
  conflicts(limit = 16): ConflictCount[] {
    const byAddress = new Map<string, number>();
    for (const [locId, count] of this.conflictCounts) {
      const address = this.mv.locations.keyOf(locId).address;
      byAddress.set(address, (byAddress.get(address) ?? 0) + count);
    }
    return [...byAddress]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([address, count]) => ({ address, count }));
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

