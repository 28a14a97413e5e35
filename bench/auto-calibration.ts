/**
 * Calibrates the automatic choice's speedup estimate (src/parallel/auto.ts, WORKER_SLOWDOWN):
 * runs blocks sequentially and with 2 workers, interleaved, and compares each parallel run's
 * useful execution time (summed over the executors, re-executions taken out) with the
 * sequential time of the same block. That ratio is how much slower a transaction runs on an
 * executor beside another one of the same block; the estimate divides by it.
 *
 * What happens between runs changes the answer (15 heaviest blocks, 2026-12-01, 21:09-21:14
 * UTC, load under 0.4 at each start): with a full collection and a quiet wait before every
 * run (`--between gc`, the library bench's way, and this tool's default) the executors'
 * useful time was 1.36-1.42x the sequential time and 2 workers gained 1.03-1.06x; after a
 * 200 ms pause (`--between pause`: a node waiting for the next block) 1.16-1.25x and
 * 1.09-1.21x (four runs); back to back (`--between none`: a sync, the CLI over many blocks)
 * 1.06-1.08x and 1.24-1.31x. After the pause the worker took up to 8x the page faults of a
 * run back to back (2,259 -> 18,320 on 14029313); with mimalloc's purging off
 * (MIMALLOC_PURGE_DELAY=-1) the faults went and the times did not improve.
 *
 *   bun bench/auto-calibration.ts [--rounds R] [--between gc|pause|none] [block numbers...]
 *   (default: the 15 heaviest blocks, 3 rounds after a warm-up, --between gc)
 */
import { parseArgs } from "node:util";
import { closeEngines, executeBlock, loadBlockDir, prepareEngine } from "../src/index.ts";
import { WORKER_SLOWDOWN } from "../src/parallel/auto.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { collectGarbage } from "./report/stats.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string", default: "3" }, between: { type: "string", default: "gc" } },
  allowPositionals: true,
});
const rounds = Number(values.rounds);
const BETWEEN_RUNS: Record<string, () => Promise<void>> = { gc: collectGarbage, pause: () => Bun.sleep(200), none: async () => {} };
const betweenRuns = BETWEEN_RUNS[values.between!];
if (betweenRuns === undefined) {
  console.error(`--between: expected gc, pause or none, got ${JSON.stringify(values.between)}`);
  process.exit(2);
}
const blocks = positionals.length > 0 ? positionals.map(Number) : await heaviestBlocks(15);
await prepareEngine({ workers: 2 });
const loaded = blocks.map((n) => loadBlockDir(blockDirOf(n)));
let sequentialMs = 0;
let parallelMs = 0;
let usefulMs = 0;
for (let round = 0; round <= rounds; round++) {
  for (const { block, storage } of loaded) {
    await betweenRuns();
    let started = performance.now();
    await executeBlock(block, storage, { sequential: true });
    const sequential = performance.now() - started;
    await betweenRuns();
    started = performance.now();
    const { stats } = await executeBlock(block, storage, { workers: 2 });
    const parallel = performance.now() - started;
    if (round === 0) continue; // warm-up
    sequentialMs += sequential;
    parallelMs += parallel;
    usefulMs += stats!.executeMs * (1 - stats!.reExecutions / stats!.executions);
  }
}
await closeEngines();
const slowdown = usefulMs / sequentialMs;
console.log(`${blocks.length} blocks, ${rounds} rounds, --between ${values.between}: sequential ${sequentialMs.toFixed(0)} ms, 2 workers ${parallelMs.toFixed(0)} ms (${(sequentialMs / parallelMs).toFixed(2)}x)`);
console.log(`useful execution summed over both executors: ${usefulMs.toFixed(0)} ms = ${slowdown.toFixed(2)}x the sequential time`);
console.log(`estimated speedup with WORKER_SLOWDOWN ${WORKER_SLOWDOWN}: ${(usefulMs / WORKER_SLOWDOWN / parallelMs).toFixed(2)}x; with the measured ${slowdown.toFixed(2)}: ${(sequentialMs / parallelMs).toFixed(2)}x`);
