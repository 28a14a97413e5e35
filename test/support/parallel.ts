/** Runs the parallel engine on a block and compares it with the sequential result. */
import { executeBlock, type InternalOptions } from "../../src/execute.ts";
import type { ParallelStats } from "../../src/parallel/engine.ts";
import type { LoadedBlock } from "../../src/state/corpus.ts";
import type { BlockResult } from "../../src/execute.ts";
import { resultDifferences } from "./compare.ts";
import type { FallbackLog } from "./fallbacks.ts";

export interface ParallelComparison {
  differences: string[];
  stats: ParallelStats;
  /** What the engine reported about itself that contradicts the request (mode, worker count). */
  modeProblems: string[];
}

/** Watchdog for one parallel block run: far above any honest run, well below a hang. */
export const BLOCK_TIMEOUT_MS = 120_000;

/** For the afterAll that closes the engines: stopping several pools takes seconds (hook default: 5 s). */
export const ENGINE_CLOSE_TIMEOUT_MS = 60_000;

export async function compareParallel(
  label: string,
  loaded: LoadedBlock,
  sequential: BlockResult,
  workers: number,
  fallbacks: FallbackLog,
  options: Omit<InternalOptions, "workers" | "sequential"> = {},
): Promise<ParallelComparison> {
  const parallel = await executeBlock(loaded.block, loaded.storage, { timeoutMs: BLOCK_TIMEOUT_MS, ...options, workers });
  const stats = parallel.stats!;
  fallbacks.record(label, stats);
  const modeProblems: string[] = [];
  if (parallel.mode.mode !== "parallel") modeProblems.push(`ran in mode ${parallel.mode.mode}`);
  if (stats?.workers !== workers) modeProblems.push(`ran with ${stats?.workers} workers, not ${workers}`);
  return { differences: resultDifferences(sequential, parallel), stats, modeProblems };
}
