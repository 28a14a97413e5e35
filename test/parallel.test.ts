/**
 * The parallel engine gives exactly the sequential result (receipts with logs and cumulative
 * gas, gas used, logs bloom, post-state changes) on every mainnet block and every mocked block
 * kind, for 1 to 8 workers (8 is more than this machine's 2 cores); a failing worker makes the
 * block fail promptly and leaves the engine usable.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { executeBlock, executeWith } from "../src/execute.ts";
import { closeEngines } from "../src/index.ts";
import { MOCK_KINDS, mockKind } from "./mock/index.ts";
import { ParallelEngine } from "../src/parallel/engine.ts";
import { engineFor } from "../src/parallel/registry.ts";
import type { AddressHex, Hex } from "../src/chain/types.ts";
import type { LoadedBlock } from "../src/state/corpus.ts";
import type { Storage } from "../src/state/types.ts";
import { describeDifferences, resultDifferences } from "./support/compare.ts";
import { FallbackLog } from "./support/fallbacks.ts";
import { loadMainnetBlock, mainnetBlockNumbers } from "./support/mainnet.ts";
import { loadMockBlock } from "./support/mocks.ts";
import { compareParallel, ENGINE_CLOSE_TIMEOUT_MS } from "./support/parallel.ts";
import { within } from "./support/watchdog.ts";

const WORKER_COUNTS = [1, 2, 3, 4, 8];

/** Mocked blocks: small enough to keep the suite lean, big enough for real conflicts. */
const MOCK_TX_COUNT = 40;
/** Kinds whose transactions are Uniswap swaps, ~10x the work of the others. */
const SLOW_MOCK_TX_COUNT: Record<string, number> = { "uniswap-many": 12, "uniswap-one": 12, mixed: 24 };

/**
 * Per-test limits (bunfig's [test] timeout is not applied: the default would be 5 s). Far above
 * an honest run on a loaded machine; a test that times out leaves its run going, which would
 * break the next test's run on the same engine, so they must not be tight.
 */
const BLOCK_TEST_TIMEOUT_MS = 300_000;

const fallbacks = new FallbackLog();

afterAll(async () => {
  console.log(fallbacks.report("parallel.test"));
  await closeEngines();
}, ENGINE_CLOSE_TIMEOUT_MS);

async function expectParallelEqualsSequential(label: string, loaded: LoadedBlock, workerCounts: number[]): Promise<void> {
  const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
  for (const workers of workerCounts) {
    const { differences, modeProblems } = await compareParallel(label, loaded, sequential, workers, fallbacks);
    expect(modeProblems).toEqual([]);
    if (differences.length > 0) {
      throw new Error(`${label}, ${workers} workers: parallel != sequential\n  ${describeDifferences(differences)}`);
    }
  }
}

describe("mainnet blocks: parallel == sequential", () => {
  for (const number of mainnetBlockNumbers()) {
    const workerCounts = WORKER_COUNTS;
    test(`block ${number}, workers ${workerCounts.join(",")}`, async () => {
      await expectParallelEqualsSequential(`block ${number}`, loadMainnetBlock(number), workerCounts);
    }, BLOCK_TEST_TIMEOUT_MS);
  }
});

describe("mocked blocks: parallel == sequential", () => {
  for (const kind of MOCK_KINDS) {
    const count = SLOW_MOCK_TX_COUNT[kind.name] ?? MOCK_TX_COUNT;
    test(`${kind.name} (${Math.min(count, kind.maxCount ?? count)} txs), workers ${WORKER_COUNTS.join(",")}`, async () => {
      const loaded = await loadMockBlock(kind, count);
      expect(loaded.block.transactions.length).toBeGreaterThan(0);
      if (kind.independent) {
        const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
        const failedTxs = sequential.receipts.flatMap((receipt, index) => (receipt.status === 1 ? [] : [index]));
        expect(failedTxs).toEqual([]);
      }
      await expectParallelEqualsSequential(`mock ${kind.name}`, loaded, WORKER_COUNTS);
    }, BLOCK_TEST_TIMEOUT_MS);
  }
});

describe("a worker that throws", () => {
  /** Generous: the failure must be noticed promptly, but the machine is shared. */
  const WATCHDOG_MS = 30_000;
  const cases = [
    { workers: 1, throwAt: 0 },
    { workers: 2, throwAt: 17 },
    { workers: 8, throwAt: 39 },
  ];
  for (const { workers, throwAt } of cases) {
    test(`workers ${workers}, throw at tx ${throwAt}: the block rejects naming the failure, then the same engine runs the next block right`, async () => {
      const failing = await loadMockBlock(mockKind("counter"), 40);
      const engine = await engineFor(workers);
      const outcome = await within(
        executeBlock(failing.block, failing.storage, { workers, injectThrowAtTx: throwAt, timeoutMs: WATCHDOG_MS * 2 }).then(
          () => null,
          (error: unknown) => error,
        ),
        WATCHDOG_MS,
        `block with a worker throwing at tx ${throwAt}`,
      );
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(new RegExp(`worker \\d+ .*injected failure at transaction ${throwAt}\\b`));

      expect(await engineFor(workers)).toBe(engine);
      const next = await loadMockBlock(mockKind("erc20-hot-recipient"), 40);
      const sequential = await executeBlock(next.block, next.storage, { sequential: true });
      const parallel = await within(executeBlock(next.block, next.storage, { workers }), WATCHDOG_MS, "the block after the failure");
      expect(parallel.stats?.workers).toBe(workers);
      expect(parallel.stats?.fallback).toBeNull();
      expect(resultDifferences(sequential, parallel)).toEqual([]);
    }, BLOCK_TEST_TIMEOUT_MS);
  }
});

