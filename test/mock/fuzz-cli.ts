/**
 * `bun run fuzz --blocks N --seed S [options]`: the differential fuzzer (see fuzz-run.ts and
 * the usage text below). Exit code 0 when every block agreed, 1 on a difference (after
 * printing it and writing the block), 2 on bad arguments.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { closeEngines, forkName, InputError, loadBlockDir, parseForkName } from "../../src/index.ts";
import { DEFAULT_MAX_TXS, FUZZ_FORKS, knobsJson } from "./fuzz.ts";
import { compareModes, FuzzGeneratorError, fuzzArguments, replayCommands, runFuzz, type FuzzBlockReport, type FuzzRunOptions, type FuzzSummary } from "./fuzz-run.ts";

const USAGE = `usage: bun run fuzz --blocks N --seed S [options]
       bun run fuzz --replay DIR [--workers N] [--runs K]
  --replay DIR        run a written block (fuzz-failures/<seed>-<i>, or any corpus directory)
                      sequentially and K times (default 10) in parallel, and compare; the
                      worker count defaults to the one in DIR/fuzz.json, else 2
  --blocks N          blocks to run (default 100)
  --seed S            run seed, a 32-bit integer (default: random, printed)
  --from I            index of the first block (default 0): --from I --blocks 1 replays block I
  --workers-min A     parallel runs use A..B workers, drawn per block (default 1..8)
  --workers-max B
  --max-txs M         largest block (default ${DEFAULT_MAX_TXS})
knobs drawn per block unless fixed here:
  --fork NAME         London, Paris, Shanghai, Cancun, Prague, Osaka or BPO2
  --conflict-rate R   share of transactions aimed at hot accounts, slots, pools (0..1)
  --hot-accounts N    how many hot accounts
  --sender-share R    distinct senders per transaction (0..1; small: long nonce chains)
  --invalid-rate R    chance of an invalid transaction or too little block gas (default 0.06)
  --failures DIR      where a differing block is written (default fuzz-failures)
  --keep-going        do not stop at the first difference`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number, min: number, max = 2 ** 32 - 1): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) fail(`--${name} must be an integer in ${min}..${max}, got ${text}`);
  return value;
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      blocks: { type: "string" },
      seed: { type: "string" },
      from: { type: "string" },
      "workers-min": { type: "string" },
      "workers-max": { type: "string" },
      "max-txs": { type: "string" },
      fork: { type: "string" },
      "conflict-rate": { type: "string" },
      "hot-accounts": { type: "string" },
      "sender-share": { type: "string" },
      "invalid-rate": { type: "string" },
      failures: { type: "string" },
      "keep-going": { type: "boolean" },
      replay: { type: "string" },
      workers: { type: "string" },
      runs: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
}
try {
  args = parse();
} catch (error) {
  fail((error as Error).message);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}

const v = args.values;
if (v.replay !== undefined) process.exit(await replay(v.replay));

/** `--replay DIR`: the block as written, whatever the generator makes of its seed today. */
async function replay(dir: string): Promise<number> {
  const aboutFile = join(dir, "fuzz.json");
  const about = existsSync(aboutFile) ? (JSON.parse(readFileSync(aboutFile, "utf8")) as { workers?: number; delayMicros?: number }) : {};
  const workers = integer("workers", v.workers, about.workers ?? 2, 1, 64);
  const runs = integer("runs", v.runs, 10, 1);
  let loaded: ReturnType<typeof loadBlockDir>;
  try {
    loaded = loadBlockDir(dir);
  } catch (error) {
    if (error instanceof InputError) fail(error.message);
    throw error;
  }
  const { block, storage } = loaded;
  let failed = 0;
  try {
    for (let run = 1; run <= runs; run++) {
      const comparison = await compareModes(block, storage, workers, about.delayMicros ?? 0);
      const verdict = comparison.differences.length === 0 ? "equal" : `DIFFERENT, first: ${comparison.differences[0]}`;
      console.log(`run ${run}/${runs}, ${workers} workers: ${comparison.invalid ?? "valid"}, ${comparison.reExecutions} re-executions, ${verdict}`);
      if (comparison.differences.length > 0) failed++;
    }
  } finally {
    await closeEngines();
  }
  console.log(`${dir}: ${failed} of ${runs} parallel runs differ from sequential`);
  return failed > 0 ? 1 : 0;
}

