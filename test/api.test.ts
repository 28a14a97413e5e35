/**
 * The library as a caller uses it: the blocks it accepts (ours, JSON-RPC as it comes, viem
 * style), checksummed addresses, what the results carry, option checks, engine lifetimes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { toChecksumAddress } from "@ethereumjs/util";
import {
  closeEngines,
  executeBlock,
  InputError,
  loadBlockDir,
  loadPreState,
  MAX_WORKERS,
  MemoryStorage,
  Pevm,
  receiptsRoot,
  setWorkerScript,
  type Address,
  type Storage,
} from "../src/index.ts";
import { engineFor } from "../src/parallel/registry.ts";

const ROOT = resolve(import.meta.dir, "..");
const BLOCKS = join(ROOT, "data", "mainnet", "blocks");
/** Cancun: 24 transactions of types 0, 2 and 3, and withdrawals. */
const TYPED = "19923400";
/** Petersburg, three transactions. */
const SMALL = "9068998";

const rpcBlock = (n: string) => JSON.parse(readFileSync(join(BLOCKS, n, "block.json"), "utf8"));

afterAll(async () => {
  setWorkerScript(undefined);
  await closeEngines();
});

/** What viem's getBlock({ includeTransactions: true }) returns: bigints, numbers, type names, nulls. */
function viemStyle(rpc: any): any {
  const TYPES = ["legacy", "eip2930", "eip1559", "eip4844", "eip7702"];
  const NUMBERS = new Set(["transactionIndex", "yParity", "chainId"]);
  const BIGINTS = new Set([
    "number", "timestamp", "gasLimit", "gasUsed", "difficulty", "baseFeePerGas", "blobGasUsed", "excessBlobGas", "totalDifficulty", "size",
    "nonce", "gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "maxFeePerBlobGas", "value", "v", "blockNumber",
    "index", "validatorIndex", "amount",
  ]);
  const convert = (value: any, key?: string): any => {
    if (key === "type" && typeof value === "string") return TYPES[Number(value)];
    if (key === "nonce" && typeof value === "string" && value.length === 18) return value; // the header's 8-byte nonce stays hex
    if (key !== undefined && NUMBERS.has(key) && typeof value === "string") return Number(value);
    if (key !== undefined && BIGINTS.has(key) && typeof value === "string") return BigInt(value);
    if (Array.isArray(value)) return value.map((v) => convert(v));
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, k)]));
    return value;
  };
  const block = convert(rpc);
  for (const tx of block.transactions) tx.to ??= null;
  return block;
}

describe("blocks as users hold them", () => {
  test("a JSON-RPC eth_getBlockByNumber(n, true) object as it comes gives the same result as our Block", async () => {
    const loaded = loadBlockDir(join(BLOCKS, SMALL));
    const ours = await executeBlock(loaded.block, loaded.storage, { sequential: true });
    const rpc = await executeBlock(rpcBlock(SMALL), loaded.storage, { sequential: true });
    expect(rpc.gasUsed).toBe(ours.gasUsed);
    expect(await receiptsRoot(rpc.receipts)).toBe(await receiptsRoot(ours.receipts));
    expect(await receiptsRoot(rpc.receipts)).toBe(rpcBlock(SMALL).receiptsRoot);
    expect(rpc.changes).toEqual(ours.changes);
  });

  test("a viem-style block (bigint fields, type names, yParity numbers) gives the same result", async () => {
    const loaded = loadBlockDir(join(BLOCKS, TYPED));
    const viem = viemStyle(rpcBlock(TYPED));
    expect(typeof viem.number).toBe("bigint");
    expect(viem.transactions.map((t: any) => t.type)).toContain("eip4844");
    const ours = await executeBlock(loaded.block, loaded.storage, { sequential: true });
    const fromViem = await executeBlock(viem, loaded.storage, { sequential: true });
    expect(fromViem.gasUsed).toBe(ours.gasUsed);
    expect(fromViem.logsBloom).toBe(ours.logsBloom);
    expect(await receiptsRoot(fromViem.receipts)).toBe(rpcBlock(TYPED).receiptsRoot);
    expect(fromViem.receipts.map((r) => r.transactionHash)).toEqual(rpcBlock(TYPED).transactions.map((t: any) => t.hash));
  });

  test("a malformed RPC block is refused with an InputError naming the field and value", async () => {
    const rpc = rpcBlock(SMALL);
    rpc.transactions[1].value = "0x1" + "0".repeat(64);
    const loaded = loadBlockDir(join(BLOCKS, SMALL));
    const error = await executeBlock(rpc, loaded.storage).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.field).toBe("transactions[1].value");
    expect(error.message).toContain(rpc.transactions[1].value);
  });
});

