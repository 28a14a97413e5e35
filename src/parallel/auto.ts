import type { Block } from "../chain/types.ts";

/**
 * The automatic choice between sequential and parallel execution, for blocks where parallel
 * execution cannot pay for itself. Thresholds were measured on the mainnet corpus with
 * `bun run bench` (2-core machine); see README "Measured".
 */

/** Below this many transactions the hand-off to workers costs more than it saves. */
export const MIN_PARALLEL_TXS = 8;
/** Below this much gas (summed gas limits, an upper bound) likewise. */
export const MIN_PARALLEL_GAS = 2_000_000n;
/** When one sender sends more than this share of the transactions, they form one chain. */
export const MAX_SENDER_SHARE = 0.5;

export interface AutoDecision {
  parallel: boolean;
  reason: string;
}

export function chooseExecution(block: Block, availableWorkers: number): AutoDecision {
  const txs = block.transactions;
  if (availableWorkers < 2) return { parallel: false, reason: "only one CPU is available, so nothing would run at the same time" };
  if (txs.length < MIN_PARALLEL_TXS) return { parallel: false, reason: `${txs.length} transactions, fewer than the ${MIN_PARALLEL_TXS} for which handing them to workers pays` };
  let gas = 0n;
  const perSender = new Map<string, number>();
  let largestChain = 0;
  for (const tx of txs) {
    gas += tx.gasLimit;
    const n = (perSender.get(tx.from) ?? 0) + 1;
    perSender.set(tx.from, n);
    if (n > largestChain) largestChain = n;
  }
  if (gas < MIN_PARALLEL_GAS) return { parallel: false, reason: `${gas} gas of gas limits, less than the ${MIN_PARALLEL_GAS} for which handing them to workers pays` };
  if (largestChain > txs.length * MAX_SENDER_SHARE) {
    return { parallel: false, reason: `one sender sends ${largestChain} of ${txs.length} transactions, a nonce chain that must run in order` };
  }
  return { parallel: true, reason: `${txs.length} transactions, ${gas} gas of gas limits, no sender with more than half of them` };
}
