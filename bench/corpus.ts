/**
 * The mainnet corpus (data/mainnet): every block sequential, parallel (2 workers), the
 * automatic choice, and @ethereumjs/vm runBlock, each the median of k timed runs after a
 * warm-up. Loading, copying into shared memory and the receipts root are timed apart.
 *
 *   bun bench/corpus.ts [--runs K] [--no-ethereumjs] [block numbers...]
 */
import { closeEngines, forkName, loadBlockDir, receiptsRoot, type BlockResult } from "../src/index.ts";
import { Fork } from "../src/chain/forks.ts";
import { shareBlock, shareStorage } from "../src/parallel/prepare.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf, corpusBlockNumbers } from "./peer/corpus.ts";
import { checkPeerRun, loadPeerBlock, runPeerBlock } from "./peer/ethereumjs-vm.ts";
import { measureModes, runMode, sameResult, type ModeSummary, type PevmMode } from "./report/measure.ts";
import { collectGarbage, geometricMean, median, mgasPerSecond, ratio, sum, timed } from "./report/stats.ts";

export const CORPUS_MODES: readonly PevmMode[] = ["sequential", "parallel", "parallel1", "auto"];

export interface EthereumjsSummary {
  runsMs: number[];
  medianMs: number;
  /** runBlock always hashes the state root (after every tx before Byzantium); pevm does not. */
  medianStateRootMs: number;
  /** The figure compared with pevm: runBlock less its state-root hashing. */
  medianMsWithoutStateRoot: number;
  medianCpuMs: number;
  mgasPerSecond: number;
  /** Building its state trie and VM and recovering senders, per run (a run consumes its state). Not timed into ms. */
  medianLoadMs: number;
  /** Runs (warm-up included) whose gas or receipts differed from the header. */
  mismatches: number;
}

export interface CorpusBlockResult {
  number: number;
  fork: string;
  txs: number;
  gas: number;
  /** Reading and parsing block.json and pre_state.json. */
  loadMs: number;
  /** The one-time copy of the pre-state and block into shared memory. */
  shareMs: number;
  /** Hashing the receipts trie of one result (the check, not part of execution). */
  receiptsRootMs: number;
  checks: {
    gas: boolean;
    /** From Byzantium on; null before (receipts commit to intermediate state roots). */
    receiptsRoot: boolean | null;
    logsBloom: boolean | null;
    /** Every run of every pevm mode produced the sequential warm-up's exact result. */
    modesAgree: boolean;
    /** null when ethereumjs was not run. */
    ethereumjs: boolean | null;
  };
  ok: boolean;
  modes: Record<PevmMode, ModeSummary>;
  ethereumjs: EthereumjsSummary | null;
  /** Ratios of median times: sequential over parallel / auto; ethereumjs (less state root) over sequential. */
  speedup: { parallel: number; parallel1: number; auto: number; sequentialOverEthereumjs: number | null };
}

export interface CorpusOptions {
  runs: number;
  warmups: number;
  ethereumjs: boolean;
  blocks?: number[];
  everySecondBlock?: boolean;
}

async function measureEthereumjs(number: number, options: CorpusOptions, gas: number): Promise<EthereumjsSummary> {
  const runs: { ms: number; cpuMs: number; stateRootMs: number; loadMs: number }[] = [];
  let mismatches = 0;
  for (let i = 0; i < options.warmups + options.runs; i++) {
    const load = await timed(async () => {
      const loaded = await loadPeerBlock(blockDirOf(number));
      // pevm takes each sender from the block JSON and recovers none; ethereumjs caches the
      // recovered sender on its frozen txs, so recovering here keeps ecrecover out of both timings.
      for (const tx of loaded.block.transactions) tx.getSenderAddress();
      return loaded;
    });
    await collectGarbage();
    const run = await runPeerBlock(load.value);
    const check = checkPeerRun(load.value, run);
    if (!check.gasOk || !check.receiptsOk) mismatches++;
    if (i >= options.warmups) runs.push({ ms: run.ms, cpuMs: run.cpuMs, stateRootMs: run.stateRootMs, loadMs: load.ms });
  }
  const medianMs = median(runs.map((r) => r.ms));
  const medianMsWithoutStateRoot = median(runs.map((r) => r.ms - r.stateRootMs));
  return {
    runsMs: runs.map((r) => r.ms),
    medianMs,
    medianStateRootMs: median(runs.map((r) => r.stateRootMs)),
    medianMsWithoutStateRoot,
    medianCpuMs: median(runs.map((r) => r.cpuMs)),
    mgasPerSecond: mgasPerSecond(gas, medianMsWithoutStateRoot),
    medianLoadMs: median(runs.map((r) => r.loadMs)),
    mismatches,
  };
}

