import { encodeBlock } from "../chain/block-codec.ts";
import { InvalidTransactionError } from "../chain/errors.ts";
import { Fork } from "../chain/forks.ts";
import { logsBloom, orBloom, type Log, type Receipt } from "../chain/receipts.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { LocationKind, MultiVersionMemory, ReadResult, ReadStatus, applyDelta, defaultCapacities } from "../mv/index.ts";
import { allocateShared, allowedCpuCount } from "../native/index.ts";
import { Scheduler, addStatsInto, emptyStats, type SchedulerStats } from "../scheduler/index.ts";
import { MemoryStorage } from "../state/memory.ts";
import { SharedStorage } from "../state/shared-storage.ts";
import { EMPTY_CODE_HASH, type AccountChange, type StateChanges, type Storage } from "../state/types.ts";
import { BlockState } from "../vm/block-state.ts";
import { REASONS_ALONE, checkBlockBlobGas, checkBlockGasAvailable } from "../chain/validity.ts";
import {
  finishBlock,
  applyBlockPrologue,
  blockFork,
  executeBlockSequential,
  type BlockResult,
  type ExecuteOptions,
} from "../vm/block.ts";
import { WorkerPool } from "../workers/pool.ts";
import { CodeStore } from "./code-store.ts";
import { HALT_FALLBACK, type BlockJob, type TxDetails, type WorkerReport } from "./job.ts";
import { HAS_DETAILS, STATUS_SUCCESS, TxResults } from "./results.ts";
import { decodeAccount, decodeCodeHash, encodeAccount, readU256 } from "./values.ts";

/** How parallel the block really was. */
export interface ParallelStats extends SchedulerStats {
  workers: number;
  /** Why the block was re-run sequentially, when it was. */
  fallback: string | null;
  /** Summed over workers: ms inside transaction execution, and ms of whole worker runs. */
  executeMs: number;
  workerMs: number;
  /** Main thread: ms from the call to the workers' start (prologue, sizing, dispatch), the whole
   * run as seen from here, and the in-order settle (receipts, final state, rewards). */
  prepareMs: number;
  runMs: number;
  settleMs: number;
}

export interface ParallelOptions extends ExecuteOptions {
  /** Internal: how often this block was re-run with grown shared arenas. */
  capacityRetries?: number;
  /** Test hooks (see BlockJob). */
  injectDelayMicros?: number;
  injectThrowAtTx?: number;
  /** Watchdog for one block (default 10 minutes): a stuck run fails instead of hanging. */
  timeoutMs?: number;
}

const WORKER_SCRIPT = new URL("../workers/evm-worker.ts", import.meta.url).href;

/** Hot shared structures start on a cache line (native helper; ptr() alignment without it). */
const cacheLineAligned = (bytes: number) => allocateShared(bytes, 64);

let nextId = 1;
const sharedStorages = new WeakMap<Storage, { id: number; storage: SharedStorage; storageOnly: string[] }>();
const encodedBlocks = new WeakMap<Block, SharedBlock>();

interface SharedBlock {
  id: number;
  buffer: SharedArrayBuffer;
  previousFromSender: SharedArrayBuffer;
}

/**
 * The pre-state in shared memory, built once per Storage object (the "loading" step a
 * benchmark does not time). The Storage must not change afterwards.
 */
export function shareStorage(storage: Storage): { id: number; storage: SharedStorage; storageOnly: string[] } {
  let shared = sharedStorages.get(storage);
  if (shared === undefined) {
    if (!(storage instanceof MemoryStorage)) {
      throw new TypeError("the parallel engine needs a MemoryStorage pre-state (it copies it into shared memory)");
    }
    const storageOnly: string[] = [];
    for (const [address, acc] of storage.accounts) {
      if (acc.storage.size > 0 && acc.nonce === 0n && acc.codeHash === EMPTY_CODE_HASH) storageOnly.push(address);
    }
    shared = { id: nextId++, storage: SharedStorage.fromMemory(storage), storageOnly };
    sharedStorages.set(storage, shared);
  }
  return shared;
}

export function shareBlock(block: Block): SharedBlock {
  let encoded = encodedBlocks.get(block);
  if (encoded === undefined) {
    const previousFromSender = new SharedArrayBuffer(Math.max(4, block.transactions.length * 4));
    const previous = new Int32Array(previousFromSender);
    const last = new Map<string, number>();
    for (const tx of block.transactions) {
      previous[tx.index] = last.get(tx.from) ?? -1;
      last.set(tx.from, tx.index);
    }
    encoded = { id: nextId++, buffer: encodeBlock(block), previousFromSender };
    encodedBlocks.set(block, encoded);
  }
  return encoded;
}

