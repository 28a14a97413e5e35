/**
 * Calibrates the automatic choice's speedup estimate (src/parallel/auto.ts, WORKER_SLOWDOWN):
 * runs blocks sequentially and with 2 workers, interleaved, and compares each parallel run's
 * useful execution time (summed over the executors, re-executions taken out) with the
 * sequential time of the same block. That ratio is how much slower a transaction runs on an
 * executor beside another one of the same block; the estimate divides by it.
 *
 *   bun bench/auto-calibration.ts [--rounds R] [block numbers...]   (default: the 15 heaviest blocks, 3 rounds after a warm-up)
 */
import { parseArgs } from "node:util";
import { closeEngines, executeBlock, loadBlockDir, prepareEngine } from "../src/index.ts";
import { WORKER_SLOWDOWN } from "../src/parallel/auto.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { collectGarbage } from "./report/stats.ts";

const { values, positionals } = parseArgs({ args: Bun.argv.slice(2), options: { rounds: { type: "string", default: "3" } }, allowPositionals: true });
const rounds = Number(values.rounds);
const blocks = positionals.length > 0 ? positionals.map(Number) : await heaviestBlocks(15);
await prepareEngine({ workers: 2 });
const loaded = blocks.map((n) => loadBlockDir(blockDirOf(n)));
let sequentialMs = 0;
let parallelMs = 0;
let usefulMs = 0;
for (let round = 0; round <= rounds; round++) {
  for (const { block, storage } of loaded) {
    await collectGarbage();
    let started = performance.now();
    await executeBlock(block, storage, { sequential: true });
    const sequential = performance.now() - started;
    await collectGarbage();
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
console.log(`${blocks.length} blocks, ${rounds} rounds: sequential ${sequentialMs.toFixed(0)} ms, 2 workers ${parallelMs.toFixed(0)} ms (${(sequentialMs / parallelMs).toFixed(2)}x)`);
console.log(`useful execution summed over both executors: ${usefulMs.toFixed(0)} ms = ${slowdown.toFixed(2)}x the sequential time`);
console.log(`estimated speedup with WORKER_SLOWDOWN ${WORKER_SLOWDOWN}: ${(usefulMs / WORKER_SLOWDOWN / parallelMs).toFixed(2)}x; with the measured ${slowdown.toFixed(2)}: ${(sequentialMs / parallelMs).toFixed(2)}x`);
