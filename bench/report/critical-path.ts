// The longest chain of dependent transactions in a block, weighted by each one's sequential
// execution time: no executor that keeps block order can finish the block sooner, however
// many cores it has. Block-STM also pays to discover the chain (re-executions, waits); this
// counts only the chain itself, so it bounds what any parallel run can reach from above.

/** What one transaction read and wrote, as location keys (any strings that name locations). */
export interface TxAccess {
  ms: number;
  reads: Iterable<string>;
  /** Locations it overwrote: a later reader depends on the last such writer only. */
  writes: Iterable<string>;
  /** Locations it added to without reading (lazy credits): a later reader depends on every one since the last overwrite. */
  deltas: Iterable<string>;
}

export interface CriticalPath {
  /** Sum of the transactions' times: the block's sequential time. */
  totalMs: number;
  longestTxMs: number;
  /** The heaviest chain of dependencies, in ms. */
  chainMs: number;
  /** How many transactions that chain has. */
  chainTxs: number;
}

/**
 * Earliest finish of each transaction if every one started as soon as the transactions it
 * depends on had finished: a transaction depends on the last writer before it of each
 * location it read, and on every delta to it since.
 */
export function criticalPath(txs: readonly TxAccess[]): CriticalPath {
  const lastWrite = new Map<string, { finishMs: number; length: number }>();
  const deltasSince = new Map<string, { finishMs: number; length: number }>();
  let totalMs = 0;
  let longestTxMs = 0;
  let chainMs = 0;
  let chainTxs = 0;
  for (const tx of txs) {
    let startMs = 0;
    let length = 0;
    for (const key of tx.reads) {
      for (const dep of [lastWrite.get(key), deltasSince.get(key)]) {
        if (dep !== undefined && dep.finishMs > startMs) {
          startMs = dep.finishMs;
          length = dep.length;
        }
      }
    }
    const finish = { finishMs: startMs + tx.ms, length: length + 1 };
    for (const key of tx.writes) {
      lastWrite.set(key, finish);
      deltasSince.delete(key);
    }
    for (const key of tx.deltas) {
      const before = deltasSince.get(key);
      if (before === undefined || before.finishMs < finish.finishMs) deltasSince.set(key, finish);
    }
    totalMs += tx.ms;
    longestTxMs = Math.max(longestTxMs, tx.ms);
    if (finish.finishMs > chainMs) {
      chainMs = finish.finishMs;
      chainTxs = finish.length;
    }
  }
  return { totalMs, longestTxMs, chainMs, chainTxs };
}

/**
 * The speedup n executors could reach on blocks at best: each block takes at least its chain,
 * and at least its total divided by the EVM ceiling (what n copies of the interpreter get
 * done beside each other, against one). Blocks combine as sums of times, as the corpus totals do.
 */
export function boundedSpeedup(blocks: readonly CriticalPath[], evmCeiling: number): number {
  let total = 0;
  let fastest = 0;
  for (const b of blocks) {
    total += b.totalMs;
    fastest += Math.max(b.chainMs, b.totalMs / evmCeiling);
  }
  return fastest > 0 ? total / fastest : Number.NaN;
}
