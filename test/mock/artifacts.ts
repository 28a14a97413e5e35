/**
 * Compiled contracts: ours (test/mock/artifacts, built by build-artifacts.ts) and Uniswap V3
 * as shipped compiled on npm. Loaded lazily and cached.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "./types.ts";

export interface Artifact {
  contractName: string;
  bytecode: Hex;
  deployedBytecode: Hex;
  /** Slot of each top-level state variable (our contracts only). */
  storageSlots: Record<string, number>;
}

export type LocalContract = "MockToken" | "Counter" | "CoinbaseProbe" | "Payout" | "SelfDestructFactory" | "Ephemeral";

const UNISWAP_ARTIFACTS = {
  UniswapV3Factory: "@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json",
  UniswapV3Pool: "@uniswap/v3-core/artifacts/contracts/UniswapV3Pool.sol/UniswapV3Pool.json",
  SwapRouter: "@uniswap/v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json",
  NonfungiblePositionManager:
    "@uniswap/v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json",
} as const;

export type UniswapContract = keyof typeof UNISWAP_ARTIFACTS;

const cache = new Map<string, Artifact>();

export function artifact(name: LocalContract | UniswapContract): Artifact {
  let loaded = cache.get(name);
  if (loaded === undefined) {
    const path =
      name in UNISWAP_ARTIFACTS
        ? Bun.resolveSync(UNISWAP_ARTIFACTS[name as UniswapContract], import.meta.dir)
        : join(import.meta.dir, "artifacts", `${name}.json`);
    const json = JSON.parse(readFileSync(path, "utf8"));
    loaded = {
      contractName: json.contractName,
      bytecode: json.bytecode,
      deployedBytecode: json.deployedBytecode,
      storageSlots: json.storageSlots ?? {},
    };
    cache.set(name, loaded);
  }
  return loaded;
}

export function storageSlot(name: LocalContract, variable: string): number {
  const slot = artifact(name).storageSlots[variable];
  if (slot === undefined) throw new Error(`${name} has no state variable ${variable}`);
  return slot;
}
