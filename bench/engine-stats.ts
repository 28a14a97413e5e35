/**
 * Where a parallel run's time goes, on one block: sequential, 1 executor and 2 executors
 * interleaved, warm (one untimed round first), the median of each mode's wall time and of the
 * engine's stats (run, state settle, time inside transactions summed over executors, ...).
 * A diagnostic for one block at a time; the benchmark of record is `bun run bench`.
 *
 *   bun bench/engine-stats.ts [--block raw|erc20|<corpus block number>] [--txs N] [--rounds R] [--gc]
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { closeEngines, executeBlock, loadBlockDir, loadPreState, parseBlock, type ParallelStats, type PevmOptions } from "../src/index.ts";
import { erc20Transfers, rawTransfers } from "../test/mock/index.ts";
import { collectGarbage } from "./report/stats.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { block: { type: "string", default: "raw" }, txs: { type: "string" }, rounds: { type: "string", default: "6" }, gc: { type: "boolean", default: false } },
});
const rounds = Number(values.rounds);
async function load() {
  if (values.block === "raw" || values.block === "erc20") {
    const txs = Number(values.txs ?? (values.block === "raw" ? 47_620 : 6_000));
    const mock = values.block === "raw" ? rawTransfers(txs) : await erc20Transfers(txs);
    return { block: parseBlock(`<mock ${mock.name}>`, mock.block), storage: loadPreState(`<mock ${mock.name}>`, mock.preState, mock.bytecodes, undefined) };
  }
  return loadBlockDir(`${import.meta.dir}/../data/mainnet/blocks/${values.block}`);
}
const { block, storage } = await load();
const modes: Record<string, PevmOptions> = { sequential: { sequential: true }, "1 executor": { workers: 1 }, "2 executors": { workers: 2 } };
const STATS = ["runMs", "stateSettleMs", "settleMs", "prepareMs", "executeMs", "workerMs", "executions", "validations", "reExecutions", "dependencyWaits", "settleChunks", "settleChunksByWorkers"] as const;
const samples: Record<string, Record<string, number[]>> = {};
console.error(`block ${values.block}, ${block.transactions.length} txs, ${rounds} rounds, load ${loadavg()[0]!.toFixed(2)}`);
for (let round = -1; round < rounds; round++) {
  for (const [mode, options] of Object.entries(modes)) {
    // --gc: a full collection and a quiet moment before every run, as `bun run bench` measures.
    if (values.gc) await collectGarbage();
    const started = performance.now();
    const result = await executeBlock(block, storage, options);
    const ms = performance.now() - started;
    if (round < 0) continue; // warm-up
    const s = (samples[mode] ??= {});
    (s.ms ??= []).push(ms);
    const stats = result.stats as ParallelStats | undefined;
    if (stats) for (const key of STATS) (s[key] ??= []).push(stats[key]);
    // Each executor's ms per execution: contention between executors shows as a rise here.
    for (const share of stats?.executors ?? []) (s[`${share.thread} ms/exec`] ??= []).push(share.executeMs / Math.max(1, share.executions));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const [mode, s] of Object.entries(samples)) {
  console.log(`${mode.padEnd(12)} ${Object.entries(s).map(([k, v]) => `${k} ${median(v).toFixed(k.endsWith("/exec") ? 3 : 1)}`).join("  ")}`);
}
const seq = median(samples.sequential!.ms!);
console.log(`vs sequential: 1 executor ${(seq / median(samples["1 executor"]!.ms!)).toFixed(2)}x, 2 executors ${(seq / median(samples["2 executors"]!.ms!)).toFixed(2)}x`);
await closeEngines();
