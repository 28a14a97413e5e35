/**
 * Every vendored mainnet block, executed sequentially, reproduces what the chain recorded in
 * its header: gas used, logs bloom and, from Byzantium on, the receipts root.
 */
import { describe, expect, test } from "bun:test";
import { executeBlock, receiptsRoot } from "../src/index.ts";
import { BYZANTIUM_BLOCK, loadMainnetBlock, mainnetBlockNumbers } from "./support/mainnet.ts";

const BLOCKS = mainnetBlockNumbers();
/** bunfig's [test] timeout is not applied (the default is 5 s); generous for a loaded machine. */
const BLOCK_TEST_TIMEOUT_MS = 120_000;

describe("mainnet blocks, sequential", () => {
  test("the corpus holds the 56 vendored blocks, on both sides of Byzantium", () => {
    expect(BLOCKS.length).toBe(56);
    expect(BLOCKS.some((n) => n < BYZANTIUM_BLOCK)).toBe(true);
    expect(BLOCKS.some((n) => n >= BYZANTIUM_BLOCK)).toBe(true);
  });

  test.each(BLOCKS)("block %d matches its header", async (number) => {
    const { block, storage } = loadMainnetBlock(number);
    const expected = block.header.expected;
    const result = await executeBlock(block, storage, { sequential: true });

    expect(result.number).toBe(BigInt(number));
    expect(result.receipts.length).toBe(block.transactions.length);
    expect(result.receipts.at(-1)?.cumulativeGasUsed ?? 0n).toBe(result.gasUsed);
    expect(expected.gasUsed).toBeDefined();
    expect(result.gasUsed).toBe(expected.gasUsed!);
    expect(expected.logsBloom).toBeDefined();
    expect(result.logsBloom).toBe(expected.logsBloom!);
    if (number >= BYZANTIUM_BLOCK) {
      expect(expected.receiptsRoot).toBeDefined();
      expect(await receiptsRoot(result.receipts)).toBe(expected.receiptsRoot!);
    } else {
      console.log(`block ${number}: receipts root not checkable (pre-Byzantium)`);
    }
  }, BLOCK_TEST_TIMEOUT_MS);
});
