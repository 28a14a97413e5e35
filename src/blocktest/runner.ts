import { hexToBytes } from "@ethereumjs/util";
import { checkBlobSchedule, nextExcessBlobGas } from "../chain/blobs.ts";
import { InputError, InvalidBlockError, InvalidTransactionError } from "../chain/errors.ts";
import { Fork, forkAt, parseForkName } from "../chain/forks.ts";
import { receiptsRoot } from "../chain/receipts.ts";
import type { Hex } from "../chain/types.ts";
import { executeBlock } from "../index.ts";
import type { MemoryStorage } from "../state/memory.ts";
import { stateRoot } from "../state/state-root.ts";
import { buildPreState } from "../statetest/build.ts";
import { collectFixtureFiles, readFixture } from "../statetest/files.ts";
import type { RunMode } from "../statetest/runner.ts";
import { blockFromJson, nextStorage } from "./build.ts";
import { acceptedReasons, blocktestSkipReason, headerOnlyReason } from "./exceptions.ts";
import type { BlockHeaderJson, BlockchainTestFileJson, BlockchainTestJson } from "./json.ts";

/**
 * The execution-spec-tests blockchain-test runner, shared by `test/blockchain-tests.test.ts` and
 * `pevm blocktest`. Each test: the full pre-state, then every block executed from its JSON
 * header and transactions and checked against its header (state root, receipts root, logs
 * bloom, gas used, requests hash, excess blob gas), invalid blocks rejected with the expected
 * reason, and at the end the whole post-state compared.
 */

export type BlocktestStatus = "pass" | "fail" | "skip";

export interface BlocktestResult {
  /** `file::test` */
  name: string;
  status: BlocktestStatus;
  reason?: string;
  /** Blocks whose expected exception is about a header field pevm does not validate (not executed). */
  headerOnly: number;
}

export interface BlocktestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Invalid blocks that were not executed: their exception is header-only (exceptions.ts). */
  headerOnlyBlocks: number;
}

const EMPTY_STATE = { currentNumber: "0x00" } as never;

function errorReason(e: unknown): string | undefined {
  if (e instanceof InvalidTransactionError || e instanceof InvalidBlockError) return e.reason;
  if (e instanceof InputError) return "INPUT";
  return undefined;
}

function parentBlobFields(h: BlockHeaderJson): { excessBlobGas: bigint; blobGasUsed: bigint; baseFeePerGas: bigint } {
  return { excessBlobGas: BigInt(h.excessBlobGas ?? 0), blobGasUsed: BigInt(h.blobGasUsed ?? 0), baseFeePerGas: BigInt(h.baseFeePerGas ?? 0) };
}

/** Runs one test; returns the failure (undefined when it passed) and the header-only count. */
async function runTest(test: BlockchainTestJson, mode: RunMode, where: string): Promise<{ failure?: string; headerOnly: number }> {
  let headerOnly = 0;
  if (test.config?.blobSchedule) checkBlobSchedule(test.config.blobSchedule, parseForkName);
  // pevm executes mainnet's chain id (1), which every vendored test uses.
  if (test.config?.chainid !== undefined && BigInt(test.config.chainid) !== 1n) return { failure: `chain id ${test.config.chainid} is not mainnet's`, headerOnly };
  let storage: MemoryStorage = buildPreState(test.pre, EMPTY_STATE);
  const genesis = test.genesisBlockHeader;
  const genesisRoot = await stateRoot(storage);
  if (genesisRoot !== genesis.stateRoot) return { failure: `pre-state root ${genesisRoot}, the genesis header says ${genesis.stateRoot}`, headerOnly };
  storage.blockHashes.set(BigInt(genesis.number!), genesis.hash as Hex);
  let parent = genesis;

  for (const [i, blockJson] of test.blocks.entries()) {
    const label = `block ${i + 1}`;
    const expected = blockJson.expectException;
    if (expected !== undefined && headerOnlyReason(expected) !== undefined) {
      headerOnly++;
      continue;
    }
    const body = blockJson.rlp_decoded ?? (blockJson as Required<typeof blockJson>);
    let result;
    let fork: Fork;
    try {
      const block = blockFromJson(body, `${where}::blocks[${i}]`);
      fork = forkAt(test.network, block.header.timestamp);
      block.rlpSize = hexToBytes(blockJson.rlp as Hex).length;
      result = await executeBlock(block, storage, { ...mode, fork, fullPreState: true });
    } catch (e) {
      const reason = errorReason(e);
      if (reason === undefined) throw e;
      if (expected === undefined) return { failure: `${label}: unexpected rejection: ${(e as Error).message}`, headerOnly };
      const accepted = acceptedReasons(expected);
      if (accepted === undefined) return { failure: `${label}: expected ${expected}, which pevm has no reason for; rejected: ${(e as Error).message}`, headerOnly };
      if (!accepted.has(reason)) return { failure: `${label}: expected ${expected}, rejected for another reason: ${(e as Error).message}`, headerOnly };
      continue; // rejected as expected: the state stays as it was
    }
    if (expected !== undefined) return { failure: `${label}: expected ${expected}, but the block executed`, headerOnly };

    const h = body.blockHeader;
    const problems: string[] = [];
    const check = (what: string, actual: string | bigint | undefined, wanted: string | bigint | undefined) => {
      if (wanted !== undefined && actual !== wanted) problems.push(`${what} ${actual}, header ${wanted}`);
    };
    check("gas used", result.gasUsed, BigInt(h.gasUsed!));
    check("logs bloom", result.logsBloom.toLowerCase(), h.bloom?.toLowerCase());
    check("receipts root", await receiptsRoot(result.receipts), h.receiptTrie);
    check("requests hash", result.requestsHash, h.requestsHash);
    check("blob gas used", result.blobGasUsed, h.blobGasUsed === undefined ? undefined : BigInt(h.blobGasUsed));
    if (fork >= Fork.Cancun && h.excessBlobGas !== undefined) {
      check("excess blob gas", nextExcessBlobGas(parentBlobFields(parent), fork), BigInt(h.excessBlobGas));
    }
    check("state root", await stateRoot(storage, result.changes), h.stateRoot);
    if (problems.length > 0) return { failure: `${label}: ${problems.join("; ")}`, headerOnly };
    storage = nextStorage(storage, result.changes);
    storage.blockHashes.set(BigInt(h.number!), h.hash as Hex);
    parent = h;
  }
  if (test.postState !== undefined) {
    const difference = compareState(storage, buildPreState(test.postState, EMPTY_STATE));
    if (difference !== undefined) return { failure: `post-state: ${difference}`, headerOnly };
  }
  return { headerOnly };
}

