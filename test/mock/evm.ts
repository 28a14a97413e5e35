/**
 * @ethereumjs/vm loaded with a mock pre-state. Used two ways: to run the set-up transactions
 * whose resulting state becomes a pre-state (deploying Uniswap, minting liquidity), and as
 * the sequential reference that executes a mocked block in tests.
 * Transactions are impersonated (unsigned, sender given), like the corpus format.
 */
import { createBlock, type Block } from "@ethereumjs/block";
import { Common, Hardfork, Mainnet } from "@ethereumjs/common";
import { SimpleStateManager } from "@ethereumjs/statemanager";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { createAccount, createAddressFromString, setLengthLeft, type Address } from "@ethereumjs/util";
import { createVM, runTx, type VM } from "@ethereumjs/vm";
import { EMPTY_CODE_HASH } from "../../src/state/types.ts";
import { ETHER, mockAddress } from "./accounts.ts";
import { MOCK_BASE_FEE, MOCK_BLOCK_NUMBER, MOCK_MAX_FEE, MOCK_PRIORITY_FEE, MOCK_TIMESTAMP, type TxSpec } from "./block.ts";
import { bytesToHex, hexToBytes, keccakHex } from "./hex.ts";
import type { Hex, MockBlock, RpcTransaction } from "./types.ts";
import { MockWorld, worldFromJson } from "./world.ts";

export interface TxOutcome {
  /** 1 success, 0 reverted or out of gas (the transaction is still in the block). */
  status: 0 | 1;
  gasUsed: bigint;
  createdAddress: Hex | undefined;
  returnValue: Uint8Array;
  error: string | undefined;
}

export interface HeaderFields {
  number: bigint;
  timestamp: bigint;
  coinbase: Hex;
  gasLimit: bigint;
  baseFeePerGas: bigint;
  mixHash: Hex;
}

/** Header of the block set-up transactions run in: just before the mocked block. */
const SETUP_HEADER: HeaderFields = {
  number: MOCK_BLOCK_NUMBER - 1n,
  timestamp: MOCK_TIMESTAMP - 12n,
  // A beneficiary of its own, dropped from the exported state.
  coinbase: mockAddress("setup-coinbase", 0),
  gasLimit: 1_000_000_000n,
  baseFeePerGas: MOCK_BASE_FEE,
  mixHash: keccakHex("pevm-mock/setup-prevrandao"),
};

/** SimpleStateManager keeps state in flat maps; this exposes them for dumping. */
class DumpableStateManager extends SimpleStateManager {
  snapshot(): { accounts: Map<string, { balance: bigint; nonce: bigint } | undefined>; codes: Map<string, Uint8Array>; storage: Map<string, Uint8Array> } {
    return { accounts: this.topAccountStack(), codes: this.topCodeStack(), storage: this.topStorageStack() };
  }
}

export class ReferenceVm {
  private constructor(
    private readonly vm: VM,
    private readonly stateManager: DumpableStateManager,
    private readonly common: Common,
    readonly header: HeaderFields,
    private readonly block: Block,
  ) {}

  static async fromWorld(world: MockWorld, header: HeaderFields = SETUP_HEADER): Promise<ReferenceVm> {
    const common = new Common({ chain: Mainnet, hardfork: Hardfork.Cancun });
    const stateManager = new DumpableStateManager({ common });
    for (const [address, account] of world.accounts) {
      const target = createAddressFromString(address);
      await stateManager.putAccount(target, createAccount({ balance: account.balance, nonce: account.nonce }));
      if (account.codeHash !== EMPTY_CODE_HASH) await stateManager.putCode(target, hexToBytes(world.codes.get(account.codeHash)!));
      for (const [slot, value] of account.storage) {
        await stateManager.putStorage(target, setLengthLeft(bigintBytes(slot), 32), bigintBytes(value));
      }
    }
    const vm = await createVM({ common, stateManager });
    const block = createBlock(
      {
        header: {
          number: header.number,
          timestamp: header.timestamp,
          coinbase: createAddressFromString(header.coinbase),
          gasLimit: header.gasLimit,
          baseFeePerGas: header.baseFeePerGas,
          mixHash: hexToBytes(header.mixHash),
          difficulty: 0n,
          excessBlobGas: 0n,
          blobGasUsed: 0n,
          parentBeaconBlockRoot: new Uint8Array(32),
        },
      },
      { common, skipConsensusFormatValidation: true },
    );
    return new ReferenceVm(vm, stateManager, common, header, block);
  }

  /** A VM holding the mock's pre-state, in the context of the mock's header. */
  static async fromMock(mock: MockBlock): Promise<ReferenceVm> {
    const header: HeaderFields = {
      number: BigInt(mock.block.number),
      timestamp: BigInt(mock.block.timestamp),
      coinbase: mock.block.miner,
      gasLimit: BigInt(mock.block.gasLimit),
      baseFeePerGas: BigInt(mock.block.baseFeePerGas),
      mixHash: mock.block.mixHash,
    };
    return ReferenceVm.fromWorld(worldFromJson(mock.preState, mock.bytecodes), header);
  }

  /** Runs every transaction of the mock in order (the VM must come from `fromMock`). */
  async runBlock(mock: MockBlock): Promise<TxOutcome[]> {
    const outcomes: TxOutcome[] = [];
    for (const tx of mock.block.transactions) outcomes.push(await this.runRpcTransaction(tx));
    return outcomes;
  }

