/**
 * pevm: execute an Ethereum block, sequentially or in parallel (Block-STM over Bun Workers),
 * with the same results either way.
 *
 *   import { executeBlock, loadBlockDir } from "pevm";
 *   const { block, storage } = loadBlockDir("path/to/block-dir");
 *   const result = await executeBlock(block, storage);
 *
 * A process that uses pevm exits by itself: idle workers do not keep it alive.
 */
import type { BlockInput } from "./chain/input.ts";
import {
  checkWorkerCount,
  executeBlock as executeInternal,
  executeWith,
  type BlockResult,
  type PevmOptions,
} from "./execute.ts";
import { ParallelEngine } from "./parallel/engine.ts";
import { defaultWorkerCount } from "./parallel/registry.ts";
import type { AsyncStorage } from "./state/missing.ts";
import type { Storage } from "./state/types.ts";

/**
 * Executes `block` on the pre-state `storage` and returns receipts, gas, logs bloom and the
 * state changes. `block` is our parsed Block, a JSON-RPC `eth_getBlockByNumber(n, true)`
 * result as it comes, or a viem block (bigint fields).
 * With no options pevm chooses per block between sequential and parallel execution (and says
 * why in `result.mode.reason`); parallel engines are started on first use and shared.
 * Throws InputError for malformed input (file, field and value), InvalidTransactionError for
 * an invalid block (transaction index and reason; the same in every mode).
 * An AsyncStorage (a pre-state fetched as it is read, e.g. from a node) runs sequentially only.
 */
export function executeBlock(block: BlockInput, storage: Storage | AsyncStorage, options: PevmOptions = {}): Promise<BlockResult> {
  return executeInternal(block, storage, options);
}

/**
 * A parallel engine of its own (its own worker pool), for callers that want to control its
 * lifetime: `await using pevm = await Pevm.start({ workers: 4 })` stops it at the end of the
 * scope. Blocks too small for parallel execution, and a cold process's first blocks (see
 * COLD_PROCESS_GAS in parallel/auto.ts), still run sequentially unless `parallel` is set.
 */
export class Pevm implements AsyncDisposable {
  private constructor(private readonly engine: ParallelEngine) {}

  /** Starts `workers` workers (default: one per CPU this process may use): the calling thread and `workers - 1` Bun Workers. */
  static async start(options: { workers?: number } = {}): Promise<Pevm> {
    const workers = options.workers === undefined ? defaultWorkerCount() : checkWorkerCount(options.workers, "workers");
    return new Pevm(await ParallelEngine.start(workers));
  }

  get workers(): number {
    return this.engine.workers;
  }

  /**
   * As `executeBlock`, on this engine. `parallel: true` runs even a tiny block on the workers;
   * `sequential: true` runs on the calling thread.
   */
  executeBlock(block: BlockInput, storage: Storage, options: Omit<PevmOptions, "workers" | "maxWorkers"> & { parallel?: boolean } = {}): Promise<BlockResult> {
    const { parallel, ...rest } = options;
    const sized = parallel ? { ...rest, workers: this.engine.workers } : { ...rest, maxWorkers: this.engine.workers };
    return executeWith(() => Promise.resolve(this.engine), block, storage, sized);
  }

  /** Stops the workers; resolves once they have exited. */
  close(): Promise<void> {
    return this.engine.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

export { MAX_WORKERS, prepareEngine, type BlockResult, type ExecutionMode, type PevmOptions, type Receipt } from "./execute.ts";
export type { BlockInput, RpcBlock } from "./chain/input.ts";
export type { ParallelStats } from "./parallel/engine.ts";
export { closeEngines, defaultWorkerCount } from "./parallel/registry.ts";
export { setWorkerScript } from "./parallel/worker-script.ts";

export { Fork, forkName, mainnetFork, parseForkName } from "./chain/forks.ts";
export { InputError, InvalidBlockError, InvalidTransactionError, type InvalidTxReason } from "./chain/errors.ts";
export { logsHash, receiptsRoot, type Log } from "./chain/receipts.ts";
export type { AccessListItem, AddressHex as Address, Block, BlockHeader, Hex, Transaction, Withdrawal } from "./chain/types.ts";
export { parseBlock } from "./chain/json.ts";
export { loadBlockDir, loadPreState, type LoadedBlock, type LoadOptions } from "./state/corpus.ts";
export { MemoryStorage, type MemoryAccount } from "./state/memory.ts";
export { CachedStorage } from "./state/cached-storage.ts";
export { isAsyncStorage, MissingState, type AsyncStorage, type StateKey } from "./state/missing.ts";
export { executeBlockOnAsyncStorage, type AsyncExecution } from "./vm/block-async.ts";
export { fetchBlock, parseBlockId, type BlockId, type FetchOptions, type FetchResult } from "./fetch/fetch.ts";
export { RpcClient, RpcError, type RpcErrorKind, type RpcOptions } from "./fetch/rpc.ts";
export { RpcStorage } from "./fetch/sources.ts";
export { stateRoot } from "./state/state-root.ts";
export { EMPTY_CODE_HASH, type AccountChange, type AccountInfo, type StateChanges, type Storage } from "./state/types.ts";
export type { ExecuteOptions } from "./vm/block.ts";
