/**
 * The peer executor for our benchmarks: mainnet corpus blocks run through
 * @ethereumjs/vm's sequential runBlock, the executor a TypeScript user would pick.
 *
 *   bun bench/peer/ethereumjs-vm.ts [--json] [--state merkle|cached] [block numbers...]
 */
import { createBlockFromRPC, type Block, type JSONRPCBlock } from "@ethereumjs/block";
import { Hardfork } from "@ethereumjs/common";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { bytesToHex } from "@ethereumjs/util";
import { createVM, runBlock, type VM } from "@ethereumjs/vm";
import { BlockHashChain } from "./blockchain.ts";
import { mainnetCommonFor } from "./common.ts";
import {
  blockDirOf,
  corpusBlockHashes,
  corpusBlockNumbers,
  corpusBytecodes,
  readRawBlock,
  readRawPreState,
  type HexString,
} from "./corpus.ts";
import { buildStateManager, timeStateRoots, type StateKind } from "./state.ts";

/** What the header says the block produced. */
export interface ExpectedOutcome {
  gasUsed: bigint;
  receiptsRoot: HexString;
  logsBloom: HexString;
}

/** A block ready to run once: its VM holds the pre-state, nothing of it is timed yet. */
export interface LoadedPeerBlock {
  number: bigint;
  txCount: number;
  block: Block;
  vm: VM;
  expected: ExpectedOutcome;
  /** Receipts commit to a status code (Byzantium+) rather than an intermediate state root. */
  receiptsComparable: boolean;
  /** Milliseconds spent so far in state-root hashing. */
  stateRootMs: () => number;
}

export interface PeerRunResult {
  gasUsed: bigint;
  receiptsRoot: HexString;
  logsBloom: HexString;
  /** Wall time of runBlock alone. */
  ms: number;
  /** Process CPU time (user + system) over the same span: robust to other processes on the machine. */
  cpuMs: number;
  /** Part of ms spent hashing the state trie. */
  stateRootMs: number;
  /** Per-transaction gas as runBlock charged it (for diagnosis). */
  txGasUsed: bigint[];
}

export interface PeerCheck {
  gasOk: boolean;
  /** receiptsRoot from Byzantium on; before it, logsBloom (receipts hold unknowable state roots). */
  receiptsOk: boolean;
  receiptsCheckedBy: "receiptsRoot" | "logsBloom";
}

export const DEFAULT_STATE_KIND: StateKind = "cached";

export interface LoadOptions {
  stateKind?: StateKind;
}

/** Default "cached": MerkleStateManager with the client's Caches, the fastest honest setup (see README). */
export async function loadPeerBlock(blockDir: string, options: LoadOptions = {}): Promise<LoadedPeerBlock> {
  const [raw, preState, bytecodes, blockHashes] = await Promise.all([
    readRawBlock(blockDir),
    readRawPreState(blockDir),
    corpusBytecodes(),
    corpusBlockHashes(),
  ]);
  const number = BigInt(raw.number);
  const common = await mainnetCommonFor(number, BigInt(raw.timestamp));
  // Txs are built (frozen) but their senders are not recovered here: ecrecover stays inside runBlock.
  const block = createBlockFromRPC(raw as unknown as JSONRPCBlock, [], { common });
  const stateManager = await buildStateManager(preState, bytecodes, common, options.stateKind ?? DEFAULT_STATE_KIND);
  const vm = await createVM({ common, stateManager, blockchain: new BlockHashChain(blockHashes) });
  return {
    number,
    txCount: block.transactions.length,
    block,
    vm,
    expected: {
      gasUsed: BigInt(raw.gasUsed),
      receiptsRoot: raw.receiptsRoot,
      logsBloom: raw.logsBloom,
    },
    receiptsComparable: common.gteHardfork(Hardfork.Byzantium),
    stateRootMs: timeStateRoots(stateManager),
  };
}