describe("checksummed addresses", () => {
  test("MemoryStorage finds an account set or looked up in any letter case", () => {
    const storage = new MemoryStorage();
    const lower = "0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c" as Address;
    const checksummed = toChecksumAddress(lower) as Address;
    expect(checksummed).not.toBe(lower);
    storage.setAccount(checksummed, { balance: 5n, nonce: 1n, codeHash: "0xC5D2460186F7233C927E7DB2DCC703C0E500B653CA82273B7BFAD8045D85A470" });
    expect(storage.account(lower)?.balance).toBe(5n);
    expect(storage.account(checksummed)?.nonce).toBe(1n);
    expect(storage.account(lower)?.codeHash).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    storage.accounts.set(toChecksumAddress("0x00000000219ab540356cbb839cbe05303d7705fa") as Address, { balance: 1n, nonce: 0n, codeHash: storage.account(lower)!.codeHash, storage: new Map([[1n, 2n]]) });
    expect(storage.storage("0x00000000219ab540356cbb839cbe05303d7705fa", 1n)).toBe(2n);
    expect([...storage.accounts.keys()].every((k) => k === k.toLowerCase())).toBe(true);
  });

  test("a pre-state and a block with checksummed addresses execute as their lowercase forms", async () => {
    const dir = join(BLOCKS, SMALL);
    const pre = JSON.parse(readFileSync(join(dir, "pre_state.json"), "utf8"));
    const checksummedPre = Object.fromEntries(Object.entries(pre).map(([a, v]) => [toChecksumAddress(a), v]));
    const codes = JSON.parse(readFileSync(join(ROOT, "data", "mainnet", "bytecodes.json"), "utf8"));
    const storage = loadPreState("pre_state.json", checksummedPre, codes, "bytecodes.json");
    const rpc = rpcBlock(SMALL);
    rpc.miner = toChecksumAddress(rpc.miner);
    for (const tx of rpc.transactions) {
      tx.from = toChecksumAddress(tx.from);
      if (tx.to) tx.to = toChecksumAddress(tx.to);
    }
    const loaded = loadBlockDir(dir);
    const expected = await executeBlock(loaded.block, loaded.storage, { sequential: true });
    const result = await executeBlock(rpc, storage, { sequential: true });
    expect(result.gasUsed).toBe(expected.gasUsed);
    expect(result.changes).toEqual(expected.changes);
  });
});

