import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { AddressHex, Hex } from "../chain/types.ts";
import type { AsyncStorage, StateKey } from "../state/missing.ts";
import { EMPTY_CODE_HASH, type AccountInfo } from "../state/types.ts";
import { dataOf, hashOf, hexQuantity, quantityOf, RpcError, type RpcClient } from "./rpc.ts";

/**
 * Where a fetched pre-state comes from: the node's state at the parent block, read with the
 * plain eth_ methods (RpcStorage), optionally answered first from the block's prestateTracer
 * trace (TracedStorage over RpcStorage).
 */

/** How much a source fetched (shown by the progress line, reported by the fetch). */
export interface FetchCounts {
  accounts: number;
  slots: number;
  codeBytes: number;
  blockHashes: number;
}

function codeHashOf(code: Uint8Array): Hex {
  return code.length === 0 ? EMPTY_CODE_HASH : (bytesToHex(keccak_256(code)) as Hex);
}

/**
 * The node's state at one block (by number, or by hash) through eth_getBalance,
 * eth_getTransactionCount, eth_getCode and eth_getStorageAt: methods every node has, pruned
 * or not (a pruned node only keeps recent state: older blocks fail as "pruned").
 *
 * An account with no balance, nonce or code reads as absent. That is exact from Spurious
 * Dragon on (EIP-161 removes empty accounts); before it, an existing empty account is read as
 * absent, which these methods cannot tell apart.
 */
export class RpcStorage implements AsyncStorage {
  readonly isAsync = true;
  readonly counts: FetchCounts = { accounts: 0, slots: 0, codeBytes: 0, blockHashes: 0 };
  private readonly accounts = new Map<AddressHex, Promise<AccountInfo | undefined>>();
  private readonly slots = new Map<string, Promise<bigint>>();
  private readonly codes = new Map<Hex, Uint8Array>();
  private readonly hashes = new Map<bigint, Promise<Hex | undefined>>();

  /** The state block as the eth_ methods take it: a number, or EIP-1898's { blockHash }. */
  private readonly tag: string | { blockHash: Hex };

  constructor(
    readonly client: RpcClient,
    /** The block whose post-state is read: the parent of the block being fetched. */
    readonly blockNumber: bigint,
    /** When given, state is read at this hash (EIP-1898): a reorg cannot swap the block under the reads. */
    blockHash?: Hex,
  ) {
    this.tag = blockHash === undefined ? hexQuantity(blockNumber) : { blockHash };
  }

  account(address: AddressHex): Promise<AccountInfo | undefined> {
    let p = this.accounts.get(address);
    if (p === undefined) {
      p = this.fetchAccount(address);
      this.accounts.set(address, p);
    }
    return p;
  }

  private async fetchAccount(address: AddressHex): Promise<AccountInfo | undefined> {
    const c = this.client;
    const [balance, nonce, code] = await Promise.all([
      c.call("eth_getBalance", [address, this.tag]).then((v) => quantityOf(c, "eth_getBalance", v)),
      c.call("eth_getTransactionCount", [address, this.tag]).then((v) => quantityOf(c, "eth_getTransactionCount", v)),
      c.call("eth_getCode", [address, this.tag]).then((v) => hexToBytes(dataOf(c, "eth_getCode", v))),
    ]);
    this.counts.accounts++;
    this.counts.codeBytes += code.length;
    const codeHash = codeHashOf(code);
    if (code.length > 0) this.codes.set(codeHash, code);
    if (balance === 0n && nonce === 0n && code.length === 0) return undefined;
    return { balance, nonce, codeHash };
  }

  storage(address: AddressHex, slot: bigint): Promise<bigint> {
    const key = `${address}:${slot}`;
    let p = this.slots.get(key);
    if (p === undefined) {
      const c = this.client;
      p = c.call("eth_getStorageAt", [address, "0x" + slot.toString(16).padStart(64, "0"), this.tag]).then((v) => {
        this.counts.slots++;
        return quantityOf(c, "eth_getStorageAt", v);
      });
      this.slots.set(key, p);
    }
    return p;
  }

  /** Code is fetched with its account (eth_getCode takes an address, not a hash). */
  async code(codeHash: Hex): Promise<Uint8Array | undefined> {
    return this.codes.get(codeHash);
  }

  /** Code this source holds (from accounts it fetched), by hash. */
  knownCode(codeHash: Hex): Uint8Array | undefined {
    return this.codes.get(codeHash);
  }

  blockHash(number: bigint): Promise<Hex | undefined> {
    let p = this.hashes.get(number);
    if (p === undefined) {
      const c = this.client;
      p = c.call("eth_getBlockByNumber", [hexQuantity(number), false]).then((block) => {
        if (block === null) return undefined;
        if (typeof block !== "object") throw new RpcError("malformed", c.url, "eth_getBlockByNumber", "expected a block object or null");
        this.counts.blockHashes++;
        return hashOf(c, "eth_getBlockByNumber", (block as { hash?: unknown }).hash);
      });
      this.hashes.set(number, p);
    }
    return p;
  }

  /** Starts every fetch at once: the client sends calls made in one tick as batches. */
  async prefetch(keys: StateKey[]): Promise<void> {
    await Promise.all(keys.map((k) => this.read(k)));
  }

  private read(k: StateKey): Promise<unknown> {
    switch (k.kind) {
      case "account":
        return this.account(k.address);
      case "storage":
        return this.storage(k.address, k.slot);
      case "code":
        return this.code(k.codeHash);
      case "blockHash":
        return this.blockHash(k.number);
    }
  }
}

