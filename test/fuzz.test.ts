/**
 * The differential fuzzer's slice of the suite: 200 seeded random blocks (test/mock/fuzz.ts),
 * each run sequentially and with a random worker count (1-8), must agree on everything
 * (receipts, gas, bloom, post-state, or the same invalid-block error). The seed is fixed
 * so that the suite is reproducible; `bun run fuzz --seed S --blocks N` soaks other seeds.
 * A differing block is written to fuzz-failures/<seed>-<index>/ with its replay commands.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { closeEngines, forkName } from "../src/index.ts";
import { DEFAULT_MAX_TXS, FUZZ_FORKS, TX_KINDS } from "./mock/fuzz.ts";
import { replayCommands, runFuzz } from "./mock/fuzz-run.ts";
import { ENGINE_CLOSE_TIMEOUT_MS } from "./support/parallel.ts";

const SEED = 20_261_201;
const BLOCKS = 200;
/** The CLI default; 200 blocks take ~30 s on this 2-core machine under load. */
const MAX_TXS = DEFAULT_MAX_TXS;
/** Far above an honest run on a loaded machine. */
const TEST_TIMEOUT_MS = 600_000;

afterAll(async () => {
  await closeEngines();
}, ENGINE_CLOSE_TIMEOUT_MS);

describe(`fuzz, seed ${SEED}`, () => {
  test(`${BLOCKS} random blocks, 1-8 workers: parallel == sequential`, async () => {
    const options = { seed: SEED, maxTxs: MAX_TXS };
    const summary = await runFuzz({ ...options, blocks: BLOCKS, stopOnDifference: false });
    console.log(
      `fuzz.test: ${summary.blocks} blocks, ${summary.transactions} transactions, ${summary.differences} differences, ` +
        `${summary.reExecutions} re-executions in ${summary.blocksWithReExecutions} blocks, ${summary.invalidBlocks} invalid blocks, ` +
        `${summary.fallbacks} fallbacks, forks ${JSON.stringify(summary.forks)}, ${(summary.ms / 1000).toFixed(1)} s`,
    );
    const failures = summary.failures.map(
      (report) =>
        `block ${report.index} (block seed ${report.blockSeed}, ${report.workers} workers, ${report.fork}):\n    ` +
        `${report.differences.slice(0, 5).join("\n    ")}\n    replay: ${replayCommands(options, report).join(" ; ")}`,
    );
    if (failures.length > 0) throw new Error(`parallel != sequential on ${failures.length} of ${summary.blocks} blocks\n  ${failures.join("\n  ")}`);
    expect(summary.blocks).toBe(BLOCKS);
    // The generator must really have produced what the fuzzer is for.
    expect(summary.reExecutions).toBeGreaterThan(0);
    expect(summary.invalidBlocks).toBeGreaterThan(0);
    expect(TX_KINDS.filter((kind) => summary.kinds[kind] === 0)).toEqual([]);
    expect(summary.txTypes.filter((count) => count === 0)).toEqual([]);
    expect(Object.keys(summary.forks).sort()).toEqual(FUZZ_FORKS.map(forkName).sort());
    expect(summary.workers.filter((count) => count > 0).length).toBe(8);
  }, TEST_TIMEOUT_MS);
});
