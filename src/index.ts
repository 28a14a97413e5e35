/**
 * pevm: execute an Ethereum block, sequentially or in parallel (Block-STM over Bun Workers),
 * with the same results either way.
 */
import type { Block } from "./chain/types.ts";
import type { Storage } from "./state/types.ts";
import { engineFor, type ParallelOptions, type ParallelStats } from "./parallel/engine.ts";
import { executeBlockSequential, type BlockResult, type ExecuteOptions } from "./vm/block.ts";

export interface PevmOptions extends ParallelOptions {
  /**
   * Number of parallel workers. 0 or undefined with `sequential` unset: chosen automatically.
   * A positive number forces the parallel engine with exactly that many workers.
   */
  workers?: number;
  /** Execute on the calling thread, one transaction after another. */
  sequential?: boolean;
}

/** Executes `block` on the pre-state `storage`. Throws InvalidTransactionError for an invalid block. */
export async function executeBlock(block: Block, storage: Storage, options: PevmOptions = {}): Promise<BlockResult & { stats?: ParallelStats }> {
  if (options.sequential || !options.workers) return executeBlockSequential(block, storage, options);
  const engine = await engineFor(options.workers);
  return engine.execute(block, storage, options);
}

export { closeEngines, ParallelEngine, type ParallelStats } from "./parallel/engine.ts";

export { Fork, forkName, mainnetFork, parseForkName } from "./chain/forks.ts";
export { InputError, InvalidTransactionError } from "./chain/errors.ts";
export { logsHash, receiptsRoot, type Log, type Receipt } from "./chain/receipts.ts";
export type { Block, BlockHeader, Transaction } from "./chain/types.ts";
export { parseBlock } from "./chain/json.ts";
export { loadBlockDir, loadPreState, type LoadedBlock } from "./state/corpus.ts";
export { MemoryStorage } from "./state/memory.ts";
export { EMPTY_CODE_HASH, type AccountChange, type AccountInfo, type StateChanges, type Storage } from "./state/types.ts";
export type { BlockResult, ExecuteOptions } from "./vm/block.ts";
