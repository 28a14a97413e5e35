/**
 * ethereum/tests GeneralStateTests through our executor: every file, every fork and index
 * combination in `post`. One bun test per directory so that a failure names its corner.
 * test/state-tests.test.ts runs them sequentially, test/state-tests-parallel.test.ts forced
 * through the parallel engine (2 workers).
 *
 * Environment:
 *   PEVM_STATETEST_SLOW=1     also run the cases of the SLOW list (minutes each)
 *   PEVM_STATETEST_FILTER=s   only cases whose name contains s
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { closeEngines } from "../../src/index.ts";
import { countResults, formatCounts, runStateTestFile, type CaseResult, type RunMode } from "../../src/statetest/index.ts";

/** Per directory: the largest take a minute or two on a busy 2-core machine. */
const TIMEOUT_MS = 15 * 60_000;
const ROOT = join(import.meta.dir, "..", "..", "data", "ethereum-tests", "GeneralStateTests");
const FILTER = { name: process.env.PEVM_STATETEST_FILTER, includeSlow: process.env.PEVM_STATETEST_SLOW === "1" };

/** Directories that hold test files directly, relative to ROOT. */
function testDirectories(dir = ROOT): string[] {
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  const own = entries.some((e) => e.isFile() && e.name.endsWith(".json")) ? [relative(ROOT, dir)] : [];
  return [...own, ...entries.filter((e) => e.isDirectory()).flatMap((e) => testDirectories(join(dir, e.name)))];
}

export function defineStateTestSuite(mode: RunMode): void {
  const all: CaseResult[] = [];
  const label = mode.sequential ? "sequential" : `${mode.workers} workers`;

  describe(`GeneralStateTests (${label})`, () => {
    for (const dir of testDirectories()) {
      test(dir, async () => {
        const files = readdirSync(join(ROOT, dir))
          .filter((name) => name.endsWith(".json"))
          .sort()
          .map((name) => join(ROOT, dir, name));
        const results: CaseResult[] = [];
        for (const file of files) results.push(...(await runStateTestFile(file, mode, FILTER, relative(ROOT, file))));
        all.push(...results);
        for (const r of results) if (r.status === "skip") console.log(`skipped ${r.name}: ${r.reason}`);
        const failures = results.filter((r) => r.status === "fail").map((r) => `${r.name}: ${r.reason}`);
        expect(failures).toEqual([]);
      }, TIMEOUT_MS);
    }
  });

  afterAll(async () => {
    console.log(`GeneralStateTests (${label}): ${formatCounts(countResults(all))}`);
    if (!mode.sequential) await closeEngines();
  });
}
