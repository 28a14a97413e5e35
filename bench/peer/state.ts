/**
 * Puts a block's partial pre-state into an @ethereumjs state manager.
 * Loading happens before the timed run, and the state is committed (flushed into the
 * trie) so runBlock starts from a settled state, as a node would.
 */
import type { Common } from "@ethereumjs/common";
import { Caches, MerkleStateManager } from "@ethereumjs/statemanager";
import { Account, createAddressFromString, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import type { HexString, RawPreState } from "./corpus.ts";

const EMPTY_CODE_HASH = "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";

/** `merkle`: MerkleStateManager writing through to the trie; `cached`: the same with the client's Caches in front. */
export type StateKind = "merkle" | "cached";

/** Hex as found in the corpus (possibly odd-length, like "0x0") to bytes. */
export function looseHexToBytes(hex: HexString): Uint8Array {
  const digits = hex.slice(2);
  return hexToBytes(`0x${digits.length % 2 === 1 ? "0" : ""}${digits}`);
}

export async function buildStateManager(
  preState: RawPreState,
  bytecodes: Map<string, HexString>,
  common: Common,
  kind: StateKind,
): Promise<MerkleStateManager> {
  const stateManager = new MerkleStateManager({
    common,
    caches: kind === "cached" ? new Caches() : undefined,
  });
  await stateManager.checkpoint();
  for (const [addressHex, raw] of Object.entries(preState)) {
    const address = createAddressFromString(addressHex);
    await stateManager.putAccount(
      address,
      new Account(BigInt(raw.nonce), BigInt(raw.balance)),
    );
    const codeHash = raw.code_hash?.toLowerCase();
    if (codeHash !== undefined && codeHash !== EMPTY_CODE_HASH) {
      const code = bytecodes.get(codeHash);
      if (code === undefined) throw new Error(`pre-state: no bytecode for ${codeHash} (${addressHex})`);
      await stateManager.putCode(address, hexToBytes(code));
    }
    for (const [slot, value] of Object.entries(raw.storage)) {
      await stateManager.putStorage(
        address,
        setLengthLeft(looseHexToBytes(slot as HexString), 32),
        looseHexToBytes(value),
      );
    }
  }
  await stateManager.commit(); // depth 0: flushes caches into the trie
  return stateManager;
}

/**
 * Measures the time runBlock spends hashing the state trie (once per block, and once per
 * transaction before Byzantium, whose receipts carry intermediate roots) — a cost our
 * executor does not pay, so the report shows it separately.
 */
export function timeStateRoots(stateManager: MerkleStateManager): () => number {
  const original = stateManager.getStateRoot.bind(stateManager);
  let totalMs = 0;
  stateManager.getStateRoot = async () => {
    const start = performance.now();
    try {
      return await original();
    } finally {
      totalMs += performance.now() - start;
    }
  };
  return () => totalMs;
}
