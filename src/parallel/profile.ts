// Opt-in sampling profiles of the workers (PEVM_PROFILE_WORKERS=<dir>): `bun --cpu-prof`
// sees only the main thread, and the parallel engine's cost is inside the workers.
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Runs `work` under JSC's sampling profiler and appends the top functions to <dir>/worker-<index>.txt. */
export async function profiled<T>(dir: string, workerIndex: number, work: () => Promise<T>): Promise<T> {
  const { profile } = await import("bun:jsc");
  let result!: T;
  const samples = await profile(async () => {
    result = await work();
  }, 200);
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `worker-${workerIndex}.txt`), `${samples.functions}\n=====\n`);
  return result;
}
