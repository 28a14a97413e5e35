export {
  HALT_NONE,
  HALT_WORKER_ERROR,
  type IdleOptions,
  Scheduler,
  type SchedulerAllocator,
  type SchedulerDescriptor,
} from "./scheduler.ts";
export { addStatsInto, emptyStats, type SchedulerStats } from "./stats.ts";
export { statusName, TxStatus } from "./status.ts";
export { Task, TaskKind } from "./task.ts";
