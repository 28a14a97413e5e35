// Scheduler overheads with no transaction work: `bun bench/micro/scheduler.bench.ts`.
// Single-threaded claim costs, and whole no-op blocks through the worker pool. This file is also
// its own worker script (no-op executor) when loaded inside a Worker.
import { bench, do_not_optimize, group, run } from "mitata";
import { Scheduler, type SchedulerDescriptor } from "../../src/scheduler/scheduler.ts";
import { Task, TaskKind } from "../../src/scheduler/task.ts";
import { type ExecOutcome, runWorkerLoop, type TxTaskExecutor } from "../../src/scheduler/worker-loop.ts";
import { WorkerPool } from "../../src/workers/pool.ts";
import { serveWorker } from "../../src/workers/serve.ts";

const noOpExecutor: TxTaskExecutor = {
  execute: (): ExecOutcome => ({ kind: "done", wroteNewLocation: false }),
  validate: () => true,
  convertWritesToEstimates: () => {},
};

if (!Bun.isMainThread) {
  serveWorker<null, SchedulerDescriptor, number>({
    run: async (descriptor) => (await runWorkerLoop(Scheduler.attach(descriptor), noOpExecutor)).executions,
  });
} else {
  await main();
}

/** Drive a whole block on this thread: execute, validate, until Done. Returns tasks run. */
function runBlockInline(scheduler: Scheduler, task: Task): number {
  let tasks = 0;
  for (;;) {
    scheduler.nextTask(task);
    if (task.kind === TaskKind.Done) return tasks;
    if (task.kind === TaskKind.RetryLater) throw new Error("single thread never waits");
    let more = true;
    while (more) {
      tasks++;
      more =
        task.kind === TaskKind.Execute
          ? scheduler.finishExecution(task.tx, task.incarnation, false, task)
          : scheduler.finishValidation(task.tx, false, task);
    }
  }
}

async function main(): Promise<void> {
  const BLOCK = 1000;
  const scheduler = Scheduler.create(10_000);
  const task = new Task();

  group("single thread, per block of 1000 no-op txs", () => {
    bench("reset(1000) only", () => scheduler.reset(BLOCK));
    bench("reset + execute + validate all, to Done", () => {
      scheduler.reset(BLOCK);
      do_not_optimize(runBlockInline(scheduler, task));
    });
  });

  group("single thread, one task", () => {
    let remaining = 0;
    bench("nextTask + finishExecution/finishValidation", () => {
      // Reset amortised over the 2000 tasks (1000 executions, 1000 validations) of a block.
      if (remaining === 0) {
        scheduler.reset(BLOCK);
        remaining = 2 * BLOCK;
      }
      scheduler.nextTask(task);
      if (task.kind === TaskKind.Execute) {
        // Not wroteNewLocation and not yet passed by validationIdx: no hand-back, the claim goes via the index.
        if (scheduler.finishExecution(task.tx, task.incarnation, false, task)) throw new Error("unexpected hand-back");
      } else if (task.kind === TaskKind.Validate) {
        scheduler.finishValidation(task.tx, false, task);
      } else {
        throw new Error(`unexpected task kind ${task.kind}`);
      }
      remaining--;
    });
  });

  const pools = await Promise.all([1, 2].map((n) => WorkerPool.start<null, SchedulerDescriptor, number>(n, import.meta.url)));
  const shared = Scheduler.create(10_000);
  group("worker pool, block of 10 000 no-op txs (pool.run round trip included)", () => {
    for (const pool of pools) {
      bench(`${pool.size} worker(s)`, async () => {
        shared.reset(10_000);
        await pool.run(shared.descriptor(), { timeoutMs: 10_000, onFailure: () => shared.halt() });
        if (!shared.isDone()) throw new Error("block not done");
      });
    }
    bench("pool.run round trip, empty block (2 workers)", async () => {
      shared.reset(0);
      await pools[1]!.run(shared.descriptor());
    });
  });

  await run();
  await Promise.all(pools.map((pool) => pool.close()));
}
