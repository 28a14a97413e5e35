/** bench/results/latest.md: the tables a reader looks at first, in the style of RISE pevm's bench README. */
import type { CeilingReport } from "../ceiling.ts";
import { MAX_RUNS, MIN_TIMED_MS, type CorpusReport } from "../corpus.ts";
import { DISTURBED_STEAL_SHARE, disturbed } from "../evm-ceiling.ts";
import type { GigagasResult } from "../gigagas.ts";
import { check, grouped, mgas, ms, percent, times } from "./format.ts";
import { median } from "./stats.ts";
import type { BenchResults } from "./types.ts";

function table(header: string[], rows: string[][], align: ("l" | "r")[]): string {
  const rule = align.map((a) => (a === "r" ? "---:" : "---"));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

function machineSection(r: BenchResults): string {
  const m = r.machine;
  const loadLine = (label: string, s?: { loadAverage: number[]; uptime: string }) =>
    s ? `- load ${label}: ${s.loadAverage.join(", ")} (1/5/15 min) — \`${s.uptime}\`` : "";
  return [
    `- ${r.quick ? "**quick run**" : "full run"} (\`bun ${r.argv.join(" ")}\`), ${m.date}, ${r.wallSeconds.toFixed(0)} s wall`,
    `- CPU: ${m.cpuModel}, ${m.cores} cores (${m.allowedCores} usable), native helper ${m.nativeHelper ? "loaded" : "absent"}`,
    `- Bun ${m.bunVersion} (${m.bunRevision.slice(0, 9)}), ${m.platform}; git ${m.gitCommit.slice(0, 10)}${m.gitDirty ? " + uncommitted changes" : ""}`,
    loadLine("at start", r.load.start),
    loadLine("at end", r.load.end),
    r.load.start.loadAverage[0]! > 0.5
      ? `- **This run started at a load average of ${r.load.start.loadAverage[0]} (above 0.5): other work shared the cores, and its ratios are not a headline.**`
      : `- Started on a quiet machine (load average ${r.load.start.loadAverage[0]} at start).`,
    r.stolen && Object.keys(r.stolen).length > 0
      ? `- CPU time the hypervisor gave to others: ${Object.entries(r.stolen)
          .map(([section, s]) => `${ms(s.stolenMs)} ms during the ${section} (${percent(s.stolenMs / (s.wallMs * m.cores), 2)} of its CPU time)`)
          .join(", ")}`
      : "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}

function corpusSection(corpus: CorpusReport): string {
  const { blocks, totals, options } = corpus;
  const rows = blocks.map((b) => [
    String(b.number),
    b.fork,
    String(b.txs),
    grouped(b.gas),
    ms(b.modes.sequential.medianMs),
    ms(b.modes.parallel.medianMs),
    times(b.speedup.parallel),
    `${ms(b.modes.parallel1.medianMs)} (${times(b.speedup.parallel1)})`,
    `${ms(b.modes.auto.medianMs)} ${b.modes.auto.mode.mode === "parallel" ? "(par)" : "(seq)"} ${times(b.speedup.auto)}`,
    ms(b.ethereumjs?.medianMsWithoutStateRoot),
    times(b.speedup.sequentialOverEthereumjs),
    String(median(b.modes.parallel.reExecutions) || 0),
    b.modes.parallel.fallback === null ? "" : "yes",
    b.ok ? "ok" : `**FAIL** (gas ${check(b.checks.gas)}, receipts ${check(b.checks.receiptsRoot)}, modes ${check(b.checks.modesAgree)}, ejs ${check(b.checks.ethereumjs)})`,
  ]);
  const t = totals;
  const summary = table(
    ["", "sequential", "parallel (2 workers)", "parallel (1 worker)", "auto", "ethereumjs (less state root)"],
    [
      ["total ms", ms(t.ms.sequential), ms(t.ms.parallel), ms(t.ms.parallel1), ms(t.ms.auto), ms(t.ms.ethereumjs)],
      ["total Mgas/s", mgas(t.mgasPerSecond.sequential), mgas(t.mgasPerSecond.parallel), mgas(t.mgasPerSecond.parallel1), mgas(t.mgasPerSecond.auto), mgas(t.mgasPerSecond.ethereumjs)],
      [
        "speedup of totals (vs sequential)",
        "1.00x",
        times(t.speedupOfTotals.parallel),
        times(t.speedupOfTotals.parallel1),
        times(t.speedupOfTotals.auto),
        `sequential is ${times(t.speedupOfTotals.sequentialOverEthereumjs)} faster`,
      ],
      [
        "geometric mean of per-block speedups",
        "1.00x",
        times(t.geometricMeanSpeedup.parallel),
        times(t.geometricMeanSpeedup.parallel1),
        times(t.geometricMeanSpeedup.auto),
        `sequential is ${times(t.geometricMeanSpeedup.sequentialOverEthereumjs)} faster`,
      ],
      [`speedup of totals, ${t.heaviest.blocks.length} heaviest blocks`, "1.00x", times(t.heaviest.parallel), "", times(t.heaviest.auto), ""],
    ],
    ["l", "r", "r", "r", "r", "r"],
  );
  return [
    `## Mainnet corpus (${totals.blocks} blocks, ${grouped(totals.gas)} gas)`,
    "",
    `Median of ${options.runs} timed runs per block (more for a short block: enough for ${MIN_TIMED_MS} ms per mode, at most ${MAX_RUNS}) after ${options.warmups} warm-up, modes interleaved; ` +
      "each timed run comes right after an untimed run of the same mode, as in a process that runs block after block in one mode. " +
      "ethereumjs is `@ethereumjs/vm` `runBlock` less the state-root hashing it always does (pevm computes none). " +
      "Speedup = sequential ms / parallel ms; `seq vs ejs` = ethereumjs ms / sequential ms.",
    "",
    table(
      ["block", "fork", "txs", "gas", "sequential ms", "2 workers ms", "speedup", "1 worker ms", "auto ms", "ethereumjs ms", "seq vs ejs", "re-exec", "fallback", "checks"],
      rows,
      ["r", "l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l", "l"],
    ),
    "",
    summary,
    "",
    `- slowest parallel block: ${totals.slowestParallelBlock.number} at ${times(totals.slowestParallelBlock.speedup)}; ` +
      `below 0.95x: ${totals.parallelBelow095.length === 0 ? "none" : totals.parallelBelow095.join(", ")}`,
    `- slowest block under the automatic choice: ${totals.slowestAutoBlock.number} at ${times(totals.slowestAutoBlock.speedup)}; ` +
      `below 0.95x: ${totals.autoBelow095.length === 0 ? "none" : totals.autoBelow095.join(", ")}` +
      (totals.autoBelow095.length === 0 ? "" : ` (run in parallel: ${totals.autoBelow095InParallel.length === 0 ? "none" : totals.autoBelow095InParallel.join(", ")}; the rest ran the sequential code)`),
    `- auto ran sequentially: ${totals.autoSequential.length === 0 ? "none" : totals.autoSequential.map((a) => `${a.number} (${a.reason})`).join("; ")}`,
    `- engine fell back to sequential: ${totals.fallbacks.length === 0 ? "none" : totals.fallbacks.map((f) => `${f.number} (${f.reason})`).join("; ")}`,
    `- re-executions (sum of per-block medians, 2 workers): ${totals.reExecutions}`,
    `- not timed above: loading ${ms(totals.loadMs)} ms, copy into shared memory ${ms(totals.shareMs)} ms, receipts roots ${ms(totals.receiptsRootMs)} ms (corpus totals)`,
    `- results: ${totals.failed.length === 0 ? "every block matched its header (gas; receipts root from Byzantium on, logs bloom before) and every run equalled the sequential result" : `**MISMATCH in ${totals.failed.join(", ")}**`}`,
  ].join("\n");
}

function gigagasSection(results: GigagasResult[]): string {
  const rows = results.map((r) => [
    r.kind,
    grouped(r.txs),
    grouped(r.gas),
    ms(r.modes.sequential.medianMs),
    mgas(r.modes.sequential.mgasPerSecond),
    ms(r.modes.parallel.medianMs),
    mgas(r.modes.parallel.mgasPerSecond),
    times(r.speedup),
    String(median(r.modes.parallel.reExecutions) || 0),
    r.ok ? "ok" : `**FAIL** (succeeded ${check(r.checks.allSucceeded)}, parallel = sequential ${check(r.checks.parallelAgrees)})`,
  ]);
  const scale = results[0]?.scale ?? 1;
  return [
    `## Gigagas blocks${scale === 1 ? "" : ` (scale ${scale}: ${percent(scale)} of 1 Ggas)`}`,
    "",
    "Mocked blocks on real contracts (test/mock). Generation, loading and the shared-memory copy are not timed; each timed run comes right after an untimed run of the same mode.",
    "",
    table(
      ["block", "txs", "gas", "sequential ms", "seq Mgas/s", "parallel ms", "par Mgas/s", "speedup", "re-exec", "checks"],
      rows,
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "l"],
    ),
  ].join("\n");
}

function ceilingSection(before?: CeilingReport, after?: CeilingReport): string {
  const rows: string[][] = [];
  for (const [when, report] of [["before", before], ["after", after]] as const) {
    if (!report) continue;
    for (const r of report.results) {
      rows.push([when, r.work, ...report.workerCounts.map((n) => `${ms(r.medianMs[n])} ms (${times(r.speedup[n])})`)]);
    }
  }
  const counts = (before ?? after)?.workerCounts ?? [1, 2];
  return [
    "## The machine's ceiling",
    "",
    "The same total of pure, independent CPU work (chained keccak-256; a xorshift loop) split over n Bun Workers: " +
      "the best speedup any parallel executor can get on this machine under its current load.",
    "",
    table(["measured", "work", ...counts.map((n) => `${n} worker${n === 1 ? "" : "s"}`)], rows, ["l", "l", ...counts.map(() => "r" as const)]),
  ].join("\n");
}

function evmCeilingSection(r: BenchResults): string {
  const e = r.evmCeiling;
  if (!e) return "";
  return [
    "## The EVM ceiling",
    "",
    `n Bun Workers each run pevm's sequential executor over the ${e.blocks.length} heaviest corpus blocks (their own copies, no Block-STM); ` +
      "n workers do n times the work of one, so the ceiling is n × t(1) / t(n): what any parallel executor on this interpreter can get here. " +
      `Each round runs every worker count once; the ceiling is the median of the rounds' own ratios (${e.roundsUsed ?? e.repeats} of ${e.repeats} rounds, measured before and after the corpus). ` +
      `Stolen ms is CPU time the hypervisor gave to others during the round; a round that lost more than ${percent(DISTURBED_STEAL_SHARE)} of the CPU time to it is left out of the medians while at least half the rounds remain.`,
    "",
    table(
      ["", ...e.workerCounts.map((n) => `${n} worker${n === 1 ? "" : "s"}`)],
      [
        ["median round ms", ...e.workerCounts.map((n) => ms(e.medianMs[n]))],
        ["ceiling", ...e.workerCounts.map((n) => times(e.ceiling[n]))],
      ],
      ["l", ...e.workerCounts.map(() => "r" as const)],
    ),
    "",
    table(
      ["round", "measured", ...e.workerCounts.map((n) => `${n} worker${n === 1 ? "" : "s"} ms`), "2-worker ceiling", "stolen ms", ""],
      (e.rounds ?? []).map((r, i) => [
        String(i + 1),
        r.placement,
        ...e.workerCounts.map((n) => ms(r.ms[n])),
        times(r.ceiling[2]),
        ms(r.stolenMs),
        disturbed(r) ? "disturbed" : "",
      ]),
      ["r", "l", ...e.workerCounts.map(() => "r" as const), "r", "r", "l"],
    ),
  ].join("\n");
}

function blockBoundSection(r: BenchResults): string {
  const b = r.blockBounds;
  if (!b) return "";
  const c = r.evmCeiling?.twoWorkerCeiling ?? Number.NaN;
  return [
    "## The blocks' own bound",
    "",
    "The table shows the heaviest blocks; latest.json has every block measured.",
    "",
    "A transaction that reads what an earlier one wrote cannot finish before it, on any number of cores: each block's heaviest " +
      "chain of such transactions (sequential times, warm, median of " +
      `${b.rounds} passes; bench/block-bound.ts) bounds its parallel time from below, and so does its sequential time divided by the EVM ceiling. ` +
      `Together (sums of times), with 2 workers against a ${times(c)} EVM ceiling: at most ${times(b.boundedSpeedup)} over the ${b.heaviest.length} heaviest blocks` +
      (b.corpusBoundedSpeedup === undefined ? "." : `, at most ${times(b.corpusBoundedSpeedup)} over the corpus blocks measured.`),
    "",
    table(
      ["block", "txs", "sequential ms", "longest tx ms", "chain ms", "chain txs", "at most"],
      b.blocks
        .filter((x) => b.heaviest.includes(x.block))
        .map((x) => [
          String(x.block),
          String(x.txs),
          ms(x.totalMs),
          ms(x.longestTxMs),
          ms(x.chainMs),
          String(x.chainTxs),
          times(Math.min(x.chainBound, c)),
        ]),
      ["r", "r", "r", "r", "r", "r", "r"],
    ),
  ].join("\n");
}

function aimsSection(r: BenchResults): string {
  const lines = [
    "## Aims",
    "",
    table(
      ["aim", "measured", "met"],
      r.aims.map((a) => [a.aim, a.measured, a.met === null ? "n/a" : a.met ? "yes" : "no"]),
      ["l", "l", "l"],
    ),
  ];
  if (r.ofEvmCeiling) {
    const g = Object.entries(r.ofEvmCeiling.gigagas).map(([k, v]) => `${k} ${percent(v)}`).join(", ");
    lines.push(
      "",
      `As a fraction of the 2-worker EVM ceiling: corpus total ${percent(r.ofEvmCeiling.corpusTotal)}, ` +
        `the heaviest blocks ${percent(r.ofEvmCeiling.heaviest)}${g ? `; gigagas ${g}` : ""}.`,
    );
  }
  if (r.ofBlockBound) {
    lines.push(
      "",
      `As a fraction of what the blocks' own chains and the EVM ceiling allow: 2 workers ${percent(r.ofBlockBound.heaviest)} on the heaviest blocks, ` +
        `${percent(r.ofBlockBound.corpusTotal)} over the corpus total; the automatic choice ${percent(r.ofBlockBound.corpusTotalAuto)} over the corpus total.`,
    );
  }
  if (r.ofCeiling) {
    const g = Object.entries(r.ofCeiling.gigagas).map(([k, v]) => `${k} ${percent(v)}`).join(", ");
    lines.push(
      "",
      `As a fraction of the alloc-free 2-worker ceiling: corpus geometric mean ${percent(r.ofCeiling.corpusGeometricMean)}, ` +
        `corpus total ${percent(r.ofCeiling.corpusTotal)}${g ? `; gigagas ${g}` : ""}.`,
    );
  }
  return lines.join("\n");
}

function microSection(r: BenchResults): string {
  if (!r.micro || r.micro.length === 0) return "";
  return [
    "## Micro-benchmarks",
    "",
    ...r.micro.map((m) => `- \`${m.file}\`: ${m.exitCode === 0 ? "ok" : `exit ${m.exitCode}`}, ${ms(m.ms)} ms — output in \`${m.output}\``),
  ].join("\n");
}

export function renderMarkdown(r: BenchResults): string {
  const sections = [
    "# pevm benchmark results",
    machineSection(r),
    aimsSection(r),
    r.corpus ? corpusSection(r.corpus) : "",
    r.gigagas ? gigagasSection(r.gigagas) : "",
    evmCeilingSection(r),
    blockBoundSection(r),
    ceilingSection(r.ceiling.before, r.ceiling.after),
    microSection(r),
    r.corpus ? "![per-block speedup and Mgas/s](speedup.svg)" : "",
  ];
  return `${sections.filter((s) => s !== "").join("\n\n")}\n`;
}