/** The first differences between two whole states (accounts, code, storage), or undefined. */
function compareState(actual: MemoryStorage, expected: MemoryStorage): string | undefined {
  const differences: string[] = [];
  for (const address of new Set([...actual.accounts.keys(), ...expected.accounts.keys()])) {
    const a = actual.accounts.get(address);
    const e = expected.accounts.get(address);
    if (a === undefined || e === undefined) {
      differences.push(`${address} ${a === undefined ? "missing" : "not expected"}`);
      continue;
    }
    if (a.balance !== e.balance) differences.push(`${address} balance ${a.balance}, expected ${e.balance}`);
    if (a.nonce !== e.nonce) differences.push(`${address} nonce ${a.nonce}, expected ${e.nonce}`);
    if (a.codeHash !== e.codeHash) differences.push(`${address} code hash ${a.codeHash}, expected ${e.codeHash}`);
    for (const slot of new Set([...a.storage.keys(), ...e.storage.keys()])) {
      const av = a.storage.get(slot) ?? 0n;
      const ev = e.storage.get(slot) ?? 0n;
      if (av !== ev) differences.push(`${address} slot ${slot}: ${av}, expected ${ev}`);
    }
  }
  return differences.length === 0 ? undefined : differences.slice(0, 5).join("; ") + (differences.length > 5 ? ` (${differences.length} in all)` : "");
}

/** Runs every test of one blockchain-test file. `displayName` is how the file appears in names. */
export async function runBlocktestFile(path: string, mode: RunMode, filter?: string | RegExp, displayName = path): Promise<BlocktestResult[]> {
  const results: BlocktestResult[] = [];
  for (const [testName, test] of Object.entries(readFixture<BlockchainTestFileJson>(path, "blockchain test"))) {
    const name = `${displayName}::${testName}`;
    if (filter !== undefined && !(typeof filter === "string" ? name.includes(filter) : filter.test(name))) continue;
    const skip = blocktestSkipReason(name);
    if (skip !== undefined) {
      results.push({ name, status: "skip", reason: skip, headerOnly: 0 });
      continue;
    }
    try {
      const { failure, headerOnly } = await runTest(test, mode, `${displayName}::${testName}`);
      results.push(failure === undefined ? { name, status: "pass", headerOnly } : { name, status: "fail", reason: failure, headerOnly });
    } catch (e) {
      results.push({ name, status: "fail", reason: `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, headerOnly: 0 });
    }
  }
  return results;
}

export function countBlocktests(results: Iterable<BlocktestResult>): BlocktestCounts {
  const counts: BlocktestCounts = { passed: 0, failed: 0, skipped: 0, headerOnlyBlocks: 0 };
  for (const r of results) {
    if (r.status === "pass") counts.passed++;
    else if (r.status === "fail") counts.failed++;
    else counts.skipped++;
    counts.headerOnlyBlocks += r.headerOnly;
  }
  return counts;
}

export function formatBlocktestCounts(c: BlocktestCounts): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.headerOnlyBlocks} header-only invalid blocks not executed`;
}

/** Runs every blockchain-test file under `paths`. */
export async function runBlocktests(
  paths: string[],
  mode: RunMode,
  options: { filter?: string | RegExp; onFile?: (file: string, results: BlocktestResult[]) => void } = {},
): Promise<{ results: BlocktestResult[]; counts: BlocktestCounts }> {
  const results: BlocktestResult[] = [];
  for (const file of collectFixtureFiles(paths)) {
    const fileResults = await runBlocktestFile(file, mode, options.filter);
    options.onFile?.(file, fileResults);
    results.push(...fileResults);
  }
  return { results, counts: countBlocktests(results) };
}
