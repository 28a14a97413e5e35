/**
 * Where the CPU goes while a block runs: per kind of thread of this process (the calling
 * thread, the pool's workers, JSC's JIT compiler threads, its heap warm-up thread and GC
 * helpers, the allocator's scavenger), per run of each mode: CPU ms, and ms the threads were
 * runnable but waited for a CPU, read from /proc/self/task/<tid>/schedstat (Linux). On a
 * 2-core machine the runtime's threads compete with the executors: this shows how much, and
 * who waits (the executors, or the runtime's threads once they yield: PEVM_YIELD_RUNTIME_THREADS=0
 * shows the other case).
 *
 *   bun bench/thread-cpu.ts [--runs R] [--blocks N,N,...]
 *
 * With BUN_JSC_reportCompileTimes=1 JSC also prints every compilation (stderr) for detail.
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { closeEngines, executeBlock, loadBlockDir } from "../src/index.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { collectGarbage } from "./report/stats.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string", default: "4" }, blocks: { type: "string" } } });
const numbers = values.blocks ? values.blocks.split(",").map(Number) : (await heaviestBlocks()).slice(0, 4);
const blocks = await Promise.all(numbers.map((n) => loadBlockDir(blockDirOf(n))));
const MODES = { sequential: { sequential: true }, "2 workers": { workers: 2 } } as const;

/** CPU ms and runnable-but-waiting ms so far, per thread kind (thread names as JSC and Bun set them). */
function cpuByKind(): Map<string, [number, number]> {
  const byKind = new Map<string, [number, number]>();
  for (const tid of readdirSync("/proc/self/task")) {
    let name: string;
    let sched: string;
    try {
      name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      sched = readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8"); // ns on the CPU, ns waiting on a run queue, slices
    } catch {
      continue; // the thread ended meanwhile
    }
    const [runNs, waitNs] = sched.split(" ").map(Number) as [number, number];
    const kind = Number(tid) === process.pid ? "calling thread" : /^Worker/.test(name) ? "pool workers" : /JIT/.test(name) ? "JIT compiler threads" : /Heap|ollector|GC/i.test(name) ? "GC threads" : name;
    const sum = byKind.get(kind) ?? [0, 0];
    byKind.set(kind, [sum[0] + runNs / 1e6, sum[1] + waitNs / 1e6]);
  }
  return byKind;
}

const totals = new Map<string, { wallMs: number; cpu: Map<string, [number, number]> }>();
for (let round = 0; round <= Number(values.runs); round++) {
  for (const [mode, options] of Object.entries(MODES)) {
    for (const { block, storage } of blocks) {
      await collectGarbage();
      const before = cpuByKind();
      const started = performance.now();
      await executeBlock(block, storage, options);
      const wallMs = performance.now() - started;
      if (round === 0) continue; // warm-up round
      const after = cpuByKind();
      const total = totals.get(mode) ?? { wallMs: 0, cpu: new Map() };
      total.wallMs += wallMs;
      for (const [kind, [run, wait]] of after) {
        const sum = total.cpu.get(kind) ?? [0, 0];
        const was = before.get(kind) ?? [0, 0];
        total.cpu.set(kind, [sum[0] + run - was[0], sum[1] + wait - was[1]]);
      }
      totals.set(mode, total);
    }
  }
}
await closeEngines();
const runs = Number(values.runs) * blocks.length;
console.log(`blocks ${numbers.join(", ")}; ${values.runs} rounds after a warm-up; per block run: CPU ms / ms runnable waiting for a CPU; load ${loadavg()[0]!.toFixed(2)} at end`);
for (const [mode, { wallMs, cpu }] of totals) {
  const parts = [...cpu]
    .filter(([, [run]]) => run / runs >= 0.5)
    .sort((a, b) => b[1][0] - a[1][0])
    .map(([kind, [run, wait]]) => `${kind} ${(run / runs).toFixed(0)} / ${(wait / runs).toFixed(0)}`);
  console.log(`${mode.padEnd(11)} wall ${(wallMs / runs).toFixed(0)} ms; CPU: ${parts.join(", ")}`);
}
