/**
 * The JSON shapes of a mocked block: the corpus format (see data/README.md), so that a mock
 * can be written to a directory and run by the CLI like any mainnet block.
 */
import type { Hex } from "../../src/chain/types.ts";

export type { Hex };

/** A transaction as `eth_getBlockByNumber(n, true)` returns it, minus the signature. */
export interface RpcTransaction {
  hash: Hex;
  type: Hex;
  chainId: Hex;
  from: Hex;
  /** null for a contract creation. */
  to: Hex | null;
  nonce: Hex;
  gas: Hex;
  /** The effective gas price, as JSON-RPC reports it for mined dynamic-fee transactions. */
  gasPrice: Hex;
  maxFeePerGas: Hex;
  maxPriorityFeePerGas: Hex;
  value: Hex;
  input: Hex;
  accessList: { address: Hex; storageKeys: Hex[] }[];
  /** Blob transactions (type 3) only. */
  maxFeePerBlobGas?: Hex;
  blobVersionedHashes?: Hex[];
  /** Set-code transactions (type 4, EIP-7702) only. */
  authorizationList?: RpcAuthorization[];
  blockNumber: Hex;
  blockHash: Hex;
  transactionIndex: Hex;
}

/** A signed EIP-7702 authorization as JSON-RPC reports it. */
export interface RpcAuthorization {
  chainId: Hex;
  address: Hex;
  nonce: Hex;
  yParity: Hex;
  r: Hex;
  s: Hex;
}

/** A withdrawal (Shanghai on) as JSON-RPC reports it; the amount is in gwei. */
export interface RpcWithdrawal {
  index: Hex;
  validatorIndex: Hex;
  address: Hex;
  amount: Hex;
}

/**
 * No stateRoot, gasUsed, receiptsRoot or logsBloom: nothing to compare against is known.
 * The fork-dependent fields are absent before their fork (withdrawals before Shanghai,
 * blob gas and the beacon root before Cancun).
 */
export interface RpcBlock {
  hash: Hex;
  parentHash: Hex;
  sha3Uncles: Hex;
  miner: Hex;
  number: Hex;
  gasLimit: Hex;
  timestamp: Hex;
  extraData: Hex;
  mixHash: Hex;
  nonce: Hex;
  difficulty: Hex;
  baseFeePerGas: Hex;
  withdrawalsRoot?: Hex;
  blobGasUsed?: Hex;
  excessBlobGas?: Hex;
  parentBeaconBlockRoot?: Hex;
  uncles: Hex[];
  withdrawals?: RpcWithdrawal[];
  transactions: RpcTransaction[];
}

/** One account of `pre_state.json`. */
export interface PreStateAccount {
  balance: Hex;
  nonce: number;
  code_hash?: Hex;
  storage: Record<Hex, Hex>;
}

export type PreStateJson = Record<Hex, PreStateAccount>;

/** A generated block with everything needed to execute it. Plain JSON-compatible data. */
export interface MockBlock {
  name: string;
  block: RpcBlock;
  preState: PreStateJson;
  /** Code by keccak-256 hash, as in the corpus `bytecodes.json`. */
  bytecodes: Record<Hex, Hex>;
}