/** Runs the block once; the loaded state is consumed. */
export async function runPeerBlock(loaded: LoadedPeerBlock): Promise<PeerRunResult> {
  const startCpu = process.cpuUsage();
  const start = performance.now();
  // generate: the partial pre-state cannot reproduce the header's state root, so runBlock
  // must produce the header fields instead of comparing them (it throws on a mismatch).
  const result = await runBlock(loaded.vm, {
    block: loaded.block,
    generate: true,
    skipBlockValidation: true,
    skipHeaderValidation: true,
    skipHardForkValidation: true,
  });
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(startCpu);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    stateRootMs: loaded.stateRootMs(),
    gasUsed: result.gasUsed,
    receiptsRoot: bytesToHex(result.receiptsRoot) as HexString,
    logsBloom: bytesToHex(result.logsBloom) as HexString,
    ms,
    txGasUsed: result.results.map((tx) => tx.totalGasSpent),
  };
}

export function checkPeerRun(loaded: LoadedPeerBlock, run: PeerRunResult): PeerCheck {
  const gasOk = run.gasUsed === loaded.expected.gasUsed;
  if (loaded.receiptsComparable) {
    return {
      gasOk,
      receiptsOk: run.receiptsRoot === loaded.expected.receiptsRoot.toLowerCase(),
      receiptsCheckedBy: "receiptsRoot",
    };
  }
  return {
    gasOk,
    receiptsOk: run.logsBloom === loaded.expected.logsBloom.toLowerCase(),
    receiptsCheckedBy: "logsBloom",
  };
}

export interface PeerBlockReport {
  number: number;
  txs: number;
  gasUsed: string;
  expectedGasUsed: string;
  /** Median over the runs. */
  ms: number;
  /** CPU time of the run that gave ms. */
  cpuMs: number;
  /** State-root hashing within ms (same run as ms). */
  stateRootMs: number;
  mgasPerSecond: number;
  gasOk: boolean;
  receiptsOk: boolean;
  receiptsCheckedBy: PeerCheck["receiptsCheckedBy"];
}

/** Loads and runs a corpus block `runs` times (a run consumes its state), keeping the median time. */
export async function runCorpusBlock(number: number, options: LoadOptions & { runs?: number } = {}): Promise<PeerBlockReport> {
  const samples: { loaded: LoadedPeerBlock; run: PeerRunResult }[] = [];
  for (let i = 0; i < Math.max(1, options.runs ?? 1); i++) {
    const loaded = await loadPeerBlock(blockDirOf(number), options);
    Bun.gc(true); // collect the loading garbage now, not inside the timed run
    samples.push({ loaded, run: await runPeerBlock(loaded) });
  }
  samples.sort((a, b) => a.run.ms - b.run.ms);
  const { loaded, run } = samples[Math.floor((samples.length - 1) / 2)];
  return {
    number,
    txs: loaded.txCount,
    gasUsed: run.gasUsed.toString(),
    expectedGasUsed: loaded.expected.gasUsed.toString(),
    ms: run.ms,
    cpuMs: run.cpuMs,
    stateRootMs: run.stateRootMs,
    mgasPerSecond: mgasPerSecond(run.gasUsed, run.ms),
    ...checkPeerRun(loaded, run),
  };
}

export function mgasPerSecond(gas: bigint, ms: number): number {
  return ms > 0 ? Number(gas) / 1e3 / ms : 0;
}

export interface CorpusSummary {
  executor: string;
  stateKind: StateKind;
  runsPerBlock: number;
  blocks: number;
  totalGas: string;
  totalMs: number;
  totalCpuMs: number;
  stateRootMs: number;
  /** Total gas over total time: blocks weigh by their gas. */
  mgasPerSecond: number;
  /** Total gas over total CPU time: what an idle machine would show when others compete for the cores. */
  mgasPerCpuSecond: number;
  mismatches: number[];
}

