// Block-STM counters. Each worker counts in a plain object and adds it to the shared totals once.

export interface SchedulerStats {
  /** Every execution, including re-executions and executions that ended blocked. */
  executions: number;
  /** Executions with incarnation > 0. */
  reExecutions: number;
  validations: number;
  /** Validations that failed and won tryValidationAbort. */
  validationAborts: number;
  /** Executions suspended on a dependency (addDependency returned true). */
  dependencyWaits: number;
}

export function emptyStats(): SchedulerStats {
  return { executions: 0, reExecutions: 0, validations: 0, validationAborts: 0, dependencyWaits: 0 };
}

export function addStatsInto(target: SchedulerStats, source: SchedulerStats): void {
  target.executions += source.executions;
  target.reExecutions += source.reExecutions;
  target.validations += source.validations;
  target.validationAborts += source.validationAborts;
  target.dependencyWaits += source.dependencyWaits;
}
