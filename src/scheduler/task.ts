// The unit of work the scheduler hands out. Callers keep one Task object per thread and the
// scheduler fills it in, so claiming a task allocates nothing.

export const TaskKind = {
  /** Nothing claimable now, but the block is not finished: idle (Scheduler.waitForWork) and retry. */
  RetryLater: 0,
  Execute: 1,
  Validate: 2,
  /** The block is finished or halted: leave the loop. */
  Done: 3,
} as const;
export type TaskKind = (typeof TaskKind)[keyof typeof TaskKind];

export class Task {
  kind: TaskKind = TaskKind.RetryLater;
  tx = -1;
  incarnation = -1;

  set(kind: TaskKind, tx: number, incarnation: number): void {
    this.kind = kind;
    this.tx = tx;
    this.incarnation = incarnation;
  }
}
