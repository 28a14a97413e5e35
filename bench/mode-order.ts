/**
 * What the run before a 2-worker run costs it: each timed 2-worker run of a block comes right
 * after one of these, picked at random (seeded):
 *   parallel     a 2-worker run of the same block
 *   sequential   a sequential run of the same block
 *   other block  a sequential run of another block (--other, default 930196: 18 transfers)
 *   sleep        a sequential run's length asleep
 *   spin         a sequential run's length busy on the calling thread, allocating nothing
 * A full collection always comes between the two; with `--between quiet` a collection and a
 * quiet wait also come before the predecessor, as `bun run bench` (report/measure.ts) has them
 * before its untimed run (`--between gc`, the default, has none there). Prints each block's
 * median per predecessor and the sums over the blocks, relative to "parallel".
 *
 * 2026-12-03, 8 heavy blocks, 40 runs each, relative to a 2-worker run before it: a sequential
 * run of the same block before it cost 1.084 and 1.087 with only a collection between, 1.166
 * and 1.174 with the quiet wait (09:23 UTC, load 0.39; 09:17 UTC, right after another run),
 * and 1.009 once (09:04 UTC); another block, a sleep or a spin 0.99-1.06. Hence the priming
 * in report/measure.ts.
 *
 *   bun bench/mode-order.ts [--runs N] [--other B] [--between gc|quiet] [block numbers...]
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { closeEngines, executeBlock, loadBlockDir } from "../src/index.ts";
import { seededRandom } from "../test/support/random.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { sameResult } from "./report/measure.ts";
import { collectGarbage, median } from "./report/stats.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { runs: { type: "string", default: "40" }, other: { type: "string", default: "930196" }, between: { type: "string", default: "gc" } },
  allowPositionals: true,
});
if (values.between !== "gc" && values.between !== "quiet") throw new Error(`--between must be gc or quiet, got ${values.between}`);
const blocks = positionals.length > 0 ? positionals.map(Number) : [12459406, 18085863, 19932148, 15199017, 16146267, 19932703, 12244000, 14029313];
const PREDECESSORS = ["parallel", "sequential", "other block", "sleep", "spin"] as const;
type Predecessor = (typeof PREDECESSORS)[number];

const random = seededRandom(20261203);
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {}
}

console.log(`2-worker runs by what ran before them; ${values.runs} runs per block, load ${loadavg()[0]!.toFixed(2)} at start`);
const other = loadBlockDir(blockDirOf(Number(values.other)));
const sums = Object.fromEntries(PREDECESSORS.map((p) => [p, 0])) as Record<Predecessor, number>;
for (const number of blocks) {
  const { block, storage } = loadBlockDir(blockDirOf(number));
  const run = (options: { sequential: true } | { workers: 2 }) => executeBlock(block, storage, options);
  const reference = await run({ sequential: true });
  let sequentialMs = 0;
  for (let i = 0; i < 3; i++) {
    await run({ workers: 2 });
    const started = performance.now();
    await run({ sequential: true });
    sequentialMs = performance.now() - started;
    await executeBlock(other.block, other.storage, { sequential: true });
  }
  const ms = Object.fromEntries(PREDECESSORS.map((p) => [p, [] as number[]])) as Record<Predecessor, number[]>;
  for (let i = 0; i < Number(values.runs); i++) {
    const before = PREDECESSORS[random.int(0, PREDECESSORS.length - 1)]!;
    if (values.between === "quiet") await collectGarbage();
    if (before === "parallel") await run({ workers: 2 });
    else if (before === "sequential") await run({ sequential: true });
    else if (before === "other block") await executeBlock(other.block, other.storage, { sequential: true });
    else if (before === "sleep") await Bun.sleep(sequentialMs);
    else spin(sequentialMs);
    Bun.gc(true);
    const started = performance.now();
    const result = await run({ workers: 2 });
    ms[before].push(performance.now() - started);
    if (!sameResult(reference, result)) {
      throw new Error(`block ${number}: a 2-worker run differs from the sequential one`);
    }
  }
  const line = PREDECESSORS.map((p) => {
    const m = ms[p].length > 0 ? median(ms[p]) : Number.NaN;
    sums[p] += m;
    return `${p} ${m.toFixed(1)} ms (${ms[p].length})`;
  });
  console.log(`${number}: ${line.join(", ")}`);
}
const base = sums.parallel;
console.log(`sums: ${PREDECESSORS.map((p) => `${p} ${sums[p].toFixed(0)} ms (${(sums[p] / base).toFixed(3)})`).join(", ")}`);
await closeEngines();
