/** The shape of bench/results/latest.json: everything one `bun run bench` measured. */
import type { CeilingReport } from "../ceiling.ts";
import type { EvmCeilingReport } from "../evm-ceiling.ts";
import type { BlockBound } from "../block-bound.ts";
import type { CorpusReport } from "../corpus.ts";
import type { GigagasResult } from "../gigagas.ts";
import type { LoadSample, MachineInfo } from "./machine.ts";

export interface MicroResult {
  file: string;
  exitCode: number;
  ms: number;
  /** Where its captured output was written, relative to the results folder. */
  output: string;
}

/** An aim from the project brief, and whether this run met it. */
export interface AimCheck {
  aim: string;
  measured: string;
  met: boolean | null;
}

export interface BenchResults {
  quick: boolean;
  argv: string[];
  machine: MachineInfo;
  /** Load at the start and the end: above the core count, other work shared the CPUs. */
  load: { start: LoadSample; end?: LoadSample };
  /** Measured before and after the rest, to show how the machine's capacity drifted. */
  ceiling: { before?: CeilingReport; after?: CeilingReport };
  /** n workers each running the sequential executor on the heaviest corpus blocks (evm-ceiling.ts). */
  evmCeiling?: EvmCeilingReport;
  /**
   * The chains of dependent transactions (block-bound.ts) of the heaviest blocks and of every
   * corpus block measured, and the speedup they and the 2-worker EVM ceiling allow together:
   * over the heaviest blocks, and over the corpus blocks measured.
   */
  blockBounds?: { blocks: BlockBound[]; heaviest: number[]; rounds: number; boundedSpeedup: number; corpusBoundedSpeedup?: number };
  corpus?: CorpusReport;
  gigagas?: GigagasResult[];
  micro?: MicroResult[];
  /** pevm's speedups divided by the 2-worker ceiling (mean of before and after). */
  ofCeiling?: { corpusGeometricMean: number; corpusTotal: number; gigagas: Record<string, number> };
  /** The same, divided by the 2-worker EVM ceiling instead (the heaviest blocks' speedup too). */
  ofEvmCeiling?: { corpusTotal: number; heaviest: number; gigagas: Record<string, number> };
  /** 2-worker (and, over the corpus, automatic) speedups divided by what the blocks' chains and the EVM ceiling allow. */
  ofBlockBound?: { heaviest: number; corpusTotal: number; corpusTotalAuto: number };
  /** CPU ms the hypervisor gave to others during each section (stolenCpuMs), and the section's wall ms. */
  stolen?: Record<string, { stolenMs: number; wallMs: number }>;
  aims: AimCheck[];
  wallSeconds: number;
}
