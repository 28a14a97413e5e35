#!/usr/bin/env bun
/**
 * `pevm`: execute corpus blocks and compare them with their headers, or run state tests.
 * Exit codes: 0 all match, 1 a block differs from its header (or a state test fails),
 * 2 bad input (one line naming the file, field or transaction), 3 internal error.
 */
import packageJson from "../../package.json" with { type: "json" };
import { InputError, InvalidBlockError, InvalidTransactionError } from "../chain/errors.ts";
import { closeEngines, prepareEngine } from "../index.ts";
import { parseArgs, USAGE, type BlockCommand } from "./args.ts";
import { Progress } from "./progress.ts";
import { reportJson, BlockTable } from "./report.ts";
import { runBlockDir } from "./run-block.ts";
import { checkDumpTarget } from "./dump-state.ts";
import { postStateHooks } from "./post-state.ts";
import { runStateTestCommand } from "./statetest.ts";
import { runBlocktestCommand } from "./blocktest.ts";
import { isRpcBlockSpec, resolveRpcBlock, runFetchCommand } from "./fetch.ts";

export const EXIT_OK = 0;
export const EXIT_MISMATCH = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_INTERNAL = 3;

export const VERSION: string = packageJson.version;

function isUserError(e: unknown): e is InputError | InvalidTransactionError | InvalidBlockError {
  return e instanceof InputError || e instanceof InvalidTransactionError || e instanceof InvalidBlockError;
}

async function runBlocks(cmd: BlockCommand): Promise<number> {
  const progress = new Progress(cmd.dirs.length);
  const out = (line: string) => progress.around(() => process.stdout.write(line + "\n"));
  const err = (line: string) => progress.around(() => process.stderr.write(line + "\n"));
  const table = cmd.json ? undefined : new BlockTable(out, cmd.stateRoot);
  const hooks = postStateHooks(cmd);
  if (cmd.dumpState !== undefined) checkDumpTarget(cmd.dumpState);
  let exit = EXIT_OK;
  let badInput = 0;
  // Workers start while the first block loads (a failed start surfaces at the first parallel block).
  prepareEngine({ sequential: cmd.sequential, workers: cmd.workers }).catch(() => {});
  for (const dir of cmd.dirs) {
    try {
      // <RPC_URL>#<BLOCK_ID>: fetched (or found in ./blocks), run with the fork it was fetched with.
      const fetched = isRpcBlockSpec(dir) ? await resolveRpcBlock(dir) : undefined;
      const run = await runBlockDir(fetched?.dir ?? dir, {
        sequential: cmd.sequential,
        workers: cmd.workers,
        fork: cmd.fork ?? fetched?.fork,
        bytecodes: cmd.bytecodes,
        blockHashes: cmd.blockHashes,
        stateRoot: hooks.stateRoot,
      });
      if (cmd.dumpState !== undefined) await hooks.dumpState!(cmd.dumpState, run.loaded, run.result);
      if (cmd.json) out(JSON.stringify(reportJson(run.report, cmd.stateRoot)));
      else table!.row(run.report);
      if (!run.report.ok && exit === EXIT_OK) exit = EXIT_MISMATCH;
    } catch (e) {
      if (!isUserError(e)) throw e;
      // Keep going with the other blocks; bad input outranks a mismatch in the exit code.
      err(`pevm: ${e instanceof InvalidTransactionError || e instanceof InvalidBlockError ? `${dir}: invalid block: ` : ""}${e.message}`);
      exit = EXIT_BAD_INPUT;
      badInput++;
    }
    progress.step();
  }
  progress.finish();
  table?.total(badInput);
  return exit;
}

/** Runs one command line; resolves with the exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  try {
    const cmd = parseArgs(argv);
    switch (cmd.kind) {
      case "usage":
        process.stderr.write(USAGE + "\n");
        return EXIT_BAD_INPUT;
      case "help":
        process.stdout.write(USAGE + "\n");
        return EXIT_OK;
      case "version":
        process.stdout.write(`pevm ${VERSION}\n`);
        return EXIT_OK;
      case "statetest":
        return await runStateTestCommand(cmd);
      case "blocktest":
        return await runBlocktestCommand(cmd);
      case "blocks":
        return await runBlocks(cmd);
      case "fetch":
        return await runFetchCommand(cmd.argv);
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

/** The `pevm` command: runs `argv`, stops the worker pools and exits with the code. */
export async function runCli(argv: string[]): Promise<never> {
  const code = await main(argv);
  await closeEngines();
  process.exit(code);
}

if (import.meta.main) await runCli(Bun.argv.slice(2));
