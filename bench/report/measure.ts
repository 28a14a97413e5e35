/**
 * Timed runs of pevm's execution modes on one loaded block, shared by the corpus and the
 * gigagas sections. Every timed result is compared with a reference result, so a fast
 * wrong answer cannot slip into the numbers.
 */
import { executeBlock, type BlockResult, type ExecutionMode, type ParallelStats, type PevmOptions } from "../../src/index.ts";
import type { Block } from "../../src/chain/types.ts";
import type { Storage } from "../../src/state/types.ts";
import { collectGarbage, median, mgasPerSecond, timed } from "./stats.ts";

export type PevmMode = "sequential" | "parallel" | "parallel1" | "auto";

/** "parallel" is pinned at 2 workers, "parallel1" at one (the engine's own overhead); "auto" lets executeBlock choose. */
export const PARALLEL_WORKERS = 2;

export const MODE_OPTIONS: Record<PevmMode, PevmOptions> = {
  sequential: { sequential: true },
  parallel: { workers: PARALLEL_WORKERS },
  parallel1: { workers: 1 },
  auto: {},
};

export type ExecutedBlock = Awaited<ReturnType<typeof executeBlock>>;

export interface ModeSummary {
  /** Every timed run, in order. */
  runsMs: number[];
  medianMs: number;
  /** Process CPU time (all threads) of the runs, median: robust to other load on the machine. */
  medianCpuMs: number;
  mgasPerSecond: number;
  /** What the engine chose (auto) or was told, on the last run. */
  mode: ExecutionMode;
  /** Block-STM counters per run (parallel runs only). */
  reExecutions: number[];
  validationAborts: number[];
  dependencyWaits: number[];
  /** Why a run was redone sequentially inside the engine; null when none was. */
  fallback: string | null;
  /** Timed runs whose result differed from the reference. */
  mismatches: number;
}

export async function runMode(block: Block, storage: Storage, mode: PevmMode): Promise<ExecutedBlock> {
  return executeBlock(block, storage, MODE_OPTIONS[mode]);
}

/** Same receipts (logs, gas, status), same totals and the same post-state changes. */
export function sameResult(reference: BlockResult, result: BlockResult): boolean {
  return (
    reference.gasUsed === result.gasUsed &&
    reference.logsBloom === result.logsBloom &&
    reference.blobGasUsed === result.blobGasUsed &&
    Bun.deepEquals(reference.receipts, result.receipts) &&
    Bun.deepEquals(reference.changes, result.changes)
  );
}

function emptySummary(): ModeSummary {
  return {
    runsMs: [],
    medianMs: 0,
    medianCpuMs: 0,
    mgasPerSecond: 0,
    mode: { mode: "sequential", workers: 0, reason: "not run" },
    reExecutions: [],
    validationAborts: [],
    dependencyWaits: [],
    fallback: null,
    mismatches: 0,
  };
}

function record(summary: ModeSummary, stats: ParallelStats | undefined): void {
  if (stats === undefined) return;
  summary.reExecutions.push(stats.reExecutions);
  summary.validationAborts.push(stats.validationAborts);
  summary.dependencyWaits.push(stats.dependencyWaits);
  if (stats.fallback !== null) summary.fallback = stats.fallback;
}

/**
 * `runs` rounds over `modes`, the order rotating each round so that no mode always runs
 * first (after a GC) or last (with a warmer cache). Warm-up is the caller's job.
 *
 * Each timed run comes right after an untimed run of the same mode (the collection and the
 * quiet moment come before that one), as when a process executes block after block in one
 * mode. Without it a mode paid for the one before it, and the rotation put the 2-worker column
 * right after the sequential one in most rounds: a 2-worker run after a sequential run of the
 * same block took 17 % longer than after a 2-worker run, with a collection and a quiet wait
 * before the predecessor and a collection between (`bun bench/mode-order.ts --between quiet`, 8 heavy blocks, 2026-12-03: 1.166 and
 * 1.174; one run of three measured 1.009), 8-9 % with only a collection between.
 */
export async function measureModes(
  block: Block,
  storage: Storage,
  modes: readonly PevmMode[],
  runs: number,
  gas: number,
  reference: BlockResult,
): Promise<Record<PevmMode, ModeSummary>> {
  const summaries = Object.fromEntries(modes.map((m) => [m, emptySummary()])) as Record<PevmMode, ModeSummary>;
  const cpu = Object.fromEntries(modes.map((m) => [m, [] as number[]])) as Record<PevmMode, number[]>;
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + round) % modes.length];
      await collectGarbage();
      const primed = await runMode(block, storage, mode);
      const { value, ms, cpuMs } = await timed(() => runMode(block, storage, mode));
      const summary = summaries[mode];
      summary.runsMs.push(ms);
      cpu[mode].push(cpuMs);
      summary.mode = value.mode;
      record(summary, value.stats);
      if (!sameResult(reference, value)) summary.mismatches++;
      if (!sameResult(reference, primed)) summary.mismatches++;
    }
  }
  for (const mode of modes) {
    const summary = summaries[mode];
    summary.medianMs = median(summary.runsMs);
    summary.medianCpuMs = median(cpu[mode]);
    summary.mgasPerSecond = mgasPerSecond(gas, summary.medianMs);
  }
  return summaries;
}