async function checkAgainstHeader(result: BlockResult, expected: { gasUsed?: bigint; receiptsRoot?: string; logsBloom?: string }) {
  const rootCheckable = result.fork >= Fork.Byzantium;
  const root = await timed(() => (rootCheckable ? receiptsRoot(result.receipts) : Promise.resolve(null)));
  const same = (a: string, b: string | undefined) => (b === undefined ? null : a.toLowerCase() === b.toLowerCase());
  return {
    receiptsRootMs: root.ms,
    gas: result.gasUsed === expected.gasUsed,
    receiptsRoot: root.value === null ? null : same(root.value, expected.receiptsRoot),
    logsBloom: same(result.logsBloom, expected.logsBloom),
  };
}

/** A short block's runs add up to at least this many ms per mode (up to MAX_RUNS runs). */
export const MIN_TIMED_MS = 200;
export const MAX_RUNS = 15;

/**
 * Timed runs per mode for a block whose sequential warm-up took `warmMs`: `runs`, or more for
 * a short block, whose median of three is mostly noise. Same code twice (sequential against
 * sequential, 30 interleaved runs each, 2026-12-03 16:00 UTC) differed by up to 24 % on a
 * 0.01 ms block and 6 % on a 1.3 ms one, and the corpus has 16 blocks under 15 ms, where a
 * 0.95x threshold is otherwise a coin toss.
 */
export function runsFor(warmMs: number, runs: number): number {
  return Math.max(runs, Math.min(MAX_RUNS, Math.ceil(MIN_TIMED_MS / Math.max(warmMs, 0.001))));
}

export async function measureCorpusBlock(number: number, options: CorpusOptions): Promise<CorpusBlockResult> {
  const load = await timed(() => loadBlockDir(blockDirOf(number)));
  const { block, storage } = load.value;
  const share = await timed(() => {
    shareStorage(storage);
    shareBlock(block);
  });
  const gas = Number(block.header.expected.gasUsed ?? 0n);

  // Warm-up: the sequential result is the reference every later run must reproduce.
  let reference: BlockResult | undefined;
  let warmupMismatches = 0;
  let sequentialWarmMs = Infinity;
  for (let i = 0; i < options.warmups || reference === undefined; i++) {
    for (const mode of CORPUS_MODES) {
      const { value: result, ms } = await timed(() => runMode(block, storage, mode));
      if (mode === "sequential") sequentialWarmMs = Math.min(sequentialWarmMs, ms);
      if (reference === undefined) reference = result;
      else if (!sameResult(reference, result)) warmupMismatches++;
    }
  }
  const header = await checkAgainstHeader(reference!, block.header.expected);
  const runs = runsFor(sequentialWarmMs, options.runs);
  const modes = await measureModes(block, storage, CORPUS_MODES, runs, gas, reference!);
  const ethereumjs = options.ethereumjs ? await measureEthereumjs(number, options, gas) : null;

  const modesAgree = warmupMismatches === 0 && CORPUS_MODES.every((m) => modes[m].mismatches === 0);
  const checks = {
    gas: header.gas,
    receiptsRoot: header.receiptsRoot,
    logsBloom: header.logsBloom,
    modesAgree,
    ethereumjs: ethereumjs === null ? null : ethereumjs.mismatches === 0,
  };
  return {
    number,
    fork: forkName(reference!.fork),
    txs: block.transactions.length,
    gas,
    loadMs: load.ms,
    shareMs: share.ms,
    receiptsRootMs: header.receiptsRootMs,
    checks,
    ok: Object.values(checks).every((c) => c !== false),
    modes,
    ethereumjs,
    speedup: {
      parallel: ratio(modes.sequential.medianMs, modes.parallel.medianMs),
      parallel1: ratio(modes.sequential.medianMs, modes.parallel1.medianMs),
      auto: ratio(modes.sequential.medianMs, modes.auto.medianMs),
      sequentialOverEthereumjs: ethereumjs === null ? null : ratio(ethereumjs.medianMsWithoutStateRoot, modes.sequential.medianMs),
    },
  };
}

