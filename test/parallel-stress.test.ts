/**
 * Stress: the most conflicting mainnet blocks, run again and again with random worker counts
 * (1..8, on a 2-core machine) and random busy-wait delays before each execution, so that
 * transactions interleave differently every run. Every run must equal sequential execution.
 *
 * The random choices come from a seeded PRNG; the seed is printed, and PEVM_STRESS_SEED=<seed>
 * replays the same worker counts and delay bounds (thread timing itself is not replayable).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { executeBlock } from "../src/execute.ts";
import { closeEngines } from "../src/index.ts";
import { describeDifferences } from "./support/compare.ts";
import { FallbackLog } from "./support/fallbacks.ts";
import { loadMainnetBlock } from "./support/mainnet.ts";
import { compareParallel, ENGINE_CLOSE_TIMEOUT_MS } from "./support/parallel.ts";
import { seededRandom, seedFromEnv } from "./support/random.ts";

/**
 * The blocks with the most re-executions and validation aborts in a survey run (chains of
 * dependent transactions, hot contracts), plus moderately conflicting ones of several eras.
 */
const STRESS_BLOCKS = [
  2179522, // 222 txs, ~200 re-executions
  2641321,
  3356896,
  4370000, // Byzantium activation
  5526571,
  5891667, // 380 txs, ~370 re-executions
  6137495,
  6196166,
  11814555, // 579 txs, ~570 re-executions
  13287210, // 1414 txs, ~400-1400 re-executions
  14396881, // 1346 txs, most validation aborts
  15274915, // 1226 txs, up to thousands of re-executions with 8 workers
  19426586, // Cancun
];

/**
 * The whole file stays near 3 minutes: each block gets an equal share of this budget (a block
 * may overrun its share by its minimum runs; the first run on each new pool size is slow, its
 * workers' JIT being cold).
 */
const TOTAL_BUDGET_MS = 120_000;
const BLOCK_BUDGET_MS = TOTAL_BUDGET_MS / STRESS_BLOCKS.length;
/** Runs per block: at least this many whatever the budget, at most the other. */
const MIN_RUNS = 3;
const MAX_RUNS = 12;
const MAX_WORKERS = 8;
const DELAY_BOUNDS_MICROS = [0, 20, 100, 500];
/** A run that trips the budget still finishes; far above any honest block's runtime. */
const TEST_TIMEOUT_MS = 300_000;

const SEED = seedFromEnv("PEVM_STRESS_SEED");
const fallbacks = new FallbackLog();

beforeAll(() => {
  console.log(`parallel-stress seed ${SEED} (replay with PEVM_STRESS_SEED=${SEED})`);
});

afterAll(async () => {
  console.log(fallbacks.report("parallel-stress.test"));
  await closeEngines();
}, ENGINE_CLOSE_TIMEOUT_MS);

describe(`stress, seed ${SEED}`, () => {
  for (const number of STRESS_BLOCKS) {
    test(`block ${number}: ${MIN_RUNS}-${MAX_RUNS} runs, random workers 1-${MAX_WORKERS} and delays, all equal sequential`, async () => {
      const loaded = loadMainnetBlock(number);
      const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
      // Per-block stream: the plan of one block does not depend on which others ran.
      const random = seededRandom(SEED ^ number);
      const started = performance.now();
      const runs: string[] = [];
      const failures: string[] = [];
      while (runs.length < MAX_RUNS && (runs.length < MIN_RUNS || performance.now() - started < BLOCK_BUDGET_MS)) {
        const workers = random.int(1, MAX_WORKERS);
        const injectDelayMicros = DELAY_BOUNDS_MICROS[random.int(0, DELAY_BOUNDS_MICROS.length - 1)]!;
        const { differences, stats, modeProblems } = await compareParallel(`block ${number}`, loaded, sequential, workers, fallbacks, {
          injectDelayMicros,
        });
        runs.push(`${workers}w/${injectDelayMicros}us:${stats.reExecutions}re${stats.fallback === null ? "" : ":fallback"}`);
        const problems = [...modeProblems, ...differences];
        if (problems.length > 0) {
          failures.push(`run ${runs.length} (${workers} workers, delay up to ${injectDelayMicros} us, seed ${SEED}):\n  ${describeDifferences(problems)}`);
        }
      }
      console.log(`block ${number}: ${runs.length} runs [${runs.join(" ")}]`);
      expect(runs.length).toBeGreaterThanOrEqual(MIN_RUNS);
      if (failures.length > 0) throw new Error(`block ${number}: parallel != sequential in ${failures.length} run(s)\n${failures.join("\n")}`);
    }, TEST_TIMEOUT_MS);
  }
});
