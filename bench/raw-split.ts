/**
 * What two threads can gain on independent raw transfers at best, with no Block-STM at all:
 * the block is cut in two halves; the calling thread runs the first with pevm's sequential
 * executor while a Bun Worker runs the second (its gas offset known in advance: every
 * transfer uses 21,000 gas), then the worker's account changes and gas come back as a
 * message and are merged (the beneficiary's two fee sums added), receipts made for them.
 * No engine can split raw transfers more cheaply: nothing is validated, nothing is
 * recorded, and the only shared account, the beneficiary, is a sum. Compared, interleaved,
 * with sequential execution and with pevm's 2 workers; the split's result is checked
 * against the sequential one, or the run fails.
 *
 *   bun bench/raw-split.ts [--txs N] [--rounds R]
 *
 * The same file is the worker script (it spawns itself).
 */
import { parseArgs } from "node:util";
import { loadavg } from "node:os";
import { closeEngines, executeBlock, loadPreState, parseBlock } from "../src/index.ts";
import { Fork } from "../src/chain/forks.ts";
import type { Receipt } from "../src/chain/receipts.ts";
import type { AddressHex, Block } from "../src/chain/types.ts";
import { EMPTY_CODE_HASH, type StateChanges, type Storage } from "../src/state/types.ts";
import { BlockState } from "../src/vm/block-state.ts";
import { applyTransaction, blockFork, environmentFor, newTotals, type BlockTotals } from "../src/vm/block.ts";
import { forkVm } from "../src/vm/evm.ts";
import { executeTransaction } from "../src/vm/transaction.ts";
import { rawTransfers, type MockBlock } from "../test/mock/index.ts";
import { TRANSFER_GAS } from "../test/mock/kinds/raw-transfers.ts";
import { collectGarbage, median } from "./report/stats.ts";

declare const self: Worker;

/** What the worker sends back: its half's account changes and per-transaction gas, as flat arrays. */
interface HalfResult {
  addresses: AddressHex[];
  balances: bigint[];
  nonces: bigint[];
  deleted: boolean[];
  gasUsed: bigint[];
  status: (0 | 1)[];
}

function load(mock: MockBlock): { block: Block; storage: Storage } {
  return { block: parseBlock(`<mock ${mock.name}>`, mock.block), storage: loadPreState(`<mock ${mock.name}>`, mock.preState, mock.bytecodes, undefined) };
}

/** Transactions [from, to) with the sequential executor, `gasBefore` used by the ones before. */
async function runHalf(block: Block, storage: Storage, from: number, to: number, gasBefore: bigint): Promise<{ state: BlockState; totals: BlockTotals; status: (0 | 1)[]; gasUsed: bigint[] }> {
  const fork = blockFork(block);
  const env = environmentFor(block, fork);
  const vm = await forkVm(fork);
  const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
  const totals = newTotals();
  const status: (0 | 1)[] = [];
  const gasUsed: bigint[] = [];
  for (let i = from; i < to; i++) {
    const tx = block.transactions[i]!;
    const pending = executeTransaction(vm, env, tx, state, block.header.gasLimit - gasBefore - totals.gasUsed);
    const outcome = pending instanceof Promise ? await pending : pending;
    applyTransaction(state, env, tx, outcome, totals);
    status.push(outcome.status);
    gasUsed.push(outcome.gasUsed);
  }
  return { state, totals, status, gasUsed };
}

