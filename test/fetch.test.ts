/**
 * The fetcher against a real node: anvil (pinned npm package) started here on 127.0.0.1 with a
 * port the OS picks, stopped in afterAll. Real contracts are deployed, one block of mixed
 * transactions is mined, fetched by number and by hash through both pre-state paths, and the
 * snapshots are executed sequentially and with 2 workers against the node's header and receipts.
 * Failure cases use small Bun.serve stubs on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { authorization } from "micro-eth-signer";
import { checkSnapshot } from "../src/cli/fetch.ts";
import { fetchBlock, type BlockId } from "../src/fetch/fetch.ts";
import { RpcClient, RpcError } from "../src/fetch/rpc.ts";
import { RpcStorage } from "../src/fetch/sources.ts";
import { closeEngines, executeBlock, InputError, loadBlockDir } from "../src/index.ts";
import { encodeCall } from "./mock/abi.ts";
import { artifact } from "./mock/artifacts.ts";
import { BLOCKHASH_PROBE_INIT, deployContracts, mineMixedBlock, rpc, send, sendMined, startAnvil, type Anvil, type Deployment, type Hex, type MinedBlock } from "./support/anvil.ts";

const ROOT = resolve(import.meta.dir, "..");

function pevm(args: string[], cwd: string) {
  const proc = Bun.spawnSync([process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** For a CLI run against a stub served by this process: spawnSync would block the stub. */
async function pevmAsync(args: string[], cwd: string) {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, exitCode] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { exitCode, stdout, stderr };
}

/** The RpcError `p` rejects with (fails the test when it resolves or rejects otherwise). */
async function rpcFailure(p: Promise<unknown>): Promise<RpcError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RpcError);
  return error as RpcError;
}

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), "pevm-fetch-"));
});
afterAll(async () => {
  rmSync(temp, { recursive: true, force: true });
  await closeEngines();
});

interface NodeReceipt {
  status: Hex;
  gasUsed: Hex;
  cumulativeGasUsed: Hex;
  logs: unknown[];
  contractAddress: Hex | null;
}

