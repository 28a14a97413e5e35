/**
 * The mocked blocks: each kind, at a small size, runs through @ethereumjs/vm (the reference
 * sequential EVM) with the intended outcome and the intended effects, is deterministic, and
 * is readable by the project's corpus loader.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeWord, encodeCall } from "./mock/abi.ts";
import { ETHER } from "./mock/accounts.ts";
import { MOCK_BASE_FEE, MOCK_GAS_PRICE, MOCK_MAX_FEE, toMockBlock, upfrontCost } from "./mock/block.ts";
import { ReferenceVm, type TxOutcome } from "./mock/evm.ts";
import { MOCK_KINDS, mockKind, writeMockBlock, type MockBlock } from "./mock/index.ts";
import {
  coinbaseProbeScenario,
  counterScenario,
  createDestroyScenario,
  payoutDrain,
  PAYOUT_AMOUNT,
  RELAY_AMOUNT,
  relayFunds,
} from "./mock/kinds/contracts.ts";
import { erc20Scenario } from "./mock/kinds/erc20.ts";
import { mixedScenario } from "./mock/kinds/mixed.ts";
import { rawTransfers, rawTransfersHot, TRANSFER_GAS } from "./mock/kinds/raw-transfers.ts";
import { uniswapScenario } from "./mock/kinds/uniswap.ts";
import type { Hex } from "./mock/types.ts";

/** Generous: the machine is shared and executing through @ethereumjs/vm is slow. */
const SLOW = 120_000;
import { loadBlockDir } from "../src/state/corpus.ts";

async function execute(mock: MockBlock): Promise<{ vm: ReferenceVm; outcomes: TxOutcome[] }> {
  const vm = await ReferenceVm.fromMock(mock);
  return { vm, outcomes: await vm.runBlock(mock) };
}

function expectAllSucceeded(outcomes: TxOutcome[], count: number): void {
  expect(outcomes.length).toBe(count);
  expect(outcomes.filter((outcome) => outcome.status !== 1).map((outcome) => outcome.error)).toEqual([]);
}

async function view(vm: ReferenceVm, to: Hex, signature: string, args: (Hex | bigint)[] = []): Promise<bigint> {
  return decodeWord(await vm.call(to, encodeCall(signature, args)));
}

const txsOf = (mock: MockBlock) => mock.block.transactions;

describe("block format", () => {
  test("a Cancun mainnet header with room for every transaction, and senders able to pay", () => {
    const mock = rawTransfersHot(40);
    const block = mock.block;
    expect(BigInt(block.number)).toBeGreaterThanOrEqual(19_426_587n);
    expect(BigInt(block.timestamp)).toBeGreaterThanOrEqual(1_710_338_135n);
    expect(BigInt(block.baseFeePerGas)).toBe(MOCK_BASE_FEE);
    const totalGas = txsOf(mock).reduce((sum, tx) => sum + BigInt(tx.gas), 0n);
    expect(BigInt(block.gasLimit)).toBeGreaterThanOrEqual(totalGas);
    const spent = new Map<string, bigint>();
    for (const tx of txsOf(mock)) {
      expect(tx.chainId).toBe("0x1");
      spent.set(tx.from, (spent.get(tx.from) ?? 0n) + upfrontCost(BigInt(tx.gas), BigInt(tx.value)));
    }
    for (const [sender, cost] of spent) expect(BigInt(mock.preState[sender as Hex]!.balance)).toBeGreaterThanOrEqual(cost);
    expect(new Set(txsOf(mock).map((tx) => tx.hash)).size).toBe(40);
  }, SLOW);

  test("a 1-gigagas block of raw transfers fits its gas limit", () => {
    const mock = rawTransfers(47_620);
    expect(BigInt(mock.block.gasLimit)).toBeGreaterThanOrEqual(47_620n * TRANSFER_GAS);
    expect(47_620n * TRANSFER_GAS).toBeGreaterThanOrEqual(1_000_000_000n);
  }, SLOW);

  test("every kind is deterministic", async () => {
    for (const kind of MOCK_KINDS) {
      const count = Math.min(kind.maxCount ?? 9, 9);
      expect(JSON.stringify(await kind.build(count))).toBe(JSON.stringify(await kind.build(count)));
    }
  }, SLOW);

  test("written blocks load with the corpus loader", async () => {
    const directory = mkdtempSync(join(tmpdir(), "pevm-mock-"));
    try {
      const mock = await mockKind("mixed").build(12);
      writeMockBlock(directory, mock);
      expect(JSON.parse(readFileSync(join(directory, "pre_state.json"), "utf8"))).toEqual(mock.preState);
      const { block, storage } = loadBlockDir(directory);
      expect(block.transactions.length).toBe(12);
      expect(block.header.coinbase).toBe(mock.block.miner);
      for (const tx of txsOf(mock)) expect(storage.account(tx.from)).toBeDefined();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, SLOW);
});

describe("raw transfers", () => {
  test("independent: distinct senders and fresh recipients, 21,000 gas each", async () => {
    const mock = rawTransfers(50);
    expect(new Set(txsOf(mock).map((tx) => tx.from)).size).toBe(50);
    expect(new Set(txsOf(mock).map((tx) => tx.to)).size).toBe(50);
    for (const tx of txsOf(mock)) expect(mock.preState[tx.to!]).toBeUndefined();
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 50);
    expect(outcomes.every((outcome) => outcome.gasUsed === TRANSFER_GAS)).toBe(true);
    for (const tx of txsOf(mock)) expect(await vm.balance(tx.to!)).toBe(BigInt(tx.value));
  }, SLOW);

  test("hot: few senders with several nonces in order, three recipients", async () => {
    const mock = rawTransfersHot(60);
    const senders = new Set(txsOf(mock).map((tx) => tx.from));
    const recipients = new Set(txsOf(mock).map((tx) => tx.to!));
    expect(senders.size).toBeLessThan(60);
    expect(recipients.size).toBe(3);
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 60);
    const received = txsOf(mock).reduce((sum, tx) => sum + BigInt(tx.value), 0n);
    let total = 0n;
    for (const recipient of recipients) total += await vm.balance(recipient);
    expect(total).toBe(received);
    for (const sender of senders) {
      expect(await vm.nonce(sender)).toBe(BigInt(txsOf(mock).filter((tx) => tx.from === sender).length));
    }
  }, SLOW);
});

