import { parseArgs as parseArgv } from "node:util";
import { InputError } from "../chain/errors.ts";
import type { Fork } from "../chain/forks.ts";
import { parseForkName } from "../chain/forks.ts";
import { checkWorkerCount, MAX_WORKERS } from "../execute.ts";

/** What `pevm <block-dir>...` was asked to do. */
export interface BlockCommand {
  kind: "blocks";
  dirs: string[];
  sequential: boolean;
  /** undefined: let the engine choose; a number forces the parallel engine with that many workers. */
  workers: number | undefined;
  fork: Fork | undefined;
  json: boolean;
  stateRoot: boolean;
  dumpState: string | undefined;
  bytecodes: string | undefined;
  blockHashes: string | undefined;
}

export interface StateTestCommand {
  kind: "statetest";
  paths: string[];
  sequential: boolean;
  workers: number | undefined;
  /** Only the cases of this fork (as named in the test files' post sections). */
  fork: string | undefined;
  json: boolean;
}

export interface HelpCommand {
  kind: "help";
}

export interface VersionCommand {
  kind: "version";
}

/** No arguments at all: the usage goes to stderr and the exit code is 2. */
export interface UsageCommand {
  kind: "usage";
}

/** `pevm fetch ...`: parsed by src/cli/fetch.ts. */
export interface FetchCommand {
  kind: "fetch";
  argv: string[];
}

/** `pevm blocktest`: sequential unless --workers N forces the parallel engine. */
export interface BlocktestCommand {
  kind: "blocktest";
  paths: string[];
  workers: number | undefined;
  json: boolean;
}

export type Command = BlockCommand | StateTestCommand | BlocktestCommand | HelpCommand | VersionCommand | UsageCommand | FetchCommand;

export const USAGE = `usage:
  pevm <block-dir>...                    execute each block, compare with its header, print a table
    --sequential | --workers N           N (1 to ${MAX_WORKERS}) forces the parallel engine with N workers; default automatic
    --fork NAME                          use this fork instead of the mainnet schedule (e.g. Cancun)
    --json                               one JSON object per block on stdout
    --state-root                         also compute the post-state root (needs a full pre-state)
    --dump-state FILE                    write the post-state in the pre_state.json format
    --bytecodes FILE --block-hashes FILE default: next to block.json, else two levels up
  pevm statetest <file-or-dir>...        run ethereum/tests state tests, end with "N passed, N failed"
    --sequential | --workers N | --fork NAME (only that fork's cases) | --json (one line per case)
  pevm blocktest <file-or-dir>...        run execution-spec-tests blockchain tests (.json or .json.gz),
                                         end with "N passed, N failed, N skipped, ..."
    --sequential (default) | --workers N (the parallel engine) | --json (one line per test)
  pevm fetch <BLOCK_ID> <RPC_URL>        snapshot a block from a node and check it (fetch --help)
  a block directory may be <RPC_URL>#<BLOCK_ID>: fetched into ./blocks/<number> (once), then run
  pevm --version | --help
exit codes: 0 all match, 1 a block or test differs, 2 bad input, 3 internal error`;

const OPTIONS = {
  sequential: { type: "boolean" },
  json: { type: "boolean" },
  "state-root": { type: "boolean" },
  workers: { type: "string" },
  fork: { type: "string" },
  "dump-state": { type: "string" },
  bytecodes: { type: "string" },
  "block-hashes": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** Parses argv (without the runtime and script). Throws InputError naming the bad option. */
export function parseArgs(argv: string[]): Command {
  if (argv.length === 0) return { kind: "usage" };
  if (argv[0] === "fetch") return { kind: "fetch", argv: argv.slice(1) };
  const isStateTest = argv[0] === "statetest";
  const isBlocktest = argv[0] === "blocktest";
  let parsed;
  try {
    parsed = parseArgv({ args: isStateTest || isBlocktest ? argv.slice(1) : argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw optionError(e as Error);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  for (const name of ["workers", "fork", "dump-state", "bytecodes", "block-hashes"] as const) {
    if (values[name] === "") throw new InputError("missing value", undefined, `--${name}`);
  }

  const sequential = values.sequential === true;
  const workers = parseWorkers(values.workers);
  if (sequential && workers !== undefined) throw new InputError("--sequential and --workers exclude each other", undefined, "--workers");
  if (positionals.length === 0) {
    const what = isStateTest ? "state test file or directory" : isBlocktest ? "blockchain test file or directory" : "block directory";
    throw new InputError(`no ${what} given`, undefined, "arguments");
  }

  if (isBlocktest) {
    for (const name of ["state-root", "dump-state", "bytecodes", "block-hashes", "fork"] as const) {
      if (values[name] !== undefined) throw new InputError("not supported by blocktest", undefined, `--${name}`);
    }
    return { kind: "blocktest", paths: positionals, workers, json: values.json === true };
  }

  if (isStateTest) {
    for (const name of ["state-root", "dump-state", "bytecodes", "block-hashes"] as const) {
      if (values[name] !== undefined) throw new InputError("not supported by statetest", undefined, `--${name}`);
    }
    const fork = values.fork;
    if (fork !== undefined) parseForkName(fork); // rejects an unknown name up front
    return { kind: "statetest", paths: positionals, sequential, workers, fork, json: values.json === true };
  }

  const dumpState = values["dump-state"];
  if (dumpState !== undefined && positionals.length > 1) {
    throw new InputError("needs exactly one block directory (the post-state of one block)", undefined, "--dump-state");
  }
  return {
    kind: "blocks",
    dirs: positionals,
    sequential,
    workers,
    fork: values.fork === undefined ? undefined : parseForkName(values.fork),
    json: values.json === true,
    stateRoot: values["state-root"] === true,
    dumpState,
    bytecodes: values.bytecodes,
    blockHashes: values["block-hashes"],
  };
}

/** node:util's messages name the option; ours are one line with the option as the field. */
function optionError(e: Error): InputError {
  const code = (e as { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(e.message)?.[1]?.replace(/^(--?[^=\s]+).*$/, "$1");
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new InputError("unknown option (see --help)", undefined, option ?? "arguments");
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return new InputError(/argument missing/.test(e.message) ? "missing value" : "takes no value", undefined, option ?? "arguments");
    default:
      return new InputError(e.message.split("\n")[0]!, undefined, option ?? "arguments");
  }
}

/** The same check as the library's `workers` option (checkWorkerCount), from the option's text. */
function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new InputError(`expected a whole number of workers from 1 to ${MAX_WORKERS}, got "${value}"`, undefined, "--workers");
  return checkWorkerCount(Number(value), "--workers");
}
