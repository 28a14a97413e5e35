/**
 * Do parallel runs slow down the sequential runs after them in the same process? In one
 * process over the corpus: a warm-up, then sequential runs of every block (best of 3), then
 * every block with 2 workers twice (each block freshly loaded, so its pre-state's shared copy
 * can go), then sequential runs again (best of 3). Prints the calling thread's live heap after
 * each phase (after a full collection) and the sequential totals before and after.
 * `--control` runs the middle phase sequentially instead: what the order alone does.
 *
 *   bun bench/sequential-after-parallel.ts [--control]
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { heapStats } from "bun:jsc";
import { closeEngines, executeBlock, loadBlockDir } from "../src/index.ts";
import { blockDirOf, corpusBlockNumbers } from "./peer/corpus.ts";
import { sum } from "./report/stats.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { control: { type: "boolean", default: false } } });
const blocks = (await corpusBlockNumbers()).map((number) => ({ number, ...loadBlockDir(blockDirOf(number)) }));

function heap(phase: string): void {
  Bun.gc(true);
  const h = heapStats();
  console.log(`${phase}: live heap ${(h.heapSize / 1e6).toFixed(0)} MB, ${h.objectCount} objects, ${h.objectTypeCounts.BigInt ?? 0} BigInts`);
}

async function sequentialPass(): Promise<number> {
  const best = new Map<number, number>();
  for (let round = 0; round < 3; round++) {
    for (const b of blocks) {
      Bun.gc(true);
      const t0 = performance.now();
      await executeBlock(b.block, b.storage, { sequential: true });
      const ms = performance.now() - t0;
      best.set(b.number, Math.min(best.get(b.number) ?? Infinity, ms));
    }
  }
  return sum([...best.values()]);
}

console.log(`${blocks.length} blocks, load ${loadavg()[0]!.toFixed(2)}${values.control ? ", control: the middle phase sequential" : ""}`);
for (const b of blocks) await executeBlock(b.block, b.storage, { sequential: true });
heap("after the warm-up");
const before = await sequentialPass();
for (let round = 0; round < 2; round++) {
  for (const { number } of blocks) {
    const fresh = loadBlockDir(blockDirOf(number));
    await executeBlock(fresh.block, fresh.storage, values.control ? { sequential: true } : { workers: 2 });
  }
}
heap(values.control ? "after the sequential middle phase" : "after the parallel runs");
const after = await sequentialPass();
console.log(`sequential before ${before.toFixed(0)} ms, after ${after.toFixed(0)} ms: ${(after / before).toFixed(3)}x (load ${loadavg()[0]!.toFixed(2)})`);
await closeEngines();