describe("a mixed Cancun block from anvil", () => {
  let anvil: Anvil;
  let d: Deployment;
  let mined: MinedBlock;
  let receipts: NodeReceipt[];

  beforeAll(async () => {
    anvil = await startAnvil({ hardfork: "cancun" });
    d = await deployContracts(anvil.url);
    mined = await mineMixedBlock(anvil.url, d, 3);
    const block = await rpc<{ transactions: Hex[] }>(anvil.url, "eth_getBlockByNumber", [`0x${mined.number.toString(16)}`, false]);
    receipts = await Promise.all(block.transactions.map((h) => rpc<NodeReceipt>(anvil.url, "eth_getTransactionReceipt", [h])));
  }, 180_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  test("the block holds every kind of transaction; one reverts", () => {
    expect(mined.txs).toBe(31);
    for (const kind of ["transfer", "erc20 transfer", "swap", "counter increment", "contract creation", "legacy transfer", "access-list erc20 transfer", "blockhash", "reverting erc20 transfer"]) {
      expect(mined.kinds[kind] ?? 0).toBeGreaterThan(0);
    }
    expect(receipts.map((r) => r.status).filter((s) => s !== "0x1")).toEqual(["0x0"]);
  });

  const ids = (): [string, BlockId][] => [
    ["number", { kind: "number", number: mined.number }],
    ["hash", { kind: "hash", hash: mined.hash }],
  ];

  for (const prestate of ["tracer", "rpc"] as const) {
    for (const idKind of ["number", "hash"] as const) {
      test(`fetched by ${idKind} via ${prestate}: the snapshot matches the header and the node's receipts, sequentially and with 2 workers`, async () => {
        const id = ids().find(([k]) => k === idKind)![1];
        const out = join(temp, `${prestate}-${idKind}`);
        const r = await fetchBlock(anvil.url, id, { out, prestate });
        expect(r.prestate).toBe(prestate);
        expect(r.number).toBe(mined.number);
        expect(r.hash).toBe(mined.hash);
        expect(r.executionError).toBeUndefined();
        expect(readdirSync(out).sort()).toEqual(["block.json", "block_hashes.json", "bytecodes.json", "fetch.json", "pre_state.json"]);
        // BLOCKHASH(n-1) and BLOCKHASH(n-3) were read from the node.
        const hashes = JSON.parse(readFileSync(join(out, "block_hashes.json"), "utf8"));
        expect(Object.keys(hashes).sort()).toEqual([String(mined.number - 3n), String(mined.number - 1n)].sort());
        const parent = await rpc<{ hash: Hex }>(anvil.url, "eth_getBlockByNumber", [`0x${(mined.number - 1n).toString(16)}`, false]);
        expect(hashes[String(mined.number - 1n)]).toBe(parent.hash);

        for (const mode of [{ sequential: true }, { workers: 2 }]) {
          const c = await checkSnapshot(out, { fork: r.fork, ...mode, stateRoot: false });
          expect(c.lines.join("\n")).toStartWith("ok ");
          expect(c.report!.checks).toEqual({ gasUsed: true, logsBloom: true, receiptsRoot: true, stateRoot: null, requestsHash: null });
          expect(c.report!.mode).toBe("sequential" in mode ? "sequential" : "parallel");
        }
        const { block, storage } = loadBlockDir(out);
        const result = await executeBlock(block, storage, { fork: r.fork, workers: 2 });
        expect(result.receipts.map((x) => [x.status, x.gasUsed, x.cumulativeGasUsed, x.logs.length, x.contractAddress ?? null])).toEqual(
          receipts.map((x) => [x.status === "0x1" ? 1 : 0, BigInt(x.gasUsed), BigInt(x.cumulativeGasUsed), x.logs.length, x.contractAddress]),
        );
      }, 120_000);
    }
  }

  test("both paths write the same pre-state, byte for byte", () => {
    for (const file of ["pre_state.json", "bytecodes.json", "block_hashes.json"]) {
      expect(readFileSync(join(temp, "tracer-number", file), "utf8")).toBe(readFileSync(join(temp, "rpc-number", file), "utf8"));
    }
  });

  test("executeBlock on an AsyncStorage (the node at the parent block) equals the snapshot's run", async () => {
    const { block, storage } = loadBlockDir(join(temp, "rpc-number"));
    const fork = (await import("../src/chain/forks.ts")).Fork.Cancun;
    const fromMemory = await executeBlock(block, storage, { fork, sequential: true });
    const node = new RpcStorage(new RpcClient(anvil.url), mined.number - 1n);
    const fromNode = await executeBlock(block, node, { fork, sequential: true });
    expect(fromNode.receipts).toEqual(fromMemory.receipts);
    expect(fromNode.changes).toEqual(fromMemory.changes);
    await expect(executeBlock(block, node, { fork, workers: 2 })).rejects.toThrow(/sequential/);
  }, 60_000);

  test("without the debug namespace the fetch falls back to eth_ reads on its own", async () => {
    // A proxy in front of anvil that does not know debug_* methods.
    let debugCalls = 0;
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const body = await req.json();
        const calls = Array.isArray(body) ? body : [body];
        const answers = await Promise.all(
          calls.map(async (c: { id: number; method: string }) => {
            if (c.method.startsWith("debug_")) {
              debugCalls++;
              return { jsonrpc: "2.0", id: c.id, error: { code: -32601, message: "Method not found" } };
            }
            const r = await fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(c) });
            return r.json();
          }),
        );
        return Response.json(Array.isArray(body) ? answers : answers[0]);
      },
    });
    try {
      const out = join(temp, "auto-fallback");
      const r = await fetchBlock(`http://127.0.0.1:${proxy.port}`, { kind: "number", number: mined.number }, { out });
      expect(debugCalls).toBe(1);
      expect(r.prestate).toBe("rpc");
      expect(r.tracerSkipped).toContain("Method not found");
      expect(readFileSync(join(out, "pre_state.json"), "utf8")).toBe(readFileSync(join(temp, "tracer-number", "pre_state.json"), "utf8"));
    } finally {
      proxy.stop(true);
    }
  }, 60_000);

  test("a trace of other transactions than the block's (a reorg between the calls) is an error, not a wrong snapshot", async () => {
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const text = await req.text();
        const answer = await (await fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: text })).json();
        for (const entry of Array.isArray(answer) ? answer : [answer]) {
          if (Array.isArray(entry.result) && entry.result[0]?.txHash) entry.result[0].txHash = `0x${"12".repeat(32)}`;
        }
        return Response.json(answer);
      },
    });
    try {
      const out = join(temp, "reorg");
      const error = await rpcFailure(fetchBlock(`http://127.0.0.1:${proxy.port}`, { kind: "number", number: mined.number }, { out }));
      expect(error.method).toBe("debug_traceBlockByNumber");
      expect(error.message).toContain("the block changed while fetching");
      expect(existsSync(out)).toBe(false);
    } finally {
      proxy.stop(true);
    }
  }, 60_000);

  test("an interrupted fetch leaves no snapshot behind (nothing is written before everything is fetched)", async () => {
    // A proxy in front of anvil that never answers the state reads: the fetch hangs there.
    let stalled = 0;
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const text = await req.text();
        if (/eth_getBalance|debug_trace/.test(text)) {
          stalled++;
          await Bun.sleep(60_000);
        }
        return fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: text });
      },
    });
    const cwd = join(temp, "interrupted");
    mkdirSync(cwd);
    try {
      const proc = Bun.spawn([process.execPath, join(ROOT, "src", "cli", "main.ts"), "fetch", String(mined.number), `http://127.0.0.1:${proxy.port}`, "--out", "snap"], {
        cwd,
        stdout: "pipe",
        stderr: "pipe",
      });
      for (let i = 0; i < 500 && stalled === 0; i++) await Bun.sleep(20);
      expect(stalled).toBeGreaterThan(0);
      proc.kill("SIGINT");
      await proc.exited;
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      proxy.stop(true);
    }
  }, 60_000);

  test("CLI: pevm fetch exits 0 and prints the match; pevm <url>#<n> runs from ./blocks; latest works", () => {
    const cwd = join(temp, "cli");
    mkdirSync(cwd);
    const fetched = pevm(["fetch", String(mined.number), anvil.url], cwd);
    expect(fetched.stderr).toBe("");
    expect(fetched.exitCode).toBe(0);
    expect(fetched.stdout).toContain(`fetched block ${mined.number} (${mined.hash}) via debug_traceBlockByNumber prestateTracer`);
    expect(fetched.stdout).toMatch(/^ok block \d+ \(Cancun, 31 transactions, .*gas, bloom, receipts root match the header$/m);
    expect(existsSync(join(cwd, "blocks", String(mined.number), "pre_state.json"))).toBe(true);

    const run = pevm([`${anvil.url}#${mined.number}`, "--json", "--workers", "2"], cwd);
    expect(run.exitCode).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ number: String(mined.number), fork: "Cancun", txs: 31, ok: true, mode: "parallel", workers: 2 });
    expect(report.checks).toEqual({ gasUsed: true, logsBloom: true, receiptsRoot: true, stateRoot: null, requestsHash: null });

    // Cached: run again with a URL where nothing listens, and it still runs (no request made).
    const cached = pevm([`http://127.0.0.1:9#${mined.number}`, "--sequential"], cwd);
    expect(cached.stderr).toBe("");
    expect(cached.exitCode).toBe(0);

    // The same block again into the same directory: replaced, fine. By hash and by "latest".
    expect(pevm(["fetch", mined.hash, anvil.url, "--no-tracer", "--sequential"], cwd).exitCode).toBe(0);
    const latest = pevm(["fetch", "latest", anvil.url, "--out", "latest-block"], cwd);
    expect(latest.exitCode).toBe(0);
    expect(latest.stdout).toContain("fetched block ");
  }, 120_000);

  test("CLI: a header that the execution does not match exits 1, keeps the snapshot and prints the differences", async () => {
    // A proxy that reports the block with a wrong gasUsed and receipts root.
    const proxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const text = await req.text();
        const answer = await (await fetch(anvil.url, { method: "POST", headers: { "content-type": "application/json" }, body: text })).json();
        for (const entry of Array.isArray(answer) ? answer : [answer]) {
          if (entry.result?.hash === mined.hash && Array.isArray(entry.result.transactions)) {
            entry.result.gasUsed = "0x1";
            entry.result.receiptsRoot = `0x${"00".repeat(32)}`;
          }
        }
        return Response.json(answer);
      },
    });
    const cwd = join(temp, "mismatch");
    mkdirSync(cwd);
    try {
      const r = await pevmAsync(["fetch", mined.hash, `http://127.0.0.1:${proxy.port}`, "--out", "snap"], cwd);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toContain(`MISMATCH block ${mined.number} (Cancun, 31 transactions,`);
      expect(r.stdout).toContain("  gas used: header 1, executed ");
      expect(r.stdout).toContain(`  receipts root: header 0x${"00".repeat(32)}, executed 0x`);
      expect(r.stdout).not.toContain("logs bloom:");
      expect(readdirSync(join(cwd, "snap")).sort()).toEqual(["block.json", "block_hashes.json", "bytecodes.json", "fetch.json", "pre_state.json"]);
    } finally {
      proxy.stop(true);
    }
  }, 60_000);

  test("CLI: a non-empty --out that holds something else is refused with exit 2, nothing written", () => {
    const cwd = join(temp, "cli-refuse");
    mkdirSync(join(cwd, "occupied"), { recursive: true });
    writeFileSync(join(cwd, "occupied", "notes.txt"), "mine\n");
    const r = pevm(["fetch", String(mined.number), anvil.url, "--out", "occupied"], cwd);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^pevm: occupied: --out: not empty and not a block snapshot; refusing to write block \d+ there\n$/);
    expect(readdirSync(join(cwd, "occupied"))).toEqual(["notes.txt"]);
    // Another block's snapshot is refused too.
    expect(pevm(["fetch", String(mined.number - 1n), anvil.url, "--out", "other"], cwd).exitCode).toBe(0);
    const other = pevm(["fetch", String(mined.number), anvil.url, "--out", "other"], cwd);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain("holds a snapshot of another block");
    expect(readdirSync(cwd).filter((f) => f.startsWith("."))).toEqual([]); // no temporary directories left
  }, 120_000);

  test("CLI: a block that does not exist, and a malformed block id, exit 2 with one line", () => {
    const missing = pevm(["fetch", "999999", anvil.url], temp);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe(`pevm: ${anvil.url}: eth_getBlockByNumber: block 999999 does not exist on this node\n`);
    const missingHash = pevm(["fetch", `0x${"ab".repeat(32)}`, anvil.url], temp);
    expect(missingHash.exitCode).toBe(2);
    expect(missingHash.stderr).toContain("eth_getBlockByHash: block 0xabab");
    const bad = pevm(["fetch", "twelve", anvil.url], temp);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toStartWith("pevm: BLOCK_ID: expected a block number");
  }, 60_000);
});