/**
 * Block-STM over a pool of Bun Workers: every worker executes and validates transactions
 * against the shared multi-version memory; this thread then settles the block in order.
 */
export class ParallelEngine {
  private mv: MultiVersionMemory | undefined;
  private scheduler: Scheduler | undefined;
  private codes = CodeStore.create(4 << 20);
  /** Grows when a block overflowed the multi-version memory's arenas. */
  private growthFactor = 1;
  private results = TxResults.create(1024);

  private constructor(private readonly pool: WorkerPool<null, BlockJob, WorkerReport>) {}

  static async start(workers: number, pin = true): Promise<ParallelEngine> {
    const pool = await WorkerPool.start<null, BlockJob, WorkerReport>(workers, WORKER_SCRIPT, null, { pin });
    return new ParallelEngine(pool);
  }

  get workers(): number {
    return this.pool.size;
  }

  async close(): Promise<void> {
    await this.pool.close();
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
    const shared = shareStorage(base);
    const encoded = shareBlock(block);
    const mv = this.memoryFor(txCount);
    const scheduler = this.schedulerFor(txCount);
    this.codes.reset();
    if (this.results.capacity < txCount) this.results = TxResults.create(txCount);
    this.results.reset(txCount);

    const job: BlockJob = {
      fork,
      storageId: shared.id,
      storage: shared.storage.descriptor(),
      blockId: encoded.id,
      block: encoded.buffer,
      previousFromSender: encoded.previousFromSender,
      mv: mv.descriptor,
      scheduler: scheduler.descriptor(),
      codes: this.codes.buffer,
      results: this.results.buffer,
      storageOnlyAccounts: shared.storageOnly,
      injectDelayMicros: options.injectDelayMicros,
      injectThrowAtTx: options.injectThrowAtTx,
    };
    let reports: WorkerReport[];
    const runStarted = performance.now();
    try {
      reports = await this.pool.run(job, {
        timeoutMs: options.timeoutMs ?? 600_000,
        onFailure: () => scheduler.halt(),
      });
    } catch (error) {
      // Shared arenas are sized from the block; one that was too small is grown, and the
      // block runs again from scratch (nothing of the failed run is kept).
      if (error instanceof Error && /MvCapacityError|CodeStoreFullError/.test(error.message) && (options.capacityRetries ?? 0) < 3) {
        this.growthFactor *= 4;
        if (/CodeStoreFullError/.test(error.message)) this.codes = CodeStore.create(this.codes.buffer.byteLength * 4);
        return this.executeNow(block, storage, { ...options, capacityRetries: (options.capacityRetries ?? 0) + 1 });
      }
      throw error;
    }

    const settleStarted = performance.now();
    const stats: ParallelStats = {
      ...emptyStats(),
      workers: this.pool.size,
      fallback: null,
      executeMs: 0,
      workerMs: 0,
      prepareMs: runStarted - started,
      runMs: settleStarted - runStarted,
      settleMs: 0,
    };
    for (const r of reports) {
      stats.executeMs += r.executeMs;
      stats.workerMs += r.runMs;
    }
    addStatsInto(stats, scheduler.stats());
    const fallback = reports.find((r) => r.fallback !== undefined)?.fallback;
    if (fallback !== undefined || scheduler.haltCode() === HALT_FALLBACK) {
      const result = await executeBlockSequential(block, storage, options);
      stats.fallback = fallback ?? "a worker asked for the sequential fallback";
      return { ...result, stats };
    }
    if (!scheduler.isDone()) throw new Error("parallel run ended before the block was done");

    const details = finalDetails(reports, this.results, scheduler, txCount);
    const { receipts, gasUsed, blobGasUsed, bloom } = settleReceipts(block, fork, this.results, details);
    const changes = settleState(mv, shared.storage, this.codes);
    const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
    if (prologue) state.overlay(prologue);
    state.overlay(changes);
    const result = await finishBlock(block, fork, options, state, receipts, gasUsed, blobGasUsed, bloom);
    stats.settleMs = performance.now() - settleStarted;
    return { ...result, stats };
  }