export interface CorpusTotals {
  blocks: number;
  gas: number;
  /** Sums of per-block medians. */
  ms: { sequential: number; parallel: number; parallel1: number; auto: number; ethereumjs: number | null; ethereumjsWithStateRoot: number | null };
  mgasPerSecond: { sequential: number; parallel: number; parallel1: number; auto: number; ethereumjs: number | null };
  /** Total time over total time: big blocks weigh more. */
  speedupOfTotals: { parallel: number; parallel1: number; auto: number; sequentialOverEthereumjs: number | null };
  /** Geometric mean of per-block ratios: every block weighs the same. */
  geometricMeanSpeedup: { parallel: number; parallel1: number; auto: number; sequentialOverEthereumjs: number | null };
  /** Speedup of totals over the 15 corpus blocks with the most gas (those measured). */
  heaviest: { blocks: number[]; parallel: number; auto: number };
  slowestParallelBlock: { number: number; speedup: number };
  slowestAutoBlock: { number: number; speedup: number };
  /** Blocks where 2 workers were slower than 0.95x sequential. */
  parallelBelow095: number[];
  /** Blocks where the automatic choice was slower than 0.95x sequential. */
  autoBelow095: number[];
  /**
   * Of autoBelow095, those the automatic choice ran in parallel. The others ran the very code
   * of the sequential column, so their ratio is run-to-run spread (or the process state that
   * parallel runs of other blocks left), not a wrong choice.
   */
  autoBelow095InParallel: number[];
  /** Blocks the automatic choice ran sequentially, with its reason. */
  autoSequential: { number: number; reason: string }[];
  loadMs: number;
  shareMs: number;
  receiptsRootMs: number;
  reExecutions: number;
  fallbacks: { number: number; reason: string }[];
  failed: number[];
}

export function corpusTotals(blocks: CorpusBlockResult[], heaviest: number[] = []): CorpusTotals {
  const total = (mode: PevmMode) => sum(blocks.map((b) => b.modes[mode].medianMs));
  const withEthereumjs = blocks.every((b) => b.ethereumjs !== null) && blocks.length > 0;
  const ethereumjs = withEthereumjs ? sum(blocks.map((b) => b.ethereumjs!.medianMsWithoutStateRoot)) : null;
  const gas = sum(blocks.map((b) => b.gas));
  const ms = {
    sequential: total("sequential"),
    parallel: total("parallel"),
    parallel1: total("parallel1"),
    auto: total("auto"),
    ethereumjs,
    ethereumjsWithStateRoot: withEthereumjs ? sum(blocks.map((b) => b.ethereumjs!.medianMs)) : null,
  };
  const slowest = blocks.reduce((worst, b) => (b.speedup.parallel < worst.speedup.parallel ? b : worst), blocks[0]);
  const slowestAuto = blocks.reduce((worst, b) => (b.speedup.auto < worst.speedup.auto ? b : worst), blocks[0]);
  const heavy = blocks.filter((b) => heaviest.includes(b.number));
  const heavyTotal = (mode: PevmMode) => sum(heavy.map((b) => b.modes[mode].medianMs));
  return {
    blocks: blocks.length,
    gas,
    ms,
    mgasPerSecond: {
      sequential: mgasPerSecond(gas, ms.sequential),
      parallel: mgasPerSecond(gas, ms.parallel),
      parallel1: mgasPerSecond(gas, ms.parallel1),
      auto: mgasPerSecond(gas, ms.auto),
      ethereumjs: ethereumjs === null ? null : mgasPerSecond(gas, ethereumjs),
    },
    speedupOfTotals: {
      parallel: ratio(ms.sequential, ms.parallel),
      parallel1: ratio(ms.sequential, ms.parallel1),
      auto: ratio(ms.sequential, ms.auto),
      sequentialOverEthereumjs: ethereumjs === null ? null : ratio(ethereumjs, ms.sequential),
    },
    geometricMeanSpeedup: {
      parallel: geometricMean(blocks.map((b) => b.speedup.parallel)),
      parallel1: geometricMean(blocks.map((b) => b.speedup.parallel1)),
      auto: geometricMean(blocks.map((b) => b.speedup.auto)),
      sequentialOverEthereumjs: withEthereumjs ? geometricMean(blocks.map((b) => b.speedup.sequentialOverEthereumjs!)) : null,
    },
    heaviest: {
      blocks: heavy.map((b) => b.number),
      parallel: ratio(heavyTotal("sequential"), heavyTotal("parallel")),
      auto: ratio(heavyTotal("sequential"), heavyTotal("auto")),
    },
    slowestParallelBlock: { number: slowest?.number ?? 0, speedup: slowest?.speedup.parallel ?? Number.NaN },
    slowestAutoBlock: { number: slowestAuto?.number ?? 0, speedup: slowestAuto?.speedup.auto ?? Number.NaN },
    parallelBelow095: blocks.filter((b) => b.speedup.parallel < 0.95).map((b) => b.number),
    autoBelow095: blocks.filter((b) => b.speedup.auto < 0.95).map((b) => b.number),
    autoBelow095InParallel: blocks.filter((b) => b.speedup.auto < 0.95 && b.modes.auto.mode.mode === "parallel").map((b) => b.number),
    autoSequential: blocks
      .filter((b) => b.modes.auto.mode.mode === "sequential")
      .map((b) => ({ number: b.number, reason: b.modes.auto.mode.reason ?? "forced" })),
    loadMs: sum(blocks.map((b) => b.loadMs)),
    shareMs: sum(blocks.map((b) => b.shareMs)),
    receiptsRootMs: sum(blocks.map((b) => b.receiptsRootMs)),
    reExecutions: sum(blocks.map((b) => median(b.modes.parallel.reExecutions) || 0)),
    fallbacks: blocks.filter((b) => b.modes.parallel.fallback !== null).map((b) => ({ number: b.number, reason: b.modes.parallel.fallback! })),
    failed: blocks.filter((b) => !b.ok).map((b) => b.number),
  };
}

