/**
 * Prague, Osaka and the BPO forks beyond what the execution-spec-tests check (test/eest*.test.ts):
 * the mainnet schedule, fork labels, the blob schedule, and the typed errors for bad input in
 * the new fields, in both modes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { addr, authorization } from "micro-eth-signer";
import { blockFromJson } from "../src/blocktest/build.ts";
import type { BlockchainTestFileJson } from "../src/blocktest/json.ts";
import { blobGasPrice, maxBlobGasPerBlock, maxBlobsPerTransaction, nextExcessBlobGas } from "../src/chain/blobs.ts";
import { InputError, InvalidBlockError, InvalidTransactionError } from "../src/chain/errors.ts";
import { Fork, forkAt, mainnetFork, parseForkName } from "../src/chain/forks.ts";
import { parseBlock } from "../src/chain/json.ts";
import { closeEngines, executeBlock, MemoryStorage, type Block } from "../src/index.ts";
import { EMPTY_CODE_HASH } from "../src/state/types.ts";
import { buildPreState } from "../src/statetest/build.ts";
import { readFixture } from "../src/statetest/files.ts";
import { MOCK_GAS_PRICE } from "./mock/block.ts";
import { mockKind } from "./mock/index.ts";
import { loadMockBlock } from "./support/mocks.ts";

afterAll(() => closeEngines());

/** The error a run ends with (awaited here: then it is checked like any value). */
async function rejection(run: Promise<unknown>): Promise<Error & { reason?: string; txIndex?: number }> {
  const outcome = await run.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (outcome === undefined) throw new Error("expected the block to be rejected, but it executed");
  return outcome;
}
/** Generous: the 2-worker runs start a worker pool on a shared machine. */
const SLOW = 60_000;

const MODES = [{ sequential: true }, { workers: 2 }] as const;
const modeName = (m: (typeof MODES)[number]) => ("sequential" in m ? "sequential" : "2 workers");

describe("fork schedule", () => {
  test("mainnet timestamps: Prague, Osaka, BPO1, and BPO2 for 2026", () => {
    const n = 23_000_000n;
    expect(mainnetFork(n, 1_746_612_310n)).toBe(Fork.Cancun);
    expect(mainnetFork(n, 1_746_612_311n)).toBe(Fork.Prague);
    expect(mainnetFork(n, 1_764_798_551n)).toBe(Fork.Osaka);
    expect(mainnetFork(n, 1_765_290_071n)).toBe(Fork.BPO1);
    expect(mainnetFork(n, 1_767_747_671n)).toBe(Fork.BPO2);
    expect(mainnetFork(n, 1_780_000_000n)).toBe(Fork.BPO2); // mid-2026
  });

  test("names and the execution-spec-tests transition labels", () => {
    expect(parseForkName("Osaka")).toBe(Fork.Osaka);
    expect(parseForkName("bpo4")).toBe(Fork.BPO4);
    expect(forkAt("Prague", 0n)).toBe(Fork.Prague);
    expect(forkAt("PragueToOsakaAtTime15k", 14_999n)).toBe(Fork.Prague);
    expect(forkAt("PragueToOsakaAtTime15k", 15_000n)).toBe(Fork.Osaka);
    expect(forkAt("BPO3ToBPO4AtTime15k", 15_001n)).toBe(Fork.BPO4);
    expect(() => forkAt("PragueToAmsterdamAtTime15k", 0n)).toThrow(InputError);
  });
});

