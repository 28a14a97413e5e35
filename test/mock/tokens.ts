/**
 * OpenZeppelin ERC-20 tokens (MockToken): deployed once through the set-up VM, then holders'
 * balances and allowances written straight into the mapping slots, which scales to tens of
 * thousands of holders without running a transaction per holder.
 */
import { encodeArgs } from "./abi.ts";
import { ETHER } from "./accounts.ts";
import { storageSlot, type EvmTarget } from "./artifacts.ts";
import { deployContract } from "./deploy.ts";
import { mappingSlot, nestedMappingSlot } from "./slots.ts";
import type { Hex } from "./types.ts";
import type { MockWorld } from "./world.ts";

/** Token units every funded holder gets by default. */
export const HOLDER_TOKENS = 1_000_000n * ETHER;

export function setTokenBalance(world: MockWorld, token: Hex, holder: Hex, amount: bigint): void {
  const balanceSlot = mappingSlot(storageSlot("MockToken", "_balances"), holder);
  const supplySlot = BigInt(storageSlot("MockToken", "_totalSupply"));
  const previous = world.storage(token, balanceSlot);
  world.setStorage(token, balanceSlot, amount);
  world.setStorage(token, supplySlot, world.storage(token, supplySlot) - previous + amount);
}

export function tokenBalanceSlot(holder: Hex): bigint {
  return mappingSlot(storageSlot("MockToken", "_balances"), holder);
}

export function setTokenAllowance(world: MockWorld, token: Hex, owner: Hex, spender: Hex, amount: bigint): void {
  world.setStorage(token, nestedMappingSlot(storageSlot("MockToken", "_allowances"), owner, spender), amount);
}

/** Deploys a MockToken from a fresh deployer; returns the world holding it and its address. */
export async function deployToken(namespace: string, symbol: string, target: EvmTarget = "cancun"): Promise<{ world: MockWorld; token: Hex }> {
  // Constructor arguments are two strings: dynamic ABI encoding, written out by hand.
  const { world, address } = await deployContract(namespace, "MockToken", encodeStrings(`Mock ${symbol}`, symbol), target);
  return { world, token: address };
}

/** ABI encoding of string arguments (dynamic: offsets, then length-prefixed padded bytes). */
function encodeStrings(...values: string[]): string {
  const heads: bigint[] = [];
  let tails = "";
  let offset = BigInt(values.length * 32);
  for (const value of values) {
    heads.push(offset);
    const bytes = Buffer.from(value, "utf8");
    const padded = bytes.toString("hex").padEnd(Math.ceil(bytes.length / 32) * 64, "0");
    tails += encodeArgs([BigInt(bytes.length)]) + padded;
    offset += 32n + BigInt(padded.length / 2);
  }
  return encodeArgs(heads) + tails;
}
