/**
 * Deterministic mocked blocks on real contracts, for tests and benchmarks.
 * Every generator takes a transaction count and returns the same block for the same count.
 */
import { coinbaseProbes, counterIncrements, createDestroy, payoutDrain, relayFunds } from "./kinds/contracts.ts";
import { erc20Transfers } from "./kinds/erc20.ts";
import { mixed, smallBlock } from "./kinds/mixed.ts";
import { rawTransfers, rawTransfersHot } from "./kinds/raw-transfers.ts";
import { uniswapSwaps } from "./kinds/uniswap.ts";
import type { MockBlock } from "./types.ts";

export type { MockBlock, PreStateJson, RpcBlock, RpcTransaction } from "./types.ts";
export { coinbaseProbes, counterIncrements, createDestroy, payoutDrain, relayFunds } from "./kinds/contracts.ts";
export { erc20Transfers } from "./kinds/erc20.ts";
export { mixed, smallBlock } from "./kinds/mixed.ts";
export { rawTransfers, rawTransfersHot } from "./kinds/raw-transfers.ts";
export { uniswapSwaps } from "./kinds/uniswap.ts";
export { writeMockBlock } from "./write.ts";

export interface MockKind {
  name: string;
  description: string;
  /** Whether transactions are meant to be independent of each other (no shared writes). */
  independent: boolean;
  /** Largest count the kind accepts. */
  maxCount?: number;
  build(count: number): MockBlock | Promise<MockBlock>;
}

export const MOCK_KINDS: readonly MockKind[] = [
  { name: "raw-transfers", description: "independent ether transfers (21,000 gas)", independent: true, build: rawTransfers },
  { name: "raw-transfers-hot", description: "ether transfers among few senders and 3 recipients", independent: false, build: (count) => rawTransfersHot(count) },
  { name: "erc20", description: "independent ERC-20 transfers", independent: true, build: (count) => erc20Transfers(count) },
  { name: "erc20-hot-sender", description: "ERC-20 transfers all from one holder", independent: false, build: (count) => erc20Transfers(count, { hot: "sender" }) },
  { name: "erc20-hot-recipient", description: "ERC-20 transfers all to one holder", independent: false, build: (count) => erc20Transfers(count, { hot: "recipient" }) },
  { name: "uniswap-many", description: "Uniswap V3 swaps, each in its own pool", independent: true, build: (count) => uniswapSwaps(count, { pools: "many" }) },
  { name: "uniswap-one", description: "Uniswap V3 swaps, all in one pool", independent: false, build: (count) => uniswapSwaps(count, { pools: "one" }) },
  { name: "mixed", description: "swaps, ERC-20 and ether transfers, beneficiary balance reads", independent: false, build: mixed },
  { name: "small", description: "1 to 10 transactions of mixed kinds", independent: false, maxCount: 10, build: smallBlock },
  { name: "counter", description: "every transaction increments one counter", independent: false, build: counterIncrements },
  { name: "coinbase-probe", description: "every transaction stores the beneficiary's balance", independent: false, build: coinbaseProbes },
  { name: "payout-drain", description: "withdrawals from a contract that runs dry halfway", independent: false, build: (count) => payoutDrain(count) },
  { name: "relay-funds", description: "ether passed along a chain of accounts", independent: false, build: relayFunds },
  { name: "create-destroy", description: "contracts created and self-destructed in the block", independent: false, build: createDestroy },
  { name: "set-code", description: "EIP-7702 delegations set, used and cleared (Prague)", independent: false, build: (count) => import("./kinds/set-code.ts").then((m) => m.setCodeTransactions(count)) },
];

export function mockKind(name: string): MockKind {
  const kind = MOCK_KINDS.find((candidate) => candidate.name === name);
  if (kind === undefined) throw new Error(`unknown mock kind ${name}; known: ${MOCK_KINDS.map((k) => k.name).join(", ")}`);
  return kind;
}