describe("ERC-20 transfers", () => {
  for (const hot of ["none", "sender", "recipient"] as const) {
    test(`hot ${hot}: balances move by the transferred amounts`, async () => {
      const scenario = await erc20Scenario(40, { hot });
      const mock = toMockBlock(`erc20-${hot}`, scenario);
      const { vm, outcomes } = await execute(mock);
      expectAllSucceeded(outcomes, 40);
      const recipients = [...new Set(txsOf(mock).map((tx) => `0x${tx.input.slice(34, 74)}` as Hex))];
      expect(recipients.length).toBe(hot === "recipient" ? 1 : 40);
      expect(new Set(txsOf(mock).map((tx) => tx.from)).size).toBe(hot === "sender" ? 1 : 40);
      const sent = txsOf(mock).reduce((sum, tx) => sum + BigInt(`0x${tx.input.slice(74)}`), 0n);
      let received = 0n;
      for (const recipient of recipients) received += await view(vm, scenario.token, "balanceOf(address)", [recipient]);
      expect(received).toBe(sent);
      expect(received).toBe((40n * 41n) / 2n * ETHER);
    }, SLOW);
  }
});

describe("Uniswap V3 swaps", () => {
  test("many pools: every swap in a pool of its own moves that pool's price", async () => {
    const scenario = await uniswapScenario(20, { pools: "many" });
    const mock = toMockBlock("uniswap-many", scenario);
    const pools = [...new Set(scenario.poolOfTx.map((pool) => pool.address))];
    expect(pools.length).toBe(20);
    const { vm: after, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 20);
    const fresh = await ReferenceVm.fromMock(mock);
    for (const [index, pool] of scenario.poolOfTx.entries()) {
      const priceBefore = await view(fresh, pool.address, "slot0()");
      const priceAfter = await view(after, pool.address, "slot0()");
      // Even swaps sell token0 (price falls), odd ones sell token1 (price rises).
      if (index % 2 === 0) expect(priceAfter).toBeLessThan(priceBefore);
      else expect(priceAfter).toBeGreaterThan(priceBefore);
      const tokenOut = index % 2 === 0 ? pool.token1 : pool.token0;
      expect(await view(after, tokenOut, "balanceOf(address)", [scenario.swappers[index]!])).toBeGreaterThan(0n);
    }
  }, SLOW);

  test("many pools, capped: swaps spread over fewer pools all succeed", async () => {
    const scenario = await uniswapScenario(12, { pools: "many", poolCount: 4 });
    expect(new Set(scenario.poolOfTx.map((pool) => pool.address)).size).toBe(4);
    const { outcomes } = await execute(toMockBlock("uniswap-capped", scenario));
    expectAllSucceeded(outcomes, 12);
  }, SLOW);

  test("one pool: all swaps in it, each changing its price", async () => {
    const scenario = await uniswapScenario(30, { pools: "one" });
    const mock = toMockBlock("uniswap-one", scenario);
    expect(new Set(scenario.poolOfTx.map((pool) => pool.address)).size).toBe(1);
    const vm = await ReferenceVm.fromMock(mock);
    const pool = scenario.poolOfTx[0]!.address;
    const prices = [await view(vm, pool, "slot0()")];
    for (const tx of txsOf(mock)) {
      const outcome = await vm.runRpcTransaction(tx);
      expect(outcome.status).toBe(1);
      prices.push(await view(vm, pool, "slot0()"));
    }
    for (let index = 1; index < prices.length; index++) expect(prices[index]).not.toBe(prices[index - 1]);
    expect(await view(vm, pool, "liquidity()")).toBeGreaterThan(0n);
  }, SLOW);
});

