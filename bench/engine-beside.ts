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
 * The same file is the worker script (it spawns itself).
 */
import { closeEngines, executeBlock, loadBlockDir } from "../src/index.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { yieldRuntimeThreads } from "../src/native/runtime-threads.ts";
import { median } from "./report/stats.ts";
declare const self: Worker;
if (!Bun.isMainThread) {
  const { flag: buf, block: n } = (await new Promise<MessageEvent>((r) => (self.onmessage = r))).data;
  const flag = new Int32Array(buf);
  const { block, storage } = loadBlockDir(blockDirOf(n));
  await executeBlock(block, storage, { sequential: true });
  self.postMessage("ready");
  for (;;) { const s = Atomics.load(flag, 0); if (s === 2) break; if (s === 1) await executeBlock(block, storage, { sequential: true }); else Atomics.wait(flag, 0, 0, 50); }
  process.exit(0);
}
const target = Number(Bun.argv[2] ?? 16146267);
const flag = new Int32Array(new SharedArrayBuffer(4));
const w = new Worker(new URL(import.meta.url)); w.postMessage({ flag: flag.buffer, block: 12459406 });
await new Promise((r) => (w.onmessage = r));
const { block, storage } = loadBlockDir(blockDirOf(target));
const res: Record<string, { ms: number[]; exec: number[] }> = {};
const modes: [string, any, number][] = [["seq alone", { sequential: true }, 0], ["seq beside", { sequential: true }, 1], ["par1 alone", { workers: 1 }, 0], ["par1 beside", { workers: 1 }, 1], ["par2", { workers: 2 }, 0]];
for (let r = 0; r < 8; r++) for (const [name, opts, busy] of modes) {
  Atomics.store(flag, 0, busy); Atomics.notify(flag, 0);
  await Bun.sleep(busy ? 30 : 5);
  yieldRuntimeThreads();
  await executeBlock(block, storage, opts);
  const t = performance.now(); const out: any = await executeBlock(block, storage, opts); const ms = performance.now() - t;
  Atomics.store(flag, 0, 0);
  (res[name] ??= { ms: [], exec: [] }).ms.push(ms);
  if (out.stats) res[name]!.exec.push(out.stats.executeMs);
}
Atomics.store(flag, 0, 2); Atomics.notify(flag, 0);
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(12), median(v.ms).toFixed(1), v.exec.length ? `executeMs ${median(v.exec).toFixed(1)}` : "");
await closeEngines();
