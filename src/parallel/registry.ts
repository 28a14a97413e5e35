// One engine per worker count, started on first use and shared by every executeBlock call.
import { allowedCpuCount } from "../native/index.ts";
import { ParallelEngine } from "./engine.ts";


const engines = new Map<number, Promise<ParallelEngine>>();

export function engineFor(workers: number): Promise<ParallelEngine> {
  let engine = engines.get(workers);
  if (engine === undefined) {
    engine = ParallelEngine.start(workers);
    engines.set(workers, engine);
  }
  return engine;
}

/** Stops every worker pool (so that a CLI or test process can exit). */
export async function closeEngines(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map(async (e) => (await e).close()));
}

/** The worker count the machine fits: one per CPU this process may run on. */
export function defaultWorkerCount(): number {
  return Math.max(1, allowedCpuCount());
}