describe("--full-state on a small anvil chain", () => {
  // anvil keeps storage slots written to zero in its storage tries (its roots are then not the
  // canonical ones), so this chain never zeroes a slot: token transfers move part of a balance.
  let anvil: Anvil;
  let number: bigint;
  beforeAll(async () => {
    anvil = await startAnvil({ hardfork: "cancun", accounts: 4 });
    const accounts = (await rpc<Hex[]>(anvil.url, "eth_accounts")).map((a) => a.toLowerCase() as Hex);
    const token = (await sendMined(anvil.url, { from: accounts[0]!, data: `${artifact("MockToken").bytecode}${stringsArgs("Small", "SML")}` as Hex, gas: 3_000_000n }))
      .contractAddress!;
    for (const a of accounts) await sendMined(anvil.url, { from: accounts[0]!, to: token, data: encodeCall("mint(address,uint256)", [a, 10n ** 21n]), gas: 200_000n });
    await rpc(anvil.url, "evm_setAutomine", [false]);
    for (const [i, from] of accounts.entries()) {
      const to = accounts[(i + 1) % accounts.length]!;
      await send(anvil.url, { from, to, value: 10n ** 17n, gas: 21_000n });
      await send(anvil.url, { from, to: token, data: encodeCall("transfer(address,uint256)", [to, 10n ** 18n]), gas: 100_000n });
    }
    await send(anvil.url, { from: accounts[1]!, data: artifact("Counter").bytecode, gas: 500_000n });
    await rpc(anvil.url, "evm_mine");
    number = BigInt(await rpc<Hex>(anvil.url, "eth_blockNumber"));
  }, 120_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  test("the whole state is fetched: its root is the parent's, and the post-state root is the block's", async () => {
    for (const prestate of ["tracer", "rpc"] as const) {
      const out = join(temp, `full-${prestate}`);
      const r = await fetchBlock(anvil.url, { kind: "number", number }, { out, prestate, fullState: true });
      expect(r.parentStateRoot?.ok).toBe(true);
      for (const mode of [{ sequential: true }, { workers: 2 }]) {
        const c = await checkSnapshot(out, { fork: r.fork, ...mode, stateRoot: true });
        expect(c.report!.checks).toEqual({ gasUsed: true, logsBloom: true, receiptsRoot: true, stateRoot: true, requestsHash: null });
      }
    }
    const cli = pevm(["fetch", String(number), anvil.url, "--full-state", "--out", join(temp, "full-cli")], temp);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain("gas, bloom, receipts root, state root match the header");
  }, 120_000);
});

describe("a pre-London (pre-merge rules) chain", () => {
  // anvil's Berlin blocks carry no base fee: their fork cannot be told from the header on a
  // chain other than mainnet, so --fork is needed. (MockToken is compiled for Cancun and cannot
  // run here; the block has transfers, a BLOCKHASH probe call and the Uniswap factory creation.)
  let anvil: Anvil;
  let number: bigint;
  beforeAll(async () => {
    anvil = await startAnvil({ hardfork: "berlin", accounts: 4 });
    const accounts = (await rpc<Hex[]>(anvil.url, "eth_accounts")).map((a) => a.toLowerCase() as Hex);
    const price = 2_000_000_000n;
    const probe = (await sendMined(anvil.url, { from: accounts[0]!, data: BLOCKHASH_PROBE_INIT, gas: 200_000n, gasPrice: price })).contractAddress!;
    await rpc(anvil.url, "evm_setAutomine", [false]);
    await send(anvil.url, { from: accounts[1]!, to: accounts[2]!, value: 5n, gas: 21_000n, gasPrice: price });
    await send(anvil.url, { from: accounts[2]!, to: probe, gas: 100_000n, gasPrice: price });
    await send(anvil.url, { from: accounts[3]!, data: artifact("UniswapV3Factory").bytecode, gas: 6_000_000n, gasPrice: price });
    await rpc(anvil.url, "evm_mine");
    number = BigInt(await rpc<Hex>(anvil.url, "eth_blockNumber"));
  }, 60_000);
  afterAll(async () => {
    await anvil?.stop();
  });

  test("without --fork: exit 2 asking for it; with --fork berlin: both paths match, both modes", async () => {
    const cwd = join(temp, "berlin");
    mkdirSync(cwd);
    const unknown = pevm(["fetch", String(number), anvil.url], cwd);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("pass --fork");
    for (const [flags, mode] of [[[], "sequential"], [["--no-tracer", "--workers", "2"], "parallel, 2 workers"]] as const) {
      const r = pevm(["fetch", String(number), anvil.url, "--fork", "berlin", "--out", "b", ...flags], cwd);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toContain(`ok block ${number} (Berlin, 3 transactions, `);
      if (mode !== "sequential") expect(r.stdout).toContain(mode);
    }
  }, 60_000);
});

/** ABI encoding of two string constructor arguments. */
function stringsArgs(a: string, b: string): string {
  const word = (v: bigint | number) => BigInt(v).toString(16).padStart(64, "0");
  const tail = (s: string) => word(s.length) + Buffer.from(s).toString("hex").padEnd(64, "0");
  return word(64) + word(64 + 64) + tail(a) + tail(b);
}

describe("unusable nodes", () => {
  /** A stub node on loopback; `answer` decides each HTTP request. */
  function stub(answer: (body: string, n: number) => Response | Promise<Response>) {
    let n = 0;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => answer(await req.text(), ++n) });
    return { url: `http://127.0.0.1:${server.port}`, requests: () => n, stop: () => server.stop(true) };
  }
  const ok = (body: string, result: unknown) => {
    const call = JSON.parse(body);
    return Response.json(Array.isArray(call) ? call.map((c) => ({ jsonrpc: "2.0", id: c.id, result })) : { jsonrpc: "2.0", id: call.id, result });
  };

  test("node not running: unreachable after the retries; the CLI says so in one line, exit 2", async () => {
    // A port that was just free: nothing listens there.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const url = `http://127.0.0.1:${probe.port}`;
    probe.stop(true);
    const client = new RpcClient(url, { retries: 2, backoffMs: 10 });
    const error = await rpcFailure(client.call("eth_chainId"));
    expect(error).toBeInstanceOf(RpcError);
    expect(error.kind).toBe("unreachable");
    expect(client.stats.httpRequests).toBe(3);
    const cli = pevm(["fetch", "1", url, "--retries", "0"], temp);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toMatch(new RegExp(`^pevm: ${url}: eth_(getBlockByNumber|chainId): cannot reach the node: .* \\(1 attempts\\)\\n$`));
  });

  test("a node that answers too slowly: each attempt times out, then a timeout error", async () => {
    const node = stub(async (body) => {
      await Bun.sleep(1_000);
      return ok(body, "0x1");
    });
    try {
      const client = new RpcClient(node.url, { timeoutMs: 100, retries: 1, backoffMs: 10 });
      const error = await rpcFailure(client.call("eth_chainId"));
      expect(error).toBeInstanceOf(RpcError);
      expect(error.kind).toBe("timeout");
      expect(error.message).toBe(`${node.url}: eth_chainId: no answer within 100 ms (2 attempts)`);
      expect(node.requests()).toBe(2);
      const cli = await pevmAsync(["fetch", "1", node.url, "--timeout", "100", "--retries", "0"], temp);
      expect(cli.exitCode).toBe(2);
      expect(cli.stderr).toContain("no answer within 100 ms (1 attempts)");
    } finally {
      node.stop();
    }
  });

  test("HTTP 429: retried with backoff (honouring Retry-After), then answered; forever 429 is an error", async () => {
    const node = stub((body, n) => (n <= 2 ? new Response("slow down", { status: 429, headers: { "retry-after": "0" } }) : ok(body, "0x1")));
    try {
      const client = new RpcClient(node.url, { retries: 3, backoffMs: 10 });
      expect(await client.call("eth_chainId")).toBe("0x1");
      expect(client.stats).toMatchObject({ calls: 1, httpRequests: 3, retries: 2 });
    } finally {
      node.stop();
    }
    const busy = stub(() => new Response("no", { status: 429 }));
    try {
      const error = await rpcFailure(new RpcClient(busy.url, { retries: 2, backoffMs: 5 }).call("eth_chainId"));
      expect(error.kind).toBe("rate-limited");
      expect(busy.requests()).toBe(3);
    } finally {
      busy.stop();
    }
  });

  test("garbage instead of JSON, a non-JSON-RPC answer and a wrongly shaped result are 'malformed'", async () => {
    const garbage = stub(() => new Response("<html>gateway</html>"));
    const shape = stub((body) => Response.json({ hello: JSON.parse(body).id }));
    const wrong = stub((body) => ok(body, 42));
    try {
      const e1 = await rpcFailure(new RpcClient(garbage.url).call("eth_chainId"));
      expect(e1.kind).toBe("malformed");
      expect(e1.message).toBe(`${garbage.url}: eth_chainId: the answer is not JSON: "<html>gateway</html>"`);
      const e2 = await rpcFailure(new RpcClient(shape.url).call("eth_chainId"));
      expect(e2.kind).toBe("malformed");
      const e3 = await rpcFailure(new RpcStorage(new RpcClient(wrong.url), 1n).account("0x0000000000000000000000000000000000000001"));
      expect(e3.kind).toBe("malformed");
      expect(e3.message).toContain("expected a hex quantity, got 42");
      const cli = await pevmAsync(["fetch", "1", garbage.url], temp);
      expect(cli.exitCode).toBe(2);
      expect(cli.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(cli.stderr).toContain("the answer is not JSON");
    } finally {
      garbage.stop();
      shape.stop();
      wrong.stop();
    }
  });

  test("a method the node lacks, and state a pruned node no longer holds, are named", async () => {
    const lacking = stub((body) => {
      const call = JSON.parse(body);
      return Response.json({ jsonrpc: "2.0", id: call.id, error: { code: -32601, message: "the method eth_getBlockByNumber does not exist/is not available" } });
    });
    const pruned = stub((body) => {
      const call = JSON.parse(body);
      return Response.json({ jsonrpc: "2.0", id: call.id, error: { code: -32000, message: "missing trie node 3f0a (path ) state 0x12 is not available" } });
    });
    try {
      const e1 = await rpcFailure(new RpcClient(lacking.url).call("eth_getBlockByNumber", ["0x1", true]));
      expect(e1.kind).toBe("method-not-found");
      expect(e1.message).toStartWith(`${lacking.url}: eth_getBlockByNumber: the node does not offer this method`);
      const e2 = await rpcFailure(new RpcClient(pruned.url).call("eth_getBalance", ["0x0000000000000000000000000000000000000001", "0x1"]));
      expect(e2.kind).toBe("pruned");
      expect(e2.message).toContain("an archive node is needed");
      const cli = await pevmAsync(["fetch", "1", lacking.url], temp);
      expect(cli.exitCode).toBe(2);
      expect(cli.stderr).toContain("does not offer this method");
    } finally {
      lacking.stop();
      pruned.stop();
    }
  });

  test("a chain other than chain id 1 is refused before anything is fetched (exit 2)", async () => {
    const block = JSON.parse(readFileSync(join(ROOT, "data", "mainnet", "blocks", "46147", "block.json"), "utf8"));
    const methods: string[] = [];
    const node = stub((body) => {
      const calls = [JSON.parse(body)].flat();
      methods.push(...calls.map((c) => c.method));
      const answers = calls.map((c) => ({ jsonrpc: "2.0", id: c.id, result: c.method === "eth_chainId" ? "0x7a69" : block }));
      return Response.json(Array.isArray(JSON.parse(body)) ? answers : answers[0]);
    });
    try {
      const r = await pevmAsync(["fetch", "46147", node.url], temp);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe(`pevm: ${node.url}: eth_chainId: the node's chain id is 31337; pevm executes chain id 1 transactions only\n`);
      expect(methods.sort()).toEqual(["eth_chainId", "eth_getBlockByNumber", "eth_getBlockByNumber"]);
    } finally {
      node.stop();
    }
  });

  test("a node that refuses batches gets the calls one by one", async () => {
    const node = stub((body) => {
      const call = JSON.parse(body);
      if (Array.isArray(call)) return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "batch requests are disabled" } });
      return Response.json({ jsonrpc: "2.0", id: call.id, result: `0x${call.params[0].toString(16)}` });
    });
    try {
      const client = new RpcClient(node.url);
      const answers = await Promise.all([1, 2, 3].map((n) => client.call("echo", [n])));
      expect(answers).toEqual(["0x1", "0x2", "0x3"]);
      expect(node.requests()).toBe(4);
    } finally {
      node.stop();
    }
  });

  test("bad arguments: not a URL, an unknown option", () => {
    const r = pevm(["fetch", "1", "localhost:8545"], temp);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe("pevm: localhost:8545: RPC_URL: expected an http:// or https:// URL\n");
    const o = pevm(["fetch", "1", "http://127.0.0.1:1", "--bogus"], temp);
    expect(o.exitCode).toBe(2);
    expect(o.stderr).toStartWith("pevm: fetch: Unknown option '--bogus'");
    expect(new InputError("x") instanceof Error).toBe(true);
  });
});