if (!Bun.isMainThread) {
  const { block, storage } = load((await new Promise<MessageEvent>((resolve) => (self.onmessage = resolve))).data as MockBlock);
  self.onmessage = async (event: MessageEvent) => {
    const { from, to, gasBefore } = event.data as { from: number; to: number; gasBefore: bigint };
    const { state, status, gasUsed } = await runHalf(block, storage, from, to, gasBefore);
    const reply: HalfResult = { addresses: [], balances: [], nonces: [], deleted: [], gasUsed, status };
    for (const [address, change] of state.result()) {
      reply.addresses.push(address);
      reply.balances.push(change.balance);
      reply.nonces.push(change.nonce);
      reply.deleted.push(change.deleted);
    }
    self.postMessage(reply);
  };
  self.postMessage("ready");
} else {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { txs: { type: "string", default: "47620" }, rounds: { type: "string", default: "5" } } });
  const count = Number(values.txs);
  const mock = rawTransfers(count);
  const { block, storage } = load(mock);
  const half = count >> 1;
  const worker = new Worker(import.meta.path);
  const ready = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage(mock);
  await ready;

  /** The split run: both halves at once, then the worker's half merged into the calling thread's. */
  async function split(): Promise<{ changes: StateChanges; receipts: Receipt[] }> {
    const reply = new Promise<HalfResult>((resolve) => (worker.onmessage = (event) => resolve(event.data as HalfResult)));
    worker.postMessage({ from: half, to: count, gasBefore: TRANSFER_GAS * BigInt(half) });
    const mine = await runHalf(block, storage, 0, half, 0n);
    const theirs = await reply;
    const changes = mine.state.result();
    for (let i = 0; i < theirs.addresses.length; i++) {
      const address = theirs.addresses[i]!;
      const known = changes.get(address);
      if (known !== undefined) {
        // Touched by both halves: only the beneficiary, credited by each; add the two sums.
        known.balance += theirs.balances[i]! - (storage.account(address)?.balance ?? 0n);
        continue;
      }
      const codeHash = storage.account(address)?.codeHash ?? EMPTY_CODE_HASH;
      changes.set(address, { deleted: theirs.deleted[i]!, balance: theirs.balances[i]!, nonce: theirs.nonces[i]!, codeHash, storageCleared: false, storage: new Map() });
    }
    const receipts = mine.totals.receipts;
    let cumulative = mine.totals.gasUsed;
    const emptyBloom = new Uint8Array(256);
    for (let i = 0; i < theirs.gasUsed.length; i++) {
      cumulative += theirs.gasUsed[i]!;
      receipts.push({ type: block.transactions[half + i]!.type, status: theirs.status[i]!, gasUsed: theirs.gasUsed[i]!, cumulativeGasUsed: cumulative, logs: [], logsBloom: emptyBloom });
    }
    return { changes, receipts };
  }

  const reference = await executeBlock(block, storage, { sequential: true });
  const check = (got: { changes: StateChanges; receipts: Receipt[] }) => {
    if (got.receipts.length !== reference.receipts.length || got.receipts.some((r, i) => r.cumulativeGasUsed !== reference.receipts[i]!.cumulativeGasUsed)) {
      throw new Error("the split's receipts differ from the sequential run's");
    }
    if (got.changes.size !== reference.changes.size) throw new Error(`the split changed ${got.changes.size} accounts, the sequential run ${reference.changes.size}`);
    for (const [address, c] of reference.changes) {
      const g = got.changes.get(address);
      if (g === undefined || g.balance !== c.balance || g.nonce !== c.nonce || g.deleted !== c.deleted) throw new Error(`the split's ${address} differs from the sequential run's`);
    }
  };
  check(await split());

  const modes = {
    sequential: () => executeBlock(block, storage, { sequential: true }),
    "split, no Block-STM": () => split(),
    "pevm, 2 workers": () => executeBlock(block, storage, { workers: 2 }),
  } as const;
  const names = Object.keys(modes) as (keyof typeof modes)[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<keyof typeof modes, number[]>;
  console.error(`${count} raw transfers, ${values.rounds} rounds after one warm-up, load ${loadavg()[0]!.toFixed(2)}`);
  for (let round = -1; round < Number(values.rounds); round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + Math.max(round, 0)) % names.length]!;
      await collectGarbage();
      const started = performance.now();
      await modes[name]();
      if (round >= 0) samples[name].push(performance.now() - started);
    }
  }
  const sequential = median(samples.sequential);
  for (const name of names) {
    const ms = median(samples[name]);
    console.log(`${name.padEnd(20)} ${ms.toFixed(1).padStart(8)} ms  ${(sequential / ms).toFixed(2)}x of sequential`);
  }
  console.log(`load ${loadavg()[0]!.toFixed(2)} at end`);
  await closeEngines();
  worker.terminate();
}
