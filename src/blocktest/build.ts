import { parseBlock } from "../chain/json.ts";
import type { Block } from "../chain/types.ts";
import { MemoryStorage } from "../state/memory.ts";
import { applyChanges } from "../state/state-root.ts";
import type { StateChanges } from "../state/types.ts";
import type { BlockBodyJson } from "./json.ts";

/** Turns a blockchain test's block JSON into our block model, through the JSON-RPC parser. */
export function blockFromJson(body: BlockBodyJson, where: string): Block {
  const h = body.blockHeader;
  // The fixture names some fields differently from JSON-RPC; everything else is the same.
  const rpc = {
    ...h,
    miner: h.coinbase,
    receiptsRoot: h.receiptTrie,
    logsBloom: h.bloom,
    transactions: body.transactions.map((tx) => {
      const { sender, gasLimit, data, to, ...rest } = tx;
      return { ...rest, from: sender, gas: gasLimit, input: data, ...(to === undefined || to === "" ? {} : { to }) };
    }),
    withdrawals: body.withdrawals,
    uncles: [],
  };
  return parseBlock(where, rpc);
}

/**
 * The state after a block, as a new MemoryStorage: the parallel engine keeps a shared copy per
 * Storage object, so a storage it has seen is never changed. Changed accounts get their own
 * slot maps; the others are shared with `before`.
 */
export function nextStorage(before: MemoryStorage, changes: StateChanges): MemoryStorage {
  const next = new MemoryStorage();
  for (const [address, account] of before.accounts) next.accounts.set(address, account);
  for (const [hash, code] of before.codes) next.codes.set(hash, code);
  for (const [n, hash] of before.blockHashes) next.blockHashes.set(n, hash);
  for (const address of changes.keys()) {
    const account = next.accounts.get(address);
    if (account !== undefined) next.setAccount(address, account, new Map(account.storage));
  }
  return applyChanges(next, changes);
}
