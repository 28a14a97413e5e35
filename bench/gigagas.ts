/**
 * Gigagas blocks: mocked blocks of about 1 Ggas (raw transfers, ERC-20 transfers, Uniswap V3
 * swaps), sequential vs parallel with 2 workers. Generating and loading them is not timed.
 *
 *   bun bench/gigagas.ts [--scale 0.1] [--runs K]
 */
import { closeEngines, loadPreState, parseBlock, type BlockResult } from "../src/index.ts";
import { shareBlock, shareStorage } from "../src/parallel/prepare.ts";
import { erc20Transfers, rawTransfers, uniswapSwaps, type MockBlock } from "../test/mock/index.ts";
import { measureModes, runMode, sameResult, type ModeSummary, type PevmMode } from "./report/measure.ts";
import { ratio, timed } from "./report/stats.ts";

const GIGAGAS_MODES: readonly PevmMode[] = ["sequential", "parallel"];

/** Uniswap pools are cloned one by one during set-up; a hundred keep it short and still independent enough. */
const UNISWAP_POOLS = 100;

interface GigagasKind {
  name: string;
  description: string;
  /** Transactions at scale 1 (about 1 Ggas). */
  fullCount: number;
  build(count: number): MockBlock | Promise<MockBlock>;
}

export const GIGAGAS_KINDS: readonly GigagasKind[] = [
  { name: "raw-transfers", description: "independent ether transfers, 21,000 gas each", fullCount: 47_620, build: rawTransfers },
  { name: "erc20-transfers", description: "independent ERC-20 transfers", fullCount: 19_000, build: (n) => erc20Transfers(n) },
  {
    name: "uniswap-swaps",
    description: `Uniswap V3 swaps over ${UNISWAP_POOLS} pools`,
    fullCount: 7_000,
    build: (n) => uniswapSwaps(n, { pools: "many", poolCount: Math.min(n, UNISWAP_POOLS) }),
  },
];

export interface GigagasResult {
  kind: string;
  description: string;
  scale: number;
  txs: number;
  gas: number;
  /** Generating the mock, parsing it and copying it into shared memory: not part of ms. */
  generateMs: number;
  loadMs: number;
  shareMs: number;
  modes: Record<PevmMode, ModeSummary>;
  speedup: number;
  checks: {
    /** Every transaction succeeded: a block of reverts would benchmark nothing. */
    allSucceeded: boolean;
    /** Every parallel run produced the sequential result exactly. */
    parallelAgrees: boolean;
  };
  ok: boolean;
}

export interface GigagasOptions {
  scale: number;
  runs: number;
  warmups: number;
}

export async function measureGigagasKind(kind: GigagasKind, options: GigagasOptions): Promise<GigagasResult> {
  const count = Math.max(1, Math.round(kind.fullCount * options.scale));
  const generated = await timed(() => kind.build(count));
  const mock = generated.value;
  const load = await timed(() => ({
    block: parseBlock(`<mock ${mock.name}>`, mock.block),
    storage: loadPreState(`<mock ${mock.name}>`, mock.preState, mock.bytecodes, undefined),
  }));
  const { block, storage } = load.value;
  const share = await timed(() => {
    shareStorage(storage);
    shareBlock(block);
  });

  let reference: BlockResult | undefined;
  let warmupMismatches = 0;
  for (let i = 0; i < options.warmups || reference === undefined; i++) {
    for (const mode of GIGAGAS_MODES) {
      const result = await runMode(block, storage, mode);
      if (reference === undefined) reference = result;
      else if (!sameResult(reference, result)) warmupMismatches++;
    }
  }
  const gas = Number(reference!.gasUsed);
  const modes = await measureModes(block, storage, GIGAGAS_MODES, options.runs, gas, reference!);
  const checks = {
    allSucceeded: reference!.receipts.length === count && reference!.receipts.every((r) => r.status === 1),
    parallelAgrees: warmupMismatches === 0 && modes.parallel.mismatches === 0 && modes.sequential.mismatches === 0,
  };
  return {
    kind: kind.name,
    description: kind.description,
    scale: options.scale,
    txs: count,
    gas,
    generateMs: generated.ms,
    loadMs: load.ms,
    shareMs: share.ms,
    modes,
    speedup: ratio(modes.sequential.medianMs, modes.parallel.medianMs),
    checks,
    ok: checks.allSucceeded && checks.parallelAgrees,
  };
}

export async function measureGigagas(options: GigagasOptions, onKind: (result: GigagasResult) => void = () => {}): Promise<GigagasResult[]> {
  const results: GigagasResult[] = [];
  for (const kind of GIGAGAS_KINDS) {
    const result = await measureGigagasKind(kind, options);
    results.push(result);
    onKind(result);
    Bun.gc(true); // drop this block's state before generating the next
  }
  return results;
}

export function describeGigagas(r: GigagasResult): string {
  const m = r.modes;
  return (
    `gigagas ${r.kind} (${r.txs} txs, ${(r.gas / 1e6).toFixed(0)} Mgas, scale ${r.scale}): ` +
    `seq ${m.sequential.medianMs.toFixed(0)} ms (${m.sequential.mgasPerSecond.toFixed(0)} Mgas/s), ` +
    `par2 ${m.parallel.medianMs.toFixed(0)} ms (${m.parallel.mgasPerSecond.toFixed(0)} Mgas/s, ${r.speedup.toFixed(2)}x)` +
    (r.ok ? "" : " CHECK FAILED")
  );
}

if (import.meta.main) {
  const argv = Bun.argv.slice(2);
  const valueOf = (flag: string, fallback: number) => (argv.includes(flag) ? Number(argv[argv.indexOf(flag) + 1]) : fallback);
  const results = await measureGigagas({ scale: valueOf("--scale", 0.1), runs: valueOf("--runs", 3), warmups: 1 }, (r) => console.error(describeGigagas(r)));
  await closeEngines();
  console.log(JSON.stringify(results, null, 2));
}
