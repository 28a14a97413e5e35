/** The vendored mainnet corpus: data/mainnet/blocks/<number>/. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadBlockDir, type LoadedBlock } from "../../src/state/corpus.ts";

export const MAINNET_BLOCKS_DIR = join(import.meta.dir, "..", "..", "data", "mainnet", "blocks");

/** Receipts commit to a status code (and so the receipts root is checkable) from Byzantium on. */
export const BYZANTIUM_BLOCK = 4_370_000;

/** Every block number in the corpus, ascending. */
export function mainnetBlockNumbers(): number[] {
  return readdirSync(MAINNET_BLOCKS_DIR)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .sort((a, b) => a - b);
}

export function loadMainnetBlock(number: number): LoadedBlock {
  return loadBlockDir(join(MAINNET_BLOCKS_DIR, String(number)));
}
