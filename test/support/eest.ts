/**
 * The vendored execution-spec-tests (data/eest/, Prague and Osaka): every state test case and
 * every blockchain test, through our executor. One bun test per directory so that a failure
 * names its EIP. test/eest.test.ts runs them sequentially, test/eest-parallel.test.ts forced
 * through the parallel engine (2 workers).
 *
 * Environment: PEVM_EEST_FILTER=s   only tests whose name contains s
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { BLOCKTEST_SKIPS, countBlocktests, formatBlocktestCounts, runBlocktestFile, type BlocktestResult } from "../../src/blocktest/index.ts";
import { closeEngines } from "../../src/index.ts";
import { countResults, formatCounts, runStateTestFile, type CaseResult, type RunMode } from "../../src/statetest/index.ts";

const TIMEOUT_MS = 10 * 60_000;
const ROOT = join(import.meta.dir, "..", "..", "data", "eest");
const FILTER = process.env.PEVM_EEST_FILTER;

/** `<kind>/<fork>/<eip>` directories of fixture files, and the files in each. */
function fixtureDirectories(kind: "state_tests" | "blockchain_tests"): { dir: string; files: string[] }[] {
  const dirs: { dir: string; files: string[] }[] = [];
  for (const fork of readdirSync(join(ROOT, kind)).sort()) {
    for (const eip of readdirSync(join(ROOT, kind, fork)).sort()) {
      const dir = join(ROOT, kind, fork, eip);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith(".json.gz"))
        .sort()
        .map((f) => join(dir, f));
      dirs.push({ dir: relative(ROOT, dir), files });
    }
  }
  return dirs;
}

export function defineEestSuites(mode: RunMode): void {
  const label = mode.sequential ? "sequential" : `${mode.workers} workers`;
  const stateResults: CaseResult[] = [];
  const blockResults: BlocktestResult[] = [];

  describe(`execution-spec-tests state tests (${label})`, () => {
    for (const { dir, files } of fixtureDirectories("state_tests")) {
      test(dir, async () => {
        const results: CaseResult[] = [];
        for (const file of files) results.push(...(await runStateTestFile(file, mode, { name: FILTER }, relative(ROOT, file))));
        stateResults.push(...results);
        for (const r of results) if (r.status === "skip") console.log(`skipped ${r.name}: ${r.reason}`);
        expect(results.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
        if (FILTER === undefined) expect(results.filter((r) => r.status === "pass").length).toBeGreaterThan(0);
      }, TIMEOUT_MS);
    }
  });

  describe(`execution-spec-tests blockchain tests (${label})`, () => {
    for (const { dir, files } of fixtureDirectories("blockchain_tests")) {
      test(dir, async () => {
        const results: BlocktestResult[] = [];
        for (const file of files) results.push(...(await runBlocktestFile(file, mode, FILTER, relative(ROOT, file))));
        blockResults.push(...results);
        for (const r of results) if (r.status === "skip") console.log(`skipped ${r.name}: ${r.reason}`);
        expect(results.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.reason}`)).toEqual([]);
        if (FILTER === undefined) expect(results.filter((r) => r.status === "pass").length).toBeGreaterThan(0);
      }, TIMEOUT_MS);
    }
  });

  afterAll(async () => {
    console.log(`execution-spec-tests state tests (${label}): ${formatCounts(countResults(stateResults))}`);
    console.log(`execution-spec-tests blockchain tests (${label}): ${formatBlocktestCounts(countBlocktests(blockResults))}`);
    console.log(`blockchain-test skip list: ${BLOCKTEST_SKIPS.length === 0 ? "empty" : BLOCKTEST_SKIPS.map((s) => `${s.pattern}: ${s.reason}`).join("; ")}`);
    if (!mode.sequential) await closeEngines();
  });
}
