import { forkName, mainnetFork, type Fork } from "../chain/forks.ts";
import type { Block } from "../chain/types.ts";

/**
 * The automatic choice between sequential and parallel execution, made per block before it
 * runs, from what the block shows (transactions, gas, senders, recipients), from what earlier
 * parallel runs of this process saw (accounts that conflicted), and from how fast each mode
 * ran similar blocks here. The first rules and the priors were measured on the mainnet corpus
 * with `bun run bench` and `bun bench/cli-modes.ts` on a 2-core machine (README "Measured").
 * Every decision says why, in words (`reason`).
 */

/** Below this many transactions the hand-off to workers costs more than it saves. */
export const MIN_PARALLEL_TXS = 8;
/**
 * Below this much gas (summed gas limits of the transactions that carry calldata: contract
 * work, an upper bound) likewise. Plain transfers cost microseconds each and never paid for
 * the hand-off. Measured with `bun bench/cli-modes.ts` on the 2-core machine: at 10 M
 * (2026-12-01), 18 of the 21 corpus blocks under it ran slower with 2 workers. Lowered to 5.5 M
 * once lazy contract balances made small blocks pay (2026-12-03): the corpus blocks between
 * 5.5 and 10 M (4369999, 6137495, 14396881, 19933122, 19934116) ran 1.24-1.70x with 2
 * workers in the library bench (13:16 UTC) and 0.90-1.49x in the CLI (13:26 UTC, four of the
 * five faster); the ones under it ran 0.05-0.98x in the library bench but for 19923400 (3.9 M:
 * 1.55x there, 0.86x in the CLI), and 1796867 (5.0 M) 0.40x.
 */
export const MIN_PARALLEL_GAS = 5_500_000;
/** When one sender sends more than this share of the transactions, they form one chain. */
export const MAX_SENDER_SHARE = 0.5;
/** When more than this share of the transactions call accounts that conflicted before, they serialise. */
export const MAX_HOT_SHARE = 0.6;
/** Similar blocks must have run at least this fast in parallel, relative to sequential (estimated; see learn()). */
export const MIN_EXPECTED_SPEEDUP = 0.95;
/**
 * A size class ruled out by its learned speedup still runs every this many-th of its blocks in
 * parallel, so that its estimate keeps being refined: without it, the first runs of a process
 * (cold JIT, the losses that turned the class off) would rule the class out for good.
 */
export const RETRY_EVERY = 8;
/** Distinct blocks of a learning class seen in parallel before its learned speedup overrides the prior. */
const MIN_OBSERVATIONS = 3;
/**
 * A class's expected speedup is the mean estimate of its last this many distinct blocks, each
 * block counted once with its latest run. A block run again is not new evidence about its
 * class: counted per run, three runs of one slow block (a benchmark's repeats) ruled out every
 * block of its size and fork. In the library bench (19:12 UTC), 15537394's runs (0.96x) kept
 * 16257471 (1.30x in parallel) sequential.
 */
const LEARNED_BLOCKS = 8;
/** An account counts as hot while its decayed conflict count is at least this. */
const HOT_THRESHOLD = 2;
/** Per block run, conflict counts decay by this factor (old hot spots cool down). */
const HEAT_DECAY = 0.8;

export interface AutoDecision {
  parallel: boolean;
  reason: string;
}

/** What a finished parallel run tells the chooser (its own stats). */
export interface RunObservation {
  /** Summed over workers: ms inside transaction execution, re-executions included. */
  executeMs: number;
  executions: number;
  reExecutions: number;
  /** The run as the caller saw it: prepare + workers + settle. */
  wallMs: number;
  /** Accounts that made transactions wait or fail validation. */
  conflicts: readonly { address: string; count: number }[];
}

/**
 * An executor beside another one of the same block runs each transaction this much slower
 * than sequential execution does. Measured with `bun bench/auto-calibration.ts` on the 2-core
 * machine (2026-12-01, 15 heaviest corpus blocks, warm): the useful execution time summed
 * over both executors was 1.36x and 1.40x the sequential time at 18:40 and 18:41 UTC (load
 * 0.42 and 0.67 at start, the second not quiet) and 1.34x at 20:11 UTC (load 0.28). It was
 * 1.51x before the runtime's JIT threads yielded to the executors (native/runtime-threads.ts). Executors on separate blocks slow down ~1.2x
 * (bench/evm-ceiling.ts); a constant taken from that made every estimate too high.
 * Those figures come with a full collection before every run, as the library bench runs. Back
 * to back, as the CLI runs blocks, the same loop measured 1.06-1.08x (`--between none`,
 * 21:09-21:14 UTC): there the estimates are ~25 % low, and a class is ruled out only when it
 * ran well below break-even. Kept at the cautious end: one constant serves both.
 */
export const WORKER_SLOWDOWN = 1.4;

