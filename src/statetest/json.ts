/**
 * The filled ethereum/tests state-test format (GeneralStateTests), as it is on disk.
 * Numbers are hex strings; `transaction` holds index vectors that `post` entries pick from.
 */

export interface StateTestAccountJson {
  balance: string;
  nonce: string;
  code: string;
  storage: Record<string, string>;
}

export interface StateTestEnvJson {
  currentCoinbase: string;
  currentGasLimit: string;
  currentNumber: string;
  currentTimestamp: string;
  currentDifficulty?: string;
  currentRandom?: string;
  currentBaseFee?: string;
  currentExcessBlobGas?: string;
}

export interface AccessListJson {
  address: string;
  storageKeys: string[];
}

export interface StateTestTransactionJson {
  data: string[];
  gasLimit: string[];
  value: string[];
  nonce: string;
  /** "" for contract creation. */
  to: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  /** One per data index; null: that index is a legacy transaction. */
  accessLists?: (AccessListJson[] | null)[];
  maxFeePerBlobGas?: string;
  blobVersionedHashes?: string[];
  /** EIP-7702 (type 4): one list for every data index. */
  authorizationList?: Record<string, string>[];
  secretKey?: string;
  sender?: string;
}

export interface PostIndexes {
  data: number;
  gas: number;
  value: number;
}

export interface StateTestPostJson {
  indexes: PostIndexes;
  /** State root after the transaction (the pre-state root when it is invalid). */
  hash: string;
  /** keccak256(rlp(logs)). */
  logs: string;
  expectException?: string;
}

export interface StateTestJson {
  env: StateTestEnvJson;
  pre: Record<string, StateTestAccountJson>;
  transaction: StateTestTransactionJson;
  post: Record<string, StateTestPostJson[]>;
  /** execution-spec-tests: the chain id and the blob schedule per fork. */
  config?: { chainid?: string; blobSchedule?: Record<string, Record<string, string>> };
}

/** A state-test file: test name -> test. */
export type StateTestFileJson = Record<string, StateTestJson>;
