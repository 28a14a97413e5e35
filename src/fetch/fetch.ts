import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { InputError, InvalidTransactionError } from "../chain/errors.ts";
import { Fork, forkName, mainnetFork } from "../chain/forks.ts";
import { parseBlock } from "../chain/json.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { CachedStorage } from "../state/cached-storage.ts";
import type { MemoryStorage } from "../state/memory.ts";
import type { StateKey } from "../state/missing.ts";
import { stateRoot } from "../state/state-root.ts";
import { executeBlockOnAsyncStorage } from "../vm/block-async.ts";
import { hashOf, hexQuantity, quantityOf, RpcClient, RpcError, type RpcOptions, type RpcStats } from "./rpc.ts";
import { RpcStorage, tracePrestate, TracedStorage, type FetchCounts } from "./sources.ts";
import { checkOutDir, writeSnapshot, type FetchMeta } from "./snapshot.ts";

/**
 * `pevm fetch`: a block and the pre-state it reads, from a node, as a corpus directory.
 *
 * 1. The block (eth_getBlockByNumber / eth_getBlockByHash with full transactions).
 * 2. The pre-state: from `debug_traceBlockByNumber` with the prestateTracer when the node has
 *    it (the fast path), else from the node's state at the parent block read as the block
 *    executes. Either way the block is executed sequentially on a CachedStorage over that
 *    source (tracer answers first, the node for anything else: untraced system calls, block
 *    hashes), and what the execution read is the snapshot: the two paths give the same files.
 * 3. With `fullState`: every account and slot of the node's state too (anvil_dumpState lists
 *    them; their values are read at the parent block), checked against the parent's state root.
 */

export const MAINNET_GENESIS = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3";

export type BlockId = { kind: "number"; number: bigint } | { kind: "hash"; hash: Hex } | { kind: "tag"; tag: "latest" | "safe" | "finalized" };

export function parseBlockId(text: string): BlockId {
  if (/^(latest|safe|finalized)$/.test(text)) return { kind: "tag", tag: text as "latest" };
  if (/^0x[0-9a-fA-F]{64}$/.test(text)) return { kind: "hash", hash: text.toLowerCase() as Hex };
  if (/^0x[0-9a-fA-F]{1,16}$/.test(text) || /^[0-9]{1,20}$/.test(text)) return { kind: "number", number: BigInt(text) };
  throw new InputError(`expected a block number (decimal or 0x), a 32-byte block hash, or latest / safe / finalized; got "${text}"`, undefined, "BLOCK_ID");
}

export interface FetchOptions extends RpcOptions {
  /** Default: <blocksDir>/<number>. */
  out?: string;
  /** Default "blocks" (under the current directory). */
  blocksDir?: string;
  fullState?: boolean;
  /** "auto" (default): the tracer when the node has it, else the eth_ methods; or force one. */
  prestate?: "auto" | "tracer" | "rpc";
  /** The fork to execute with; default: the mainnet schedule on mainnet, else from the header. */
  fork?: Fork;
  /** Called while fetching (often): for a progress line. */
  onProgress?: (p: FetchProgress) => void;
}

export interface FetchProgress {
  rpc: RpcStats;
  counts: FetchCounts;
}

export interface FetchResult {
  dir: string;
  number: bigint;
  hash: Hex;
  fork: Fork;
  prestate: "tracer" | "rpc";
  /** Why the tracer was not used (when it was not). */
  tracerSkipped?: string;
  rpc: RpcStats;
  counts: FetchCounts;
  /** What the snapshot holds. */
  snapshot: { accounts: number; slots: number; codes: number; blockHashes: number; bytes: number };
  /** With fullState: whether the fetched state's root is the parent block's state root. */
  parentStateRoot?: { computed: Hex; expected: Hex | undefined; ok: boolean };
  /** pevm found a transaction invalid while reading the pre-state (the snapshot holds what was read). */
  executionError?: string;
  ms: number;
}

