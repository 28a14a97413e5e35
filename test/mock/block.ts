/**
 * Turns a scenario (a pre-state plus transactions) into a corpus-format block: a Cancun
 * mainnet-era header, dynamic-fee transactions with computed placeholder hashes.
 */
import { ETHER, GWEI, MOCK_COINBASE } from "./accounts.ts";
import { keccakHex, quantity } from "./hex.ts";
import type { MockWorld } from "./world.ts";
import type { Hex, MockBlock, RpcBlock, RpcTransaction } from "./types.ts";

/** Mainnet block 20,000,000 (Cancun): number and timestamp are past the Cancun activation. */
export const MOCK_BLOCK_NUMBER = 20_000_000n;
export const MOCK_TIMESTAMP = 1_717_281_407n;
export const MOCK_BASE_FEE = GWEI;
export const MOCK_PRIORITY_FEE = GWEI;
export const MOCK_MAX_FEE = 3n * GWEI;
/** What a sender pays per gas: base fee plus the full tip (the max fee leaves room). */
export const MOCK_GAS_PRICE = MOCK_BASE_FEE + MOCK_PRIORITY_FEE;
/** Mainnet's limit, raised when a block's transactions need more. */
const MIN_GAS_LIMIT = 30_000_000n;
const MOCK_CHAIN_ID = 1n;

export interface TxSpec {
  from: Hex;
  /** null creates a contract. */
  to: Hex | null;
  nonce: bigint;
  gas: bigint;
  value: bigint;
  input: Hex;
}

/** A pre-state and the transactions to run on it, before they are wrapped in a block. */
export interface Scenario {
  world: MockWorld;
  txs: TxSpec[];
}

/** Appends transactions, numbering each sender's nonces from its pre-state nonce. */
export class TxList {
  readonly txs: TxSpec[] = [];
  private readonly nextNonce = new Map<Hex, bigint>();

  constructor(private readonly world: MockWorld) {}

  add(tx: { from: Hex; to: Hex | null; gas: bigint; value?: bigint; input?: Hex }): TxSpec {
    const nonce = this.nextNonce.get(tx.from) ?? this.world.account(tx.from).nonce;
    this.nextNonce.set(tx.from, nonce + 1n);
    const spec: TxSpec = { from: tx.from, to: tx.to, nonce, gas: tx.gas, value: tx.value ?? 0n, input: tx.input ?? "0x" };
    this.txs.push(spec);
    return spec;
  }
}

/** Enough ether for any sender of a mocked block: fees for a gigagas and then some. */
export const GENEROUS_FUNDING = 1_000n * ETHER;

/** The most a transaction can cost its sender up front: gas at the max fee plus value. */
export function upfrontCost(gas: bigint, value = 0n): bigint {
  return gas * MOCK_MAX_FEE + value;
}

export function toMockBlock(name: string, scenario: Scenario): MockBlock {
  const { world, txs } = scenario;
  // The beneficiary exists with a balance, so reading it mid-block sees a non-trivial value.
  if (!world.accounts.has(MOCK_COINBASE)) world.fund(MOCK_COINBASE, ETHER);
  const totalGas = txs.reduce((sum, tx) => sum + tx.gas, 0n);
  const gasLimit = totalGas > MIN_GAS_LIMIT ? totalGas : MIN_GAS_LIMIT;
  const blockHash = keccakHex(`pevm-mock/block/${name}`);
  const number = quantity(MOCK_BLOCK_NUMBER);
  const transactions = txs.map((tx, index): RpcTransaction => ({
    // Not signed, so no real hash: a stable, unique stand-in.
    hash: keccakHex(`pevm-mock/tx/${tx.from}/${tx.nonce}`),
    type: "0x2",
    chainId: quantity(MOCK_CHAIN_ID),
    from: tx.from,
    to: tx.to,
    nonce: quantity(tx.nonce),
    gas: quantity(tx.gas),
    gasPrice: quantity(MOCK_GAS_PRICE),
    maxFeePerGas: quantity(MOCK_MAX_FEE),
    maxPriorityFeePerGas: quantity(MOCK_PRIORITY_FEE),
    value: quantity(tx.value),
    input: tx.input,
    accessList: [],
    blockNumber: number,
    blockHash,
    transactionIndex: quantity(index),
  }));
  const block: RpcBlock = {
    hash: blockHash,
    parentHash: keccakHex(`pevm-mock/parent/${name}`),
    sha3Uncles: "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
    miner: MOCK_COINBASE,
    number,
    gasLimit: quantity(gasLimit),
    timestamp: quantity(MOCK_TIMESTAMP),
    extraData: "0x",
    mixHash: keccakHex(`pevm-mock/prevrandao/${name}`),
    nonce: "0x0000000000000000",
    difficulty: "0x0",
    baseFeePerGas: quantity(MOCK_BASE_FEE),
    withdrawalsRoot: "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    blobGasUsed: "0x0",
    excessBlobGas: "0x0",
    parentBeaconBlockRoot: keccakHex(`pevm-mock/beacon-root/${name}`),
    uncles: [],
    withdrawals: [],
    transactions,
  };
  return { name, block, ...world.toJson() };
}
