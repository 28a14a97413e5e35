/**
 * The machine's ceiling: how much faster n Bun Workers finish a fixed amount of pure,
 * independent CPU work than one worker does. No shared state and no coordination, so
 * this is the best speedup any parallel executor could show on this machine, under
 * whatever else is running on it right now.
 *
 * The same file is the worker script (it spawns itself).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { cpuCount } from "../src/native/index.ts";
import { median, ratio } from "./report/stats.ts";

export type CeilingWork = "keccak" | "integer";

interface WorkRequest {
  work: CeilingWork;
  units: number;
}

/** Units of each kind that take about as long as one another (~1 µs). */
const UNITS_SCALE: Record<CeilingWork, number> = { keccak: 1, integer: 400 };

function doWork(request: WorkRequest): number {
  if (request.work === "keccak") {
    // Chained hashing: each input is the previous digest, so nothing can be skipped.
    let digest = new Uint8Array(32);
    for (let i = 0; i < request.units; i++) digest = keccak_256(digest);
    return digest[0];
  }
  let x = 0x9e3779b9 | 0;
  for (let i = request.units * UNITS_SCALE.integer; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

declare const self: Worker;

if (!Bun.isMainThread) {
  self.onmessage = (event: MessageEvent<WorkRequest>) => {
    const start = performance.now();
    const checksum = doWork(event.data);
    self.postMessage({ ms: performance.now() - start, checksum });
  };
  self.postMessage("ready");
}

class CeilingPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(size: number): Promise<CeilingPool> {
    const workers = Array.from({ length: size }, () => new Worker(new URL(import.meta.url)));
    await Promise.all(workers.map((w) => nextMessage(w)));
    return new CeilingPool(workers);
  }

  /** Wall time for `count` workers to share `totalUnits` units, all started at once. */
  async run(count: number, work: CeilingWork, totalUnits: number): Promise<number> {
    const share = Math.ceil(totalUnits / count);
    const active = this.workers.slice(0, count);
    const start = performance.now();
    const done = active.map((w) => nextMessage(w));
    for (const w of active) w.postMessage({ work, units: share } satisfies WorkRequest);
    await Promise.all(done);
    return performance.now() - start;
  }

  close(): void {
    for (const w of this.workers) w.terminate();
  }
}

function nextMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    worker.addEventListener("message", (event) => resolve(event.data), { once: true });
    worker.addEventListener("error", (event) => reject(new Error(event.message)), { once: true });
  });
}

export interface CeilingOptions {
  /** Units of work in total (each about a microsecond on one core). */
  totalUnits: number;
  repeats: number;
  works?: CeilingWork[];
}

export interface CeilingResult {
  work: CeilingWork;
  totalUnits: number;
  repeats: number;
  /** Median wall ms by worker count, e.g. { "1": 900, "2": 470 }. */
  medianMs: Record<string, number>;
  /** 1-worker time over n-worker time. */
  speedup: Record<string, number>;
}

export interface CeilingReport {
  workerCounts: number[];
  results: CeilingResult[];
  /** The 2-worker speedup of the keccak work: the reference pevm is compared with. */
  twoWorkerSpeedup: number;
}

export async function measureCeiling(options: CeilingOptions, onProgress: (line: string) => void = () => {}): Promise<CeilingReport> {
  const counts = [...new Set([1, 2, cpuCount()])].sort((a, b) => a - b);
  const pool = await CeilingPool.start(Math.max(...counts));
  const results: CeilingResult[] = [];
  try {
    for (const work of options.works ?? ["keccak", "integer"]) {
      await pool.run(Math.max(...counts), work, Math.ceil(options.totalUnits / 10)); // JIT warm-up
      const samples = new Map<number, number[]>(counts.map((n) => [n, []]));
      // Interleaved, so a change in the machine's load hits every count alike.
      for (let r = 0; r < options.repeats; r++) {
        for (const n of counts) samples.get(n)!.push(await pool.run(n, work, options.totalUnits));
      }
      const medianMs: Record<string, number> = {};
      for (const [n, ms] of samples) medianMs[n] = median(ms);
      const speedup: Record<string, number> = {};
      for (const n of counts) speedup[n] = ratio(medianMs[1], medianMs[n]);
      results.push({ work, totalUnits: options.totalUnits, repeats: options.repeats, medianMs, speedup });
      onProgress(`ceiling ${work}: ${counts.map((n) => `${n} worker(s) ${medianMs[n].toFixed(0)} ms (${speedup[n].toFixed(2)}x)`).join(", ")}`);
    }
  } finally {
    pool.close();
  }
  const keccak = results.find((r) => r.work === "keccak") ?? results[0];
  return { workerCounts: counts, results, twoWorkerSpeedup: keccak.speedup[2] };
}

if (Bun.isMainThread && import.meta.main) {
  const report = await measureCeiling({ totalUnits: 1_000_000, repeats: 3 }, (line) => console.error(line));
  console.log(JSON.stringify(report, null, 2));
}