const seed = integer("seed", v.seed, Math.floor(Math.random() * 2 ** 32), 0);
const blocks = integer("blocks", v.blocks, 100, 1);
const from = integer("from", v.from, 0, 0);
const workersMin = integer("workers-min", v["workers-min"], 1, 1, 64);
const workersMax = integer("workers-max", v["workers-max"], Math.max(8, workersMin), workersMin, 64);
const maxTxs = integer("max-txs", v["max-txs"], DEFAULT_MAX_TXS, 1, 10_000);
const failuresDir = v.failures ?? "fuzz-failures";

function rate(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) fail(`--${name} must be a number in 0..1, got ${text}`);
  return value;
}

function fork(text: string | undefined): FuzzRunOptions["fork"] {
  if (text === undefined) return undefined;
  try {
    const chosen = parseForkName(text);
    if ((FUZZ_FORKS as readonly number[]).includes(chosen)) return chosen;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
  }
  fail(`--fork must be one of ${FUZZ_FORKS.map(forkName).join(", ")}, got ${text}`);
}

const options: Omit<FuzzRunOptions, "blocks"> = {
  seed,
  workersMin,
  workersMax,
  maxTxs,
  fork: fork(v.fork),
  conflictRate: rate("conflict-rate", v["conflict-rate"]),
  hotAccounts: v["hot-accounts"] === undefined ? undefined : integer("hot-accounts", v["hot-accounts"], 1, 1, 64),
  senderShare: rate("sender-share", v["sender-share"]),
  invalidRate: rate("invalid-rate", v["invalid-rate"]),
};

console.log(`fuzz: blocks ${from}..${from + blocks - 1}, ${fuzzArguments(options)} (workers ${workersMin}-${workersMax}, up to ${maxTxs} txs per block)`);

const progressEvery = Math.max(1, Math.min(100, Math.floor(blocks / 20)));

function progress(summary: FuzzSummary): string {
  const perBlock = summary.ms / summary.blocks;
  return `${summary.blocks}/${blocks} blocks, ${summary.transactions} txs, ${summary.differences} differences, ${summary.reExecutions} re-executions, ${(summary.ms / 1000).toFixed(1)} s (${perBlock.toFixed(0)} ms/block)`;
}

function reportDifference(report: FuzzBlockReport): void {
  console.log(`\nDIFFERENCE at block ${report.index} of seed ${seed}: block seed ${report.blockSeed}, ${report.workers} workers, delay up to ${report.delayMicros} us`);
  console.log(`  ${report.fork}, ${report.txs} txs, knobs ${JSON.stringify(knobsJson(report.fuzz.knobs))}`);
  console.log(`  first difference: ${report.differences[0]}`);
  for (const line of report.differences.slice(1, 10)) console.log(`  ${line}`);
  if (report.differences.length > 10) console.log(`  … and ${report.differences.length - 10} more`);
  if (report.failureDir !== undefined) console.log(`  block written to ${report.failureDir}/ (fuzz.json says how it was run)`);
  console.log(`  replay:\n    ${replayCommands(options, report).join("\n    ")}`);
}

let summary: FuzzSummary;
try {
  summary = await run();
} catch (error) {
  if (!(error instanceof FuzzGeneratorError)) throw error;
  console.error(error.message);
  process.exit(2);
} finally {
  await closeEngines();
}

function run(): Promise<FuzzSummary> {
  return runFuzz({
    ...options,
    blocks,
    from,
    failuresDir,
    stopOnDifference: !v["keep-going"],
    onBlock(report, running) {
      if (report.differences.length > 0) reportDifference(report);
      if (running.blocks % progressEvery === 0 || running.blocks === blocks) console.log(progress(running));
    },
  });
}

const forks = Object.entries(summary.forks).map(([fork, n]) => `${fork} ${n}`).join(", ");
const kinds = Object.entries(summary.kinds).map(([kind, n]) => `${kind} ${n}`).join(", ");
const workers = summary.workers.map((n, w) => (n ? `${w}w ${n}` : "")).filter(Boolean).join(", ");
console.log(
  `\n${summary.blocks} blocks, ${summary.transactions} transactions, ${summary.differences} differences` +
    `\n  re-executions ${summary.reExecutions} (in ${summary.blocksWithReExecutions} blocks), invalid blocks ${summary.invalidBlocks} (same error in both modes), sequential fallbacks ${summary.fallbacks}` +
    `\n  invalid blocks by reason: ${Object.entries(summary.invalidReasons).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none"}` +
    `\n  forks: ${forks}\n  kinds: ${kinds}\n  tx types 0/1/2/3/4: ${summary.txTypes.join("/")}\n  workers: ${workers}` +
    `\n  time ${(summary.ms / 1000).toFixed(1)} s, ${(summary.ms / summary.blocks).toFixed(0)} ms per block (seed ${seed})`,
);
process.exit(summary.differences > 0 ? 1 : 0);