describe("results", () => {
  test("receipts carry the transaction hash and index; blooms are hex, 256 bytes, in receipts and block", async () => {
    const loaded = loadBlockDir(join(BLOCKS, SMALL));
    const result = await executeBlock(loaded.block, loaded.storage);
    const rpc = rpcBlock(SMALL);
    result.receipts.forEach((r, i) => {
      expect(r.transactionIndex).toBe(i);
      expect(r.transactionHash).toBe(rpc.transactions[i].hash);
      expect(r.logsBloom).toMatch(/^0x[0-9a-f]{512}$/);
    });
    expect(result.logsBloom).toMatch(/^0x[0-9a-f]{512}$/);
    expect(result.logsBloom).toBe(rpc.logsBloom);
  });

  test("a transaction without a signature keeps the hash it was given, and has none without one", async () => {
    const rpc = rpcBlock(SMALL);
    for (const tx of rpc.transactions) delete tx.r;
    rpc.transactions[0].hash = `0x${"12".repeat(32)}`;
    delete rpc.transactions[1].hash;
    const loaded = loadBlockDir(join(BLOCKS, SMALL));
    const result = await executeBlock(rpc, loaded.storage, { sequential: true });
    expect(result.receipts[0]!.transactionHash).toBe(`0x${"12".repeat(32)}`);
    expect(result.receipts[1]!.transactionHash).toBeUndefined();
  });

  test("the mode says why, in words, whether chosen or asked for", async () => {
    const loaded = loadBlockDir(join(BLOCKS, SMALL));
    const auto = await executeBlock(loaded.block, loaded.storage, { maxWorkers: 2 });
    expect(auto.mode.mode).toBe("sequential");
    expect(auto.mode.reason).toMatch(/^sequential: 3 transactions, fewer than the \d+ for which/);
    const forced = await executeBlock(loaded.block, loaded.storage, { workers: 2 });
    expect(forced.mode).toEqual({ mode: "parallel", workers: 2, reason: "parallel: asked for 2 workers" });
    const sequential = await executeBlock(loaded.block, loaded.storage, { sequential: true });
    expect(sequential.mode).toEqual({ mode: "sequential", workers: 0, reason: "sequential: asked for" });
  });
});

describe("options", () => {
  const loaded = () => loadBlockDir(join(BLOCKS, SMALL));

  for (const bad of [0, -1, 1.5, Number.NaN, MAX_WORKERS + 1, 1000]) {
    test(`workers: ${bad} is refused up front with an InputError`, async () => {
      const { block, storage } = loaded();
      const error = await executeBlock(block, storage, { workers: bad }).catch((e) => e);
      expect(error).toBeInstanceOf(InputError);
      expect(error.field).toBe("workers");
      expect(error.message).toContain(bad > MAX_WORKERS ? `maximum of ${MAX_WORKERS}` : `from 1 to ${MAX_WORKERS}`);
    });
  }

  test("the CLI refuses --workers 1000 with the library's message, at once", () => {
    const { block, storage } = loaded();
    const library = executeBlock(block, storage, { workers: 1000 }).catch((e: InputError) => e.message.replace(/^workers: /, ""));
    const proc = Bun.spawnSync([process.execPath, join(ROOT, "src", "cli", "main.ts"), "--workers", "1000", join(BLOCKS, SMALL)], { stderr: "pipe", timeout: 30_000 });
    expect(proc.exitCode).toBe(2);
    return library.then((message) => expect(proc.stderr.toString().trim()).toBe(`pevm: --workers: ${message}`));
  });

  test("sequential with workers is refused", async () => {
    const { block, storage } = loaded();
    await expect(executeBlock(block, storage, { sequential: true, workers: 2 })).rejects.toBeInstanceOf(InputError);
  });
});

