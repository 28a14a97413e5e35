/**
 * The blockchain runBlock sees: only BLOCKHASH asks it anything, via getBlock(n).hash().
 * Hashes come from the corpus; asking for one it lacks is a corpus bug, so it throws
 * instead of silently answering zero.
 */
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { hexToBytes } from "@ethereumjs/util";
import type { HexString } from "./corpus.ts";

export class BlockHashChain implements EVMMockBlockchainInterface {
  constructor(private readonly hashes: Map<bigint, HexString>) {}

  async getBlock(blockId: number): Promise<{ hash(): Uint8Array }> {
    const hex = this.hashes.get(BigInt(blockId));
    if (hex === undefined) throw new Error(`BLOCKHASH(${blockId}): not in block_hashes.json`);
    const hash = hexToBytes(hex);
    return { hash: () => hash };
  }

  async putBlock(): Promise<void> {}

  shallowCopy(): this {
    return this;
  }
}