  private memoryFor(txCount: number): MultiVersionMemory {
    const base = defaultCapacities({ txCount, readsPerTx: 32, writesPerTx: 8 });
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
      this.mv = MultiVersionMemory.create(wanted, cacheLineAligned);
    } else {
      mv.reset(txCount);
    }
    return this.mv!;
  }

  private schedulerFor(txCount: number): Scheduler {
    if (this.scheduler === undefined || this.scheduler.maxTxs < txCount) {
      this.scheduler = Scheduler.create(Math.max(txCount, 1024), cacheLineAligned);
    }
    this.scheduler.reset(txCount);
    return this.scheduler;
  }
}

const prologues = new WeakMap<Block, { storage: Storage; fork: Fork; base: Storage; prologue: StateChanges | undefined }>();

/**
 * Block-level writes before the transactions (DAO fork, beacon root, Prague's block-hash
 * history) become part of the pre-state the workers see; built once per block and pre-state,
 * like the shared copy.
 */
async function withPrologue(block: Block, fork: Fork, storage: Storage): Promise<{ base: Storage; prologue: StateChanges | undefined }> {
  const cached = prologues.get(block);
  if (cached !== undefined && cached.storage === storage && cached.fork === fork) return cached;
  const pre = new BlockState(storage, fork >= Fork.SpuriousDragon);
  await applyBlockPrologue(block, fork, pre, storage);
  const prologue = pre.result().size > 0 ? pre.result() : undefined;
  const entry = { storage, fork, base: prologue ? overlayStorage(storage, prologue) : storage, prologue };
  prologues.set(block, entry);
  return entry;
}

/** The pre-state with block-level changes applied (a shallow copy: untouched accounts are shared). */
function overlayStorage(storage: Storage, changes: StateChanges): MemoryStorage {
  if (!(storage instanceof MemoryStorage)) throw new TypeError("the parallel engine needs a MemoryStorage pre-state");
  const copy = new MemoryStorage();
  for (const [a, acc] of storage.accounts) copy.accounts.set(a, acc);
  for (const [h, c] of storage.codes) copy.codes.set(h, c);
  for (const [n, h] of storage.blockHashes) copy.blockHashes.set(n, h);
  for (const [address, c] of changes) {
    if (c.deleted) {
      copy.accounts.delete(address);
      continue;
    }
    const old = storage.accounts.get(address);
    const slots = new Map(c.storageCleared ? [] : (old?.storage ?? []));
    for (const [k, v] of c.storage) slots.set(k, v);
    copy.setAccount(address, { balance: c.balance, nonce: c.nonce, codeHash: c.codeHash }, slots);
    if (c.code) copy.codes.set(c.codeHash, c.code);
  }
  return copy;
}

/** Per transaction, the details (logs, contract, invalidity) of its final incarnation. */
function finalDetails(reports: WorkerReport[], results: TxResults, scheduler: Scheduler, txCount: number): (TxDetails | undefined)[] {
  for (let i = 0; i < txCount; i++) {
    const expected = scheduler.txStatus(i).incarnation;
    if (results.incarnation(i) !== expected) {
      throw new Error(`parallel run lost the result of transaction ${i} (incarnation ${expected})`);
    }
  }
  const finals: (TxDetails | undefined)[] = new Array(txCount);
  for (const r of reports) {
    for (const d of r.details) {
      if (d.incarnation === results.incarnation(d.tx)) finals[d.tx] = d;
    }
  }
  for (let i = 0; i < txCount; i++) {
    if ((results.flags(i) & HAS_DETAILS) !== 0 && finals[i] === undefined) {
      throw new Error(`parallel run lost the logs of transaction ${i}`);
    }
  }
  return finals;
}

const NO_LOGS: Log[] = [];
const EMPTY_BLOOM = new Uint8Array(256);

