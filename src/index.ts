/**
 * pevm: execute an Ethereum block, sequentially or in parallel (Block-STM over Bun Workers),
 * with the same results either way.
 */
import type { Block } from "./chain/types.ts";
import type { Storage } from "./state/types.ts";
import { automaticChoice } from "./parallel/auto.ts";
import type { ParallelOptions, ParallelStats } from "./parallel/engine.ts";
import { defaultWorkerCount, engineFor, startEngine } from "./parallel/registry.ts";
import { executeBlockSequential, type BlockResult, type ExecuteOptions } from "./vm/block.ts";
import { isAsyncStorage, type AsyncStorage } from "./state/missing.ts";
import { executeBlockOnAsyncStorage } from "./vm/block-async.ts";

export interface PevmOptions extends ParallelOptions {
  /** Forces the parallel engine with exactly this many workers, even for a tiny block. */
  workers?: number;
  /** Execute on the calling thread, one transaction after another. */
  sequential?: boolean;
  /**
   * With neither `workers` nor `sequential`: the automatic choice uses at most this many
   * workers (default: the CPUs this process may use) and runs small or chain-like blocks
   * sequentially.
   */
  maxWorkers?: number;
}

export interface ExecutionMode {
  mode: "sequential" | "parallel";
  workers: number;
  /** Why the automatic choice went the way it did, in words (undefined when forced). */
  reason?: string;
}

/**
 * Starts, in the background, the worker pool that executeBlock with these options would use
 * (none for `sequential`), so that the first block does not wait for workers to start.
 * Resolves with the pool's start time in milliseconds (0 when no pool is needed).
 */
export function prepareEngine(options: Pick<PevmOptions, "workers" | "sequential" | "maxWorkers"> = {}): Promise<number> {
  if (options.sequential) return Promise.resolve(0);
  const workers = options.workers !== undefined && options.workers > 0 ? options.workers : automaticWorkerCount(options);
  if (workers < 2 && options.workers === undefined) return Promise.resolve(0); // one CPU: the automatic choice is sequential
  return startEngine(workers).startMs;
}

function automaticWorkerCount(options: Pick<PevmOptions, "maxWorkers">): number {
  return Math.max(1, Math.min(options.maxWorkers ?? defaultWorkerCount(), defaultWorkerCount()));
}

/**
 * Executes `block` on the pre-state `storage`. Throws InvalidTransactionError for an invalid block.
 * An AsyncStorage (a pre-state fetched as it is read, e.g. from a node) runs sequentially only.
 */
export async function executeBlock(
  block: Block,
  storage: Storage | AsyncStorage,
  options: PevmOptions = {},
): Promise<BlockResult & { stats?: ParallelStats; mode: ExecutionMode }> {
  if (isAsyncStorage(storage)) {
    if (!options.sequential) throw new TypeError("an AsyncStorage pre-state runs with { sequential: true } (snapshot it for the parallel engine)");
    return { ...(await executeBlockOnAsyncStorage(block, storage, options)).result, mode: { mode: "sequential", workers: 0 } };
  }
  if (options.sequential) {
    return { ...(await executeBlockSequential(block, storage, options)), mode: { mode: "sequential", workers: 0 } };
  }
  let workers = options.workers ?? 0;
  let reason: string | undefined;
  const automatic = workers <= 0;
  if (automatic) {
    const available = automaticWorkerCount(options);
    const decision = automaticChoice.choose(block, available);
    reason = decision.reason;
    if (!decision.parallel) {
      return { ...(await executeBlockSequential(block, storage, options)), mode: { mode: "sequential", workers: 0, reason } };
    }
    workers = available;
  }
  const engine = await engineFor(workers);
  const started = performance.now();
  const result = await engine.execute(block, storage, options);
  const stats = result.stats;
  // Runs in the automatic configuration teach the automatic choice (forced ones too: same machine).
  if (stats.fallback === null && workers === automaticWorkerCount(options)) {
    automaticChoice.learn(block, { ...stats, wallMs: performance.now() - started });
  }
  return { ...result, mode: { mode: "parallel", workers, reason } };
}

export { ParallelEngine, type ParallelStats } from "./parallel/engine.ts";
export { closeEngines } from "./parallel/registry.ts";

export { Fork, forkName, mainnetFork, parseForkName } from "./chain/forks.ts";
export { InputError, InvalidTransactionError } from "./chain/errors.ts";
export { logsHash, receiptsRoot, type Log, type Receipt } from "./chain/receipts.ts";
export type { Block, BlockHeader, Transaction } from "./chain/types.ts";
export { parseBlock } from "./chain/json.ts";
export { loadBlockDir, loadPreState, type LoadedBlock } from "./state/corpus.ts";
export { MemoryStorage } from "./state/memory.ts";
export { CachedStorage } from "./state/cached-storage.ts";
export { isAsyncStorage, MissingState, type AsyncStorage, type StateKey } from "./state/missing.ts";
export { executeBlockOnAsyncStorage, type AsyncExecution } from "./vm/block-async.ts";
export { fetchBlock, parseBlockId, type BlockId, type FetchOptions, type FetchResult } from "./fetch/fetch.ts";
export { RpcClient, RpcError, type RpcErrorKind, type RpcOptions } from "./fetch/rpc.ts";
export { RpcStorage } from "./fetch/sources.ts";
export { EMPTY_CODE_HASH, type AccountChange, type AccountInfo, type StateChanges, type Storage } from "./state/types.ts";
export type { BlockResult, ExecuteOptions } from "./vm/block.ts";