/**
 * Until this process has executed this much gas (any mode), blocks run sequentially: its first
 * blocks compile the interpreter (JIT), and a parallel run compiles it a second time, in each
 * worker's own VM, while both cores execute. About one heavy mainnet block (the corpus's 15
 * heaviest use 10-30 M gas) warms the calling thread: 19932703 (10.4 M) took 457 ms, then 204.
 * Measured on the 2-core machine (2026-12-02, 22:54-23:03 UTC, a fresh process per row):
 * - one block per process, the CLI: 19932703 ran 434-447 ms sequentially and 626-686 ms with
 *   2 workers; 15199017 349-365 against 477-543; 16257471 595-622 against 733-757;
 * - six heavy blocks in one process (19932148, 19932703, 18085863, 16146267, 15199017,
 *   12459406): all in parallel 0.89x and 0.94x of all sequential; the first sequential and the
 *   rest in parallel 1.01x and 1.03x.
 * The worker's own VM still needs two or three parallel blocks (there the second and third
 * blocks ran 1.25x and 1.15x slower than sequentially, the later ones 1.2x faster), so runs of
 * two to six heavy blocks can still lose up to ~10 % overall; longer runs gain.
 */
export const COLD_PROCESS_GAS = 20_000_000n;

/** Size classes by transaction count: blocks of a class behave alike often enough to learn from. */
function sizeClass(txCount: number): number {
  return txCount < 32 ? 0 : txCount < 128 ? 1 : txCount < 512 ? 2 : 3;
}
const CLASS_NAMES = ["8-31", "32-127", "128-511", "512+"];

/**
 * What the chooser learns per: the size class and the fork. Blocks of one size from different
 * eras are different work (token transfers and exchange deposits in 2017, DeFi calls now; gas
 * costs that changed with Berlin), so they do not predict each other: over the corpus in the
 * CLI, Byzantium and Petersburg blocks of 32-127 transactions lost with 2 workers (0.85x,
 * 0.86x), and with one class per size those first runs kept the six Paris-Cancun blocks of
 * that size sequential, which gained 1.00-1.49x in parallel (bun bench/cli-modes.ts, 18:45 UTC).
 */
function learningClass(txCount: number, fork: Fork): { key: number; name: string } {
  const cls = sizeClass(txCount);
  return { key: fork * CLASS_NAMES.length + cls, name: `${CLASS_NAMES[cls]} transactions under ${forkName(fork)} rules` };
}

export interface AutoChooserOptions {
  /**
   * Gas this process must have executed before a block is run in parallel (COLD_PROCESS_GAS
   * for the process-wide chooser; 0 by default, as for a process already warm).
   */
  coldGas?: bigint;
}

export class AutoChooser {
  private readonly coldGas: bigint;
  /** Gas executed by this process so far, in either mode (see noteExecuted). */
  private executedGas = 0n;
  /** Decayed conflict counts per account (lowercase hex). */
  private readonly heat = new Map<string, number>();
  /** Per learning class: the speedup estimated from each of its last distinct blocks (by blockKey), oldest first. */
  private readonly learned = new Map<number, Map<string, number>>();
  /** Per learning class: blocks run sequentially by the learned-speedup rule since its last parallel retry. */
  private readonly sinceRetry = new Map<number, number>();

  constructor(options: AutoChooserOptions = {}) {
    this.coldGas = options.coldGas ?? 0n;
  }

  /** Whether this process has executed its cold gas (the cold rule no longer applies). */
  get warm(): boolean {
    return this.executedGas >= this.coldGas;
  }

  /** Every executed block's gas, whatever its mode: what warms the process (COLD_PROCESS_GAS). */
  noteExecuted(gasUsed: bigint): void {
    this.executedGas += gasUsed;
  }

