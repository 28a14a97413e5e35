// Per-transaction status word: Block-STM's (incarnation, status) pair packed into one Int32
// so every transition is a single compareExchange.
//   bits 0-1: status, bits 2-31: incarnation (up to 2^29 - 1 re-executions of one tx).
//
// The state machine of one transaction (scheduler.ts makes every arrow one compareExchange or
// a store by the only thread that may make it):
//
//                  tryIncarnate (a worker claims it)
//   READY_TO_EXECUTE(i) ─────────────────────────────▶ EXECUTING(i)
//          ▲                                             │        │
//          │ resume (the blocking tx finished)           │        │ finishExecution
//          │ or finishValidation after an abort:         │        ▼
//          │ incarnation i+1              addDependency  │   EXECUTED(i) ──▶ (done once no lower
//          │                              (read an       │        │            tx can abort it)
//          │                               ESTIMATE)     ▼        │ tryValidationAbort
//          └──────────────────────────────────────── ABORTING(i) ◀┘ (a read changed)

export const TxStatus = {
  ReadyToExecute: 0,
  Executing: 1,
  Executed: 2,
  Aborting: 3,
} as const;
export type TxStatus = (typeof TxStatus)[keyof typeof TxStatus];

const STATUS_BITS = 2;
const STATUS_MASK = (1 << STATUS_BITS) - 1;

export function packStatus(status: TxStatus, incarnation: number): number {
  return (incarnation << STATUS_BITS) | status;
}

export function statusOf(word: number): TxStatus {
  return (word & STATUS_MASK) as TxStatus;
}

export function incarnationOf(word: number): number {
  return word >>> STATUS_BITS;
}

export function statusName(status: TxStatus): string {
  switch (status) {
    case TxStatus.ReadyToExecute:
      return "READY_TO_EXECUTE";
    case TxStatus.Executing:
      return "EXECUTING";
    case TxStatus.Executed:
      return "EXECUTED";
    case TxStatus.Aborting:
      return "ABORTING";
  }
}
