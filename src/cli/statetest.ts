import { InputError } from "../chain/errors.ts";
import { forkName, parseForkName } from "../chain/forks.ts";
import { formatCounts, runStateTests, type CaseResult } from "../statetest/index.ts";
import type { StateTestCommand } from "./args.ts";

/**
 * `pevm statetest <file-or-dir>...`: the shared ethereum/tests runner. Prints each failure as its
 * file finishes (or every case as a JSON line with --json), then "N passed, N failed, N skipped".
 * Exit 1 when any case failed.
 */
export async function runStateTestCommand(cmd: StateTestCommand): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const forks = cmd.fork === undefined ? undefined : [forkName(parseForkName(cmd.fork)), cmd.fork];
  const { counts } = await runStateTests(
    cmd.paths,
    { sequential: cmd.sequential, workers: cmd.workers },
    {
      filter: forks === undefined ? undefined : { forks },
      onFile: (_file, results) => {
        for (const r of results) {
          if (cmd.json) out(JSON.stringify(r));
          else if (r.status === "fail") out(`FAIL ${r.name}: ${firstLine(r.reason)}`);
        }
      },
    },
  );
  if (counts.passed + counts.failed + counts.skipped === 0) {
    const which = cmd.fork === undefined ? "" : ` for fork ${cmd.fork}`;
    throw new InputError(`no state test case found${which} (is it a GeneralStateTests file or directory?)`, cmd.paths.join(", "));
  }
  if (cmd.json) out(JSON.stringify({ summary: true, ...counts }));
  else out(formatCounts(counts));
  return counts.failed > 0 ? 1 : 0;
}

function firstLine(reason: CaseResult["reason"]): string {
  return (reason ?? "").split("\n")[0]!;
}