  runRpcTransaction(tx: RpcTransaction): Promise<TxOutcome> {
    return this.runSpec({
      from: tx.from,
      to: tx.to,
      nonce: BigInt(tx.nonce),
      gas: BigInt(tx.gas),
      value: BigInt(tx.value),
      input: tx.input,
    });
  }

  /** Runs one transaction; `nonce` defaults to the sender's current nonce. */
  async send(tx: { from: Hex; to: Hex | null; input?: Hex; value?: bigint; gas?: bigint }): Promise<TxOutcome> {
    const nonce = (await this.stateManager.getAccount(createAddressFromString(tx.from)))?.nonce ?? 0n;
    return this.runSpec({ from: tx.from, to: tx.to, nonce, gas: tx.gas ?? 10_000_000n, value: tx.value ?? 0n, input: tx.input ?? "0x" });
  }

  /** Like `send`, but throws unless the transaction succeeds: for set-up steps. */
  async mustSend(tx: { from: Hex; to: Hex | null; input?: Hex; value?: bigint; gas?: bigint }): Promise<TxOutcome> {
    const outcome = await this.send(tx);
    if (outcome.status !== 1) throw new Error(`mock set-up transaction failed: ${outcome.error ?? "reverted"} (to ${tx.to})`);
    return outcome;
  }

  async deploy(from: Hex, creationCode: Hex, constructorArgs = ""): Promise<Hex> {
    const outcome = await this.mustSend({ from, to: null, input: `${creationCode}${constructorArgs}` as Hex });
    return outcome.createdAddress!;
  }

  private async runSpec(spec: TxSpec): Promise<TxOutcome> {
    const tx = createFeeMarket1559Tx(
      {
        chainId: 1n,
        nonce: spec.nonce,
        gasLimit: spec.gas,
        maxFeePerGas: MOCK_MAX_FEE,
        maxPriorityFeePerGas: MOCK_PRIORITY_FEE,
        to: spec.to === null ? undefined : spec.to,
        value: spec.value,
        data: hexToBytes(spec.input),
      },
      { common: this.common, freeze: false },
    );
    const sender: Address = createAddressFromString(spec.from);
    // Impersonation: the format carries the sender instead of a signature.
    tx.getSenderAddress = () => sender;
    const result = await runTx(this.vm, { tx, block: this.block, skipHardForkValidation: true });
    const error = result.execResult.exceptionError?.error;
    return {
      status: error === undefined ? 1 : 0,
      gasUsed: result.totalGasSpent,
      createdAddress: result.createdAddress === undefined ? undefined : (result.createdAddress.toString() as Hex),
      returnValue: result.execResult.returnValue,
      error,
    };
  }

  /** Executes a call and discards its effects: for reading view functions. */
  async call(to: Hex, input: Hex, from: Hex = mockAddress("reader", 0)): Promise<Uint8Array> {
    await this.stateManager.checkpoint();
    try {
      const result = await this.vm.evm.runCall({
        caller: createAddressFromString(from),
        origin: createAddressFromString(from),
        to: createAddressFromString(to),
        data: hexToBytes(input),
        gasLimit: 30_000_000n,
        block: this.block,
      });
      if (result.execResult.exceptionError !== undefined) throw new Error(`mock call reverted: ${result.execResult.exceptionError.error}`);
      return result.execResult.returnValue;
    } finally {
      await this.stateManager.revert();
    }
  }

  async balance(address: Hex): Promise<bigint> {
    return (await this.stateManager.getAccount(createAddressFromString(address)))?.balance ?? 0n;
  }

  async nonce(address: Hex): Promise<bigint> {
    return (await this.stateManager.getAccount(createAddressFromString(address)))?.nonce ?? 0n;
  }

  async exists(address: Hex): Promise<boolean> {
    return (await this.stateManager.getAccount(createAddressFromString(address))) !== undefined;
  }

  async code(address: Hex): Promise<Hex> {
    return bytesToHex(await this.stateManager.getCode(createAddressFromString(address)));
  }

  async storage(address: Hex, slot: bigint): Promise<bigint> {
    const value = await this.stateManager.getStorage(createAddressFromString(address), setLengthLeft(bigintBytes(slot), 32));
    return value.length === 0 ? 0n : BigInt(bytesToHex(value));
  }

  /** The whole current state as a world (the set-up beneficiary left out). */
  toWorld(): MockWorld {
    const world = new MockWorld();
    const { accounts, codes, storage } = this.stateManager.snapshot();
    for (const [address, account] of accounts) {
      if (account === undefined || address === this.header.coinbase) continue;
      const target = world.account(address as Hex);
      target.balance = account.balance;
      target.nonce = account.nonce;
    }
    for (const [address, code] of codes) {
      if (accounts.get(address) !== undefined && code.length > 0) world.setCode(address as Hex, bytesToHex(code));
    }
    for (const [key, value] of storage) {
      const [address, slot] = key.split("_") as [Hex, Hex];
      if (accounts.get(address) === undefined || value.length === 0) continue;
      world.setStorage(address, BigInt(slot), BigInt(bytesToHex(value)));
    }
    return world;
  }
}

function bigintBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return hexToBytes(hex.length % 2 === 0 ? hex : `0${hex}`);
}

/** Enough ether for a set-up deployer. */
export const SETUP_FUNDING = 1_000_000n * ETHER;
