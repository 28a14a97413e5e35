/**
 * Compiled contracts: ours (test/mock/artifacts, built by build-artifacts.ts, for Cancun and,
 * in artifacts/paris, for Paris: no PUSH0) and Uniswap V3 as shipped compiled on npm (0.7.6,
 * runs on any of the forks). Loaded lazily and cached.
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

/** The EVM version our contracts are compiled for: Cancun, or Paris for blocks before Shanghai. */
export type EvmTarget = "cancun" | "paris";

const cache = new Map<string, Artifact>();

/** `target` applies to our contracts only (Uniswap's are the npm build). */
export function artifact(name: LocalContract | UniswapContract, target: EvmTarget = "cancun"): Artifact {
  const uniswap = name in UNISWAP_ARTIFACTS;
  const key = uniswap || target === "cancun" ? name : `${target}/${name}`;
  let loaded = cache.get(key);
  if (loaded === undefined) {
    const path = uniswap
      ? Bun.resolveSync(UNISWAP_ARTIFACTS[name as UniswapContract], import.meta.dir)
      : join(import.meta.dir, "artifacts", ...(target === "cancun" ? [] : [target]), `${name}.json`);
    const json = JSON.parse(readFileSync(path, "utf8"));
    loaded = {
      contractName: json.contractName,
      bytecode: json.bytecode,
      deployedBytecode: json.deployedBytecode,
      storageSlots: json.storageSlots ?? {},
    };
    cache.set(key, loaded);
  }
  return loaded;
}

export function storageSlot(name: LocalContract, variable: string): number {
  const slot = artifact(name).storageSlots[variable];
  if (slot === undefined) throw new Error(`${name} has no state variable ${variable}`);
  return slot;
}