// Prague on a real node: a set-code (EIP-7702) transaction, the EIP-2935 history contract and
// the EIP-7685 requests, fetched and executed in both modes.
test("a Prague block with a type-4 (EIP-7702) transaction, fetched and executed", async () => {
  const anvil = await startAnvil({ hardfork: "prague", accounts: 3 });
  try {
    const accounts = (await rpc<Hex[]>(anvil.url, "eth_accounts")).map((a) => a.toLowerCase() as Hex);
    const counter = (await sendMined(anvil.url, { from: accounts[0]!, data: artifact("Counter").bytecode, gas: 500_000n })).contractAddress!;
    // anvil's second dev account (the well-known test mnemonic) delegates its code to Counter.
    const authorityKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    const authority = accounts[1]!;
    const nonce = BigInt(await rpc<Hex>(anvil.url, "eth_getTransactionCount", [authority, "latest"]));
    const item = authorization.sign({ chainId: 1n, address: counter, nonce }, authorityKey);
    await rpc(anvil.url, "evm_setAutomine", [false]);
    await rpc(anvil.url, "eth_sendTransaction", [
      {
        from: accounts[0],
        to: authority,
        data: encodeCall("increment()"),
        gas: "0x30000",
        authorizationList: [{ chainId: "0x1", address: counter, nonce: `0x${nonce.toString(16)}`, yParity: `0x${item.yParity.toString(16)}`, r: `0x${item.r.toString(16)}`, s: `0x${item.s.toString(16)}` }],
      },
    ]);
    await send(anvil.url, { from: accounts[2]!, to: accounts[0]!, value: 1n, gas: 21_000n });
    await rpc(anvil.url, "evm_mine");
    const block = await rpc<{ number: Hex; transactions: { type: Hex }[] }>(anvil.url, "eth_getBlockByNumber", ["latest", true]);
    expect(block.transactions.map((t) => t.type)).toEqual(["0x4", "0x2"]);
    const out = join(temp, "prague");
    const r = await fetchBlock(anvil.url, { kind: "number", number: BigInt(block.number) }, { out });
    expect(r.executionError).toBeUndefined();
    for (const mode of [{ sequential: true }, { workers: 2 }]) {
      const c = await checkSnapshot(out, { fork: r.fork, ...mode, stateRoot: false });
      expect(c.lines.join("\n")).toStartWith("ok ");
    }
  } finally {
    await anvil.stop();
  }
}, 120_000);
