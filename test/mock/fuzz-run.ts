/**
 * The differential fuzzer: generates seeded random blocks (`fuzz.ts`), executes each one
 * sequentially and with the parallel engine (a worker count drawn from the block's seed),
 * and compares everything: receipts with logs, gas, bloom and post-state changes, or, for an
 * invalid block, the InvalidTransactionError or InvalidBlockError (transaction index, reason
 * and message).
 * A block that differs is written as a corpus directory that `bun run pevm` replays.
 * Used by `bun run fuzz` (fuzz-cli.ts) and test/fuzz.test.ts.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidBlockError, InvalidTransactionError } from "../../src/chain/errors.ts";
import { forkName } from "../../src/chain/forks.ts";
import { parseBlock } from "../../src/chain/json.ts";
import type { Block } from "../../src/chain/types.ts";
import { executeBlock } from "../../src/execute.ts";
import type { Storage } from "../../src/state/types.ts";
import { loadPreState } from "../../src/state/corpus.ts";
import { resultDifferences } from "../support/compare.ts";
import { blockSeed, fuzzBlock, knobsJson, TX_KINDS, type FuzzBlock, type FuzzSettings, type TxKind } from "./fuzz.ts";
import { SeededRandom } from "./random.ts";
import { writeMockBlock } from "./write.ts";

export interface FuzzRunOptions extends FuzzSettings {
  seed: number;
  blocks: number;
  /** Index of the first block (to replay block i of a run: from = i, blocks = 1). */
  from?: number;
  workersMin?: number;
  workersMax?: number;
  /** Where a differing block is written as `<seed>-<index>/`; null writes nothing. */
  failuresDir?: string | null;
  /** Stop at the first differing block (default), or go on and count them all. */
  stopOnDifference?: boolean;
  /** Called after every block. */
  onBlock?: (report: FuzzBlockReport, summary: FuzzSummary) => void;
}

/** What one block did, in both modes. */
export interface FuzzBlockReport extends ModeComparison {
  index: number;
  blockSeed: number;
  workers: number;
  /** Upper bound of the random busy-wait before each parallel execution, in microseconds. */
  delayMicros: number;
  fork: string;
  txs: number;
  /** The corpus directory written for a differing block. */
  failureDir?: string;
  fuzz: FuzzBlock;
}

export interface FuzzSummary {
  blocks: number;
  transactions: number;
  /** Blocks on which the two modes differed. */
  differences: number;
  reExecutions: number;
  blocksWithReExecutions: number;
  /** Blocks both modes rejected with the same InvalidTransactionError or InvalidBlockError. */
  invalidBlocks: number;
  /** Those blocks by the error's reason. */
  invalidReasons: Record<string, number>;
  fallbacks: number;
  kinds: Record<TxKind, number>;
  /** Transactions of each type (0 legacy, 1 access list, 2 dynamic fee, 3 blob, 4 set-code). */
  txTypes: number[];
  forks: Record<string, number>;
  /** Blocks run with each worker count (index = workers). */
  workers: number[];
  ms: number;
  failures: FuzzBlockReport[];
}

/** Far above an honest run of a fuzz block; a hang becomes a failure. */
const BLOCK_TIMEOUT_MS = 120_000;
/** Upper bounds of the random busy-wait before each parallel execution: varies the interleavings. */
const DELAY_BOUNDS_MICROS = [0, 0, 0, 20, 100, 500];

type Execution = Awaited<ReturnType<typeof executeBlock>>;
/** What one mode did: a result, or what it threw. */
type Outcome = { result: Execution } | { error: unknown };

async function outcome(run: () => Promise<Execution>): Promise<Outcome> {
  try {
    return { result: await run() };
  } catch (error) {
    return { error };
  }
}

/** The errors that say the block is invalid (both modes must raise the same one). */
function isInvalidity(error: unknown): error is InvalidTransactionError | InvalidBlockError {
  return error instanceof InvalidTransactionError || error instanceof InvalidBlockError;
}

/** `REASON at tx i` or `REASON (block)`. */
function invalidity(error: InvalidTransactionError | InvalidBlockError): string {
  return error instanceof InvalidTransactionError ? `${error.reason} at tx ${error.txIndex}` : `${error.reason} (block)`;
}