describe("blob schedule", () => {
  test("per fork: block maximum, EIP-7594's 6 per transaction from Osaka, update fraction", () => {
    expect(maxBlobGasPerBlock(Fork.Cancun)).toBe(6n * 131_072n);
    expect(maxBlobGasPerBlock(Fork.Prague)).toBe(9n * 131_072n);
    expect(maxBlobGasPerBlock(Fork.BPO2)).toBe(21n * 131_072n);
    expect(maxBlobsPerTransaction(Fork.Prague)).toBe(9);
    expect(maxBlobsPerTransaction(Fork.Osaka)).toBe(6);
    expect(maxBlobsPerTransaction(Fork.BPO1)).toBe(6);
    // The same excess is cheaper where the update fraction is larger.
    const excess = 50_000_000n;
    expect(blobGasPrice(excess, Fork.BPO2)).toBeLessThan(blobGasPrice(excess, Fork.Prague));
    expect(blobGasPrice(0n, Fork.BPO1)).toBe(1n);
  });

  test("EIP-7918: from Osaka a cheap blob price makes the excess grow instead of fall", () => {
    const parent = { excessBlobGas: 10n * 131_072n, blobGasUsed: 7n * 131_072n, baseFeePerGas: 1_000_000_000n };
    // Prague: excess + used - target.
    expect(nextExcessBlobGas(parent, Fork.Prague)).toBe(11n * 131_072n);
    // Osaka: blobs at ~1 wei are below the reserve price (8192 * base fee / 131072): excess + used * (max - target) / max.
    expect(nextExcessBlobGas(parent, Fork.Osaka)).toBe(10n * 131_072n + (7n * 131_072n * 3n) / 9n);
  });
});

// ---- a small Prague block with set-code transactions ----

const SPONSOR = "0x1000000000000000000000000000000000000001";
const DELEGATE = "0x2000000000000000000000000000000000000002";
const AUTHORITY_KEY = new Uint8Array(32).fill(7);
const AUTHORITY = addr.fromPrivateKey(AUTHORITY_KEY).toLowerCase();
const PRAGUE_TIME = "0x684b5f00"; // 2025-06-13

function signed(chainId: bigint, nonce: bigint, delegate = DELEGATE) {
  const a = authorization.sign({ chainId, address: delegate, nonce }, AUTHORITY_KEY, false);
  return { chainId: `0x${a.chainId.toString(16)}`, address: delegate, nonce: `0x${a.nonce.toString(16)}`, yParity: `0x${a.yParity.toString(16)}`, r: `0x${a.r.toString(16)}`, s: `0x${a.s.toString(16)}` };
}

function setCodeBlock(tx: Record<string, unknown>): Block {
  return parseBlock("test", {
    number: "0x1600000",
    miner: "0x3000000000000000000000000000000000000003",
    timestamp: PRAGUE_TIME,
    gasLimit: "0x1c9c380",
    baseFeePerGas: "0x7",
    excessBlobGas: "0x0",
    parentHash: `0x${"11".repeat(32)}`,
    transactions: [
      { type: "0x4", chainId: "0x1", from: SPONSOR, to: AUTHORITY, nonce: "0x0", gas: "0x30d40", maxFeePerGas: "0xa", maxPriorityFeePerGas: "0x1", value: "0x0", input: "0x", accessList: [], ...tx },
    ],
  });
}

function preState(): MemoryStorage {
  const storage = new MemoryStorage();
  storage.setAccount(SPONSOR as never, { balance: 10n ** 18n, nonce: 0n, codeHash: EMPTY_CODE_HASH });
  return storage;
}

describe("EIP-7702 input and rules", () => {
  test("a malformed authorization is an InputError naming the field", () => {
    const bad = (auth: Record<string, string>) => () => setCodeBlock({ authorizationList: [auth] });
    expect(bad({ ...signed(1n, 0n), r: "0xzz" })).toThrow(/transactions\[0\]\.authorizationList\[0\]\.r/);
    expect(bad({ ...signed(1n, 0n), yParity: "0x100" })).toThrow(/authorizationList\[0\]\.yParity: "0x100" is over 255/);
    expect(bad({ ...signed(1n, 0n), chainId: "one" })).toThrow(InputError);
    expect(() => setCodeBlock({})).toThrow(/transactions\[0\]\.authorizationList: missing/);
  });

  for (const mode of MODES) {
    test(`valid, wrong-chain and high-s authorizations (${modeName(mode)})`, async () => {
      const valid = await executeBlock(setCodeBlock({ authorizationList: [signed(1n, 0n)] }), preState(), mode);
      const authority = valid.changes.get(AUTHORITY as never)!;
      expect(authority.nonce).toBe(1n);
      expect(authority.code).toEqual(Uint8Array.from([0xef, 0x01, 0x00, ...Buffer.from(DELEGATE.slice(2), "hex")]));

      // A wrong chain id and a signature with s in the upper half are skipped, not invalid.
      const good = signed(1n, 0n);
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const highS = { ...good, s: `0x${(n - BigInt(good.s)).toString(16)}`, yParity: good.yParity === "0x0" ? "0x1" : "0x0" };
      const skipped = await executeBlock(setCodeBlock({ authorizationList: [signed(5n, 0n), highS] }), preState(), mode);
      expect(skipped.receipts[0]!.status).toBe(1);
      // The zero-value call to the (still empty) authority leaves it as it was: absent.
      const untouched = skipped.changes.get(AUTHORITY as never);
      expect(untouched === undefined || (untouched.deleted && untouched.nonce === 0n && untouched.codeHash === EMPTY_CODE_HASH)).toBe(true);
    }, SLOW);

    test(`an empty authorization list and a set-code creation are typed errors (${modeName(mode)})`, async () => {
      const empty = await rejection(executeBlock(setCodeBlock({ authorizationList: [] }), preState(), mode));
      expect(empty).toBeInstanceOf(InvalidTransactionError);
      expect(empty).toMatchObject({ reason: "SET_CODE_EMPTY_AUTHORIZATIONS", txIndex: 0 });
      const block = setCodeBlock({ authorizationList: [signed(1n, 0n)] });
      block.transactions[0]!.to = undefined;
      expect(await rejection(executeBlock(block, preState(), mode))).toMatchObject({ reason: "SET_CODE_CREATE" });
    }, SLOW);
  }
});