export async function measureCorpus(options: CorpusOptions, onBlock: (done: number, of: number, result: CorpusBlockResult) => void = () => {}) {
  const all = await corpusBlockNumbers();
  const heaviest = await heaviestBlocks();
  // Quick runs take every second block (in number order: still every era) and the 15 heaviest.
  const numbers =
    options.blocks && options.blocks.length > 0
      ? options.blocks
      : options.everySecondBlock
        ? all.filter((n, i) => i % 2 === 0 || heaviest.includes(n))
        : all;
  const blocks: CorpusBlockResult[] = [];
  for (const number of numbers) {
    const result = await measureCorpusBlock(number, options);
    blocks.push(result);
    onBlock(blocks.length, numbers.length, result);
  }
  return { options, blocks, totals: corpusTotals(blocks, heaviest) };
}

export type CorpusReport = Awaited<ReturnType<typeof measureCorpus>>;

export function describeCorpusBlock(done: number, of: number, b: CorpusBlockResult): string {
  const m = b.modes;
  const ejs = b.ethereumjs ? `, ethereumjs ${b.ethereumjs.medianMsWithoutStateRoot.toFixed(1)} ms (seq ${b.speedup.sequentialOverEthereumjs!.toFixed(2)}x)` : "";
  return (
    `corpus ${done}/${of} ${b.number} (${b.txs} txs, ${(b.gas / 1e6).toFixed(1)} Mgas): ` +
    `seq ${m.sequential.medianMs.toFixed(1)} ms, par2 ${m.parallel.medianMs.toFixed(1)} ms (${b.speedup.parallel.toFixed(2)}x), ` +
    `par1 ${m.parallel1.medianMs.toFixed(1)} ms (${b.speedup.parallel1.toFixed(2)}x), ` +
    `auto ${m.auto.medianMs.toFixed(1)} ms (${m.auto.mode.mode})${ejs}${b.ok ? "" : " MISMATCH"}`
  );
}

if (import.meta.main) {
  const argv = Bun.argv.slice(2);
  const runsAt = argv.indexOf("--runs");
  const options: CorpusOptions = {
    runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3,
    warmups: 1,
    ethereumjs: !argv.includes("--no-ethereumjs"),
    blocks: argv.filter((a, i) => /^\d+$/.test(a) && argv[i - 1] !== "--runs").map(Number),
  };
  const report = await measureCorpus(options, (done, of, b) => console.error(describeCorpusBlock(done, of, b)));
  await closeEngines();
  console.log(JSON.stringify(report.totals, null, 2));
}