describe("engine lifetimes", () => {
  test("await using: a Pevm engine is closed at the end of its scope", async () => {
    const { block, storage } = loadBlockDir(join(BLOCKS, SMALL));
    let outside: Pevm;
    {
      await using pevm = await Pevm.start({ workers: 2 });
      outside = pevm;
      const result = await pevm.executeBlock(block, storage, { parallel: true });
      expect(result.mode.mode).toBe("parallel");
      expect(result.stats?.workers).toBe(2);
      // Each executor's share, and together they are the run's counters.
      const shares = result.stats!.executors;
      expect(shares.map((s) => s.thread)).toEqual(["worker 0", "calling thread"]);
      expect(shares.reduce((n, s) => n + s.executions, 0)).toBe(result.stats!.executions);
      expect(shares.reduce((n, s) => n + s.validations, 0)).toBe(result.stats!.validations);
      expect(shares.reduce((n, s) => n + s.executeMs, 0)).toBeCloseTo(result.stats!.executeMs, 6);
      // Linux: the runtime's JIT threads ran at background priority.
      if (process.platform === "linux" && process.env.PEVM_YIELD_RUNTIME_THREADS !== "0") {
        expect(result.stats!.runtimeThreadsYielded).toBeGreaterThanOrEqual(1);
      }
    }
    await expect(outside.executeBlock(block, storage, { parallel: true })).rejects.toThrow("closed");
  });

  test("a failed engine start does not poison later calls or closeEngines()", async () => {
    setWorkerScript(join(ROOT, "no-such-worker.ts"));
    const failed = await engineFor(3).catch((e) => e);
    expect(failed).toBeInstanceOf(Error);
    setWorkerScript(undefined);
    const { block, storage } = loadBlockDir(join(BLOCKS, SMALL));
    const result = await executeBlock(block, storage, { workers: 3 });
    expect(result.mode.workers).toBe(3);
    await expect(closeEngines()).resolves.toBeUndefined();
  });

  test("a script that runs blocks in parallel exits by itself, without closeEngines()", () => {
    const dir = mkdtempSync(join(tmpdir(), "pevm-exit-"));
    try {
      const script = join(dir, "script.ts");
      writeFileSync(
        script,
        `import { executeBlock, loadBlockDir } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};\n` +
          `const { block, storage } = loadBlockDir(${JSON.stringify(join(BLOCKS, SMALL))});\n` +
          `const a = await executeBlock(block, storage, { workers: 2 });\n` +
          `const b = await executeBlock(block, storage, { workers: 2 });\n` +
          `console.log(a.mode.mode, b.gasUsed === a.gasUsed);\n`,
      );
      const proc = Bun.spawnSync([process.execPath, script], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
      expect(proc.signalCode ?? null).toBeNull();
      expect(proc.exitCode).toBe(0);
      expect(proc.stdout.toString().trim()).toBe("parallel true");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A Storage whose backend fails for one account: every mode must pass the error on. */
class FailingStorage implements Storage {
  constructor(
    private readonly inner: Storage,
    private readonly failing: Address,
  ) {}
  account(address: Address) {
    if (address === this.failing) throw new Error(`backend down reading ${address}`);
    return this.inner.account(address);
  }
  code(hash: `0x${string}`) {
    return this.inner.code(hash);
  }
  storage(address: Address, slot: bigint) {
    return this.inner.storage(address, slot);
  }
  blockHash(n: bigint) {
    return this.inner.blockHash(n);
  }
}

describe("a Storage that throws", () => {
  const setup = () => {
    const { block, storage } = loadBlockDir(join(BLOCKS, SMALL));
    const recipient = block.transactions[0]!.to!;
    return { block, storage: new FailingStorage(storage, recipient), recipient };
  };

  test("sequential mode rejects with the storage's error", async () => {
    const { block, storage, recipient } = setup();
    await expect(executeBlock(block, storage, { sequential: true })).rejects.toThrow(`backend down reading ${recipient}`);
  });

  // Workers ask the calling thread for what they read (with one worker, the calling thread
  // reads it itself); either way the Storage's error comes back whole.
  test.each([1, 2])("parallel mode with %d worker(s) rejects with the same error, and the engine runs the next block", async (workers) => {
    const { block, storage, recipient } = setup();
    const sequential = await executeBlock(block, storage, { sequential: true }).catch((e) => e);
    const parallel = await executeBlock(block, storage, { workers }).catch((e) => e);
    expect(parallel.message).toBe(sequential.message);
    expect(parallel.message).toContain(`backend down reading ${recipient}`);
    expect(parallel.constructor).toBe(sequential.constructor);
    const { block: next, storage: good } = loadBlockDir(join(BLOCKS, SMALL));
    const after = await executeBlock(next, good, { workers });
    expect(after.gasUsed).toBe((await executeBlock(next, good, { sequential: true })).gasUsed);
  });
});
