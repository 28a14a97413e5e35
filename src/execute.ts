/**
 * executeBlock and its engines, with the options tests need (fault injection) that the public
 * API (src/index.ts) does not show. Tests import from here; users from "pevm".
 */
import { bytesToHex } from "@ethereumjs/util";
import { InputError } from "./chain/errors.ts";
import { toBlock, type BlockInput } from "./chain/input.ts";
import type { Receipt as RawReceipt } from "./chain/receipts.ts";
import type { Block, Hex } from "./chain/types.ts";
import { automaticChoice } from "./parallel/auto.ts";
import type { ParallelEngine, ParallelOptions, ParallelStats } from "./parallel/engine.ts";
import { defaultWorkerCount, engineFor, startEngine } from "./parallel/registry.ts";
import { isAsyncStorage, type AsyncStorage } from "./state/missing.ts";
import type { Storage } from "./state/types.ts";
import { executeBlockOnAsyncStorage } from "./vm/block-async.ts";
import { checkBlockSize } from "./chain/validity.ts";
import { blockFork, executeBlockSequential, type BlockResult as RawBlockResult, type ExecuteOptions } from "./vm/block.ts";

/**
 * The most workers one engine may have: 64, or twice the CPUs this process may use where that
 * is more. Each worker is a thread with its own EVM (~13 MB and ~0.1 s of CPU to start; 64
 * workers started in 8 s on a 2-core machine); more workers than CPUs only adds contention,
 * and a count far beyond the machine is refused up front instead of failing minutes later.
 */
export const MAX_WORKERS = Math.max(64, 2 * defaultWorkerCount());

/** What a caller may ask for. */
export interface PevmOptions extends ExecuteOptions {
  /**
   * Forces the parallel engine with exactly this many workers (1 to MAX_WORKERS), even for a
   * tiny block. The workers are the calling thread and `workers - 1` Bun Workers.
   */
  workers?: number;
  /** Execute on the calling thread, one transaction after another. */
  sequential?: boolean;
  /**
   * With neither `workers` nor `sequential`: the automatic choice uses at most this many
   * workers (default: the CPUs this process may use) and runs small or chain-like blocks
   * sequentially.
   */
  maxWorkers?: number;
  /** Watchdog for one parallel block (default 10 minutes): a stuck run fails instead of hanging. */
  timeoutMs?: number;
}

/** PevmOptions and the parallel engine's test hooks (fault injection, delays). Not public. */
export type InternalOptions = PevmOptions & Omit<ParallelOptions, keyof PevmOptions>;

export interface ExecutionMode {
  mode: "sequential" | "parallel";
  /** 0 when sequential. */
  workers: number;
  /** Why the block ran this way, in words: the automatic choice's reason, or the option that forced it. */
  reason: string;
}

/** A transaction's receipt, as a JSON-RPC receipt carries it (bigints and bytes instead of hex quantities). */
export interface Receipt extends Omit<RawReceipt, "logsBloom"> {
  /**
   * The transaction's hash: computed from the signed transaction (a hash given with it was
   * checked against it), or as given when the input had no signature; undefined without either.
   */
  transactionHash: Hex | undefined;
  /** Position in the block. */
  transactionIndex: number;
  logsBloom: Hex;
}

export interface BlockResult extends Omit<RawBlockResult, "receipts"> {
  receipts: Receipt[];
  /** How the block ran and why. */
  mode: ExecutionMode;
  /** The parallel engine's counters, when it ran the block. */
  stats?: ParallelStats;
}

/** Checks a worker count the same way for the library and the CLI (`field` names the option). */
export function checkWorkerCount(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new InputError(`expected a whole number of workers from 1 to ${MAX_WORKERS}, got ${JSON.stringify(value) ?? String(value)}`, undefined, field);
  }
  if (value > MAX_WORKERS) {
    throw new InputError(`${value} workers is more than the maximum of ${MAX_WORKERS} (one per CPU is the useful range; this machine has ${defaultWorkerCount()})`, undefined, field);
  }
  return value;
}

/** Starts (or finds) the engine with this many workers. */
export type EngineSource = (workers: number) => Promise<ParallelEngine>;

/** The worker count the automatic choice uses: one per CPU this process may use, at most maxWorkers. */
function automaticWorkerCount(options: Pick<PevmOptions, "maxWorkers">): number {
  return Math.max(1, Math.min(options.maxWorkers ?? defaultWorkerCount(), defaultWorkerCount()));
}

/**
 * Starts, in the background, the worker pool that executeBlock with these options would use
 * (none for `sequential`), so that the first block does not wait for workers to start.
 * Resolves with the pool's start time in milliseconds (0 when no pool is needed).
 *
 * For the automatic choice in a cold process, which runs its blocks sequentially until it has
 * executed COLD_PROCESS_GAS (parallel/auto.ts), the start is deferred to the end of the block
 * that warms it: workers loading their modules beside those first blocks slowed them (one
 * block per process, the 15 heaviest: 2-4 % on most, 21 % on a 41 ms block; cli-cold.json).
 */
