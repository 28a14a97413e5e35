import type { StateTestAccountJson } from "../statetest/json.ts";

/**
 * The execution-spec-tests blockchain-test format (BlockchainTests), as it is on disk:
 * a full pre-state, blocks as JSON headers and transactions (and their RLP), the full
 * post-state. Numbers are hex strings.
 */

export type BlockHeaderJson = Record<string, string>;

export interface BlockTxJson {
  type?: string;
  chainId?: string;
  nonce: string;
  gasPrice?: string;
  maxPriorityFeePerGas?: string;
  maxFeePerGas?: string;
  gasLimit: string;
  /** "" (or absent) for contract creation. */
  to?: string;
  value: string;
  data: string;
  accessList?: unknown[];
  authorizationList?: unknown[];
  maxFeePerBlobGas?: string;
  blobVersionedHashes?: string[];
  v?: string;
  r?: string;
  s?: string;
  sender: string;
}

export interface BlockBodyJson {
  blockHeader: BlockHeaderJson;
  transactions: BlockTxJson[];
  uncleHeaders: unknown[];
  withdrawals?: Record<string, string>[];
}

/** A valid block carries its body at the top level; an invalid one (expectException) in rlp_decoded. */
export interface BlockJson extends Partial<BlockBodyJson> {
  rlp: string;
  expectException?: string;
  rlp_decoded?: BlockBodyJson;
}

export interface BlockchainTestJson {
  network: string;
  genesisBlockHeader: BlockHeaderJson;
  pre: Record<string, StateTestAccountJson>;
  blocks: BlockJson[];
  postState?: Record<string, StateTestAccountJson>;
  lastblockhash: string;
  config?: { network?: string; chainid?: string; blobSchedule?: Record<string, Record<string, string>> };
}

export type BlockchainTestFileJson = Record<string, BlockchainTestJson>;
