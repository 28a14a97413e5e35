/**
 * pevm as a user runs it: the CLI over the whole mainnet corpus, one process per mode and
 * round (`bun run pevm --json <every block> <mode>`), rounds interleaved so that a change in
 * the machine's load hits every mode alike. Per block and mode the best of the rounds is
 * kept; totals are the sums of the CLI's per-block `ms` (executeBlock only: loading, the
 * receipts root and the worker pool's start, which overlaps the first load, are not in it).
 *
 *   bun bench/cli-modes.ts [--rounds R] [--out FILE] [--cold [--all]]
 *
 * `--cold`: one process per block as well (`pevm --json <block> <mode>`), as a user runs pevm on
 * one block: every run starts with a cold runtime (nothing compiled yet, in any thread). Over
 * the 15 heaviest blocks, or every block with `--all`.
 *
 * Prints ratios over sequential and writes the per-block table as JSON.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { blockDirOf, corpusBlockNumbers } from "./peer/corpus.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";

const MODES: Record<string, string[]> = {
  sequential: ["--sequential"],
  "workers 1": ["--workers", "1"],
  "workers 2": ["--workers", "2"],
  automatic: [],
};

interface BlockRow {
  dir: string;
  number: string;
  ms: number;
  ok: boolean;
  mode: string;
  engine?: { modeReason?: string; reExecutions?: number };
}

function loadAverage(): string {
  return require("node:os").loadavg().map((v: number) => v.toFixed(2)).join(" ");
}

async function runCli(dirs: string[], flags: string[]): Promise<BlockRow[]> {
  const cli = join(import.meta.dir, "..", "src", "cli", "main.ts");
  const child = Bun.spawn([process.execPath, cli, "--json", ...dirs, ...flags], { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(child.stdout).text();
  const code = await child.exited;
  if (code !== 0) throw new Error(`pevm ${flags.join(" ")} exited ${code}`);
  return text.trim().split("\n").map((line) => JSON.parse(line) as BlockRow);
}

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string", default: "2" }, out: { type: "string" }, cold: { type: "boolean", default: false }, all: { type: "boolean", default: false } },
});
const rounds = Number(values.rounds);
const cold = values.cold!;
const heaviest = await heaviestBlocks();
const numbers = cold && !values.all ? [...heaviest].sort((a, b) => a - b) : await corpusBlockNumbers();
const dirs = numbers.map((n) => blockDirOf(n));
const loadAtStart = loadAverage();
console.error(`CLI over ${dirs.length} blocks, ${cold ? "one process per block and mode" : "one process per mode"}, ${rounds} rounds, load average at start ${loadAtStart}`);

/** One mode's rows: one process for all blocks, or (cold) one per block. */
async function runMode(flags: string[]): Promise<BlockRow[]> {
  if (!cold) return runCli(dirs, flags);
  const rows: BlockRow[] = [];
  for (const dir of dirs) rows.push(...(await runCli([dir], flags)));
  return rows;
}
const best = new Map<string, Map<string, BlockRow>>(Object.keys(MODES).map((m) => [m, new Map()]));
for (let round = 0; round < rounds; round++) {
  const order = Object.keys(MODES);
  for (let i = 0; i < order.length; i++) {
    const mode = order[(i + round) % order.length]!;
    const rows = await runMode(MODES[mode]!);
    for (const row of rows) {
      if (!row.ok) throw new Error(`${mode}: block ${row.number} does not match its header`);
      const known = best.get(mode)!.get(row.number);
      if (known === undefined || row.ms < known.ms) best.get(mode)!.set(row.number, row);
    }
    console.error(`round ${round + 1}: ${mode} done, load ${loadAverage()}`);
  }
}
const sequential = best.get("sequential")!;
const heavy = new Set(heaviest.map(String));
const summary: Record<string, { totalMs: number; speedup: number; heaviestSpeedup: number; blocksBelow095: string[]; blocksBelow095InParallel: string[]; slowest: string }> = {};
for (const [mode, rows] of best) {
  let total = 0;
  let seqTotal = 0;
  let heavyTotal = 0;
  let heavySeq = 0;
  const below: string[] = [];
  /** Of `below`, the blocks this mode ran in parallel (the others ran sequentially: the sequential code, in this process). */
  const belowInParallel: string[] = [];
  let slowest = { number: "", ratio: Infinity };
  for (const [number, row] of rows) {
    const seq = sequential.get(number)!.ms;
    total += row.ms;
    seqTotal += seq;
    if (heavy.has(number)) {
      heavyTotal += row.ms;
      heavySeq += seq;
    }
    const r = seq / row.ms;
    if (r < 0.95) {
      const label = `${number} (${r.toFixed(2)}x)`;
      below.push(label);
      if (row.mode === "parallel") belowInParallel.push(label);
    }
    if (r < slowest.ratio) slowest = { number, ratio: r };
  }
  summary[mode] = {
    totalMs: total,
    speedup: seqTotal / total,
    heaviestSpeedup: heavySeq / heavyTotal,
    blocksBelow095: below,
    blocksBelow095InParallel: belowInParallel,
    slowest: `${slowest.number} (${slowest.ratio.toFixed(2)}x)`,
  };
  console.log(
    `${mode.padEnd(10)} total ${total.toFixed(0).padStart(7)} ms  ${summary[mode].speedup.toFixed(2)}x  heaviest 15: ${summary[mode].heaviestSpeedup.toFixed(2)}x  below 0.95x: ${below.length} (${belowInParallel.length} run in parallel)  slowest ${summary[mode].slowest}`,
  );
}
const result = { date: new Date().toISOString(), loadAtStart, loadAtEnd: loadAverage(), rounds, oneProcessPerBlock: cold, summary, blocks: Object.fromEntries([...best].map(([m, rows]) => [m, Object.fromEntries(rows)])) };
if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