export function summarize(reports: PeerBlockReport[], stateKind: StateKind, runsPerBlock: number): CorpusSummary {
  const totalGas = reports.reduce((sum, r) => sum + BigInt(r.gasUsed), 0n);
  const totalMs = reports.reduce((sum, r) => sum + r.ms, 0);
  const totalCpuMs = reports.reduce((sum, r) => sum + r.cpuMs, 0);
  return {
    executor: "@ethereumjs/vm runBlock",
    stateKind,
    runsPerBlock,
    blocks: reports.length,
    totalGas: totalGas.toString(),
    totalMs,
    totalCpuMs,
    stateRootMs: reports.reduce((sum, r) => sum + r.stateRootMs, 0),
    mgasPerSecond: mgasPerSecond(totalGas, totalMs),
    mgasPerCpuSecond: mgasPerSecond(totalGas, totalCpuMs),
    mismatches: reports.filter((r) => !r.gasOk || !r.receiptsOk).map((r) => r.number),
  };
}

interface CliArgs {
  json: boolean;
  stateKind: StateKind;
  runs: number;
  numbers: number[];
}

const USAGE = "usage: bun bench/peer/ethereumjs-vm.ts [--json] [--state cached|merkle] [--runs N] [block numbers...]";

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { json: false, stateKind: DEFAULT_STATE_KIND, runs: 1, numbers: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") args.json = true;
    else if (arg === "--state") args.stateKind = argv[++i] as StateKind;
    else if (arg === "--runs") args.runs = Number(argv[++i]);
    else if (/^\d+$/.test(arg)) args.numbers.push(Number(arg));
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  if (args.stateKind !== "merkle" && args.stateKind !== "cached") throw new Error(USAGE);
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(USAGE);
  return args;
}

function formatLine(r: PeerBlockReport): string {
  const mark = (ok: boolean) => (ok ? "ok" : "FAIL");
  const gasNote = r.gasOk ? "" : ` (expected ${r.expectedGasUsed}, diff ${BigInt(r.gasUsed) - BigInt(r.expectedGasUsed)})`;
  return [
    String(r.number).padStart(9),
    String(r.txs).padStart(5),
    r.gasUsed.padStart(10),
    r.ms.toFixed(1).padStart(9),
    r.cpuMs.toFixed(1).padStart(9),
    r.stateRootMs.toFixed(1).padStart(8),
    r.mgasPerSecond.toFixed(2).padStart(8),
    `gas ${mark(r.gasOk)}`.padEnd(8),
    `${r.receiptsCheckedBy === "receiptsRoot" ? "receipts" : "bloom"} ${mark(r.receiptsOk)}${gasNote}`,
  ].join("  ");
}

async function main(): Promise<void> {
  const args = parseArgs(Bun.argv.slice(2));
  const numbers = args.numbers.length > 0 ? args.numbers : await corpusBlockNumbers();
  const reports: PeerBlockReport[] = [];
  if (!args.json) console.log("    block    txs         gas         ms     cpu ms   root ms    Mgas/s  checks");
  for (const number of numbers) {
    const report = await runCorpusBlock(number, { stateKind: args.stateKind, runs: args.runs });
    reports.push(report);
    if (!args.json) console.log(formatLine(report));
  }
  const summary = summarize(reports, args.stateKind, args.runs);
  if (args.json) {
    console.log(JSON.stringify({ summary, blocks: reports }, null, 2));
  } else {
    console.log(
      `total: ${summary.blocks} blocks, ${summary.totalGas} gas in ${summary.totalMs.toFixed(0)} ms ` +
        `(state root ${summary.stateRootMs.toFixed(0)} ms) = ${summary.mgasPerSecond.toFixed(2)} Mgas/s ` +
        `(CPU ${summary.totalCpuMs.toFixed(0)} ms = ${summary.mgasPerCpuSecond.toFixed(2)} Mgas/CPU-s) ` +
        `[state: ${summary.stateKind}, median of ${summary.runsPerBlock}]; ` +
        `mismatches: ${summary.mismatches.length === 0 ? "none" : summary.mismatches.join(", ")}`,
    );
  }
  if (summary.mismatches.length > 0) process.exitCode = 1;
}

if (import.meta.main) await main();
