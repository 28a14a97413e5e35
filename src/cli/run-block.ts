import { Fork } from "../chain/forks.ts";
import type { Hex } from "../chain/types.ts";
import { executeBlock, loadBlockDir, prepareEngine, receiptsRoot, type BlockResult, type LoadedBlock, type PevmOptions } from "../index.ts";

/** How one block was run and whether it matched its header. */
export interface BlockReport {
  dir: string;
  number: bigint;
  fork: Fork;
  txs: number;
  gasUsed: bigint;
  logsBloom: Hex;
  /** null before Byzantium: those receipts commit to intermediate state roots we cannot compute. */
  receiptsRoot: Hex | null;
  receiptsRootCheckable: boolean;
  /** Only with --state-root. */
  stateRoot: Hex | undefined;
  expected: { gasUsed: bigint | undefined; receiptsRoot: Hex | undefined; logsBloom: Hex | undefined; stateRoot: Hex | undefined; requestsHash?: Hex };
  /** true / false when compared, null when the header or the pre-state cannot tell. */
  checks: { gasUsed: boolean | null; logsBloom: boolean | null; receiptsRoot: boolean | null; stateRoot: boolean | null; requestsHash: boolean | null };
  ok: boolean;
  loadMs: number;
  /** executeBlock only. */
  ms: number;
  /** Waiting for the worker pool to finish starting before this block (not in ms). */
  poolStartMs: number;
  rootMs: number;
  mode: string;
  /** 0 when sequential. */
  workers: number;
  /** Parallel-engine counters, when the result carries them. */
  engine: EngineStats;
}

export interface EngineStats {
  /** Why the automatic choice went the way it did. */
  modeReason?: string;
  executions?: number;
  reExecutions?: number;
  validations?: number;
  /** Why a parallel run was redone sequentially; null when it was not. */
  fallback?: string | null;
  /** The runtime's helper threads that yielded to the executors (see src/native/runtime-threads.ts). */
  runtimeThreadsYielded?: number;
}

type ExecutedBlock = Awaited<ReturnType<typeof executeBlock>>;

export interface RunOptions extends PevmOptions {
  bytecodes?: string;
  blockHashes?: string;
  /** Computes the post-state root; given by the caller so that this module needs no trie code. */
  stateRoot?: (loaded: LoadedBlock, result: BlockResult) => Promise<Hex>;
}

export interface BlockRun {
  report: BlockReport;
  loaded: LoadedBlock;
  result: ExecutedBlock;
}

/** Loads, executes and checks one block directory. Throws InputError / InvalidTransactionError. */
export async function runBlockDir(dir: string, options: RunOptions): Promise<BlockRun> {
  let t = performance.now();
  const loaded = loadBlockDir(dir, { bytecodes: options.bytecodes, blockHashes: options.blockHashes });
  const loadMs = performance.now() - t;

  const { sequential, workers, fork } = options;
  // The pool starts in the background from the first call on (the CLI calls it before
  // loading the first block); waiting for it is not the block's execution time.
  t = performance.now();
  await prepareEngine({ sequential, workers });
  const poolStartMs = performance.now() - t;
  t = performance.now();
  const result = await executeBlock(loaded.block, loaded.storage, { sequential, workers, fork });
  const ms = performance.now() - t;

  t = performance.now();
  const receiptsRootCheckable = result.fork >= Fork.Byzantium;
  const computedReceiptsRoot = receiptsRootCheckable ? await receiptsRoot(result.receipts) : null;
  const computedStateRoot = options.stateRoot ? await options.stateRoot(loaded, result) : undefined;
  const rootMs = performance.now() - t;

  const expected = loaded.block.header.expected;
  const checks = {
    gasUsed: compare(result.gasUsed, expected.gasUsed),
    logsBloom: compare(result.logsBloom.toLowerCase(), expected.logsBloom?.toLowerCase()),
    receiptsRoot: computedReceiptsRoot === null ? null : compare(computedReceiptsRoot, expected.receiptsRoot),
    stateRoot: computedStateRoot === undefined ? null : compare(computedStateRoot, expected.stateRoot),
    // Prague on: a partial pre-state may lack the system contracts, so this is reported, not enforced.
    requestsHash: result.requestsHash === undefined ? null : compare(result.requestsHash, expected.requestsHash),
  };
  const stats = engineStatsOf(result);
  const report: BlockReport = {
    dir,
    number: result.number,
    fork: result.fork,
    txs: loaded.block.transactions.length,
    gasUsed: result.gasUsed,
    logsBloom: result.logsBloom,
    receiptsRoot: computedReceiptsRoot,
    receiptsRootCheckable,
    stateRoot: computedStateRoot,
    expected,
    checks,
    ok: Object.values(checks).every((c) => c !== false),
    loadMs,
    ms,
    poolStartMs,
    rootMs,
    mode: stats.mode,
    workers: stats.workers,
    engine: stats.engine,
  };
  return { report, loaded, result };
}

function compare<T>(actual: T, expected: T | undefined): boolean | null {
  return expected === undefined ? null : actual === expected;
}

/** What the engine actually did: the mode it chose (and why), and the parallel counters. */
function engineStatsOf(result: ExecutedBlock): { mode: string; workers: number; engine: EngineStats } {
  const engine: EngineStats = {};
  if (result.mode.reason !== undefined) engine.modeReason = result.mode.reason;
  const stats = result.stats;
  if (stats !== undefined) {
    engine.executions = stats.executions;
    engine.reExecutions = stats.reExecutions;
    engine.validations = stats.validations;
    engine.fallback = stats.fallback;
    engine.runtimeThreadsYielded = stats.runtimeThreadsYielded;
  }
  return { mode: result.mode.mode, workers: result.mode.workers, engine };
}