/** One account as the prestateTracer reports it: the state before the block, as far as the block touched it. */
export interface TracedAccount {
  balance: bigint;
  nonce: bigint;
  code: Uint8Array;
  storage: Map<bigint, bigint>;
}

/**
 * The block's pre-state from `debug_traceBlockByNumber` with geth's `prestateTracer`: for each
 * transaction, every account and slot it touched as they were before it. The block's
 * pre-state is the first sighting of each account and of each slot (a later transaction sees
 * values that earlier ones may have changed, and those earlier ones would have listed them).
 */
export async function tracePrestate(client: RpcClient, blockNumber: bigint, txHashes: (Hex | undefined)[]): Promise<Map<AddressHex, TracedAccount>> {
  const method = "debug_traceBlockByNumber";
  const traces = await client.call(method, [hexQuantity(blockNumber), { tracer: "prestateTracer" }]);
  const bad = (what: string): never => {
    throw new RpcError("malformed", client.url, method, what);
  };
  if (!Array.isArray(traces)) bad("expected an array of transaction traces");
  const list = traces as unknown[];
  if (list.length !== txHashes.length) bad(`${list.length} traces for ${txHashes.length} transactions`);
  // The block traced must be the block fetched (by number, a reorg in between could swap it).
  for (const [i, trace] of (list as ({ txHash?: unknown } | null)[]).entries()) {
    const hash = typeof trace?.txHash === "string" ? trace.txHash.toLowerCase() : undefined;
    if (hash !== undefined && txHashes[i] !== undefined && hash !== txHashes[i]) {
      throw new RpcError("node", client.url, method, `trace ${i} is of transaction ${hash}, the block has ${txHashes[i]}: the block changed while fetching (a reorg?)`);
    }
  }
  const accounts = new Map<AddressHex, TracedAccount>();
  for (const [i, trace] of list.entries()) {
    // geth: [{ txHash, result }]; some nodes return the results themselves.
    const result = typeof trace === "object" && trace !== null && "result" in trace ? (trace as { result: unknown }).result : trace;
    if (typeof result !== "object" || result === null || Array.isArray(result)) bad(`trace ${i}: expected an object of accounts`);
    for (const [address, value] of Object.entries(result as Record<string, unknown>)) {
      if (!/^0x[0-9a-fA-F]{40}$/.test(address)) bad(`trace ${i}: ${JSON.stringify(address).slice(0, 50)} is not an address`);
      if (typeof value !== "object" || value === null) bad(`trace ${i}: ${address}: expected an object`);
      const v = value as Record<string, unknown>;
      const key = address.toLowerCase() as AddressHex;
      let account = accounts.get(key);
      if (account === undefined) {
        account = {
          balance: v.balance === undefined ? 0n : quantityOf(client, method, v.balance),
          nonce: v.nonce === undefined ? 0n : typeof v.nonce === "number" ? BigInt(v.nonce) : quantityOf(client, method, v.nonce),
          code: v.code === undefined ? new Uint8Array(0) : hexToBytes(dataOf(client, method, v.code)),
          storage: new Map(),
        };
        accounts.set(key, account);
      }
      if (v.storage !== undefined) {
        if (typeof v.storage !== "object" || v.storage === null) bad(`trace ${i}: ${address}.storage: expected an object`);
        for (const [slot, slotValue] of Object.entries(v.storage as Record<string, unknown>)) {
          const s = quantityOf(client, method, slot);
          if (!account.storage.has(s)) account.storage.set(s, quantityOf(client, method, slotValue));
        }
      }
    }
  }
  return accounts;
}

/**
 * The traced pre-state first, the node (at the parent block) for anything the trace does not
 * hold: an account it does not list, a slot of a listed account it does not list (system
 * calls are not traced, for example), and every block hash.
 */
export class TracedStorage implements AsyncStorage {
  readonly isAsync = true;
  private readonly codes = new Map<Hex, Uint8Array>();
  private readonly infos = new Map<AddressHex, AccountInfo | undefined>();

  constructor(
    readonly traced: Map<AddressHex, TracedAccount>,
    readonly node: RpcStorage,
  ) {
    for (const [address, a] of traced) {
      const codeHash = codeHashOf(a.code);
      if (a.code.length > 0) this.codes.set(codeHash, a.code);
      // Empty is absent (the tracer lists accounts a transaction merely looked at).
      this.infos.set(address, a.balance === 0n && a.nonce === 0n && a.code.length === 0 ? undefined : { balance: a.balance, nonce: a.nonce, codeHash });
    }
  }

  async account(address: AddressHex): Promise<AccountInfo | undefined> {
    return this.infos.has(address) ? this.infos.get(address) : this.node.account(address);
  }

  async code(codeHash: Hex): Promise<Uint8Array | undefined> {
    return this.codes.get(codeHash) ?? this.node.code(codeHash);
  }

  async storage(address: AddressHex, slot: bigint): Promise<bigint> {
    return this.traced.get(address)?.storage.get(slot) ?? this.node.storage(address, slot);
  }

  blockHash(number: bigint): Promise<Hex | undefined> {
    return this.node.blockHash(number);
  }

  async prefetch(keys: StateKey[]): Promise<void> {
    await this.node.prefetch(
      keys.filter((k) => {
        if (k.kind === "account") return !this.infos.has(k.address);
        if (k.kind === "storage") return this.traced.get(k.address)?.storage.has(k.slot) !== true;
        if (k.kind === "code") return !this.codes.has(k.codeHash);
        return true;
      }),
    );
  }
}