/** Receipts in block order, with the checks that depend on the transactions before (gas, blobs). */
function settleReceipts(block: Block, fork: Fork, results: TxResults, details: (TxDetails | undefined)[]) {
  const receipts: Receipt[] = [];
  const bloom = new Uint8Array(256);
  let gasUsed = 0n;
  let blobGasUsed = 0n;
  for (const tx of block.transactions) {
    const d = details[tx.index];
    const invalid = d?.invalid;
    const reasonOnly = (message: string) => message.replace(/^transaction \d+: \w+: /, "");
    // The same error, for the same transaction, as sequential execution would raise: workers
    // check everything but the gas the block has left (chain/validity.ts keeps the order).
    if (invalid && REASONS_ALONE.has(invalid.reason)) {
      throw new InvalidTransactionError(tx.index, invalid.reason, reasonOnly(invalid.message));
    }
    checkBlockGasAvailable(tx, block.header.gasLimit - gasUsed);
    if (invalid) throw new InvalidTransactionError(tx.index, invalid.reason, reasonOnly(invalid.message));
    const txGas = results.gasUsed(tx.index);
    gasUsed += txGas;
    const txBlobGas = tx.type === 3 ? results.blobGasUsed(tx.index) : 0n;
    blobGasUsed += txBlobGas;
    if (txBlobGas !== 0n) checkBlockBlobGas(fork, blobGasUsed, tx.index);
    const logs = d?.logs ?? NO_LOGS;
    const receiptBloom = logs.length === 0 ? EMPTY_BLOOM : logsBloom(logs);
    if (logs.length > 0) orBloom(bloom, receiptBloom);
    receipts.push({
      type: tx.type,
      status: (results.flags(tx.index) & STATUS_SUCCESS) !== 0 ? 1 : 0,
      gasUsed: txGas,
      cumulativeGasUsed: gasUsed,
      logs: logs.length === 0 ? [] : logs,
      logsBloom: logs.length === 0 ? new Uint8Array(256) : receiptBloom,
      contractAddress: d?.contractAddress,
    });
  }
  return { receipts, gasUsed, blobGasUsed, bloom };
}

interface SettledAccount {
  account?: Uint32Array;
  accountDelta?: { delta: Uint32Array; flags: number };
  codeHash?: Hex;
  slots: Map<bigint, bigint>;
}

/** The final value of every location some transaction wrote, as per-account changes. */
function settleState(mv: MultiVersionMemory, base: SharedStorage, codes: CodeStore): StateChanges {
  const result = new ReadResult();
  const locations = mv.locations;
  const count = locations.count;
  const byAddress = new Map<AddressHex, SettledAccount>();
  for (let id = 0; id < count; id++) {
    const status = mv.finalValue(id, result);
    // BASE without deltas: nobody wrote it (only read it, or wrote and then un-wrote it).
    if (status === ReadStatus.BASE && result.deltaCount === 0) continue;
    const key = locations.keyOf(id);
    const address = key.address as AddressHex;
    let a = byAddress.get(address);
    if (a === undefined) {
      a = { slots: new Map() };
      byAddress.set(address, a);
    }
    if (key.kind === LocationKind.ACCOUNT) {
      if (status === ReadStatus.VALUE) a.account = result.value.slice();
      else a.accountDelta = { delta: result.delta.slice(), flags: result.deltaFlags };
    } else if (key.kind === LocationKind.CODE) {
      a.codeHash = decodeCodeHash(result.value);
    } else {
      a.slots.set(key.slot!, readU256(result.value, 0));
    }
  }
  const changes: StateChanges = new Map();
  const words = new Uint32Array(11);
  for (const [address, a] of byAddress) {
    const before = a.account === undefined || a.codeHash === undefined ? base.account(address) : undefined;
    const codeHash = a.codeHash ?? before?.codeHash ?? EMPTY_CODE_HASH;
    let code: Uint8Array | undefined;
    if (a.codeHash !== undefined) {
      code = codeHash === EMPTY_CODE_HASH ? new Uint8Array(0) : (codes.get(codeHash) ?? base.code(codeHash));
    }
    if (a.account !== undefined) words.set(a.account);
    else {
      encodeAccount(before !== undefined, before?.balance ?? 0n, before?.nonce ?? 0n, words);
      if (a.accountDelta !== undefined) applyDelta(words, a.accountDelta.delta, a.accountDelta.flags);
    }
    const { exists, balance, nonce } = decodeAccount(words, codeHash);
    changes.set(address, {
      deleted: !exists,
      balance: exists ? balance : 0n,
      nonce: exists ? nonce : 0n,
      codeHash: exists ? codeHash : EMPTY_CODE_HASH,
      // As sequential BlockState: a deleted account carries no code.
      code: exists ? code : undefined,
      storageCleared: false,
      storage: a.slots,
    });
  }
  return changes;
}

// ---- one engine per worker count, started on first use ----

const engines = new Map<number, Promise<ParallelEngine>>();

export function engineFor(workers: number): Promise<ParallelEngine> {
  let engine = engines.get(workers);
  if (engine === undefined) {
    engine = ParallelEngine.start(workers);
    engines.set(workers, engine);
  }
  return engine;
}

/** Stops every worker pool (so that a CLI or test process can exit). */
export async function closeEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map(async (e) => (await e).close()));
}

/** The worker count the machine fits: one per CPU this process may run on. */
export function defaultWorkerCount(): number {
  return Math.max(1, allowedCpuCount());
}
