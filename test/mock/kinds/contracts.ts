/**
 * Small contracts that create specific dependencies between transactions, for the parallel
 * engine's conflict tests: a shared counter, reads of the beneficiary's balance, a payer
 * that runs dry mid-block, ether relayed along a chain of accounts, and contracts created
 * and self-destructed within the block.
 */
import { createAddressFromString, createContractAddress } from "@ethereumjs/util";
import { encodeCall } from "../abi.ts";
import { ETHER, GWEI, mockAddresses } from "../accounts.ts";
import { GENEROUS_FUNDING, toMockBlock, TxList, upfrontCost, type Scenario } from "../block.ts";
import { deployContract } from "../deploy.ts";
import type { Hex, MockBlock } from "../types.ts";
import { MockWorld } from "../world.ts";
import { TRANSFER_GAS } from "./raw-transfers.ts";

/** Gas limits with room above what each call measures (see the report in the tests). */
export const COUNTER_GAS = 60_000n;
export const PROBE_GAS = 80_000n;
export const PAYOUT_GAS = 100_000n;
export const FACTORY_GAS = 300_000n;

function fundedSenders(world: MockWorld, namespace: string, count: number): Hex[] {
  const senders = mockAddresses(`${namespace}/sender`, count);
  for (const sender of senders) world.fund(sender, GENEROUS_FUNDING);
  return senders;
}

/** `count` distinct senders each call `Counter.increment()`: a read-after-write chain. */
export async function counterScenario(count: number, namespace = "counter"): Promise<Scenario & { counter: Hex }> {
  const { world, address: counter } = await deployContract(namespace, "Counter");
  const txs = new TxList(world);
  for (const from of fundedSenders(world, namespace, count)) {
    txs.add({ from, to: counter, gas: COUNTER_GAS, input: encodeCall("increment()") });
  }
  return { world, txs: txs.txs, counter };
}

export async function counterIncrements(count: number): Promise<MockBlock> {
  return toMockBlock(`counter-increments-${count}`, await counterScenario(count));
}

/** `count` distinct senders each store the beneficiary's balance as they see it. */
export async function coinbaseProbeScenario(count: number, namespace = "coinbase-probe"): Promise<Scenario & { probe: Hex }> {
  const { world, address: probe } = await deployContract(namespace, "CoinbaseProbe");
  const txs = new TxList(world);
  for (const from of fundedSenders(world, namespace, count)) {
    txs.add({ from, to: probe, gas: PROBE_GAS, input: encodeCall("record()") });
  }
  return { world, txs: txs.txs, probe };
}

export async function coinbaseProbes(count: number): Promise<MockBlock> {
  return toMockBlock(`coinbase-probes-${count}`, await coinbaseProbeScenario(count));
}

/** What each payout withdraws. */
export const PAYOUT_AMOUNT = ETHER;

/**
 * `count` senders each withdraw 1 ether from a Payout contract holding only enough for the
 * first `funded` (default half): later withdrawals fail inside the call, not the transaction.
 */
export async function payoutDrain(count: number, funded = Math.floor(count / 2)): Promise<MockBlock> {
  const namespace = "payout";
  const { world, address: payout } = await deployContract(namespace, "Payout");
  world.fund(payout, BigInt(funded) * PAYOUT_AMOUNT);
  const txs = new TxList(world);
  for (const from of fundedSenders(world, namespace, count)) {
    txs.add({ from, to: payout, gas: PAYOUT_GAS, input: encodeCall("withdraw(uint256)", [PAYOUT_AMOUNT]) });
  }
  return toMockBlock(`payout-drain-${count}`, { world, txs: txs.txs });
}

/** What each link of the relay passes on. */
export const RELAY_AMOUNT = ETHER;

/**
 * Ether relayed along accounts 0 → 1 → … → count: every account but the first holds just
 * its own fee, so it can only send after the previous transaction paid it.
 */
export function relayFunds(count: number): MockBlock {
  const world = new MockWorld();
  const links = mockAddresses("relay/link", count + 1);
  world.fund(links[0], GENEROUS_FUNDING);
  for (const link of links.slice(1, count)) world.fund(link, upfrontCost(TRANSFER_GAS));
  const txs = new TxList(world);
  for (let index = 0; index < count; index++) {
    txs.add({ from: links[index], to: links[index + 1], gas: TRANSFER_GAS, value: RELAY_AMOUNT });
  }
  return toMockBlock(`relay-funds-${count}`, { world, txs: txs.txs });
}

/** Ether each created child is endowed with. */
export const CHILD_ENDOWMENT = GWEI;

export interface CreateDestroyScenario extends Scenario {
  factory: Hex;
  /** Children created and self-destructed in the same transaction (gone after the block). */
  destroyedAtBirth: Hex[];
  /** Children created by one transaction and self-destructed by a later one (code remains). */
  destroyedLater: Hex[];
}

/**
 * Triples of transactions on a SelfDestructFactory: `spawnAndDestroy` (create and
 * self-destruct in one transaction), `spawn`, then the spawned child's `destroy`.
 */
export async function createDestroyScenario(count: number, namespace = "create-destroy"): Promise<CreateDestroyScenario> {
  const { world, address: factory } = await deployContract(namespace, "SelfDestructFactory");
  const senders = fundedSenders(world, namespace, count);
  const txs = new TxList(world);
  let factoryNonce = world.account(factory).nonce;
  const nextChild = (): Hex => createContractAddress(createAddressFromString(factory), factoryNonce++).toString() as Hex;
  const destroyedAtBirth: Hex[] = [];
  const destroyedLater: Hex[] = [];
  let lastSpawned: Hex | undefined;
  for (let index = 0; index < count; index++) {
    const from = senders[index];
    const step = index % 3;
    if (step === 0) {
      destroyedAtBirth.push(nextChild());
      txs.add({ from, to: factory, gas: FACTORY_GAS, value: CHILD_ENDOWMENT, input: encodeCall("spawnAndDestroy()") });
    } else if (step === 1) {
      lastSpawned = nextChild();
      txs.add({ from, to: factory, gas: FACTORY_GAS, value: CHILD_ENDOWMENT, input: encodeCall("spawn()") });
    } else {
      destroyedLater.push(lastSpawned!);
      txs.add({ from, to: lastSpawned!, gas: FACTORY_GAS, input: encodeCall("destroy(address)", [from]) });
    }
  }
  return { world, txs: txs.txs, factory, destroyedAtBirth, destroyedLater };
}

export async function createDestroy(count: number): Promise<MockBlock> {
  return toMockBlock(`create-destroy-${count}`, await createDestroyScenario(count));
}
