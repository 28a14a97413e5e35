// One engine per worker count, started on first use (or ahead of it, by startEngine) and
// shared by every executeBlock call of the process.
import { allowedCpuCount } from "../native/index.ts";
import { ParallelEngine } from "./engine.ts";

interface Started {
  engine: Promise<ParallelEngine>;
  /** Milliseconds the pool took to start (workers spawned, modules loaded, all ready). */
  startMs: Promise<number>;
}

const engines = new Map<number, Started>();

/** Starts the engine of `workers` workers (the calling thread and a pool of `workers - 1`) if it is not running yet; resolves once it is ready. */
export function startEngine(workers: number): Started {
  let started = engines.get(workers);
  if (started === undefined) {
    const t0 = performance.now();
    const engine = ParallelEngine.start(workers);
    started = { engine, startMs: engine.then(() => performance.now() - t0) };
    engines.set(workers, started);
    // A failed start is not remembered: the next call tries again.
    engine.catch(() => {
      if (engines.get(workers) === started) engines.delete(workers);
    });
    started.startMs.catch(() => {});
  }
  return started;
}

export function engineFor(workers: number): Promise<ParallelEngine> {
  return startEngine(workers).engine;
}

/** Stops every worker pool (so that a CLI or test process can exit). Pools that failed to start are skipped. */
export async function closeEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map(async (s) => (await s.engine.catch(() => undefined))?.close()));
}

/**
 * The worker count the machine fits: one per CPU this process may run on. Asked again at most
 * once a second: the automatic mode asks before every block, and the affinity system call
 * took ~2.3 µs a time, 7 µs of a 20 µs block (three asks per block).
 */
export function defaultWorkerCount(): number {
  const now = performance.now();
  if (now - cpuCountAskedAt >= CPU_COUNT_TTL_MS) {
    cpuCount = Math.max(1, allowedCpuCount());
    cpuCountAskedAt = now;
  }
  return cpuCount;
}
const CPU_COUNT_TTL_MS = 1000;
let cpuCount = 1;
let cpuCountAskedAt = -Infinity;