function describeError(error: unknown): string {
  if (isInvalidity(error)) return `${error.name}(${invalidity(error)}): ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Every way the parallel outcome differs from the sequential one; empty when they agree. */
export function outcomeDifferences(sequential: Outcome, parallel: Outcome, workers: number): string[] {
  if ("error" in sequential || "error" in parallel) {
    if (!("error" in sequential)) return [`sequential returned a result, parallel raised ${describeError((parallel as { error: unknown }).error)}`];
    if (!("error" in parallel)) return [`sequential raised ${describeError(sequential.error)}, parallel returned a result`];
    const [s, p] = [sequential.error, parallel.error];
    if (!isInvalidity(s)) return [`sequential failed (not an invalid block): ${describeError(s)}`];
    if (!isInvalidity(p) || p.name !== s.name || invalidity(p) !== invalidity(s) || p.message !== s.message) {
      return [`errors differ: sequential ${describeError(s)}, parallel ${describeError(p)}`];
    }
    return [];
  }
  const out: string[] = [];
  const { mode, stats } = parallel.result;
  if (mode.mode !== "parallel") out.push(`parallel run went ${mode.mode}`);
  if (stats?.workers !== workers) out.push(`parallel run used ${stats?.workers} workers, not ${workers}`);
  out.push(...resultDifferences(sequential.result, parallel.result));
  return out;
}

export function emptySummary(): FuzzSummary {
  return {
    blocks: 0,
    transactions: 0,
    differences: 0,
    reExecutions: 0,
    blocksWithReExecutions: 0,
    invalidBlocks: 0,
    invalidReasons: {},
    fallbacks: 0,
    kinds: Object.fromEntries(TX_KINDS.map((kind) => [kind, 0])) as Record<TxKind, number>,
    txTypes: [0, 0, 0, 0, 0],
    forks: {},
    workers: [],
    ms: 0,
    failures: [],
  };
}

export interface ModeComparison {
  /** The error both modes raised (`REASON at tx i`, `REASON (block)`), or null for a valid block. */
  invalid: string | null;
  reExecutions: number;
  fallback: string | null;
  /** Empty when the two modes agree. */
  differences: string[];
}

/** Runs a block sequentially and in parallel with `workers`, and compares the outcomes. */
export async function compareModes(block: Block, storage: Storage, workers: number, delayMicros = 0): Promise<ModeComparison> {
  const sequential = await outcome(() => executeBlock(block, storage, { sequential: true }));
  const parallel = await outcome(() => executeBlock(block, storage, { workers, injectDelayMicros: delayMicros, timeoutMs: BLOCK_TIMEOUT_MS }));
  const stats = "result" in parallel ? parallel.result.stats : undefined;
  return {
    invalid: "error" in sequential && isInvalidity(sequential.error) ? invalidity(sequential.error) : null,
    reExecutions: stats?.reExecutions ?? 0,
    fallback: stats?.fallback ?? null,
    differences: outcomeDifferences(sequential, parallel, workers),
  };
}

/** The generator produced a block the loader rejects: a bug in fuzz.ts, not in the engine. */
export class FuzzGeneratorError extends Error {
  override name = "FuzzGeneratorError";
}

/** Generates, runs and compares one block of a run. */
export async function fuzzOne(seed: number, index: number, options: Omit<FuzzRunOptions, "seed" | "blocks"> = {}): Promise<FuzzBlockReport> {
  const workersMin = options.workersMin ?? 1;
  const workersMax = options.workersMax ?? 8;
  const bseed = blockSeed(seed, index);
  const fuzz = await fuzzBlock(bseed, options);
  // The run's own choices get a stream apart from the generator's.
  const random = new SeededRandom(bseed ^ 0x5bd1e995);
  const workers = workersMin + random.below(workersMax - workersMin + 1);
  const delayMicros = DELAY_BOUNDS_MICROS[random.below(DELAY_BOUNDS_MICROS.length)];

  const label = `fuzz block ${seed}/${index} (block seed ${bseed})`;
  let block: Block;
  let storage: Storage;
  try {
    block = parseBlock(`${label} block.json`, fuzz.mock.block);
    storage = loadPreState(`${label} pre_state.json`, fuzz.mock.preState, fuzz.mock.bytecodes, `${label} bytecodes.json`);
  } catch (error) {
    // Not a difference between the modes: the generator made something no executor accepts.
    throw new FuzzGeneratorError(`${label}: the generator made a block that does not load: ${(error as Error).message}`);
  }
  const report: FuzzBlockReport = {
    index,
    blockSeed: bseed,
    workers,
    delayMicros,
    fork: forkName(fuzz.knobs.fork),
    txs: fuzz.mock.block.transactions.length,
    ...(await compareModes(block, storage, workers, delayMicros)),
    fuzz,
  };
  if (report.differences.length > 0 && options.failuresDir !== null) {
    report.failureDir = writeFailure(options.failuresDir ?? "fuzz-failures", { ...options, seed }, report);
  }
  return report;
}

/** The `bun run fuzz` arguments that fix what `options` fixes (not blocks and from). */
export function fuzzArguments(options: Omit<FuzzRunOptions, "blocks">): string {
  const args = [`--seed ${options.seed}`];
  if (options.workersMin !== undefined) args.push(`--workers-min ${options.workersMin}`);
  if (options.workersMax !== undefined) args.push(`--workers-max ${options.workersMax}`);
  if (options.maxTxs !== undefined) args.push(`--max-txs ${options.maxTxs}`);
  if (options.fork !== undefined) args.push(`--fork ${forkName(options.fork)}`);
  if (options.conflictRate !== undefined) args.push(`--conflict-rate ${options.conflictRate}`);
  if (options.hotAccounts !== undefined) args.push(`--hot-accounts ${options.hotAccounts}`);
  if (options.senderShare !== undefined) args.push(`--sender-share ${options.senderShare}`);
  if (options.invalidRate !== undefined) args.push(`--invalid-rate ${options.invalidRate}`);
  return args.join(" ");
}

/** The replay commands for a block of a run: the fuzzer on that block, and the CLI on its directory. */
export function replayCommands(options: Omit<FuzzRunOptions, "blocks">, report: FuzzBlockReport): string[] {
  const commands = [`bun run fuzz ${fuzzArguments(options)} --from ${report.index} --blocks 1`];
  if (report.failureDir !== undefined) {
    commands.push(
      `bun run fuzz --replay ${report.failureDir} --workers ${report.workers}`,
      `bun run pevm ${report.failureDir} --workers ${report.workers} --json`,
      `bun run pevm ${report.failureDir} --sequential --json`,
    );
  }
  return commands;
}

function writeFailure(root: string, options: Omit<FuzzRunOptions, "blocks">, report: FuzzBlockReport): string {
  const dir = join(root, `${options.seed}-${report.index}`);
  writeMockBlock(dir, report.fuzz.mock);
  const { fuzz, ...rest } = report;
  const about = {
    ...rest,
    failureDir: dir,
    knobs: knobsJson(fuzz.knobs),
    kinds: fuzz.kinds,
    txKinds: fuzz.txKinds,
    replay: replayCommands(options, { ...report, failureDir: dir }),
  };
  // (The replacer only guards against a bigint added to the report later: reporting must not throw.)
  writeFileSync(join(dir, "fuzz.json"), `${JSON.stringify(about, (_, value) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`);
  return dir;
}

/** Runs `blocks` blocks of the run `seed`; stops at the first difference unless told otherwise. */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzSummary> {
  const summary = emptySummary();
  const started = performance.now();
  const from = options.from ?? 0;
  for (let index = from; index < from + options.blocks; index++) {
    const report = await fuzzOne(options.seed, index, options);
    summary.blocks++;
    summary.transactions += report.txs;
    summary.reExecutions += report.reExecutions;
    if (report.reExecutions > 0) summary.blocksWithReExecutions++;
    if (report.invalid !== null && report.differences.length === 0) {
      summary.invalidBlocks++;
      const reason = report.invalid.split(" ")[0];
      summary.invalidReasons[reason] = (summary.invalidReasons[reason] ?? 0) + 1;
    }
    if (report.fallback !== null) summary.fallbacks++;
    for (const kind of TX_KINDS) summary.kinds[kind] += report.fuzz.kinds[kind];
    for (const tx of report.fuzz.mock.block.transactions) summary.txTypes[Number(tx.type)]++;
    summary.forks[report.fork] = (summary.forks[report.fork] ?? 0) + 1;
    summary.workers[report.workers] = (summary.workers[report.workers] ?? 0) + 1;
    summary.ms = performance.now() - started;
    if (report.differences.length > 0) {
      summary.differences++;
      summary.failures.push(report);
    }
    options.onBlock?.(report, summary);
    if (report.differences.length > 0 && (options.stopOnDifference ?? true)) break;
  }
  summary.ms = performance.now() - started;
  return summary;
}
