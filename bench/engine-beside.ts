/**
 * Where a second executor's cost comes from: one block (default 16146267) sequentially and
 * with one executor (the calling thread alone), each alone and beside a Worker that runs
 * another block (12459406) sequentially in a loop, and with two executors of the same block;
 * interleaved, median of 8 rounds, with the engine's time inside transactions. If one
 * executor beside an unrelated thread loses little and two executors of one block lose more,
 * the loss is in their sharing the block, not in the machine having two busy threads.
 *
 * 2026-12-03 16:47 UTC (load 1.40 at start, not quiet; ratios within the run): sequential
 * 223 ms alone, 234 beside; one executor 243 alone (236 ms inside transactions), 247 beside
 * (243); two executors 173 ms, 277 ms inside transactions (1.17x of one alone, with 17
 * re-executions of 473 transactions).
 *
 *   bun bench/engine-beside.ts [block]
 *
 * The busy thread is bench/busy-worker.ts.
 */
import { closeEngines, executeBlock, loadBlockDir, type PevmOptions } from "../src/index.ts";
import { yieldRuntimeThreads } from "../src/native/runtime-threads.ts";
import { startBusyWorker } from "./busy-worker.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { median } from "./report/stats.ts";

const ROUNDS = 8;
const BESIDE_BLOCK = 12459406;
const target = Number(Bun.argv[2] ?? 16146267);
const worker = await startBusyWorker(BESIDE_BLOCK);
const { block, storage } = loadBlockDir(blockDirOf(target));

const modes: { name: string; options: PevmOptions; beside: boolean }[] = [
  { name: "seq alone", options: { sequential: true }, beside: false },
  { name: "seq beside", options: { sequential: true }, beside: true },
  { name: "par1 alone", options: { workers: 1 }, beside: false },
  { name: "par1 beside", options: { workers: 1 }, beside: true },
  { name: "par2", options: { workers: 2 }, beside: false },
];
const wallMs = new Map<string, number[]>(modes.map((m) => [m.name, []]));
const executeMs = new Map<string, number[]>(modes.map((m) => [m.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of modes) {
    if (mode.beside) worker.busy();
    await Bun.sleep(mode.beside ? 30 : 5); // the worker's run under way, or the last one ended
    yieldRuntimeThreads();
    await executeBlock(block, storage, mode.options); // primed, as the bench primes its timed runs
    const started = performance.now();
    const result = await executeBlock(block, storage, mode.options);
    wallMs.get(mode.name)!.push(performance.now() - started);
    worker.idle();
    if (result.stats !== undefined) executeMs.get(mode.name)!.push(result.stats.executeMs);
  }
}
await worker.stop();
for (const { name } of modes) {
  const inside = executeMs.get(name)!;
  console.log(name.padEnd(12), median(wallMs.get(name)!).toFixed(1), inside.length > 0 ? `executeMs ${median(inside).toFixed(1)}` : "");
}
await closeEngines();
