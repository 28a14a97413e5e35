/**
 * Where the CPU goes while a block runs: per kind of thread of this process (the calling
 * thread, the pool's workers, JSC's JIT compiler threads, its GC helpers, the allocator's
 * scavenger), CPU ms per run of each mode, read from /proc/self/task (Linux; 10 ms ticks).
 * On a 2-core machine the JIT and GC threads compete with the workers: this shows how much.
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

/** CPU ms so far per thread kind (thread names as JSC and Bun set them). */
function cpuByKind(): Map<string, number> {
  const byKind = new Map<string, number>();
  const ticksMs = 10;
  for (const tid of readdirSync("/proc/self/task")) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const kind = Number(tid) === process.pid ? "calling thread" : /^Worker/.test(name) ? "pool workers" : /JIT/.test(name) ? "JIT compiler threads" : /Heap|ollector|GC/i.test(name) ? "GC threads" : name;
    byKind.set(kind, (byKind.get(kind) ?? 0) + (Number(fields[11]) + Number(fields[12])) * ticksMs);
  }
  return byKind;
}

const totals = new Map<string, { wallMs: number; cpu: Map<string, number> }>();
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
      for (const [kind, ms] of after) total.cpu.set(kind, (total.cpu.get(kind) ?? 0) + ms - (before.get(kind) ?? 0));
      totals.set(mode, total);
    }
  }
}
await closeEngines();
const runs = Number(values.runs) * blocks.length;
console.log(`blocks ${numbers.join(", ")}; ${values.runs} rounds after a warm-up; CPU ms per block run (10 ms ticks), load ${loadavg()[0]!.toFixed(2)} at end`);
for (const [mode, { wallMs, cpu }] of totals) {
  const parts = [...cpu].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]).map(([kind, ms]) => `${kind} ${(ms / runs).toFixed(0)}`);
  console.log(`${mode.padEnd(11)} wall ${(wallMs / runs).toFixed(0)} ms; CPU: ${parts.join(", ")}`);
}
