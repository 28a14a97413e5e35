/**
 * Blocks mixing the kinds: Uniswap swaps, ERC-20 transfers, raw transfers and reads of the
 * beneficiary's balance, interleaved round-robin (transaction i belongs to part i mod 4).
 */
import { toMockBlock, type Scenario, type TxSpec } from "../block.ts";
import type { MockBlock } from "../types.ts";
import { MockWorld } from "../world.ts";
import { coinbaseProbeScenario } from "./contracts.ts";
import { erc20Scenario } from "./erc20.ts";
import { rawTransferScenario } from "./raw-transfers.ts";
import { uniswapScenario } from "./uniswap.ts";

const PARTS = ["uniswap", "erc20", "raw", "coinbase-probe"] as const;
type Part = (typeof PARTS)[number];

function buildPart(part: Part, count: number): Scenario | Promise<Scenario> {
  const namespace = `mixed/${part}`;
  switch (part) {
    case "uniswap":
      return uniswapScenario(count, { pools: "many", namespace });
    case "erc20":
      return erc20Scenario(count, { namespace });
    case "raw":
      return rawTransferScenario(count, { namespace });
    case "coinbase-probe":
      return coinbaseProbeScenario(count, namespace);
  }
}

export async function mixedScenario(count: number): Promise<Scenario> {
  const world = new MockWorld();
  const parts: TxSpec[][] = [];
  for (const [position, part] of PARTS.entries()) {
    const share = Math.floor((count + PARTS.length - 1 - position) / PARTS.length);
    if (share === 0) continue;
    const scenario = await buildPart(part, share);
    world.merge(scenario.world);
    parts.push(scenario.txs);
  }
  // Round-robin keeps each part's order, so every sender's nonces stay in sequence.
  const txs: TxSpec[] = [];
  for (let round = 0; txs.length < count; round++) {
    for (const part of parts) if (round < part.length) txs.push(part[round]);
  }
  return { world, txs };
}

export async function mixed(count: number): Promise<MockBlock> {
  return toMockBlock(`mixed-${count}`, await mixedScenario(count));
}

/** 1 to 10 transactions of mixed kinds. */
export async function smallBlock(count: number): Promise<MockBlock> {
  if (!Number.isInteger(count) || count < 1 || count > 10) throw new RangeError(`a small block has 1 to 10 transactions, not ${count}`);
  return toMockBlock(`small-${count}`, await mixedScenario(count));
}
