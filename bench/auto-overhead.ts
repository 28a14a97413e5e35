/**
 * What the automatic choice costs on blocks it runs sequentially: each block with
 * `{ sequential: true }` and with the automatic choice, interleaved (the order alternating per
 * round), each timed run right after an untimed run of the same mode, the median of R rounds.
 * With `--same`, both columns are sequential: the spread of the same code against itself.
 * No worker pool is started for these blocks (each is under the automatic choice's thresholds;
 * a block that runs in parallel is reported, since it would measure something else).
 *
 * 2026-12-03 15:59 UTC (load 0.16 at start), 30 rounds, the default blocks, with the scratch
 * script this tool was made from (the same protocol): automatic 1.002x
 * of sequential over their sum (after git 5dda678; 0.988-0.991x before it), and sequential
 * against itself 0.997x; per block the spread of the same code reached 24 % on 19910734
 * (0.01 ms) and 6 % on 2179522 (1.3 ms).
 *
 *   bun bench/auto-overhead.ts [--rounds R] [--same] [block numbers...]
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { closeEngines, executeBlock, loadBlockDir, type PevmOptions } from "../src/index.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { median, sum } from "./report/stats.ts";

const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string", default: "30" }, same: { type: "boolean", default: false } },
  allowPositionals: true,
});
const numbers = positionals.length > 0 ? positionals.map(Number) : [19910734, 46147, 930196, 1150000, 2179522, 2641321, 2674998, 2688148, 13287210, 1796867, 3356896];
const modes: Record<"sequential" | "automatic", PevmOptions> = { sequential: { sequential: true }, automatic: values.same ? { sequential: true } : {} };
const blocks = numbers.map((number) => ({ number, ...loadBlockDir(blockDirOf(number)) }));
const times = new Map(numbers.map((n) => [n, { sequential: [] as number[], automatic: [] as number[] }]));

console.log(`${blocks.length} blocks, ${values.rounds} rounds${values.same ? ", both columns sequential" : ""}, load ${loadavg()[0]!.toFixed(2)} at start`);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const { number, block, storage } of blocks) {
    const order = round % 2 === 0 ? (["automatic", "sequential"] as const) : (["sequential", "automatic"] as const);
    for (const mode of order) {
      await executeBlock(block, storage, modes[mode]);
      const started = performance.now();
      const result = await executeBlock(block, storage, modes[mode]);
      times.get(number)![mode].push(performance.now() - started);
      if (round === 0 && result.mode.mode !== "sequential") console.log(`${number}: the automatic choice ran it in parallel (${result.mode.reason})`);
    }
  }
}
const medians = numbers.map((n) => ({ n, sequential: median(times.get(n)!.sequential), automatic: median(times.get(n)!.automatic) }));
for (const m of medians) console.log(`${m.n}: sequential ${m.sequential.toFixed(3)} ms, automatic ${m.automatic.toFixed(3)} ms, ${(m.sequential / m.automatic).toFixed(3)}x`);
const [s, a] = [sum(medians.map((m) => m.sequential)), sum(medians.map((m) => m.automatic))];
console.log(`sum: sequential ${s.toFixed(2)} ms, automatic ${a.toFixed(2)} ms: automatic ${(s / a).toFixed(3)}x of sequential (load ${loadavg()[0]!.toFixed(2)} at end)`);
await closeEngines();
