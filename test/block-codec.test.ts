import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeBlock, encodeBlock, SharedBlockView } from "../src/parallel/block-codec.ts";
import type { Block, Hex } from "../src/chain/types.ts";
import { loadBlock, pseudoRandomAddress, syntheticMainnetLikeBlock, syntheticTransferBlock } from "./fixtures/shared-corpus.ts";
import type { SharedWorkerRequest } from "./fixtures/shared-worker.ts";
import { askSharedWorker, startSharedWorker } from "./support/shared-worker.ts";

// 19932703: 1559 + legacy + blob; 18085863: access lists; 18426253: six creations;
// 1150000: pre-EIP-155 legacy (no chain id), a creation, no base fee/withdrawals; 19910734: empty.
const BLOCKS = [19932703, 18085863, 18426253, 1150000, 19910734];

describe("block codec round trip on corpus blocks", () => {
  for (const number of BLOCKS) {
    test(`block ${number}`, () => {
      const block = loadBlock(number);
      const buffer = encodeBlock(block);
      expect(buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(decodeBlock(buffer)).toEqual(block);
    });
  }

  test("the chosen blocks cover every transaction kind", () => {
    const txs = BLOCKS.flatMap((n) => loadBlock(n).transactions);
    const types = new Set(txs.map((t) => t.type));
    expect([0, 1, 2, 3].every((t) => types.has(t))).toBe(true);
    expect(txs.some((t) => t.to === undefined)).toBe(true);
    expect(txs.some((t) => t.type === 0 && t.chainId === undefined)).toBe(true);
    expect(txs.some((t) => t.accessList.some((item) => item.storageKeys.length > 0))).toBe(true);
    expect(txs.some((t) => t.blobVersionedHashes.length > 0)).toBe(true);
  });

  test("SharedBlockView decodes single transactions on demand, each once", () => {
    const block = loadBlock(19932703);
    const view = new SharedBlockView(encodeBlock(block));
    expect(view.transactionCount).toBe(block.transactions.length);
    const last = block.transactions.length - 1;
    expect(view.transaction(last)).toEqual(block.transactions[last]);
    expect(view.transaction(last)).toBe(view.transaction(last));
    expect(view.header).toEqual(block.header);
    expect(view.withdrawals).toEqual(block.withdrawals);
    expect(view.transaction(0)).toEqual(block.transactions[0]);
    expect(() => view.transaction(last + 1)).toThrow(RangeError);
    expect(() => view.transaction(-1)).toThrow(RangeError);
    // Decoded calldata is a private copy, not a view of shared memory.
    const withData = block.transactions.findIndex((t) => t.data.length > 0);
    expect(view.transaction(withData).data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });
});

describe("block codec on synthetic blocks", () => {
  test("Prague fields: set-code authorizations, the requests hash, the RLP size", () => {
    const block = syntheticTransferBlock(2);
    const max = (1n << 256n) - 1n;
    block.transactions[1].type = 4;
    block.transactions[1].authorizationList = [
      { chainId: 0n, address: pseudoRandomAddress(5), nonce: (1n << 64n) - 2n, yParity: 1n, r: max, s: 1n },
      { chainId: 1n, address: pseudoRandomAddress(6), nonce: 0n, yParity: 0n, r: 12345n, s: max >> 1n },
    ];
    block.header.expected.requestsHash = `0x${"ab".repeat(32)}` as Hex;
    block.rlpSize = 8_388_608;
    const decoded = decodeBlock(encodeBlock(block));
    expect(decoded).toEqual(block);
    expect(decoded.transactions[0]!.authorizationList).toBeUndefined();
    expect(decoded.transactions[1]!.authorizationList).toHaveLength(2);
  });

  test("extremes: 256-bit values, uncles, absent optionals", () => {
    const block = syntheticTransferBlock(3);
    const max = (1n << 256n) - 1n;
    block.transactions[0].value = max;
    block.transactions[1].nonce = (1n << 64n) - 1n;
    block.transactions[1].hash = undefined;
    block.transactions[2].accessList = [{ address: pseudoRandomAddress(3), storageKeys: [0n, max, 1n << 200n] }];
    block.uncles = [{ number: 19_999_999n, coinbase: pseudoRandomAddress(9) }];
    block.withdrawals = undefined;
    block.header.baseFeePerGas = undefined;
    block.header.parentBeaconBlockRoot = undefined;
    block.header.expected = { gasUsed: undefined, receiptsRoot: `0x${"12".repeat(32)}` as Hex, logsBloom: `0x${"00".repeat(256)}` as Hex, stateRoot: undefined };
    expect(decodeBlock(encodeBlock(block))).toEqual(block);
  });

  test("quantities of every byte length survive", () => {
    const block = syntheticTransferBlock(33);
    for (const tx of block.transactions) tx.value = tx.index === 0 ? 0n : (1n << BigInt(8 * tx.index)) - 1n;
    const decoded = decodeBlock(encodeBlock(block));
    expect(decoded.transactions.map((t) => t.value)).toEqual(block.transactions.map((t) => t.value));
  });

  test("rejects what it cannot encode faithfully", () => {
    const block = syntheticTransferBlock(1);
    block.transactions[0].value = 1n << 256n;
    expect(() => encodeBlock(block)).toThrow(RangeError);
    block.transactions[0].value = -1n;
    expect(() => encodeBlock(block)).toThrow(RangeError);
    block.transactions[0].value = 0n;
    block.transactions[0].from = `0x${"zz".repeat(20)}` as Hex;
    expect(() => encodeBlock(block)).toThrow(RangeError);
    expect(() => new SharedBlockView(new SharedArrayBuffer(64))).toThrow(/magic/);
  });

  test("a mainnet-like block round-trips", () => {
    const block = syntheticMainnetLikeBlock(500);
    expect(decodeBlock(encodeBlock(block))).toEqual(block);
  });
});

describe("block codec across a Worker", () => {
  let worker: Worker;
  beforeAll(() => {
    worker = startSharedWorker();
  });
  afterAll(() => worker.terminate());

  const ask = (request: SharedWorkerRequest) => askSharedWorker(worker, request);

  test("a Worker decodes the block it received as one SharedArrayBuffer", async () => {
    const block: Block = loadBlock(19932703);
    const reply = await ask({ kind: "block", buffer: encodeBlock(block) });
    if (reply.kind !== "block") throw new Error(`unexpected reply ${reply.kind}`);
    expect(reply.header).toEqual(block.header);
    expect(reply.transactions).toEqual(block.transactions);
    expect(reply.withdrawals).toEqual(block.withdrawals);
    expect(reply.uncles).toEqual(block.uncles);
  });
});