describe("a worker whose thread dies while the calling thread executes its share", () => {
  test("the run rejects naming the worker instead of waiting for it, and the engine runs the next block right", async () => {
    // Slow transactions (up to 4 ms each) make sure the worker starts before the calling thread has
    // done the whole block alone; the worker's thread then exits with no error to catch, and
    // only the pool, on the calling thread's event loop, can notice.
    const block = await loadMockBlock(mockKind("counter"), 40);
    const outcome = await within(
      executeBlock(block.block, block.storage, { workers: 2, injectWorkerExit: true, injectDelayMicros: 4000 }).then(
        () => null,
        (error: unknown) => error,
      ),
      30_000,
      "block whose worker exits",
    );
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/worker 0 /);
    const sequential = await executeBlock(block.block, block.storage, { sequential: true });
    const parallel = await within(executeBlock(block.block, block.storage, { workers: 2 }), 30_000, "the block after the exit");
    expect(parallel.stats?.workers).toBe(2);
    expect(resultDifferences(sequential, parallel)).toEqual([]);
  }, BLOCK_TEST_TIMEOUT_MS);
});

describe("blocks submitted while another runs", () => {
  test("two blocks given to the same engine at once both equal sequential (runs share memory and must not overlap)", async () => {
    const first = await loadMockBlock(mockKind("uniswap-one"), 12);
    const second = await loadMockBlock(mockKind("coinbase-probe"), 40);
    const [firstSequential, secondSequential] = [
      await executeBlock(first.block, first.storage, { sequential: true }),
      await executeBlock(second.block, second.storage, { sequential: true }),
    ];
    const [firstParallel, secondParallel] = await within(
      Promise.all([executeBlock(first.block, first.storage, { workers: 2 }), executeBlock(second.block, second.storage, { workers: 2 })]),
      120_000,
      "two concurrent blocks",
    );
    expect(resultDifferences(firstSequential, firstParallel)).toEqual([]);
    expect(resultDifferences(secondSequential, secondParallel)).toEqual([]);
  }, BLOCK_TEST_TIMEOUT_MS);
  test("two blocks on two engines at once both equal sequential (their calling-thread shares interleave at awaits, each on its own VM)", async () => {
    const first = await loadMockBlock(mockKind("uniswap-one"), 12);
    const second = await loadMockBlock(mockKind("erc20-hot-recipient"), 40);
    const firstSequential = await executeBlock(first.block, first.storage, { sequential: true });
    const secondSequential = await executeBlock(second.block, second.storage, { sequential: true });
    const [firstParallel, secondParallel] = await within(
      Promise.all([executeBlock(first.block, first.storage, { workers: 2 }), executeBlock(second.block, second.storage, { workers: 3 })]),
      120_000,
      "two blocks on two engines",
    );
    expect(resultDifferences(firstSequential, firstParallel)).toEqual([]);
    expect(resultDifferences(secondSequential, secondParallel)).toEqual([]);
  }, BLOCK_TEST_TIMEOUT_MS);
});

describe("shared arenas too small for the block", () => {
  test("the engine grows the multi-version memory and the code store and runs the block again, with the same result", async () => {
    // 1/256 of the estimated capacities: locations, entries and arenas all overflow first;
    // 256 bytes of code store cannot hold the contracts the create-destroy kind deploys.
    const engine = await ParallelEngine.start(2, false, { arenaScale: 1 / 256, codeStoreBytes: 256 });
    try {
      const growths: number[] = [];
      for (const loaded of [loadMainnetBlock(14029313), await loadMockBlock(mockKind("create-destroy"), 40)]) {
        const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
        const parallel = await within(executeWith(async () => engine, loaded.block, loaded.storage, { workers: 2 }), 120_000, "a block with small arenas");
        expect(resultDifferences(sequential, parallel)).toEqual([]);
        growths.push(parallel.stats!.arenaGrowths);
      }
      // The mainnet block overflows the memory arenas, the created contracts the code store.
      expect(growths.every((n) => n > 0)).toBe(true);
    } finally {
      await engine.close();
    }
  }, BLOCK_TEST_TIMEOUT_MS);
});

describe("a Storage that is not a MemoryStorage", () => {
  /** The caller's own class: the engine cannot copy it, so workers ask this thread for each location. */
  class DelegatingStorage implements Storage {
    reads = 0;
    constructor(private readonly inner: Storage) {}
    account(address: AddressHex) {
      this.reads++;
      return this.inner.account(address);
    }
    code(codeHash: Hex) {
      return this.inner.code(codeHash);
    }
    storage(address: AddressHex, slot: bigint) {
      this.reads++;
      return this.inner.storage(address, slot);
    }
    blockHash(number: bigint) {
      return this.inner.blockHash(number);
    }
    hasStorage(address: AddressHex) {
      return this.inner.hasStorage?.(address) ?? false;
    }
  }

  for (const source of ["mainnet 19932703", "mainnet 14029313", "mock create-destroy", "mock coinbase-probe"]) {
    test(`${source}: workers read it through the calling thread, and parallel == sequential with 1, 2, 3 workers`, async () => {
      const [kind, name] = source.split(" ") as [string, string];
      const loaded = kind === "mainnet" ? loadMainnetBlock(Number(name)) : await loadMockBlock(mockKind(name), 40);
      const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
      for (const workers of [1, 2, 3]) {
        const storage = new DelegatingStorage(loaded.storage);
        const parallel = await within(executeBlock(loaded.block, storage, { workers }), 120_000, `${source} with ${workers} workers`);
        expect(resultDifferences(sequential, parallel)).toEqual([]);
        expect(storage.reads).toBeGreaterThan(0);
      }
    }, BLOCK_TEST_TIMEOUT_MS);
  }
});
