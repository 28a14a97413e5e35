/**
 * A real local node for the fetcher's tests and measurement: anvil (Foundry) from the pinned
 * npm packages, on 127.0.0.1 with a port the OS picks, plus a scenario that deploys the real
 * contracts the mocked blocks use (OpenZeppelin ERC-20 MockToken, Uniswap V3 factory, router,
 * position manager and a pool, Counter) and mines one block of mixed transactions.
 */
import { dirname, join } from "node:path";
import { encodeArgs, encodeCall } from "../mock/abi.ts";
import { artifact } from "../mock/artifacts.ts";

export type Hex = `0x${string}`;

/** The anvil binary of the pinned @foundry-rs/anvil-linux-amd64 package. */
export function anvilBinary(): string {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the pinned anvil package is for linux x64; this is ${process.platform} ${process.arch}`);
  }
  return join(dirname(Bun.resolveSync("@foundry-rs/anvil-linux-amd64/package.json", import.meta.dir)), "bin", "anvil");
}

export interface Anvil {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<{ kill(): void }>();
// Whatever happens to the test process, no anvil outlives it.
process.on("exit", () => {
  for (const p of running) p.kill();
});

/** Starts anvil; resolves once it listens. `--port 0`: the OS picks a free port, anvil prints it. */
export async function startAnvil(options: { hardfork?: string; accounts?: number; extra?: string[] } = {}): Promise<Anvil> {
  const proc = Bun.spawn(
    [
      anvilBinary(),
      "--host", "127.0.0.1",
      "--port", "0",
      "--hardfork", options.hardfork ?? "cancun",
      // pevm checks transactions against chain id 1.
      "--chain-id", "1",
      "--accounts", String(options.accounts ?? 10),
      "--balance", "1000000",
      // Block order = send order. (With the default fee order, a sender's higher-priced second
      // transaction is tried before its first and dropped.)
      "--order", "fifo",
      ...(options.extra ?? []),
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  running.add(proc);
  const stop = async () => {
    proc.kill();
    await proc.exited;
    running.delete(proc);
  };
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`anvil did not start within 30 s: ${seen.slice(-500)}`);
      const chunk = await Promise.race([reader.read(), Bun.sleep(1_000).then(() => undefined)]);
      if (chunk === undefined) continue;
      if (chunk.done) throw new Error(`anvil exited: ${seen.slice(-500)}${await new Response(proc.stderr).text()}`);
      seen += decoder.decode(chunk.value);
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        // Keep draining its output (one line per request): a full pipe would stall it.
        void (async () => {
          while (!(await reader.read()).done) {}
        })().catch(() => {});
        return { url: `http://127.0.0.1:${m[1]}`, pid: proc.pid, stop };
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
}

let id = 0;
/** A plain JSON-RPC call for setting the node up (not the client under test). */
export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await response.json()) as { result?: T; error?: { message: string } };
  if (json.error) throw new Error(`${method}: ${json.error.message}`);
  return json.result as T;
}

const q = (v: bigint | number) => `0x${BigInt(v).toString(16)}` as Hex;
const ETHER = 10n ** 18n;

/** ABI encoding of string arguments (offsets, then length-prefixed padded bytes). */
function encodeStrings(...values: string[]): string {
  let heads = "";
  let tails = "";
  let offset = BigInt(values.length * 32);
  for (const value of values) {
    heads += encodeArgs([offset]);
    const bytes = Buffer.from(value, "utf8");
    const padded = bytes.toString("hex").padEnd(Math.ceil(bytes.length / 32) * 64, "0");
    tails += encodeArgs([BigInt(bytes.length)]) + padded;
    offset += 32n + BigInt(padded.length / 2);
  }
  return heads + tails;
}

export interface Tx {
  from: Hex;
  to?: Hex;
  value?: bigint;
  data?: Hex;
  gas: bigint;
  /** Legacy / access-list pricing instead of EIP-1559. */
  gasPrice?: bigint;
  accessList?: { address: Hex; storageKeys: Hex[] }[];
  nonce?: bigint;
}

function txJson(tx: Tx): Record<string, unknown> {
  return {
    from: tx.from,
    ...(tx.to ? { to: tx.to } : {}),
    value: q(tx.value ?? 0n),
    data: tx.data ?? "0x",
    gas: q(tx.gas),
    ...(tx.gasPrice !== undefined ? { gasPrice: q(tx.gasPrice) } : {}),
    ...(tx.accessList ? { accessList: tx.accessList } : {}),
    ...(tx.nonce !== undefined ? { nonce: q(tx.nonce) } : {}),
  };
}

export function send(url: string, tx: Tx): Promise<Hex> {
  return rpc<Hex>(url, "eth_sendTransaction", [txJson(tx)]);
}

