import { BLOCKTEST_SKIPS, HEADER_ONLY_EXCEPTIONS, formatBlocktestCounts, runBlocktests } from "../blocktest/index.ts";
import type { BlocktestCommand } from "./args.ts";

/**
 * `pevm blocktest <file-or-dir>...`: the shared blockchain-test runner. Prints each failure as its
 * file finishes (or every test as a JSON line with --json), the skip list and the header-only
 * exceptions with their reasons, then "N passed, N failed, N skipped, N header-only ...".
 * Exit 1 when any test failed.
 */
export async function runBlocktestCommand(cmd: BlocktestCommand): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const mode = cmd.workers === undefined ? { sequential: true } : { workers: cmd.workers };
  const { results, counts } = await runBlocktests(cmd.paths, mode, {
    onFile: (_file, fileResults) => {
      for (const r of fileResults) {
        if (cmd.json) out(JSON.stringify(r));
        else if (r.status === "fail") out(`FAIL ${r.name}: ${(r.reason ?? "").split("\n")[0]}`);
      }
    },
  });
  if (cmd.json) {
    out(JSON.stringify({ summary: true, ...counts }));
  } else {
    for (const r of results) if (r.status === "skip") out(`SKIP ${r.name}: ${r.reason}`);
    if (counts.skipped === 0) out(`skip list: ${BLOCKTEST_SKIPS.length === 0 ? "empty" : BLOCKTEST_SKIPS.map((s) => `${s.pattern}: ${s.reason}`).join("; ")}`);
    if (counts.headerOnlyBlocks > 0) {
      out(`header-only exceptions (not validated by pevm): ${Object.entries(HEADER_ONLY_EXCEPTIONS).map(([n, why]) => `${n} (${why})`).join("; ")}`);
    }
    out(formatBlocktestCounts(counts));
  }
  return counts.failed > 0 ? 1 : 0;
}