describe("validity order (chain/validity.ts) is the same in both modes", () => {
  /** Two transfers from the sponsor; the second one's gas limit (by default) does not fit what the first left. */
  function twoTransfers(second: Record<string, string>): Block {
    const transfer = (nonce: string, gas: string) => ({
      type: "0x2", chainId: "0x1", from: SPONSOR, to: DELEGATE, nonce, gas, maxFeePerGas: "0xa", maxPriorityFeePerGas: "0x1", value: "0x1", input: "0x", accessList: [],
    });
    return parseBlock("test", {
      number: "0x1600000", miner: "0x3000000000000000000000000000000000000003", timestamp: PRAGUE_TIME,
      gasLimit: "0x1000000", baseFeePerGas: "0x7", excessBlobGas: "0x0", parentHash: `0x${"11".repeat(32)}`,
      transactions: [transfer("0x0", "0x5208"), { ...transfer("0x1", "0xffae00"), ...second }],
    });
  }

  for (const mode of MODES) {
    test(`the block's remaining gas is checked before fees, after the transaction's own rules (${modeName(mode)})`, async () => {
      // Exceeds what is left and has a fee cap below the base fee: the gas check comes first.
      const feeToo = await rejection(executeBlock(twoTransfers({ maxFeePerGas: "0x6", maxPriorityFeePerGas: "0x1" }), preState(), { ...mode, fork: Fork.Prague }));
      expect(feeToo).toMatchObject({ reason: "GAS_LIMIT_EXCEEDS_BLOCK", txIndex: 1 });
      // Exceeds what is left and has a wrong chain id, or Osaka's EIP-7825 cap: the transaction's own rules come first.
      const chainToo = await rejection(executeBlock(twoTransfers({ chainId: "0x2" }), preState(), { ...mode, fork: Fork.Prague }));
      expect(chainToo).toMatchObject({ reason: "WRONG_CHAIN_ID", txIndex: 1 });
      const capToo = await rejection(executeBlock(twoTransfers({ gas: "0x1000001" }), preState(), { ...mode, fork: Fork.Osaka }));
      expect(capToo).toMatchObject({ reason: "GAS_LIMIT_ABOVE_CAP", txIndex: 1 });
    }, SLOW);
  }
});