describe("mixed blocks", () => {
  test("interleaved kinds all succeed, and beneficiary reads see it grow mid-block", async () => {
    const mock = toMockBlock("mixed", await mixedScenario(40));
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 40);
    const probeTxs = txsOf(mock).filter((tx) => tx.input === encodeCall("record()"));
    expect(probeTxs.length).toBe(10);
    const seen: bigint[] = [];
    for (const tx of probeTxs) seen.push(await view(vm, tx.to!, "seenBalance(address)", [tx.from]));
    // The beneficiary starts with 1 ether and earns the tip of every earlier transaction.
    expect(seen[0]).toBeGreaterThan(ETHER);
    for (let index = 1; index < seen.length; index++) expect(seen[index]).toBeGreaterThan(seen[index - 1]!);
  }, SLOW);

  test("small blocks: 1 to 10 transactions, all succeeding", async () => {
    for (let count = 1; count <= 10; count++) {
      const mock = await mockKind("small").build(count);
      const { outcomes } = await execute(mock);
      expectAllSucceeded(outcomes, count);
    }
    expect(() => mockKind("small").build(11)).toThrow();
  }, SLOW);
});

describe("conflict patterns", () => {
  test("counter: every transaction increments the same slot", async () => {
    const scenario = await counterScenario(50);
    const { vm, outcomes } = await execute(toMockBlock("counter", scenario));
    expectAllSucceeded(outcomes, 50);
    expect(await view(vm, scenario.counter, "count()")).toBe(50n);
  }, SLOW);

  test("coinbase probes: each sees the fees of all earlier transactions", async () => {
    const scenario = await coinbaseProbeScenario(12);
    const mock = toMockBlock("probe", scenario);
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 12);
    let tips = 0n;
    for (const [index, tx] of txsOf(mock).entries()) {
      expect(await view(vm, scenario.probe, "seenBalance(address)", [tx.from])).toBe(ETHER + tips);
      tips += outcomes[index]!.gasUsed * (MOCK_GAS_PRICE - MOCK_BASE_FEE);
    }
  }, SLOW);

  test("payout drain: the first half are paid, the rest fail inside the call", async () => {
    const mock = await payoutDrain(20);
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 20);
    const payout = txsOf(mock)[0]!.to!;
    expect(await view(vm, payout, "paidCount()")).toBe(10n);
    expect(await view(vm, payout, "failedCount()")).toBe(10n);
    expect(await vm.balance(payout)).toBe(0n);
    const firstPaid = txsOf(mock)[0]!.from;
    const lastUnpaid = txsOf(mock)[19]!.from;
    const feeOf = (index: number) => outcomes[index]!.gasUsed * MOCK_GAS_PRICE;
    expect(await vm.balance(firstPaid)).toBe(BigInt(mock.preState[firstPaid]!.balance) + PAYOUT_AMOUNT - feeOf(0));
    expect(await vm.balance(lastUnpaid)).toBe(BigInt(mock.preState[lastUnpaid]!.balance) - feeOf(19));
  }, SLOW);

  test("relay: each link can only pay after the previous transaction funded it", async () => {
    const mock = relayFunds(30);
    const links = txsOf(mock).map((tx) => tx.from);
    for (const link of links.slice(1)) {
      expect(BigInt(mock.preState[link]!.balance)).toBeLessThan(upfrontCost(TRANSFER_GAS, RELAY_AMOUNT));
    }
    const { vm, outcomes } = await execute(mock);
    expectAllSucceeded(outcomes, 30);
    expect(await vm.balance(txsOf(mock)[29]!.to!)).toBe(RELAY_AMOUNT);
    expect(await vm.balance(links[1]!)).toBe(TRANSFER_GAS * (MOCK_MAX_FEE - MOCK_GAS_PRICE));
  }, SLOW);

  test("create and self-destruct: same-transaction children vanish, later ones keep code", async () => {
    const scenario = await createDestroyScenario(30);
    const { vm, outcomes } = await execute(toMockBlock("create-destroy", scenario));
    expectAllSucceeded(outcomes, 30);
    expect(await view(vm, scenario.factory, "spawned()")).toBe(20n);
    expect(scenario.destroyedAtBirth.length).toBe(10);
    expect(scenario.destroyedLater.length).toBe(10);
    for (const child of scenario.destroyedAtBirth) expect(await vm.exists(child)).toBe(false);
    for (const child of scenario.destroyedLater) {
      expect((await vm.code(child)).length).toBeGreaterThan(2);
      expect(await vm.balance(child)).toBe(0n);
    }
    // The endowment went back to the callers, so nothing is stuck in the factory.
    expect(await vm.balance(scenario.factory)).toBe(0n);
  }, SLOW);
});