/** Sends with automine on and waits for the receipt; throws unless it succeeded. */
export async function sendMined(url: string, tx: Tx): Promise<{ contractAddress: Hex | null }> {
  const hash = await send(url, tx);
  let receipt: { status: Hex; contractAddress: Hex | null } | null = null;
  // Automine mines right after the send returns; poll briefly.
  for (let i = 0; i < 200 && receipt === null; i++) {
    receipt = await rpc(url, "eth_getTransactionReceipt", [hash]);
    if (receipt === null) await Bun.sleep(10);
  }
  if (receipt === null || receipt.status !== "0x1") throw new Error(`set-up transaction failed: ${JSON.stringify(txJson(tx)).slice(0, 200)} ${JSON.stringify(receipt)?.slice(0, 300)}`);
  return receipt;
}

async function deploy(url: string, from: Hex, bytecode: Hex, args = ""): Promise<Hex> {
  const r = await sendMined(url, { from, data: `${bytecode}${args}` as Hex, gas: 8_000_000n });
  return r.contractAddress!;
}

export interface Deployment {
  accounts: Hex[];
  tokens: [Hex, Hex];
  router: Hex;
  pool: Hex;
  counter: Hex;
  /** Stores BLOCKHASH(NUMBER - 1) in slot 0 and BLOCKHASH(NUMBER - 3) in slot 1 when called. */
  blockhashProbe: Hex;
}

/**
 * Runtime: NUMBER PUSH1 1 SWAP1 SUB BLOCKHASH PUSH1 0 SSTORE NUMBER PUSH1 3 SWAP1 SUB BLOCKHASH
 * PUSH1 1 SSTORE STOP (19 bytes), behind init code that copies it out and returns it.
 */
const BLOCKHASH_PROBE_RUNTIME = "436001900340600055436003900340600155" + "00";
export const BLOCKHASH_PROBE_INIT = `0x6013600c60003960136000f3${BLOCKHASH_PROBE_RUNTIME}` as Hex;

const FEE = 3000;
const PRICE_ONE = 1n << 96n;
const FAR_DEADLINE = 1n << 64n;
const LIQUIDITY = 10_000_000n * ETHER;

/** Deploys the contracts (automine on): two tokens, a Uniswap V3 pool with liquidity, a Counter. */
export async function deployContracts(url: string): Promise<Deployment> {
  const accounts = (await rpc<Hex[]>(url, "eth_accounts")).map((a) => a.toLowerCase() as Hex);
  const deployer = accounts[0]!;
  const tokenA = await deploy(url, deployer, artifact("MockToken").bytecode, encodeStrings("Mock A", "TKA"));
  const tokenB = await deploy(url, deployer, artifact("MockToken").bytecode, encodeStrings("Mock B", "TKB"));
  const [token0, token1] = BigInt(tokenA) < BigInt(tokenB) ? [tokenA, tokenB] : [tokenB, tokenA];
  const weth = accounts[accounts.length - 1]!; // never used by swaps between two tokens
  const factory = await deploy(url, deployer, artifact("UniswapV3Factory").bytecode);
  const router = await deploy(url, deployer, artifact("SwapRouter").bytecode, encodeArgs([factory, weth]));
  const positions = await deploy(url, deployer, artifact("NonfungiblePositionManager").bytecode, encodeArgs([factory, weth, weth]));
  await sendMined(url, { from: deployer, to: factory, data: encodeCall("createPool(address,address,uint24)", [token0, token1, FEE]), gas: 6_000_000n });
  const poolWord = await rpc<Hex>(url, "eth_call", [{ to: factory, data: encodeCall("getPool(address,address,uint24)", [token0, token1, FEE]) }, "latest"]);
  const pool = `0x${poolWord.slice(-40)}` as Hex;
  await sendMined(url, { from: deployer, to: pool, data: encodeCall("initialize(uint160)", [PRICE_ONE]), gas: 500_000n });
  for (const token of [token0, token1]) {
    await sendMined(url, { from: deployer, to: token, data: encodeCall("mint(address,uint256)", [deployer, LIQUIDITY]), gas: 200_000n });
    await sendMined(url, { from: deployer, to: token, data: encodeCall("approve(address,uint256)", [positions, LIQUIDITY]), gas: 200_000n });
  }
  await sendMined(url, {
    from: deployer,
    to: positions,
    data: encodeCall("mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))", [
      token0, token1, FEE, -887_220, 887_220, LIQUIDITY, LIQUIDITY, 0n, 0n, deployer, FAR_DEADLINE,
    ]),
    gas: 2_000_000n,
  });
  // Every account holds both tokens and lets the router spend them.
  for (const account of accounts) {
    for (const token of [token0, token1]) {
      await sendMined(url, { from: deployer, to: token, data: encodeCall("mint(address,uint256)", [account, 1_000n * ETHER]), gas: 200_000n });
      await sendMined(url, { from: account, to: token, data: encodeCall("approve(address,uint256)", [router, 1_000n * ETHER]), gas: 200_000n });
    }
  }
  const counter = await deploy(url, deployer, artifact("Counter").bytecode);
  const blockhashProbe = await deploy(url, deployer, BLOCKHASH_PROBE_INIT);
  return { accounts, tokens: [token0, token1], router, pool, counter, blockhashProbe };
}

