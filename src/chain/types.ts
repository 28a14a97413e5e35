/**
 * The block model every part of pevm works on: parsed once from JSON-RPC shaped input
 * (the corpus `block.json`), with numbers as bigint and byte strings as Uint8Array.
 * Addresses are kept as lowercase 0x-prefixed hex strings (`Hex20`): they are map keys
 * everywhere and converting them back and forth would cost more than it saves.
 */

export type Hex = `0x${string}`;

/** An address: lowercase, 0x-prefixed, 40 hex digits. */
export type AddressHex = Hex;

export interface AccessListItem {
  address: AddressHex;
  storageKeys: bigint[];
}

/** An EIP-7702 authorization: the authority (recovered from the signature) delegates to `address`. */
export interface Authorization {
  chainId: bigint;
  address: AddressHex;
  nonce: bigint;
  yParity: bigint;
  r: bigint;
  s: bigint;
}

export interface Withdrawal {
  index: bigint;
  validatorIndex: bigint;
  address: AddressHex;
  /** In gwei, as in the header. */
  amount: bigint;
}

export interface Transaction {
  /** Position in the block. */
  index: number;
  /** EIP-2718 type: 0 legacy, 1 access list, 2 dynamic fee, 3 blob, 4 set-code. */
  type: number;
  hash?: Hex;
  from: AddressHex;
  /** undefined for contract creation. */
  to: AddressHex | undefined;
  nonce: bigint;
  gasLimit: bigint;
  value: bigint;
  data: Uint8Array;
  /** Legacy and access-list transactions. */
  gasPrice: bigint;
  /** Dynamic-fee transactions (for legacy ones: equal to gasPrice). */
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  /** undefined when the transaction carries no chain id (pre-EIP-155 legacy). */
  chainId: bigint | undefined;
  accessList: AccessListItem[];
  maxFeePerBlobGas: bigint;
  blobVersionedHashes: Hex[];
  /** Set-code transactions (type 4) only. */
  authorizationList?: Authorization[];
}

export interface BlockHeader {
  number: bigint;
  hash?: Hex;
  parentHash: Hex;
  coinbase: AddressHex;
  timestamp: bigint;
  gasLimit: bigint;
  difficulty: bigint;
  /** mixHash; PREVRANDAO after the merge. */
  mixHash: Uint8Array;
  baseFeePerGas: bigint | undefined;
  excessBlobGas: bigint | undefined;
  blobGasUsed: bigint | undefined;
  parentBeaconBlockRoot: Uint8Array | undefined;
  /** What the chain says the block produced; compared against, never used to execute. */
  expected: {
    gasUsed: bigint | undefined;
    receiptsRoot: Hex | undefined;
    logsBloom: Hex | undefined;
    stateRoot: Hex | undefined;
    /** EIP-7685 (Prague): sha256 commitment to the block's execution-layer requests. */
    requestsHash?: Hex;
  };
}

export interface Block {
  header: BlockHeader;
  transactions: Transaction[];
  /** Uncle miners are not in the corpus (`uncles` holds hashes only): rewards need headers. */
  uncles: { number: bigint; coinbase: AddressHex }[];
  /** How many uncles the block includes (its miner earns 1/32 of the reward for each). */
  uncleCount?: number;
  withdrawals: Withdrawal[] | undefined;
  /** The length of the block's RLP encoding, when known (JSON-RPC `size`): EIP-7934 limits it. */
  rlpSize?: number;
}
