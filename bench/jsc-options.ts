/**
 * Do JavaScriptCore's settings help parallel execution here? Each candidate setting runs the
 * same work in a fresh process (JSC reads BUN_JSC_* options at start): the 2-worker EVM
 * ceiling and pevm with 2 workers over the heaviest corpus blocks, rounds interleaved with
 * the default so that load changes hit all alike. Reports each setting's time as a ratio of
 * the default's (below 1 = faster).
 *
 *   bun bench/jsc-options.ts [--rounds R] [--blocks N,N,...] [--only NAME,NAME]
 */
import { parseArgs } from "node:util";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf } from "./peer/corpus.ts";

/** The settings the GC/JIT-contention question suggests (each alone, against the default). */
export const CANDIDATES: Record<string, Record<string, string>> = {
  default: {},
  "no concurrent GC": { BUN_JSC_useConcurrentGC: "0" },
  "1 GC marker": { BUN_JSC_numberOfGCMarkers: "1" },
  "no concurrent JIT": { BUN_JSC_useConcurrentJIT: "0" },
  "one DFG and one FTL compiler thread": { BUN_JSC_numberOfDFGCompilerThreads: "1", BUN_JSC_numberOfFTLCompilerThreads: "1" },
  "heap starts at 256 MB (fewer collections)": { BUN_JSC_smallHeapSize: "268435456" },
  "heap at 256 MB and one DFG and one FTL thread": { BUN_JSC_smallHeapSize: "268435456", BUN_JSC_numberOfDFGCompilerThreads: "1", BUN_JSC_numberOfFTLCompilerThreads: "1" },
  // FTL compiles cost 10-40 ms each, and a worker's VM is still compiling after 10 warm rounds
  // of one block (BUN_JSC_reportCompileTimes=1): without FTL the code peaks lower but sooner.
  "no FTL tier": { BUN_JSC_useFTLJIT: "0" },
  // Every tier-up threshold scaled: later (less compile work for lukewarm code) or sooner.
  "JIT thresholds x2": { BUN_JSC_jitPolicyScale: "2" },
  "JIT thresholds x0.5": { BUN_JSC_jitPolicyScale: "0.5" },
};

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string", default: "3" }, blocks: { type: "string" }, only: { type: "string" } },
});
if (values.only) {
  const keep = new Set(["default", ...values.only.split(",")]);
  for (const name of Object.keys(CANDIDATES)) if (!keep.has(name)) delete CANDIDATES[name];
}
const blocks = values.blocks ? values.blocks.split(",").map(Number) : (await heaviestBlocks()).slice(0, 8);
const dirs = blocks.map((n) => blockDirOf(n));
const cli = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** Sum of the CLI's per-block ms for `--workers 2` (each block run twice; the second, warm run counts). */
async function pevmTwoWorkers(env: Record<string, string>): Promise<number> {
  const child = Bun.spawn([process.execPath, cli, "--json", ...dirs, ...dirs, "--workers", "2"], { env: { ...process.env, ...env }, stdout: "pipe" });
  const lines = (await new Response(child.stdout).text()).trim().split("\n");
  if ((await child.exited) !== 0) throw new Error("pevm failed");
  return lines.slice(dirs.length).reduce((sum, line) => sum + (JSON.parse(line) as { ms: number }).ms, 0);
}

async function sequential(env: Record<string, string>): Promise<number> {
  const child = Bun.spawn([process.execPath, cli, "--json", ...dirs, ...dirs, "--sequential"], { env: { ...process.env, ...env }, stdout: "pipe" });
  const lines = (await new Response(child.stdout).text()).trim().split("\n");
  if ((await child.exited) !== 0) throw new Error("pevm failed");
  return lines.slice(dirs.length).reduce((sum, line) => sum + (JSON.parse(line) as { ms: number }).ms, 0);
}

const load = () => require("node:os").loadavg()[0].toFixed(2);
console.error(`JSC settings over ${blocks.length} blocks (${blocks.join(", ")}), ${values.rounds} rounds, load ${load()}`);
const results = new Map<string, { par: number[]; seq: number[] }>(Object.keys(CANDIDATES).map((k) => [k, { par: [], seq: [] }]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [name, env] of Object.entries(CANDIDATES)) {
    results.get(name)!.par.push(await pevmTwoWorkers(env));
    results.get(name)!.seq.push(await sequential(env));
  }
  console.error(`round ${round + 1} done, load ${load()}`);
}
const best = (xs: number[]) => Math.min(...xs);
const base = results.get("default")!;
for (const [name, r] of results) {
  console.log(
    `${name.padEnd(36)} 2 workers ${best(r.par).toFixed(0).padStart(6)} ms (${(best(r.par) / best(base.par)).toFixed(3)} of default)  ` +
      `sequential ${best(r.seq).toFixed(0).padStart(6)} ms (${(best(r.seq) / best(base.seq)).toFixed(3)})  2-worker speedup ${(best(r.seq) / best(r.par)).toFixed(2)}x`,
  );
}