/** The fork a header's fields show (London on: each fork added a field or zeroed the difficulty). */
export function forkFromHeader(json: Record<string, unknown>): Fork | undefined {
  if (json.requestsHash !== undefined && json.requestsHash !== null) return Fork.Prague;
  if (json.blobGasUsed !== undefined || json.parentBeaconBlockRoot !== undefined) return Fork.Cancun;
  if (json.withdrawalsRoot !== undefined && json.withdrawalsRoot !== null) return Fork.Shanghai;
  if (json.baseFeePerGas === undefined || json.baseFeePerGas === null) return undefined;
  return json.difficulty === "0x0" ? Fork.Paris : Fork.London;
}

async function getBlock(client: RpcClient, id: BlockId): Promise<Record<string, unknown>> {
  const [method, first] =
    id.kind === "hash" ? ["eth_getBlockByHash", id.hash] : ["eth_getBlockByNumber", id.kind === "tag" ? id.tag : hexQuantity(id.number)];
  const block = await client.call(method, [first, true]);
  if (block === null || block === undefined) {
    const name = id.kind === "hash" ? id.hash : id.kind === "tag" ? id.tag : id.number.toString();
    throw new RpcError("not-found", client.url, method, `block ${name} does not exist on this node`);
  }
  if (typeof block !== "object" || Array.isArray(block)) throw new RpcError("malformed", client.url, method, "expected a block object");
  return block as Record<string, unknown>;
}

export interface ChainInfo {
  chainId: bigint;
  mainnet: boolean;
}

export async function chainInfo(client: RpcClient): Promise<ChainInfo> {
  const [chainId, genesis] = await Promise.all([
    client.call("eth_chainId").then((v) => quantityOf(client, "eth_chainId", v)),
    client.call("eth_getBlockByNumber", ["0x0", false]),
  ]);
  const genesisHash = typeof genesis === "object" && genesis !== null ? (genesis as { hash?: unknown }).hash : undefined;
  return { chainId, mainnet: chainId === 1n && typeof genesisHash === "string" && genesisHash.toLowerCase() === MAINNET_GENESIS };
}

export function chooseFork(chain: ChainInfo, block: Block, json: Record<string, unknown>, forced: Fork | undefined): Fork {
  if (forced !== undefined) return forced;
  if (chain.mainnet) return mainnetFork(block.header.number, block.header.timestamp);
  const fork = forkFromHeader(json);
  if (fork === undefined) {
    throw new InputError("a pre-London block of a chain other than mainnet: its fork cannot be told from the header; pass --fork", undefined, "--fork");
  }
  return fork;
}

/** Every account and slot of an anvil node's (latest) state: anvil_dumpState. */
async function anvilStateKeys(client: RpcClient): Promise<StateKey[]> {
  const method = "anvil_dumpState";
  const dump = await client.call(method);
  let json: { accounts?: Record<string, { storage?: Record<string, unknown> }> };
  try {
    const text = gunzipSync(Buffer.from(String(dump).replace(/^0x/, ""), "hex")).toString("utf8");
    json = JSON.parse(text);
  } catch {
    throw new RpcError("malformed", client.url, method, "expected gzip-compressed JSON as hex");
  }
  if (typeof json.accounts !== "object" || json.accounts === null) throw new RpcError("malformed", client.url, method, "no accounts in the dump");
  const keys: StateKey[] = [];
  for (const [address, account] of Object.entries(json.accounts)) {
    const a = address.toLowerCase() as AddressHex;
    keys.push({ kind: "account", address: a });
    for (const slot of Object.keys(account.storage ?? {})) keys.push({ kind: "storage", address: a, slot: quantityOf(client, method, slot) });
  }
  return keys;
}

/** Reads `keys` through `storage` (loading them first) so that the snapshot holds them. */
async function readAll(storage: CachedStorage, keys: StateKey[]): Promise<void> {
  await storage.load(keys);
  for (const k of keys) {
    if (k.kind === "account") storage.account(k.address);
    else if (k.kind === "storage") storage.storage(k.address, k.slot);
  }
}

