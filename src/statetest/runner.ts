import { relative, resolve } from "node:path";
import { checkBlobSchedule } from "../chain/blobs.ts";
import { InputError, InvalidTransactionError } from "../chain/errors.ts";
import { parseForkName, type Fork } from "../chain/forks.ts";
import { logsHash } from "../chain/receipts.ts";
import type { Hex } from "../chain/types.ts";
import { executeBlock, type PevmOptions } from "../index.ts";
import type { MemoryStorage } from "../state/memory.ts";
import { stateRoot } from "../state/state-root.ts";
import { buildBlock, buildHeader, buildPreState, buildTransaction } from "./build.ts";
import { checkStateTestFile } from "./check.ts";
import type { StateTestFileJson, StateTestJson, StateTestPostJson } from "./json.ts";
import { acceptedReasons } from "./exceptions.ts";
import { collectFixtureFiles, readFixture } from "./files.ts";
import { skipReason } from "./skips.ts";

/** How the executor runs each case: `{ sequential: true }`, `{ workers: 2 }`, ... */
export type RunMode = Pick<PevmOptions, "sequential" | "workers">;

export type CaseStatus = "pass" | "fail" | "skip";

export interface CaseResult {
  /** `file::test::fork::d{data}g{gas}v{value}` */
  name: string;
  status: CaseStatus;
  /** Why it failed or is skipped. */
  reason?: string;
}

export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
}

export interface CaseFilter {
  /** Only cases whose name contains this (or matches it). */
  name?: string | RegExp;
  /** Only these forks (ethereum/tests names, any case). */
  forks?: string[];
  /** Also run the cases of the SLOW list (skipped by default). */
  includeSlow?: boolean;
}

/** Which of the executor's errors a test's expectException means the transaction was rejected. */
function isRejection(e: unknown): e is InvalidTransactionError | InputError {
  return e instanceof InvalidTransactionError || e instanceof InputError;
}

function matches(filter: CaseFilter | undefined, name: string, fork: string): boolean {
  if (filter?.forks !== undefined && !filter.forks.some((f) => f.toLowerCase() === fork.toLowerCase())) return false;
  if (filter?.name === undefined) return true;
  return typeof filter.name === "string" ? name.includes(filter.name) : filter.name.test(name);
}

/** One test (name) of a file: the pre-state is built once and shared by all its cases. */
class TestContext {
  private preRoot: Promise<Hex> | undefined;
  readonly pre: MemoryStorage;

  constructor(readonly test: StateTestJson) {
    // execution-spec-tests carry the chain config: it must be the one pevm executes.
    if (test.config?.blobSchedule !== undefined) checkBlobSchedule(test.config.blobSchedule, parseForkName);
    if (test.config?.chainid !== undefined && BigInt(test.config.chainid) !== 1n) {
      throw new InputError(`chain id ${test.config.chainid} is not mainnet's`, undefined, "config.chainid");
    }
    this.pre = buildPreState(test.pre, test.env);
  }

  preStateRoot(): Promise<Hex> {
    this.preRoot ??= stateRoot(this.pre);
    return this.preRoot;
  }
}

async function runCase(ctx: TestContext, fork: Fork, post: StateTestPostJson, mode: RunMode): Promise<string | undefined> {
  const expectsException = post.expectException !== undefined;
  let result;
  try {
    const tx = buildTransaction(ctx.test.transaction, post.indexes);
    const block = buildBlock(buildHeader(ctx.test.env, fork), tx);
    result = await executeBlock(block, ctx.pre, { ...mode, fork, transactionsOnly: true });
  } catch (e) {
    if (!isRejection(e)) throw e;
    if (!expectsException) return `unexpected rejection: ${e.message}`;
    // execution-spec-tests name the exception (ethereum/tests' older names are not checked).
    const accepted = acceptedReasons(post.expectException!);
    const reason = e instanceof InvalidTransactionError ? e.reason : "INPUT";
    if (accepted !== undefined && !accepted.has(reason)) return `expected ${post.expectException}, rejected for another reason: ${e.message}`;
    // A rejected transaction leaves the state as it was.
    const root = await ctx.preStateRoot();
    return root === post.hash ? undefined : `rejected as expected, but the expected root ${post.hash} is not the pre-state root ${root}`;
  }
  if (expectsException) return `expected ${post.expectException}, but the transaction executed`;
  const problems: string[] = [];
  const logs = logsHash(result.receipts.flatMap((r) => r.logs));
  if (logs !== post.logs) problems.push(`logs hash ${logs}, expected ${post.logs}`);
  const root = await stateRoot(ctx.pre, result.changes);
  if (root !== post.hash) problems.push(`state root ${root}, expected ${post.hash}`);
  return problems.length === 0 ? undefined : problems.join("; ");
}

function caseName(file: string, test: string, fork: string, post: StateTestPostJson): string {
  const { data, gas, value } = post.indexes;
  return `${file}::${test}::${fork}::d${data}g${gas}v${value}`;
}

/** Reads and checks a state-test file (InputError naming the file and field). */
function readTestFile(path: string): StateTestFileJson {
  return checkStateTestFile(path, readFixture<unknown>(path, "state test"));
}

/**
 * Runs every (fork, indexes) case of one state-test file. `displayName` is how the file appears
 * in case names (by default the path as given).
 */
export async function runStateTestFile(path: string, mode: RunMode, filter?: CaseFilter, displayName = path): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const [testName, test] of Object.entries(readTestFile(path))) {
    let ctx: TestContext | undefined;
    for (const [forkLabel, posts] of Object.entries(test.post)) {
      for (const post of posts) {
        const name = caseName(displayName, testName, forkLabel, post);
        if (!matches(filter, name, forkLabel)) continue;
        const skip = skipReason(name, filter?.includeSlow);
        if (skip !== undefined) {
          results.push({ name, status: "skip", reason: skip });
          continue;
        }
        let failure: string | undefined;
        try {
          ctx ??= new TestContext(test);
          failure = await runCase(ctx, parseForkName(forkLabel), post, mode);
        } catch (e) {
          failure = `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
        }
        results.push(failure === undefined ? { name, status: "pass" } : { name, status: "fail", reason: failure });
      }
    }
  }
  return results;
}

/** All .json and .json.gz files under each path (a file is taken as is), sorted for a stable order. */
export function collectStateTestFiles(paths: string[]): string[] {
  return collectFixtureFiles(paths);
}

export function countResults(results: Iterable<CaseResult>): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    if (r.status === "pass") counts.passed++;
    else if (r.status === "fail") counts.failed++;
    else counts.skipped++;
  }
  return counts;
}

export interface RunOptions {
  filter?: CaseFilter;
  /** Called after each file with its results (for progress output). */
  onFile?: (file: string, results: CaseResult[]) => void;
  /** Case names are relative to this directory (default: the current directory). */
  root?: string;
}

/** Runs every state-test file under `paths`; returns all results and their counts. */
export async function runStateTests(paths: string[], mode: RunMode, options: RunOptions = {}): Promise<{ results: CaseResult[]; counts: RunCounts }> {
  const results: CaseResult[] = [];
  const root = resolve(options.root ?? ".");
  for (const file of collectStateTestFiles(paths)) {
    const fileResults = await runStateTestFile(file, mode, options.filter, relative(root, resolve(file)));
    options.onFile?.(file, fileResults);
    results.push(...fileResults);
  }
  return { results, counts: countResults(results) };
}

export function formatCounts(counts: RunCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

