/**
 * pevm: execute an Ethereum block, sequentially or in parallel (Block-STM over Bun Workers),
 * with the same results either way.
 */
import type { Block } from "./chain/types.ts";
import type { Storage } from "./state/types.ts";
import { chooseExecution } from "./parallel/auto.ts";
import { defaultWorkerCount, engineFor, type ParallelOptions, type ParallelStats } from "./parallel/engine.ts";
import { checkBlockSize } from "./chain/validity.ts";
import { blockFork, executeBlockSequential, type BlockResult, type ExecuteOptions } from "./vm/block.ts";

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
  /** Why the automatic choice went the way it did (undefined when forced). */
  reason?: string;
}

/** Executes `block` on the pre-state `storage`. Throws InvalidTransactionError for an invalid block. */
export async function executeBlock(
  block: Block,
  storage: Storage,
  options: PevmOptions = {},
): Promise<BlockResult & { stats?: ParallelStats; mode: ExecutionMode }> {
  // EIP-7934: a block-level rule that needs no execution, checked once for both modes.
  if (block.rlpSize !== undefined) checkBlockSize(blockFork(block, options), block.rlpSize);
  if (options.sequential) {
    return { ...(await executeBlockSequential(block, storage, options)), mode: { mode: "sequential", workers: 0 } };
  }
  let workers = options.workers ?? 0;
  let reason: string | undefined;
  if (workers <= 0) {
    const available = Math.max(1, Math.min(options.maxWorkers ?? defaultWorkerCount(), defaultWorkerCount()));
    const decision = chooseExecution(block, available);
    reason = decision.reason;
    if (!decision.parallel) {
      return { ...(await executeBlockSequential(block, storage, options)), mode: { mode: "sequential", workers: 0, reason } };
    }
    workers = available;
  }
  const engine = await engineFor(workers);
  return { ...(await engine.execute(block, storage, options)), mode: { mode: "parallel", workers, reason } };
}

export { closeEngines, ParallelEngine, type ParallelStats } from "./parallel/engine.ts";

export { Fork, forkName, mainnetFork, parseForkName } from "./chain/forks.ts";
export { InputError, InvalidBlockError, InvalidTransactionError } from "./chain/errors.ts";
export { logsHash, receiptsRoot, type Log, type Receipt } from "./chain/receipts.ts";
export type { Block, BlockHeader, Transaction } from "./chain/types.ts";
export { parseBlock } from "./chain/json.ts";
export { loadBlockDir, loadPreState, type LoadedBlock } from "./state/corpus.ts";
export { MemoryStorage } from "./state/memory.ts";
export { EMPTY_CODE_HASH, type AccountChange, type AccountInfo, type StateChanges, type Storage } from "./state/types.ts";
export type { BlockResult, ExecuteOptions } from "./vm/block.ts";
