/** Deploys one of our compiled contracts through the set-up VM from a namespace's own deployer. */
import { mockAddress } from "./accounts.ts";
import { artifact, type EvmTarget, type LocalContract } from "./artifacts.ts";
import { ReferenceVm, SETUP_FUNDING } from "./evm.ts";
import type { Hex } from "./types.ts";
import { MockWorld } from "./world.ts";

export interface Deployed {
  /** The deployer (with its nonce advanced) and the contract, nothing else. */
  world: MockWorld;
  address: Hex;
}

export async function deployContract(namespace: string, contract: LocalContract, constructorArgs = "", target: EvmTarget = "cancun"): Promise<Deployed> {
  const deployer = mockAddress(`${namespace}/deployer`, 0);
  const setupWorld = new MockWorld();
  setupWorld.fund(deployer, SETUP_FUNDING);
  const vm = await ReferenceVm.fromWorld(setupWorld);
  const address = await vm.deploy(deployer, artifact(contract, target).bytecode, constructorArgs);
  return { world: vm.toWorld(), address };
}
