/**
 * How much slower one transaction runs while another thread executes too, with no Block-STM
 * at all: the calling thread runs a block with pevm's sequential executor, transaction by
 * transaction, alone and then while a Bun Worker runs another block's sequential execution
 * in a loop (the runtime's helper threads yielded, as during a parallel run). The EVM ceiling
 * (evm-ceiling.ts) gives the average over whole blocks; single heavy transactions can slow
 * down more, and a block whose heaviest transaction is its chain pays that in parallel.
 *
 *   bun bench/tx-beside.ts --block N --tx I [--beside M] [--rounds R]
 *
 * The busy thread is bench/busy-worker.ts. Rounds alternate alone and beside.
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { loadBlockDir } from "../src/index.ts";
import { yieldRuntimeThreads } from "../src/native/runtime-threads.ts";
import { timeTransactions } from "./block-bound.ts";
import { startBusyWorker } from "./busy-worker.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { collectGarbage, median } from "./report/stats.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { block: { type: "string" }, tx: { type: "string" }, beside: { type: "string" }, rounds: { type: "string", default: "6" } },
});
if (values.block === undefined || values.tx === undefined) {
  console.error("usage: bun bench/tx-beside.ts --block N --tx I [--beside M] [--rounds R]");
  process.exit(2);
}
const number = Number(values.block);
const watched = Number(values.tx);
const { block, storage } = loadBlockDir(blockDirOf(number));
if (!(watched >= 0 && watched < block.transactions.length)) {
  console.error(`--tx: block ${number} has ${block.transactions.length} transactions, no index ${values.tx}`);
  process.exit(2);
}

/** One sequential pass: the watched transaction's ms and the whole block's (its prologue included). */
async function pass(): Promise<{ txMs: number; blockMs: number }> {
  const started = performance.now();
  const ms = await timeTransactions(block, storage);
  return { txMs: ms[watched]!, blockMs: performance.now() - started };
}

const worker = await startBusyWorker(Number(values.beside ?? values.block));
console.error(`block ${number}, tx ${watched}, beside block ${values.beside ?? values.block}; load ${loadavg()[0]!.toFixed(2)}`);
for (let i = 0; i < 3; i++) await pass();
const alone: { txMs: number; blockMs: number }[] = [];
const beside: { txMs: number; blockMs: number }[] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  worker.idle();
  await Bun.sleep(200); // the worker's current run ends
  await collectGarbage();
  alone.push(await pass());
  worker.busy();
  await Bun.sleep(100);
  yieldRuntimeThreads();
  await collectGarbage();
  beside.push(await pass());
}
const stopped = worker.stop();
const m = (runs: { txMs: number; blockMs: number }[], key: "txMs" | "blockMs") => median(runs.map((r) => r[key]));
console.log(
  `tx ${watched} of ${number}: alone ${m(alone, "txMs").toFixed(1)} ms, beside a busy worker ${m(beside, "txMs").toFixed(1)} ms ` +
    `(${(m(beside, "txMs") / m(alone, "txMs")).toFixed(2)}x); whole block ${m(alone, "blockMs").toFixed(1)} vs ${m(beside, "blockMs").toFixed(1)} ms ` +
    `(${(m(beside, "blockMs") / m(alone, "blockMs")).toFixed(2)}x); medians of ${alone.length} rounds, load ${loadavg()[0]!.toFixed(2)} at end`,
);
await stopped;
