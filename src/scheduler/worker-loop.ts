// The Block-STM worker loop (the paper's run()): claim tasks from the shared scheduler and run
// them with a transaction executor until the block is done or halted. Generic over the executor,
// so the EVM executor and synthetic test workloads share it.
import { HALT_WORKER_ERROR, type Scheduler } from "./scheduler.ts";
import { emptyStats, type SchedulerStats } from "./stats.ts";
import { Task, TaskKind } from "./task.ts";

/** Result of one execution. Executors may return the same (mutated) object every time. */
export type ExecOutcome = { kind: "blocked"; blockingTx: number } | { kind: "done"; wroteNewLocation: boolean };

export interface TxTaskExecutor {
  /**
   * Run incarnation `incarnation` of tx `tx`. 'blocked' when it read an ESTIMATE of `blockingTx`
   * (nothing recorded); otherwise 'done' after recording its reads and writes, with
   * wroteNewLocation = it wrote a location the previous incarnation did not.
   */
  execute(tx: number, incarnation: number): ExecOutcome | Promise<ExecOutcome>;
  /** Re-check tx's recorded reads against the current multi-version memory. */
  validate(tx: number, incarnation: number): boolean;
  /** After winning tryValidationAbort: turn the aborted incarnation's writes into ESTIMATEs. */
  convertWritesToEstimates(tx: number): void;
}

export interface WorkerLoopOptions {
  /** Halt code set when the executor throws (default HALT_WORKER_ERROR), or a function of the error. */
  haltCodeOnError?: number | ((error: unknown) => number);
  /** Add this worker's counters to the scheduler's shared totals at the end (default true). */
  publishStats?: boolean;
  /**
   * Park without blocking the thread's event loop (Scheduler.waitForWorkAsync): for the
   * calling thread, whose event loop must keep serving the pool while it executes.
   */
  parkAsync?: boolean;
}

/**
 * Run until Done. If the executor throws, the scheduler is halted (so the other workers stop
 * promptly) and the error is rethrown. Returns this worker's counters.
 */
export async function runWorkerLoop(scheduler: Scheduler, executor: TxTaskExecutor, options: WorkerLoopOptions = {}): Promise<SchedulerStats> {
  const stats = emptyStats();
  const task = new Task();
  scheduler.generation(); // acquire: makes the main thread's reset visible before the first claim
  try {
    for (;;) {
      scheduler.nextTask(task);
      if (task.kind === TaskKind.Done) break;
      if (task.kind === TaskKind.RetryLater) {
        if (options.parkAsync) await scheduler.waitForWorkAsync();
        else scheduler.waitForWork();
        continue;
      }
      // A finished task may hand back the next one directly (validation after execution,
      // re-execution after an abort), skipping the shared indices.
      let hasTask = true;
      while (hasTask) {
        const next = task.kind === TaskKind.Execute ? runExecution(scheduler, executor, task, stats) : runValidation(scheduler, executor, task, stats);
        hasTask = next instanceof Promise ? await next : next;
      }
    }
  } catch (error) {
    const code = options.haltCodeOnError;
    scheduler.halt(typeof code === "function" ? code(error) : (code ?? HALT_WORKER_ERROR));
    throw error;
  } finally {
    if (options.publishStats ?? true) scheduler.addStats(stats);
  }
  return stats;
}

/**
 * Synchronous executions (plain transfers) stay synchronous: only an execution that really
 * awaits (the interpreter) costs a promise.
 */
function runExecution(scheduler: Scheduler, executor: TxTaskExecutor, task: Task, stats: SchedulerStats): boolean | Promise<boolean> {
  const { tx, incarnation } = task;
  for (;;) {
    stats.executions++;
    if (incarnation > 0) stats.reExecutions++;
    const outcome = executor.execute(tx, incarnation);
    if (outcome instanceof Promise) {
      return outcome.then((o) => afterExecution(scheduler, task, o, stats) ?? runExecution(scheduler, executor, task, stats));
    }
    const next = afterExecution(scheduler, task, outcome, stats);
    if (next !== undefined) return next;
  }
}

/** The scheduler's answer to an execution: whether a task was handed back; undefined = execute again. */
function afterExecution(scheduler: Scheduler, task: Task, outcome: ExecOutcome, stats: SchedulerStats): boolean | undefined {
  if (outcome.kind === "done") return scheduler.finishExecution(task.tx, task.incarnation, outcome.wroteNewLocation, task);
  if (scheduler.addDependency(task.tx, outcome.blockingTx)) {
    stats.dependencyWaits++;
    return false;
  }
  // The blocking tx finished in the meantime: its value is readable now, execute again.
  return undefined;
}

function runValidation(scheduler: Scheduler, executor: TxTaskExecutor, task: Task, stats: SchedulerStats): boolean {
  const { tx, incarnation } = task;
  stats.validations++;
  const aborted = !executor.validate(tx, incarnation) && scheduler.tryValidationAbort(tx, incarnation);
  if (aborted) {
    stats.validationAborts++;
    executor.convertWritesToEstimates(tx);
  }
  return scheduler.finishValidation(tx, aborted, task);
}
