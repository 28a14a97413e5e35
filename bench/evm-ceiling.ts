/**
 * The EVM ceiling: how much more work n Bun Workers get done than one when each runs pevm's
 * *sequential* executor on blocks of its own (no shared state, no Block-STM). Whatever keeps
 * this below n (the runtime's GC and JIT threads competing for the cores, memory bandwidth,
 * other load) limits any parallel executor built on this interpreter, so pevm's parallel
 * speedups are reported as a fraction of it. The alloc-free keccak loop (ceiling.ts) is the
 * machine's ceiling; this one is the interpreter's.
 *
 * Each worker loads the same blocks into its own heap, warms up, then runs them all once per
 * round; n workers do n times the work of one, so the ceiling is n * t(1) / t(n). The
 * runtime's helper threads yield to the workers as they do to the engine's executors
 * (src/native/runtime-threads.ts), so both are measured under the same rules.
 * The same file is the worker script (it spawns itself).
 *
 *   bun bench/evm-ceiling.ts [--repeats K] [block numbers...]
 */
import { executeBlock, loadBlockDir } from "../src/index.ts";
import { cpuCount } from "../src/native/index.ts";
import { yieldRuntimeThreads } from "../src/native/runtime-threads.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { blockDirOf, corpusBlockNumbers } from "./peer/corpus.ts";
import { median, ratio } from "./report/stats.ts";

/** The `count` corpus blocks that used the most gas: where parallel execution has the most to win. */
export async function heaviestBlocks(count = 15): Promise<number[]> {
  const used = (await corpusBlockNumbers()).map((n) => {
    const block = JSON.parse(readFileSync(join(blockDirOf(n), "block.json"), "utf8")) as { gasUsed: string };
    return { n, gas: BigInt(block.gasUsed) };
  });
  return used
    .sort((a, b) => (b.gas > a.gas ? 1 : b.gas < a.gas ? -1 : a.n - b.n))
    .slice(0, count)
    .map((b) => b.n);
}

type Request = { kind: "load"; blocks: number[] } | { kind: "run" };

declare const self: Worker;

if (!Bun.isMainThread) {
  let loaded: ReturnType<typeof loadBlockDir>[] = [];
  self.onmessage = async (event: MessageEvent<Request>) => {
    const request = event.data;
    if (request.kind === "load") {
      loaded = request.blocks.map((n) => loadBlockDir(blockDirOf(n)));
      for (const { block, storage } of loaded) await executeBlock(block, storage, { sequential: true }); // warm-up
      self.postMessage({ ms: 0 });
      return;
    }
    const start = performance.now();
    for (const { block, storage } of loaded) await executeBlock(block, storage, { sequential: true });
    self.postMessage({ ms: performance.now() - start });
  };
}

function ask(worker: Worker, request: Request): Promise<number> {
  return new Promise((resolve, reject) => {
    worker.addEventListener("message", (event) => resolve((event.data as { ms: number }).ms), { once: true });
    worker.addEventListener("error", (event) => reject(new Error(event.message)), { once: true });
    worker.postMessage(request);
  });
}

export interface EvmCeilingReport {
  blocks: number[];
  repeats: number;
  workerCounts: number[];
  /** Median wall ms of a round (every worker runs every block once) by worker count. */
  medianMs: Record<string, number>;
  /** n * t(1) / t(n): the work n workers get done, relative to one. */
  ceiling: Record<string, number>;
  /** The 2-worker EVM ceiling: what pevm's 2-worker speedups are divided by. */
  twoWorkerCeiling: number;
  /** The runtime's helper threads at background priority, as in the engine's parallel runs. */
  runtimeThreadsYielded: number;
}

export async function measureEvmCeiling(blocks: number[], repeats: number, onProgress: (line: string) => void = () => {}): Promise<EvmCeilingReport> {
  const counts = [...new Set([1, 2, cpuCount()])].sort((a, b) => a - b);
  const workers = Array.from({ length: Math.max(...counts) }, () => new Worker(new URL(import.meta.url)));
  try {
    await Promise.all(workers.map((w) => ask(w, { kind: "load", blocks })));
    const samples = new Map<number, number[]>(counts.map((n) => [n, []]));
    let runtimeThreadsYielded = 0;
    // Interleaved, so a change in the machine's load hits every count alike.
    for (let r = 0; r < repeats; r++) {
      for (const n of counts) {
        runtimeThreadsYielded = yieldRuntimeThreads(); // before every round: the runtime starts them lazily
        const start = performance.now();
        await Promise.all(workers.slice(0, n).map((w) => ask(w, { kind: "run" })));
        samples.get(n)!.push(performance.now() - start);
      }
    }
    const medianMs: Record<string, number> = {};
    const ceiling: Record<string, number> = {};
    for (const n of counts) medianMs[n] = median(samples.get(n)!);
    for (const n of counts) ceiling[n] = n * ratio(medianMs[1]!, medianMs[n]!);
    onProgress(`EVM ceiling (sequential executor per worker, ${blocks.length} blocks): ${counts.map((n) => `${n} worker(s) ${ceiling[n]!.toFixed(2)}x`).join(", ")}`);
    return { blocks, repeats, workerCounts: counts, medianMs, ceiling, twoWorkerCeiling: ceiling[2] ?? Number.NaN, runtimeThreadsYielded };
  } finally {
    for (const w of workers) w.terminate();
  }
}

if (Bun.isMainThread && import.meta.main) {
  const args = Bun.argv.slice(2);
  const at = args.indexOf("--repeats");
  const repeats = at >= 0 ? Number(args.splice(at, 2)[1]) : 3;
  const blocks = args.length > 0 ? args.map(Number) : await heaviestBlocks();
  console.log(JSON.stringify(await measureEvmCeiling(blocks, repeats, (line) => console.error(line)), null, 2));
}