  /** `fork`: the rules the block runs under, when not the mainnet schedule's. */
  choose(block: Block, availableWorkers: number, fork = mainnetFork(block.header.number, block.header.timestamp)): AutoDecision {
    const txs = block.transactions;
    if (availableWorkers < 2) return { parallel: false, reason: "sequential: only one CPU is available, so nothing would run at the same time" };
    if (txs.length < MIN_PARALLEL_TXS) {
      return { parallel: false, reason: `sequential: ${txs.length} transaction${txs.length === 1 ? "" : "s"}, fewer than the ${MIN_PARALLEL_TXS} for which handing them to workers pays` };
    }
    // A float sum: exact far past any block's gas, and this loop runs before every block in the
    // automatic mode (a bigint sum allocated per transaction: 99 µs for 1,414 transactions).
    let gas = 0;
    for (const tx of txs) if (tx.data.length > 0) gas += Number(tx.gasLimit);
    if (gas < MIN_PARALLEL_GAS) {
      return { parallel: false, reason: `sequential: ${gas} gas of contract-call gas limits, less than the ${MIN_PARALLEL_GAS} for which handing them to workers pays` };
    }
    const perSender = new Map<string, number>();
    let largestChain = 0;
    let hotCalls = 0;
    let hottest = "";
    let hottestHeat = 0;
    const heatKnown = this.heat.size > 0;
    for (const tx of txs) {
      const n = (perSender.get(tx.from) ?? 0) + 1;
      perSender.set(tx.from, n);
      if (n > largestChain) largestChain = n;
      if (!heatKnown || tx.to === undefined) continue;
      const heat = this.heat.get(tx.to.toLowerCase()) ?? 0;
      if (heat >= HOT_THRESHOLD) {
        hotCalls++;
        if (heat > hottestHeat) [hottest, hottestHeat] = [tx.to, heat];
      }
    }
    if (largestChain > txs.length * MAX_SENDER_SHARE) {
      return { parallel: false, reason: `sequential: one sender sends ${largestChain} of ${txs.length} transactions, which must run one after another` };
    }
    if (hotCalls > txs.length * MAX_HOT_SHARE) {
      return {
        parallel: false,
        reason: `sequential: ${hotCalls} of ${txs.length} transactions call accounts that conflicted in earlier blocks (most: ${hottest})`,
      };
    }
    if (!this.warm) {
      return {
        parallel: false,
        reason:
          `sequential: this process has executed ${this.executedGas} gas so far, under the ${this.coldGas} its first blocks take ` +
          `to compile the EVM; run in parallel now, each worker would compile it again while it executes`,
      };
    }
    const cls = learningClass(txs.length, fork);
    const expected = this.expectedSpeedup(cls.key);
    if (expected !== undefined && expected < MIN_EXPECTED_SPEEDUP) {
      const since = (this.sinceRetry.get(cls.key) ?? 0) + 1;
      this.sinceRetry.set(cls.key, since < RETRY_EVERY ? since : 0);
      if (since < RETRY_EVERY) {
        return {
          parallel: false,
          reason: `sequential: blocks of ${cls.name} ran ${expected.toFixed(2)}x as fast in parallel here so far`,
        };
      }
      return {
        parallel: true,
        reason:
          `parallel: blocks of ${cls.name} ran ${expected.toFixed(2)}x as fast in parallel here so far, ` +
          `and one in ${RETRY_EVERY} of them runs in parallel again to see whether that still holds`,
      };
    }
    const senders = perSender.size;
    return {
      parallel: true,
      reason:
        `parallel: ${txs.length} transactions from ${senders} sender${senders === 1 ? "" : "s"}` +
        (hotCalls > 0 ? `, ${hotCalls} calling accounts that conflicted before` : "") +
        (expected !== undefined ? `; similar blocks ran ${expected.toFixed(2)}x as fast in parallel` : ""),
    };
  }

  /**
   * Feeds a finished parallel run back. Its speedup is estimated from its own stats: the
   * execution time of each transaction's useful (last) incarnation, summed over workers and
   * corrected for the slowdown a worker has beside others, is about what sequential execution
   * would have taken; over the run's wall time that is the speedup.
   */
  learn(block: Block, run: RunObservation, fork = mainnetFork(block.header.number, block.header.timestamp)): void {
    const txCount = block.transactions.length;
    if (txCount < MIN_PARALLEL_TXS || run.executions === 0 || run.wallMs <= 0) return;
    const { key } = learningClass(txCount, fork);
    const useful = run.executeMs * (1 - run.reExecutions / run.executions);
    const estimate = useful / WORKER_SLOWDOWN / run.wallMs;
    let blocks = this.learned.get(key);
    if (blocks === undefined) this.learned.set(key, (blocks = new Map()));
    const id = blockKey(block);
    blocks.delete(id); // re-inserted as the newest
    blocks.set(id, estimate);
    if (blocks.size > LEARNED_BLOCKS) blocks.delete(blocks.keys().next().value!);
    for (const [address, heat] of this.heat) {
      const cooled = heat * HEAT_DECAY;
      if (cooled < 0.5) this.heat.delete(address);
      else this.heat.set(address, cooled);
    }
    for (const c of run.conflicts) {
      // Per 100 transactions: a few conflicts in a large block do not make an account hot.
      const address = c.address.toLowerCase();
      this.heat.set(address, (this.heat.get(address) ?? 0) + (c.count / txCount) * 100);
    }
  }

  private expectedSpeedup(key: number): number | undefined {
    const blocks = this.learned.get(key);
    if (blocks === undefined || blocks.size < MIN_OBSERVATIONS) return undefined;
    let sum = 0;
    for (const estimate of blocks.values()) sum += estimate;
    return sum / blocks.size;
  }
}

/** Which block a run was of: its hash when known, else its number and transaction count. */
function blockKey(block: Block): string {
  return block.header.hash ?? `${block.header.number}/${block.transactions.length}`;
}

/** The process-wide chooser executeBlock uses. */
export const automaticChoice = new AutoChooser({ coldGas: COLD_PROCESS_GAS });

/** One-off decision with nothing learned yet, for a warm process (tests, tools). */
export function chooseExecution(block: Block, availableWorkers: number): AutoDecision {
  return new AutoChooser().choose(block, availableWorkers);
}
