// Layout of the scheduler's single SharedArrayBuffer region, in Int32 words from the region start.
// Each hot counter sits alone on a 64-byte line (16 words): two busy counters sharing a line cost
// ~4.5x on this machine. Int32 only: BigInt64 atomics are an order of magnitude slower.
//
//  word   line  content
//     0      0  executionIdx      next tx to try executing (Block-STM execution_idx; may overshoot txCount)
//    16      1  validationIdx     next tx to try validating (validation_idx; may overshoot txCount)
//    32      2  decreaseCnt       bumped after every index decrease (decrease_cnt, for check_done)
//    48      3  activeTasks       tasks claimed and not yet finished (num_active_tasks)
//    64      4  control, read-mostly:
//                 +0 doneMarker   1 once check_done succeeded
//                 +1 haltCode     0 = running; anything else = stopped by halt(code)
//                 +2 txCount      transactions in the current block (set by reset)
//                 +3 maxTxs       capacity (set at create)
//                 +4 generation   incremented by every reset; publishes the reset to workers
//                 +5 stopped      1 once done or halted: the one word nextTask checks per call
//    80      5  futex             wake-up sequence; sleepers Atomics.wait on it
//    96      6  sleepers          threads parked (or about to park) on futex
//   112      7  stats (summed once per worker at the end of a block):
//                 +0 executions +1 reExecutions +2 validations +3 validationAborts +4 dependencyWaits
//   128         per-tx records, TX_WORDS words each, tx i at TX_BASE + i * TX_WORDS:
//                 +0 status       packed (incarnation << 2 | status), see status.ts
//                 +1 lock         0 free / 1 held: the paper's per-tx mutex, guarding the
//                                 EXECUTING -> EXECUTED transition together with the dependency list
//                 +2 depHead      first tx waiting on this tx, NO_TX when none
//                 +3 depNext      arena node owned by this tx as a *dependent*: the next tx in the
//                                 list it waits in. A blocked tx sits in exactly one list until it
//                                 is resumed, so one node per tx is the whole arena.

export const LINE_WORDS = 16;

export const EXECUTION_IDX = 0;
export const VALIDATION_IDX = 1 * LINE_WORDS;
export const DECREASE_CNT = 2 * LINE_WORDS;
export const ACTIVE_TASKS = 3 * LINE_WORDS;
export const CONTROL = 4 * LINE_WORDS;
export const DONE_MARKER = CONTROL + 0;
export const HALT_CODE = CONTROL + 1;
export const TX_COUNT = CONTROL + 2;
export const MAX_TXS = CONTROL + 3;
export const GENERATION = CONTROL + 4;
export const STOPPED = CONTROL + 5;
export const FUTEX = 5 * LINE_WORDS;
export const SLEEPERS = 6 * LINE_WORDS;
export const STATS = 7 * LINE_WORDS;
export const STAT_EXECUTIONS = STATS + 0;
export const STAT_RE_EXECUTIONS = STATS + 1;
export const STAT_VALIDATIONS = STATS + 2;
export const STAT_VALIDATION_ABORTS = STATS + 3;
export const STAT_DEPENDENCY_WAITS = STATS + 4;
export const TX_BASE = 8 * LINE_WORDS;

export const TX_WORDS = 4;
export const TX_STATUS = 0;
export const TX_LOCK = 1;
export const TX_DEP_HEAD = 2;
export const TX_DEP_NEXT = 3;

export const NO_TX = -1;

export function regionWords(maxTxs: number): number {
  return TX_BASE + maxTxs * TX_WORDS;
}