describe("EIP-7934 block size", () => {
  for (const mode of MODES) {
    test(`an Osaka block whose RLP exceeds 8 MiB is RLP_BLOCK_TOO_LARGE; a Prague one is not limited (${modeName(mode)})`, async () => {
      const block = setCodeBlock({ authorizationList: [signed(1n, 0n)] });
      block.rlpSize = 8_388_609;
      const tooLarge = await rejection(executeBlock(block, preState(), { ...mode, fork: Fork.Osaka }));
      expect(tooLarge).toBeInstanceOf(InvalidBlockError);
      expect(tooLarge).toMatchObject({ reason: "RLP_BLOCK_TOO_LARGE" });
      block.rlpSize = 8_388_608;
      expect((await executeBlock(block, preState(), { ...mode, fork: Fork.Osaka })).receipts).toHaveLength(1);
      block.rlpSize = 9_000_000;
      expect((await executeBlock(block, preState(), { ...mode, fork: Fork.Prague })).receipts).toHaveLength(1);
    }, SLOW);
  }

  test("the JSON-RPC `size` is the block's RLP length", () => {
    expect(setCodeBlock({ authorizationList: [] }).rlpSize).toBeUndefined();
    const withSize = parseBlock("test", { number: "0x1", miner: SPONSOR, timestamp: "0x1", gasLimit: "0x1", size: "0xc86f", transactions: [] });
    expect(withSize.rlpSize).toBe(0xc86f);
  });
});

describe("EIP-7685 requests", () => {
  const FIXTURE = join(import.meta.dir, "..", "data", "eest", "blockchain_tests", "prague", "eip7002_el_triggerable_withdrawals", "test_eip_7002.json.gz");

  async function firstBlockOfFixture() {
    const file = readFixture<BlockchainTestFileJson>(FIXTURE, "fixture");
    const test = Object.values(file).find((t) => t.network === "Prague" && t.blocks[0]?.blockHeader !== undefined)!;
    const storage = buildPreState(test.pre, { currentNumber: "0x00" } as never);
    return { block: blockFromJson(test.blocks[0] as never, "fixture"), storage };
  }

  for (const mode of MODES) {
    test(`a header requests hash that does not match is INVALID_REQUESTS on a full pre-state (${modeName(mode)})`, async () => {
      const { block, storage } = await firstBlockOfFixture();
      const right = await executeBlock(block, storage, { ...mode, fork: Fork.Prague, fullPreState: true });
      expect(right.requestsHash).toBe(block.header.expected.requestsHash!);
      block.header.expected.requestsHash = `0x${"00".repeat(32)}`;
      const wrong = await rejection(executeBlock(block, storage, { ...mode, fork: Fork.Prague, fullPreState: true }));
      expect(wrong).toBeInstanceOf(InvalidBlockError);
      expect(wrong).toMatchObject({ reason: "INVALID_REQUESTS" });
    }, SLOW);

    test(`a partial pre-state without system contracts executes: empty requests (${modeName(mode)})`, async () => {
      const result = await executeBlock(setCodeBlock({ authorizationList: [signed(1n, 0n)] }), preState(), mode);
      expect(result.requestsHash).toBe("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); // sha256 of nothing
      const strict = await rejection(executeBlock(setCodeBlock({ authorizationList: [signed(1n, 0n)] }), preState(), { ...mode, fullPreState: true }));
      expect(strict).toMatchObject({ reason: "SYSTEM_CONTRACT_EMPTY" });
    }, SLOW);
  }
});

describe("the set-code mocked block", () => {
  for (const mode of MODES) {
    test(`delegations are set, run in the authority's storage, and cleared (${modeName(mode)})`, async () => {
      const loaded = await loadMockBlock(mockKind("set-code"), 8); // two groups of four
      const result = await executeBlock(loaded.block, loaded.storage, mode);
      expect(result.fork).toBe(Fork.Prague);
      expect(result.receipts.map((r) => r.status)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
      const txs = loaded.block.transactions;
      const authority = txs[1]!.from; // the authority sends the group's second transaction
      const counter = txs[1]!.to!;
      const a = result.changes.get(authority)!;
      // Nonce: its authorization (0 -> 1), its own transaction (1 -> 2), the clearing one (2 -> 3).
      expect(a.nonce).toBe(3n);
      expect(a.codeHash).toBe(EMPTY_CODE_HASH);
      // Counter's code ran twice in the authority's own storage (transactions 1 and 3).
      expect(a.storage.get(0n)).toBe(2n);
      // The shared Counter was incremented once per group, by the authorities themselves.
      expect(result.changes.get(counter)!.storage.get(0n)).toBe(2n);
      // Its balance: the fee of its own transaction paid, the 1,000 wei of the clearing one received.
      const fee = result.receipts[1]!.gasUsed * MOCK_GAS_PRICE;
      expect(a.balance - loaded.storage.account(authority)!.balance).toBe(1_000n - fee);
    }, SLOW);
  }
});
