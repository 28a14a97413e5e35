import { afterAll, describe, expect, test } from "bun:test";
import { Scheduler } from "../src/scheduler/scheduler.ts";
import { WorkerPool, WorkerRunError } from "../src/workers/pool.ts";
import type { PoolJob, PoolJobMode } from "./fixtures/scheduler-pool-worker.ts";

const workerScript = new URL("./fixtures/scheduler-pool-worker.ts", import.meta.url);
const WORKERS = 3;
const FAILING = 1;
/** Generous against a loaded 2-core machine, but far below the test timeout: "bounded", not "fast". */
const BOUND_MS = 10_000;

type Pool = WorkerPool<{ tag: string }, PoolJob, string>;

async function startPool(): Promise<Pool> {
  return WorkerPool.start<{ tag: string }, PoolJob, string>(WORKERS, workerScript, { tag: "pool-test" }, { pin: true });
}

async function runMode(pool: Pool, mode: PoolJobMode, timeoutMs?: number): Promise<{ results?: string[]; error?: WorkerRunError; halted: boolean }> {
  const scheduler = Scheduler.create(1);
  const job: PoolJob = { mode, failingWorker: FAILING, scheduler: scheduler.descriptor() };
  const watchdog = Bun.sleep(BOUND_MS + 5_000).then(() => "hung" as const);
  const outcome = await Promise.race([
    pool.run(job, { timeoutMs, graceMs: 1_000, onFailure: () => scheduler.halt() }).then(
      (results) => ({ results }),
      (error: WorkerRunError) => ({ error }),
    ),
    watchdog,
  ]);
  if (outcome === "hung") throw new Error(`run in mode ${mode} did not settle`);
  return { ...outcome, halted: scheduler.isHalted() };
}

async function expectHealthy(pool: Pool): Promise<void> {
  const { results, error } = await runMode(pool, "ok");
  expect(error).toBeUndefined();
  expect(results).toEqual(["worker 0 ok", "worker 1 ok", "worker 2 ok"]);
  expect(pool.liveWorkers).toBe(WORKERS);
}

describe("WorkerPool", () => {
  const pools: Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  test("runs jobs on every worker and reuses them", async () => {
    const pool = await startPool();
    pools.push(pool);
    expect(pool.size).toBe(WORKERS);
    await expectHealthy(pool);
    await expectHealthy(pool);
    const scheduler = Scheduler.create(1);
    const job: PoolJob = { mode: "ok", failingWorker: -1, scheduler: scheduler.descriptor() };
    const first = pool.run(job);
    await expect(pool.run(job)).rejects.toThrow("already in progress");
    expect(await first).toHaveLength(WORKERS);
  });

  const failures: [PoolJobMode, RegExp][] = [
    ["throw", /worker 1 failed: Error: deliberate failure in run/],
    ["throw-uncaught", /worker 1 threw .*deliberate uncaught failure/],
    ["exit", /worker 1 exited \(code 7\)/],
  ];
  for (const [mode, message] of failures) {
    test(`a worker failing by '${mode}' rejects the run naming it; the next run succeeds`, async () => {
      const pool = await startPool();
      pools.push(pool);
      const started = performance.now();
      const { error, halted } = await runMode(pool, mode);
      expect(performance.now() - started).toBeLessThan(BOUND_MS);
      expect(error).toBeInstanceOf(WorkerRunError);
      expect(error!.message).toMatch(message);
      expect(error!.workerIndex).toBe(FAILING);
      // The hook halted the shared scheduler, which is what let the other workers return.
      expect(halted).toBe(true);
      await expectHealthy(pool);
    }, 30_000);
  }

  test("the watchdog ends a run with a hung worker, which is replaced", async () => {
    const pool = await startPool();
    pools.push(pool);
    const { error, halted } = await runMode(pool, "hang", 300);
    expect(error!.message).toMatch(/timed out after 300 ms; no report from worker\(s\) 1$/);
    expect(error!.workerIndex).toBe(FAILING);
    expect(halted).toBe(true);
    await expectHealthy(pool);
  }, 30_000);

  test("a worker terminated from outside fails the run in progress", async () => {
    const pool = await startPool();
    pools.push(pool);
    const scheduler = Scheduler.create(1);
    // Every worker waits for a halt that only the failure hook will give.
    const job: PoolJob = { mode: "hang", failingWorker: -1, scheduler: scheduler.descriptor() };
    const run = pool.run(job, { graceMs: 1_000, onFailure: () => scheduler.halt() });
    await Bun.sleep(50);
    (pool as unknown as { slots: { worker: Worker }[] }).slots[2]!.worker.terminate();
    const error = await run.then(
      () => null,
      (e: WorkerRunError) => e,
    );
    expect(error?.message).toMatch(/worker 2 exited/);
    await expectHealthy(pool);
  }, 30_000);

  test("close() terminates every worker and later runs reject", async () => {
    const pool = await startPool();
    await pool.close();
    expect(pool.liveWorkers).toBe(0);
    const scheduler = Scheduler.create(1);
    await expect(pool.run({ mode: "ok", failingWorker: -1, scheduler: scheduler.descriptor() })).rejects.toThrow("closed");
    await pool.close(); // idempotent
  });

  test("a worker failing its init makes start() reject", async () => {
    const started = WorkerPool.start(2, workerScript, { tag: "wrong" });
    await expect(started).rejects.toThrow(/worker \d failed to start: Error: unexpected init/);
  });
});
