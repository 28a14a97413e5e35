import { afterAll, describe, expect, test } from "bun:test";
import { HALT_WORKER_ERROR, Scheduler } from "../src/scheduler/scheduler.ts";
import type { SchedulerStats } from "../src/scheduler/stats.ts";
import { TxStatus } from "../src/scheduler/status.ts";
import { Task, TaskKind } from "../src/scheduler/task.ts";
import { runWorkerLoop } from "../src/scheduler/worker-loop.ts";
import { WorkerPool } from "../src/workers/pool.ts";
import type { CellJob } from "./fixtures/scheduler-worker.ts";
import { CellExecutor, CellStore, makePrograms, newReadResult, runSequentially, type WorkloadParams } from "./fixtures/scheduler-workload.ts";

function next(scheduler: Scheduler): Task {
  const task = new Task();
  scheduler.nextTask(task);
  return task;
}

function expectTask(task: Task, kind: TaskKind, tx = -1, incarnation = -1): void {
  expect({ kind: task.kind, tx: task.tx, incarnation: task.incarnation }).toEqual({ kind, tx, incarnation });
}

describe("scheduler, single thread", () => {
  test("an empty block is done at once", () => {
    const scheduler = Scheduler.create(4);
    expectTask(next(scheduler), TaskKind.Done);
    expect(scheduler.isDone()).toBe(true);
  });

  test("executes in order, validates, and is done only when everything is validated", () => {
    const scheduler = Scheduler.create(8);
    scheduler.reset(2);
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    expect(scheduler.txStatus(0)).toEqual({ status: TxStatus.Executing, incarnation: 0 });
    expectTask(next(scheduler), TaskKind.Execute, 1, 0);
    // Both claimed and running: nothing to claim, but not done.
    expectTask(next(scheduler), TaskKind.RetryLater);
    const out = new Task();
    // validationIdx (0) is not past tx 0: no direct validation hand-back.
    expect(scheduler.finishExecution(0, 0, true, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 0, 0);
    expectTask(next(scheduler), TaskKind.RetryLater); // tx 1 still executing
    expect(scheduler.finishValidation(0, false, out)).toBe(false);
    expect(scheduler.isDone()).toBe(false);
    expect(scheduler.finishExecution(1, 0, true, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 1, 0);
    expect(scheduler.isDone()).toBe(false);
    expect(scheduler.finishValidation(1, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Done);
    expect(scheduler.txStatus(1)).toEqual({ status: TxStatus.Executed, incarnation: 0 });
  });

  test("finishExecution hands back the validation when nothing new was written, else lowers validationIdx", () => {
    const scheduler = Scheduler.create(8);
    scheduler.reset(3);
    const out = new Task();
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    expect(scheduler.finishExecution(0, 0, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 0, 0); // validationIdx -> 1
    expect(scheduler.finishValidation(0, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Execute, 1, 0);
    expect(scheduler.finishExecution(1, 0, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 1, 0);
    expect(scheduler.finishValidation(1, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Execute, 2, 0);
    expect(scheduler.finishExecution(2, 0, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 2, 0);
    expect(scheduler.finishValidation(2, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Done);

    // All three claimed at once: validationIdx passes them while they run (their validation
    // attempts fail as they are not EXECUTED), so each finish hands its validation straight back.
    scheduler.reset(3);
    for (let tx = 0; tx < 3; tx++) expectTask(next(scheduler), TaskKind.Execute, tx, 0);
    expect(scheduler.finishExecution(0, 0, false, out)).toBe(true);
    expectTask(out, TaskKind.Validate, 0, 0);
    expect(scheduler.finishValidation(0, false, out)).toBe(false);
    expect(scheduler.finishExecution(1, 0, false, out)).toBe(true);
    expectTask(out, TaskKind.Validate, 1, 0);
    // The validation fails: tx 1 is aborted and its re-execution handed back (executionIdx is past it).
    expect(scheduler.tryValidationAbort(1, 0)).toBe(true);
    expect(scheduler.finishValidation(1, true, out)).toBe(true);
    expectTask(out, TaskKind.Execute, 1, 1);
    // validationIdx was lowered to 2, which tx 2 has not passed: no hand-back, validated via the index.
    expect(scheduler.finishExecution(2, 0, false, new Task())).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 2, 0);
    expect(scheduler.finishValidation(2, false, new Task())).toBe(false);
    expectTask(next(scheduler), TaskKind.RetryLater); // tx 1 is still re-executing
    expect(scheduler.finishExecution(1, 1, false, out)).toBe(true);
    expectTask(out, TaskKind.Validate, 1, 1);
    expect(scheduler.isDone()).toBe(false);
    scheduler.finishValidation(1, false, out);
    expectTask(next(scheduler), TaskKind.Done);
  });

  test("wroteNewLocation lowers validationIdx so higher txs are validated again", () => {
    const scheduler = Scheduler.create(8);
    scheduler.reset(3);
    const out = new Task();
    for (let tx = 0; tx < 3; tx++) expectTask(next(scheduler), TaskKind.Execute, tx, 0);
    // validationIdx passed txs 0 and 1 while they ran (2 was the last claim): those get their
    // validation handed back, tx 2 is validated through the index.
    for (let tx = 0; tx < 2; tx++) {
      expect(scheduler.finishExecution(tx, 0, false, out)).toBe(true);
      expectTask(out, TaskKind.Validate, tx, 0);
    }
    expect(scheduler.finishExecution(2, 0, false, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 2, 0);
    expect(scheduler.tryValidationAbort(0, 0)).toBe(true);
    expect(scheduler.finishValidation(0, true, out)).toBe(true);
    expectTask(out, TaskKind.Execute, 0, 1);
    scheduler.finishValidation(1, false, new Task());
    scheduler.finishValidation(2, false, new Task());
    // The abort lowered validationIdx to 1: txs 1 and 2 are validated again.
    expectTask(next(scheduler), TaskKind.Validate, 1, 0);
    expectTask(next(scheduler), TaskKind.Validate, 2, 0);
    scheduler.finishValidation(1, false, new Task());
    scheduler.finishValidation(2, false, new Task());
    expectTask(next(scheduler), TaskKind.RetryLater);
    // Incarnation 1 of tx 0 writes a new location: validation restarts at tx 0, for every tx.
    expect(scheduler.finishExecution(0, 1, true, out)).toBe(false);
    expectTask(next(scheduler), TaskKind.Validate, 0, 1);
    expectTask(next(scheduler), TaskKind.Validate, 1, 0);
    expectTask(next(scheduler), TaskKind.Validate, 2, 0);
    for (let tx = 0; tx < 3; tx++) {
      expect(scheduler.isDone()).toBe(false);
      scheduler.finishValidation(tx, false, new Task());
    }
    expectTask(next(scheduler), TaskKind.Done);
  });

  test("only the first failing validation of a version aborts it", () => {
    const scheduler = Scheduler.create(4);
    scheduler.reset(1);
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    scheduler.finishExecution(0, 0, false, new Task());
    expect(scheduler.tryValidationAbort(0, 1)).toBe(false); // wrong incarnation
    expect(scheduler.tryValidationAbort(0, 0)).toBe(true);
    expect(scheduler.tryValidationAbort(0, 0)).toBe(false);
    expect(scheduler.txStatus(0)).toEqual({ status: TxStatus.Aborting, incarnation: 0 });
  });

  test("a dependency parks the tx until the blocking tx finishes, then it resumes with incarnation + 1", () => {
    const scheduler = Scheduler.create(8);
    scheduler.reset(3);
    const out = new Task();
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    expectTask(next(scheduler), TaskKind.Execute, 1, 0);
    expectTask(next(scheduler), TaskKind.Execute, 2, 0);
    expect(scheduler.addDependency(2, 0)).toBe(true);
    expect(scheduler.addDependency(1, 0)).toBe(true);
    expect(scheduler.txStatus(2)).toEqual({ status: TxStatus.Aborting, incarnation: 0 });
    expectTask(next(scheduler), TaskKind.RetryLater);
    // Tx 0 finishing makes both ready again and lowers executionIdx to the lowest of them.
    expect(scheduler.finishExecution(0, 0, true, out)).toBe(false);
    expect(scheduler.txStatus(1)).toEqual({ status: TxStatus.ReadyToExecute, incarnation: 1 });
    expect(scheduler.txStatus(2)).toEqual({ status: TxStatus.ReadyToExecute, incarnation: 1 });
    expectTask(next(scheduler), TaskKind.Validate, 0, 0);
    expectTask(next(scheduler), TaskKind.Execute, 1, 1);
    expectTask(next(scheduler), TaskKind.Execute, 2, 1);
    // Tx 0 has executed: a dependency on it is refused, the caller re-executes.
    expect(scheduler.addDependency(2, 0)).toBe(false);
    expect(scheduler.txStatus(2)).toEqual({ status: TxStatus.Executing, incarnation: 1 });
    expect(() => scheduler.addDependency(1, 2)).toThrow(RangeError);
  });

  test("halt makes nextTask return Done and keeps the first code", () => {
    const scheduler = Scheduler.create(4);
    scheduler.reset(4);
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    scheduler.halt(42);
    scheduler.halt(HALT_WORKER_ERROR);
    expect(scheduler.haltCode()).toBe(42);
    expectTask(next(scheduler), TaskKind.Done);
    expect(scheduler.isDone()).toBe(false); // halted, not completed
    scheduler.reset(1);
    expect(scheduler.haltCode()).toBe(0);
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
  });

  test("descriptor/attach share one state", () => {
    const scheduler = Scheduler.create(4);
    scheduler.reset(2);
    const twin = Scheduler.attach(structuredClone(scheduler.descriptor()));
    expectTask(next(scheduler), TaskKind.Execute, 0, 0);
    expectTask(next(twin), TaskKind.Execute, 1, 0);
    expect(() => scheduler.reset(5)).toThrow(RangeError);
  });

  test("the worker loop on one thread matches sequential execution, and a throwing executor halts", async () => {
    const params: WorkloadParams = { seed: 3, txCount: 60, cellCount: 6 };
    const programs = makePrograms(params);
    const scheduler = Scheduler.create(params.txCount);
    const store = CellStore.create(params.txCount, params.cellCount);
    scheduler.reset(params.txCount);
    const stats = await runWorkerLoop(scheduler, new CellExecutor(store, programs, 1, { spinChance: 0, sleepChance: 0 }));
    expect(store.finalCells()).toEqual(runSequentially(params, programs));
    expect(stats.executions).toBe(params.txCount);
    expect(scheduler.stats()).toEqual(stats);

    scheduler.reset(params.txCount);
    const failing = {
      execute: (tx: number) => {
        if (tx === 5) throw new Error("executor bug");
        return { kind: "done" as const, wroteNewLocation: false };
      },
      validate: () => true,
      convertWritesToEstimates: () => {},
    };
    await expect(runWorkerLoop(scheduler, failing)).rejects.toThrow("executor bug");
    expect(scheduler.haltCode()).toBe(HALT_WORKER_ERROR);
  });
});

describe("scheduler, many Workers on a conflicting synthetic workload", () => {
  const workerScript = new URL("./fixtures/scheduler-worker.ts", import.meta.url);
  const pools: WorkerPool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
  });

  for (const workers of [1, 2, 3, 4, 8]) {
    test(`${workers} worker(s): final state equals sequential execution`, async () => {
      const pool = await WorkerPool.start<null, CellJob, SchedulerStats>(workers, workerScript);
      pools.push(pool);
      let conflicts = 0;
      for (const seed of [1, 2, 3, 4, 5]) {
        const params: WorkloadParams = { seed, txCount: 150 + seed * 10, cellCount: 10 + seed };
        const programs = makePrograms(params);
        const scheduler = Scheduler.create(params.txCount);
        const store = CellStore.create(params.txCount, params.cellCount);
        scheduler.reset(params.txCount);
        const job: CellJob = {
          scheduler: scheduler.descriptor(),
          store: store.desc,
          params,
          // Tiny spin budget so parking and waking are exercised too.
          idle: { spinLimit: seed % 2 === 0 ? 20 : 2000, parkTimeoutMs: 20 },
          delays: { spinChance: 0.3, sleepChance: 0.03 },
        };
        const results = await pool.run(job, { timeoutMs: 30_000, onFailure: () => scheduler.halt() });

        expect(scheduler.isDone()).toBe(true);
        expect(scheduler.haltCode()).toBe(0);
        expect(store.finalCells()).toEqual(runSequentially(params, programs));
        const scratch = newReadResult();
        for (let tx = 0; tx < params.txCount; tx++) {
          const { status, incarnation } = scheduler.txStatus(tx);
          expect(status).toBe(TxStatus.Executed);
          expect(store.lastValidated(tx)).toBe(incarnation);
          expect(store.validate(tx, scratch)).toBe(true);
        }
        const totals = scheduler.stats();
        expect(results.reduce((sum, r) => sum + r.executions, 0)).toBe(totals.executions);
        expect(totals.executions).toBeGreaterThanOrEqual(params.txCount);
        expect(totals.validations).toBeGreaterThanOrEqual(params.txCount);
        conflicts += totals.validationAborts + totals.dependencyWaits;
      }
      // With several threads the workload must really conflict, or this test proves little.
      if (workers > 1) expect(conflicts).toBeGreaterThan(0);
    }, 120_000);
  }
});