export interface MinedBlock {
  number: bigint;
  hash: Hex;
  txs: number;
  kinds: Record<string, number>;
}

/**
 * Automine off, then `rounds` rounds of mixed transactions from every account, mined into one
 * block: plain transfers (one recipient shared by many: conflicts on its balance), ERC-20
 * transfers, swaps in the one pool (all conflict on its state), Counter increments (a
 * read-after-write chain), BLOCKHASH reads, a contract creation, an access-list transaction, a
 * legacy one, and one that reverts. Each account sends `rounds` transactions (a nonce chain).
 */
export async function mineMixedBlock(url: string, d: Deployment, rounds: number): Promise<MinedBlock> {
  await rpc(url, "evm_setAutomine", [false]);
  const kinds: Record<string, number> = {};
  const hot = "0x00000000000000000000000000000000000c0ffe" as Hex;
  const [token0, token1] = d.tokens;
  const hashes: Hex[] = [];
  const nonces = new Map<Hex, bigint>();
  for (const a of d.accounts) nonces.set(a, BigInt(await rpc<Hex>(url, "eth_getTransactionCount", [a, "latest"])));
  const add = async (kind: string, tx: Tx) => {
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    const nonce = nonces.get(tx.from)!;
    nonces.set(tx.from, nonce + 1n);
    hashes.push(await send(url, { ...tx, nonce }));
  };
  for (let round = 0; round < rounds; round++) {
    for (const [i, from] of d.accounts.entries()) {
      const other = d.accounts[(i + 1 + round) % d.accounts.length]!;
      switch ((i + round) % 6) {
        case 0:
          await add("transfer", { from, to: round % 2 === 0 ? hot : other, value: ETHER / 100n + BigInt(i), gas: 21_000n });
          break;
        case 1:
          await add("erc20 transfer", { from, to: i % 2 ? token0 : token1, data: encodeCall("transfer(address,uint256)", [other, ETHER + BigInt(round)]), gas: 100_000n });
          break;
        case 2: {
          const [tokenIn, tokenOut] = (i + round) % 4 < 2 ? [token0, token1] : [token1, token0];
          await add("swap", {
            from,
            to: d.router,
            data: encodeCall("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", [
              tokenIn, tokenOut, FEE, from, FAR_DEADLINE, BigInt(1 + (i % 5)) * ETHER, 0n, 0n,
            ]),
            gas: 400_000n,
          });
          break;
        }
        case 3:
          if (round % 2 === 0) await add("counter increment", { from, to: d.counter, data: encodeCall("increment()"), gas: 100_000n });
          else await add("blockhash", { from, to: d.blockhashProbe, gas: 100_000n });
          break;
        case 4:
          if (round % 3 === 0) await add("contract creation", { from, data: artifact("Counter").bytecode, gas: 500_000n });
          else await add("legacy transfer", { from, to: other, value: 12345n, gas: 21_000n, gasPrice: 3_000_000_000n });
          break;
        case 5:
          await add("access-list erc20 transfer", {
            from,
            to: token0,
            data: encodeCall("transfer(address,uint256)", [hot, 7n]),
            gas: 120_000n,
            gasPrice: 3_000_000_000n,
            accessList: [{ address: token0, storageKeys: [`0x${"0".repeat(63)}2` as Hex] }],
          });
          break;
      }
    }
  }
  // One that reverts: more tokens than the sender holds.
  await add("reverting erc20 transfer", { from: d.accounts[0]!, to: token0, data: encodeCall("transfer(address,uint256)", [hot, 10n ** 30n]), gas: 100_000n });
  await rpc(url, "evm_mine");
  await rpc(url, "evm_setAutomine", [true]);
  const block = await rpc<{ number: Hex; hash: Hex; transactions: Hex[] }>(url, "eth_getBlockByNumber", ["latest", false]);
  if (block.transactions.length !== hashes.length) throw new Error(`mined ${block.transactions.length} of ${hashes.length} transactions into the block`);
  return { number: BigInt(block.number), hash: block.hash, txs: hashes.length, kinds };
}