export function prepareEngine(options: Pick<PevmOptions, "workers" | "sequential" | "maxWorkers"> = {}): Promise<number> {
  if (options.sequential) return Promise.resolve(0);
  if (options.workers !== undefined) return startEngine(checkWorkerCount(options.workers, "workers")).startMs;
  const workers = automaticWorkerCount(options);
  if (workers < 2) return Promise.resolve(0); // one CPU: the automatic choice is sequential
  if (!automaticChoice.warm) {
    deferredStart = Math.max(deferredStart, workers);
    return Promise.resolve(0);
  }
  return startEngine(workers).startMs;
}

/** The automatic pool prepareEngine was asked for while the process was cold (0: none). */
let deferredStart = 0;

export async function executeWith(
  engines: EngineSource,
  input: BlockInput,
  storage: Storage | AsyncStorage,
  options: InternalOptions = {},
): Promise<BlockResult> {
  const block = toBlock(input);
  // EIP-7934: a block-level rule that needs no execution, checked once for both modes.
  if (block.rlpSize !== undefined) checkBlockSize(blockFork(block, options), block.rlpSize);
  if (options.workers !== undefined) checkWorkerCount(options.workers, "workers");
  if (options.maxWorkers !== undefined) checkWorkerCount(options.maxWorkers, "maxWorkers");
  if (options.sequential && options.workers !== undefined) {
    throw new InputError("sequential and workers exclude each other", undefined, "workers");
  }
  if (isAsyncStorage(storage)) {
    if (!options.sequential) throw new TypeError("an AsyncStorage pre-state runs with { sequential: true } (snapshot it for the parallel engine)");
    const { result } = await executeBlockOnAsyncStorage(block, storage, options);
    return publicResult(block, warms(result), { mode: "sequential", workers: 0, reason: "sequential: asked for" });
  }
  if (options.sequential) {
    return publicResult(block, warms(await executeBlockSequential(block, storage, options)), { mode: "sequential", workers: 0, reason: "sequential: asked for" });
  }
  let workers = options.workers;
  let reason = `parallel: asked for ${workers} worker${workers === 1 ? "" : "s"}`;
  if (workers === undefined) {
    const available = automaticWorkerCount(options);
    const decision = automaticChoice.choose(block, available, blockFork(block, options));
    if (!decision.parallel) {
      return publicResult(block, warms(await executeBlockSequential(block, storage, options)), { mode: "sequential", workers: 0, reason: decision.reason });
    }
    workers = available;
    reason = decision.reason;
  }
  const engine = await engines(workers);
  const started = performance.now();
  const result = warms(await engine.execute(block, storage, options));
  const stats = result.stats;
  // Runs in the automatic configuration teach the automatic choice (forced ones too: same machine).
  if (stats.fallback === null && workers === automaticWorkerCount(options)) {
    automaticChoice.learn(block, { ...stats, wallMs: performance.now() - started }, blockFork(block, options));
  }
  return { ...publicResult(block, result, { mode: "parallel", workers, reason }), stats };
}

/** Counts a run's gas as executed by this process (the automatic choice's cold rule). */
function warms<R extends RawBlockResult>(result: R): R {
  automaticChoice.noteExecuted(result.gasUsed);
  if (deferredStart > 0 && automaticChoice.warm) {
    // In the background, while the caller loads its next block; a failed start surfaces at the first parallel block.
    startEngine(deferredStart).startMs.catch(() => {});
    deferredStart = 0;
  }
  return result;
}

/** A receipt without logs has the empty bloom: its hex made once (47,620 of them took 25 ms). */
const EMPTY_BLOOM_HEX = bytesToHex(new Uint8Array(256)) as Hex;

function publicResult(block: Block, result: RawBlockResult, mode: ExecutionMode): BlockResult {
  // Fields named one by one: for 47,620 receipts a spread took ~7-9 ms, this 2-3 ms (measured warm).
  const receipts = result.receipts.map(
    (r, i): Receipt => ({
      transactionHash: block.transactions[i]?.hash,
      transactionIndex: i,
      type: r.type,
      status: r.status,
      gasUsed: r.gasUsed,
      cumulativeGasUsed: r.cumulativeGasUsed,
      logs: r.logs,
      logsBloom: r.logs.length === 0 ? EMPTY_BLOOM_HEX : (bytesToHex(r.logsBloom) as Hex),
      contractAddress: r.contractAddress,
    }),
  );
  return { ...result, receipts, mode };
}

/** Executes `block` on the shared engines (one per worker count, started on first use). */
export function executeBlock(block: BlockInput, storage: Storage | AsyncStorage, options: InternalOptions = {}): Promise<BlockResult> {
  return executeWith(engineFor, block, storage, options);
}
