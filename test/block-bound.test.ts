/**
 * The blocks' own bound (bench/block-bound.ts) explains why a block cannot run faster on more
 * cores: its chain of dependent transactions must be right, or the bench's report misleads.
 */
import { describe, expect, test } from "bun:test";
import { loadBlockDir } from "../src/index.ts";
import { recordAccess } from "../bench/block-bound.ts";
import { EMPTY_CODE_HASH } from "../src/state/types.ts";
import type { AddressHex } from "../src/chain/types.ts";
import { boundedSpeedup, criticalPath, type TxAccess } from "../bench/report/critical-path.ts";
import { blockDirOf } from "../bench/peer/corpus.ts";

const tx = (ms: number, access: { reads?: string[]; writes?: string[]; deltas?: string[] } = {}): TxAccess => ({
  ms,
  reads: access.reads ?? [],
  writes: access.writes ?? [],
  deltas: access.deltas ?? [],
});

describe("criticalPath", () => {
  test("a reader waits for the writer before it; an unrelated transaction does not", () => {
    const path = criticalPath([tx(2, { writes: ["a"] }), tx(3, { reads: ["a"] }), tx(4, { reads: ["b"] })]);
    expect(path).toEqual({ totalMs: 9, longestTxMs: 4, chainMs: 5, chainTxs: 2 });
  });

  test("a reader waits for every delta since the last overwrite, and only for those", () => {
    // Deltas (lazy credits) do not wait for each other; the reader waits for the slower one.
    expect(criticalPath([tx(1, { deltas: ["c"] }), tx(5, { deltas: ["c"] }), tx(1, { reads: ["c"] })]).chainMs).toBe(6);
    // An overwrite hides the deltas before it: the reader starts after 1 ms, not after 3.
    expect(criticalPath([tx(3, { deltas: ["c"] }), tx(1, { writes: ["c"] }), tx(5, { reads: ["c"] })])).toMatchObject({ chainMs: 6, chainTxs: 2 });
  });

  test("the reader of a later writer does not wait for an earlier one", () => {
    // tx 0 writes a slowly; tx 1 overwrites a without reading it; tx 2 reads tx 1's value.
    const path = criticalPath([tx(8, { writes: ["a"] }), tx(1, { writes: ["a"] }), tx(1, { reads: ["a"] })]);
    expect(path.chainMs).toBe(8);
    expect(path.chainTxs).toBe(1);
  });

  test("boundedSpeedup: each block takes its chain or its share of the EVM ceiling, whichever is longer", () => {
    const serial = { totalMs: 10, longestTxMs: 10, chainMs: 10, chainTxs: 1 };
    const wide = { totalMs: 10, longestTxMs: 1, chainMs: 2, chainTxs: 2 };
    expect(boundedSpeedup([serial, wide], 2)).toBeCloseTo(20 / 15, 12);
    expect(boundedSpeedup([wide], Number.POSITIVE_INFINITY)).toBe(5);
  });
});

describe("recordAccess on mainnet blocks", () => {
  // Unit weights: the chain's length in transactions, which does not depend on timings.
  async function chainInTxs(number: number) {
    const { block, storage } = loadBlockDir(blockDirOf(number));
    const access = await recordAccess(block, storage);
    for (const a of access) a.ms = 1;
    return { txs: block.transactions.length, chain: criticalPath(access).chainTxs };
  }

  test("13287210: 1,408 of its 1,414 transactions come from one sender, and its nonce chains them", async () => {
    expect(await chainInTxs(13287210)).toEqual({ txs: 1414, chain: 1408 });
  }, 60_000);

  test("15537393: one transaction, one link", async () => {
    expect(await chainInTxs(15537393)).toEqual({ txs: 1, chain: 1 });
  }, 60_000);

  test("14029313: its chains are far shorter than the block (parallel work exists)", async () => {
    const { txs, chain } = await chainInTxs(14029313);
    expect(txs).toBe(724);
    expect(chain).toBeGreaterThan(1);
    expect(chain).toBeLessThan(txs / 4);
  }, 60_000);
});