function countSnapshot(snapshot: MemoryStorage): { accounts: number; slots: number; codes: number; blockHashes: number } {
  let slots = 0;
  for (const a of snapshot.accounts.values()) slots += a.storage.size;
  return { accounts: snapshot.accounts.size, slots, codes: snapshot.codes.size, blockHashes: snapshot.blockHashes.size };
}

/** Fetches block `id` from the node at `url` and writes its snapshot. Throws InputError / RpcError. */
export async function fetchBlock(url: string, id: BlockId, options: FetchOptions = {}): Promise<FetchResult> {
  const t0 = performance.now();
  const client = new RpcClient(url, options);
  const [json, chain] = await Promise.all([getBlock(client, id), chainInfo(client)]);
  const block = parseBlock(`${url} (block)`, json);
  const number = block.header.number;
  const hash = hashOf(client, "eth_getBlockByNumber", json.hash);
  if (number === 0n) throw new InputError("the genesis block has no parent state to execute on", undefined, "BLOCK_ID");
  // Our executor checks transactions against chain id 1 (src/vm/transaction.ts).
  if (chain.chainId !== 1n) {
    throw new InputError(`the node's chain id is ${chain.chainId}; pevm executes chain id 1 transactions only`, url, "eth_chainId");
  }
  const fork = chooseFork(chain, block, json, options.fork);
  const out = options.out ?? join(options.blocksDir ?? "blocks", number.toString());
  checkOutDir(out, hash, number); // before any real work

  const node = new RpcStorage(client, number - 1n, block.header.parentHash);
  const progress = options.onProgress;
  const timer = progress ? setInterval(() => progress({ rpc: client.stats, counts: node.counts }), 100) : undefined;
  try {
    let prestate: "tracer" | "rpc" = "rpc";
    let tracerSkipped: string | undefined;
    let source: RpcStorage | TracedStorage = node;
    if ((options.prestate ?? "auto") !== "rpc") {
      try {
        source = new TracedStorage(await tracePrestate(client, number, block.transactions.map((t) => t.hash)), node);
        prestate = "tracer";
      } catch (e) {
        // No debug namespace (or no prestateTracer): the fallback. Anything else is a real failure.
        const unsupported = e instanceof RpcError && (e.kind === "method-not-found" || (e.kind === "node" && /tracer/i.test(e.detail)));
        if (!unsupported || options.prestate === "tracer") throw e;
        tracerSkipped = e.detail;
      }
    }
    const storage = new CachedStorage(source);
    let executionError: string | undefined;
    try {
      await executeBlockOnAsyncStorage(block, storage, { fork });
    } catch (e) {
      // pevm rejects a transaction the node included: keep what was read for the report (and a bug report).
      if (!(e instanceof InvalidTransactionError)) throw e;
      executionError = e.message;
    }

    let parentStateRoot: FetchResult["parentStateRoot"];
    if (options.fullState) {
      await readAll(storage, await anvilStateKeys(client));
    }
    const snapshot = storage.snapshot();
    if (options.fullState) {
      const parent = (await client.call("eth_getBlockByHash", [block.header.parentHash, false])) as { stateRoot?: unknown } | null;
      const expected = parent?.stateRoot === undefined ? undefined : hashOf(client, "eth_getBlockByHash", parent.stateRoot);
      const computed = await stateRoot(snapshot);
      parentStateRoot = { computed, expected, ok: computed === expected };
    }
    const meta: FetchMeta = { chainId: chain.chainId.toString(), fork: forkName(fork), prestate, fullState: options.fullState === true, number: number.toString(), hash };
    const bytes = writeSnapshot(out, json, snapshot, meta);
    return {
      dir: out,
      number,
      hash,
      fork,
      prestate,
      tracerSkipped,
      rpc: { ...client.stats },
      counts: { ...node.counts },
      snapshot: { ...countSnapshot(snapshot), bytes },
      parentStateRoot,
      executionError,
      ms: performance.now() - t0,
    };
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
}
