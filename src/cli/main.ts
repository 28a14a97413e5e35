#!/usr/bin/env bun
/**
 * `bun run pevm`: execute corpus blocks and compare them with their headers, or run state tests.
 * Exit codes: 0 all match, 1 a block differs from its header (or a state test fails),
 * 2 bad input (one line naming the file, field or transaction), 3 internal error.
 */
import { InputError, InvalidBlockError, InvalidTransactionError } from "../chain/errors.ts";
import { closeEngines } from "../index.ts";
import { parseArgs, USAGE, type BlockCommand } from "./args.ts";
import { reportJson, BlockTable } from "./report.ts";
import { runBlockDir } from "./run-block.ts";
import { postStateHooks } from "./post-state.ts";
import { runStateTestCommand } from "./statetest.ts";
import { runBlocktestCommand } from "./blocktest.ts";

export const EXIT_OK = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERNAL = 3;

function isUserError(e: unknown): e is InputError | InvalidTransactionError | InvalidBlockError {
  return e instanceof InputError || e instanceof InvalidTransactionError || e instanceof InvalidBlockError;
}

async function runBlocks(cmd: BlockCommand): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const table = cmd.json ? undefined : new BlockTable(out, cmd.stateRoot);
  const hooks = postStateHooks(cmd);
  let exit = EXIT_OK;
  let badInput = 0;
  for (const dir of cmd.dirs) {
    try {
      const run = await runBlockDir(dir, {
        sequential: cmd.sequential,
        workers: cmd.workers,
        fork: cmd.fork,
        bytecodes: cmd.bytecodes,
        blockHashes: cmd.blockHashes,
        stateRoot: hooks.stateRoot,
      });
      if (cmd.json) out(JSON.stringify(reportJson(run.report, cmd.stateRoot)));
      else table!.row(run.report);
      if (!run.report.ok && exit === EXIT_OK) exit = EXIT_MISMATCH;
      if (cmd.dumpState !== undefined) await hooks.dumpState!(cmd.dumpState, run.loaded, run.result);
    } catch (e) {
      if (!isUserError(e)) throw e;
      // Keep going with the other blocks; bad input outranks a mismatch in the exit code.
      process.stderr.write(`pevm: ${e instanceof InvalidTransactionError || e instanceof InvalidBlockError ? `${dir}: invalid block: ` : ""}${e.message}\n`);
      exit = EXIT_BAD_INPUT;
      badInput++;
    }
  }
  table?.total(badInput);
  return exit;
}

async function main(argv: string[]): Promise<number> {
  try {
    const cmd = parseArgs(argv);
    switch (cmd.kind) {
      case "help":
        process.stdout.write(USAGE + "\n");
        return EXIT_OK;
      case "statetest":
        return await runStateTestCommand(cmd);
      case "blocktest":
        return await runBlocktestCommand(cmd);
      case "blocks":
        return await runBlocks(cmd);
    }
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`pevm: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    process.stderr.write(`pevm: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

if (import.meta.main) {
  // Exit explicitly: a parallel engine's idle workers must not keep the process alive.
  const code = await main(Bun.argv.slice(2));
  await closeEngines();
  process.exit(code);
}
