/**
 * Where a one-shot run loses time: every corpus block loaded fresh and executed once, in
 * number order, as the CLI does, in one mode (sequential, or --workers N); sums the engine's
 * own accounting (prepare, run, settle, worker execution) and the time of blocks that fell
 * back to sequential execution.
 *
 *   bun bench/cold-breakdown.ts [--workers N]
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closeEngines, executeBlock, loadBlockDir, prepareEngine } from "../src/index.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { workers: { type: "string" } } });
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined) await prepareEngine({ workers });
const dir = join(import.meta.dir, "..", "data/mainnet/blocks");
const sums: Record<string, number> = { ms: 0, prepareMs: 0, runMs: 0, settleMs: 0, workerMs: 0, executeMs: 0, reExecutions: 0, fallbackBlocksMs: 0 };
for (const n of readdirSync(dir).sort((a, b) => Number(a) - Number(b))) {
  const { block, storage } = loadBlockDir(join(dir, n));
  const started = performance.now();
  const result = await executeBlock(block, storage, workers === undefined ? { sequential: true } : { workers });
  const ms = performance.now() - started;
  sums.ms! += ms;
  const s = result.stats;
  if (s !== undefined) {
    for (const k of ["prepareMs", "runMs", "settleMs", "workerMs", "executeMs", "reExecutions"] as const) sums[k]! += s[k];
    if (s.fallback !== null) sums.fallbackBlocksMs! += ms;
  }
}
console.log(`${workers === undefined ? "sequential" : `${workers} worker(s)`}: ${Object.entries(sums).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
await closeEngines();
