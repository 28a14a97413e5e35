import { InputError } from "../chain/errors.ts";
import type { Fork } from "../chain/forks.ts";
import { parseForkName } from "../chain/forks.ts";

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

/** `pevm blocktest`: sequential unless --workers N forces the parallel engine. */
export interface BlocktestCommand {
  kind: "blocktest";
  paths: string[];
  workers: number | undefined;
  json: boolean;
}

export interface HelpCommand {
  kind: "help";
}

export type Command = BlockCommand | StateTestCommand | BlocktestCommand | HelpCommand;

export const USAGE = `usage:
  bun run pevm <block-dir>...            execute each block, compare with its header, print a table
    --sequential | --workers N           N forces the parallel engine with N workers; default automatic
    --fork NAME                          use this fork instead of the mainnet schedule (e.g. Cancun)
    --json                               one JSON object per block on stdout
    --state-root                         also compute the post-state root (needs a full pre-state)
    --dump-state FILE                    write the post-state in the pre_state.json format
    --bytecodes FILE --block-hashes FILE default: next to block.json, else two levels up
  bun run pevm statetest <file-or-dir>...  run ethereum/tests state tests, end with "N passed, N failed"
    --sequential | --workers N | --fork NAME (only that fork's cases) | --json (one line per case)
  bun run pevm blocktest <file-or-dir>...  run execution-spec-tests blockchain tests (.json or .json.gz),
                                         end with "N passed, N failed, N skipped, ..."
    --sequential (default) | --workers N (the parallel engine) | --json (one line per test)
exit codes: 0 all match, 1 a block or test differs, 2 bad input, 3 internal error`;

/** Parses argv (without the runtime and script). Throws InputError naming the bad option. */
export function parseArgs(argv: string[]): Command {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) return { kind: "help" };
  const isStateTest = argv[0] === "statetest";
  const isBlocktest = argv[0] === "blocktest";
  const rest = isStateTest || isBlocktest ? argv.slice(1) : argv;

  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const VALUE_OPTIONS = new Set(["--workers", "--fork", "--dump-state", "--bytecodes", "--block-hashes"]);
  const FLAG_OPTIONS = new Set(["--sequential", "--json", "--state-root"]);

  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    // Accept both "--fork Cancun" and "--fork=Cancun".
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (FLAG_OPTIONS.has(name)) {
      if (eq !== -1) throw new InputError(`takes no value`, undefined, name);
      flags.add(name);
    } else if (VALUE_OPTIONS.has(name)) {
      const value = eq === -1 ? rest[++i] : arg.slice(eq + 1);
      if (value === undefined || value === "") throw new InputError("missing value", undefined, name);
      values.set(name, value);
    } else {
      throw new InputError(`unknown option (see --help)`, undefined, name);
    }
  }

  const sequential = flags.has("--sequential");
  const workers = parseWorkers(values.get("--workers"));
  if (sequential && workers !== undefined) throw new InputError("--sequential and --workers exclude each other", undefined, "--workers");
  if (positional.length === 0) {
    const what = isStateTest ? "state test file or directory" : isBlocktest ? "blockchain test file or directory" : "block directory";
    throw new InputError(`no ${what} given`, undefined, "arguments");
  }

  if (isBlocktest) {
    for (const name of ["--state-root", "--dump-state", "--bytecodes", "--block-hashes", "--fork"]) {
      if (flags.has(name) || values.has(name)) throw new InputError("not supported by blocktest", undefined, name);
    }
    return { kind: "blocktest", paths: positional, workers, json: flags.has("--json") };
  }

  if (isStateTest) {
    for (const name of ["--state-root", "--dump-state", "--bytecodes", "--block-hashes"]) {
      if (flags.has(name) || values.has(name)) throw new InputError("not supported by statetest", undefined, name);
    }
    const fork = values.get("--fork");
    if (fork !== undefined) parseForkName(fork); // rejects an unknown name up front
    return { kind: "statetest", paths: positional, sequential, workers, fork, json: flags.has("--json") };
  }

  const forkValue = values.get("--fork");
  const dumpState = values.get("--dump-state");
  if (dumpState !== undefined && positional.length > 1) {
    throw new InputError("needs exactly one block directory (the post-state of one block)", undefined, "--dump-state");
  }
  return {
    kind: "blocks",
    dirs: positional,
    sequential,
    workers,
    fork: forkValue === undefined ? undefined : parseForkName(forkValue),
    json: flags.has("--json"),
    stateRoot: flags.has("--state-root"),
    dumpState,
    bytecodes: values.get("--bytecodes"),
    blockHashes: values.get("--block-hashes"),
  };
}

function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,3}$/.test(value)) throw new InputError(`expected a positive worker count, got "${value}"`, undefined, "--workers");
  return Number(value);
}
