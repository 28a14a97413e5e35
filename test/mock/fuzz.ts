/**
 * Seeded random blocks on the real mock contracts, for the differential fuzzer
 * (`fuzz-run.ts`, `bun run fuzz`): the same seed always gives the same block.
 *
 * A block mixes transaction kinds (ether transfers, ERC-20 transfers, Uniswap V3 swaps,
 * counter increments, create/self-destruct, beneficiary balance reads, payouts that run dry,
 * relays of ether through unfunded accounts, transfers to and from the beneficiary, contract
 * creations), with per-block knobs drawn from the seed (a run may fix some, `FuzzSettings`):
 * block size (0 to the cap), number of senders (few senders make nonce chains), number of hot
 * accounts and the conflict rate (the share of transactions aimed at hot accounts, slots,
 * pools and counters), the fork (London to Osaka and BPO2), transaction types (legacy, access
 * list, dynamic fee, blob) and fees, access lists, withdrawals, the beacon-root prologue, and
 * now and then an invalid transaction, too many blobs or a block gas limit below what the
 * transactions may use, so that both modes must also raise the same error.
 *
 * London and Paris blocks get our contracts (and Uniswap's tokens) compiled for Paris, without
 * PUSH0; Shanghai on, the Cancun build (see artifacts.ts).
 */
import { createAddressFromString, createContractAddress } from "@ethereumjs/util";
import { addr, authorization } from "micro-eth-signer";
import { blobParams, GAS_PER_BLOB } from "../../src/chain/blobs.ts";
import { Fork, forkName } from "../../src/chain/forks.ts";
import { decodeWord, encodeCall } from "./abi.ts";
import { ETHER, GWEI, MOCK_COINBASE, mockAddress, mockAddresses } from "./accounts.ts";
import { artifact, type EvmTarget } from "./artifacts.ts";
import { GENEROUS_FUNDING, type TxSpec } from "./block.ts";
import { deployContract } from "./deploy.ts";
import { ReferenceVm } from "./evm.ts";
import { keccak, keccakHex, quantity } from "./hex.ts";
import { COUNTER_GAS, FACTORY_GAS, PAYOUT_GAS, PROBE_GAS } from "./kinds/contracts.ts";
import { ERC20_TRANSFER_GAS } from "./kinds/erc20.ts";
import { TRANSFER_GAS } from "./kinds/raw-transfers.ts";
import { SWAP_GAS, uniswapScenario, type Pool } from "./kinds/uniswap.ts";
import { SeededRandom } from "./random.ts";
import { setTokenAllowance, setTokenBalance, tokenBalanceSlot } from "./tokens.ts";
import type { Hex, MockBlock, RpcAuthorization, RpcBlock, RpcTransaction, RpcWithdrawal } from "./types.ts";
import { MockWorld } from "./world.ts";

export const TX_KINDS = [
  "transfer",
  "erc20",
  "swap",
  "counter",
  "create-destroy",
  "coinbase-probe",
  "payout",
  "relay",
  "beneficiary",
  "create",
  "set-code",
] as const;
export type TxKind = (typeof TX_KINDS)[number];

/** What an injected invalid transaction (or a tight block gas limit) is meant to provoke. */
export const INVALID_KINDS = [
  "NONCE_TOO_HIGH",
  "NONCE_TOO_LOW",
  "INSUFFICIENT_FUNDS",
  "FEE_CAP_BELOW_BASE_FEE",
  "INTRINSIC_GAS_TOO_LOW",
  "GAS_LIMIT_EXCEEDS_BLOCK",
  "BLOB_GAS_EXCEEDS_BLOCK",
] as const;
export type InvalidKind = (typeof INVALID_KINDS)[number];
/** Invalid kinds that are a property of the whole block, not of one transaction. */
const BLOCK_WIDE = new Set<InvalidKind>(["GAS_LIMIT_EXCEEDS_BLOCK", "BLOB_GAS_EXCEEDS_BLOCK"]);

export const FUZZ_FORKS = [Fork.London, Fork.Paris, Fork.Shanghai, Fork.Cancun, Fork.Prague, Fork.Osaka, Fork.BPO2] as const;

/** The per-block knobs, all drawn from the block's seed (see `randomKnobs`). */
export interface FuzzKnobs {
  fork: Fork;
  txs: number;
  /** Distinct ordinary senders: fewer than `txs` gives nonce chains. */
  senders: number;
  /** Accounts that send, receive ether and tokens, and are the targets of hot transactions. */
  hotAccounts: number;
  /** Share of transactions aimed at the hot accounts, the first pool, counter, payout, factory. */
  conflictRate: number;
  /** Relative weight of each transaction kind in this block (0 leaves a kind out). */
  weights: Record<TxKind, number>;
  baseFee: bigint;
  /** One invalid transaction at a random position, or a tight block gas limit; null for none. */
  invalid: InvalidKind | null;
  /** Withdrawals (Shanghai on), credited after the transactions. */
  withdrawals: number;
  /** Cancun on: put code at the EIP-4788 address, so that the block prologue writes its ring buffers. */
  beaconRoots: boolean;
  /**
   * Before Cancun: whether children with storage may be self-destructed (a storage wipe, which
   * the engine runs sequentially), else such blocks would mostly not run in parallel at all.
   */
  wipes: boolean;
  /** Cancun on: the chance that a call or transfer carries blobs (type 3). */
  blobRate: number;
  /** Cancun on: the header's excess blob gas (sets the blob gas price). */
  excessBlobGas: bigint;
}

export interface FuzzBlock {
  seed: number;
  knobs: FuzzKnobs;
  mock: MockBlock;
  /** How many transactions of each kind the block holds (an injected invalid one is not counted). */
  kinds: Record<TxKind, number>;
  /** The kind of each transaction, in block order. */
  txKinds: (TxKind | "invalid")[];
}

/** The block seed of block `index` of a run with seed `runSeed`. */
export function blockSeed(runSeed: number, index: number): number {
  const digest = keccak(`pevm-fuzz/${runSeed >>> 0}/${index}`);
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** The default block size cap (the largest a generated block gets). */
export const DEFAULT_MAX_TXS = 60;

/**
 * What a run fixes instead of drawing per block (all optional): the block size cap, and
 * any of the fork, conflict rate, hot account count, senders per transaction and the share
 * of invalid blocks.
 */
export interface FuzzSettings {
  maxTxs?: number;
  fork?: Fork;
  conflictRate?: number;
  hotAccounts?: number;
  /** Distinct senders per transaction, 0..1 (small: long nonce chains). */
  senderShare?: number;
  /** Chance that a block carries an invalid transaction (or too little gas or blob room). */
  invalidRate?: number;
}

export function randomKnobs(random: SeededRandom, settings: FuzzSettings = {}): FuzzKnobs {
  const maxTxs = settings.maxTxs ?? DEFAULT_MAX_TXS;
  const fork =
    settings.fork ??
    weighted(random, [
      [Fork.London, 1],
      [Fork.Paris, 1],
      [Fork.Shanghai, 2],
      [Fork.Cancun, 4],
      [Fork.Prague, 2],
      [Fork.Osaka, 1],
      [Fork.BPO2, 1],
    ]);
  // Mostly mid-sized blocks, some tiny ones (0-3 transactions are their own edge cases).
  const txs = chance(random, 0.1) ? random.below(Math.min(4, maxTxs + 1)) : 1 + random.below(maxTxs);
  const senders = Math.max(1, Math.round(txs * (settings.senderShare ?? pick(random, [0.05, 0.2, 0.5, 1]))));
  const weights = {} as Record<TxKind, number>;
  // A third of the kinds sit out each block, so blocks differ in what they are made of.
  for (const kind of TX_KINDS) weights[kind] = chance(random, 0.33) ? 0 : 0.2 + random.next();
  // EIP-7702 came with Prague.
  if (fork < Fork.Prague) weights["set-code"] = 0;
  if (TX_KINDS.every((kind) => weights[kind] === 0)) weights.transfer = 1;
  const invalidKinds = INVALID_KINDS.filter((kind) => fork >= Fork.Cancun || kind !== "BLOB_GAS_EXCEEDS_BLOCK");
  return {
    fork,
    txs,
    senders,
    hotAccounts: settings.hotAccounts ?? 1 + random.below(4),
    conflictRate: settings.conflictRate ?? pick(random, [0, 0.1, 0.3, 0.6, 0.9, 1]),
    weights,
    baseFee: BigInt(1 + random.below(20)) * GWEI,
    invalid: chance(random, settings.invalidRate ?? 0.06) ? pick(random, invalidKinds) : null,
    withdrawals: fork >= Fork.Shanghai && chance(random, 0.5) ? 1 + random.below(4) : 0,
    beaconRoots: fork >= Fork.Cancun && chance(random, 0.5),
    wipes: fork < Fork.Cancun && chance(random, 0.2),
    blobRate: fork >= Fork.Cancun && chance(random, 0.3) ? pick(random, [0.05, 0.2, 0.5]) : 0,
    excessBlobGas: fork >= Fork.Cancun && chance(random, 0.5) ? BigInt(random.below(20_000_000)) : 0n,
  };
}

/** The knobs as plain JSON: the fork by name, amounts as decimal strings. */
export function knobsJson(knobs: FuzzKnobs): Record<string, unknown> {
  return { ...knobs, fork: forkName(knobs.fork), baseFee: knobs.baseFee.toString(), excessBlobGas: knobs.excessBlobGas.toString() };
}


/** Generates the block for `seed`: knobs drawn from it except what `settings` fixes. */
export async function fuzzBlock(seed: number, settings: FuzzSettings = {}): Promise<FuzzBlock> {
  const random = new SeededRandom(seed);
  const knobs = randomKnobs(random, settings);
  const builder = new BlockBuilder(random, knobs, await fuzzTemplate(evmTarget(knobs.fork)), seed);
  return builder.build();
}

// ---------------------------------------------------------------------------------------------
// The contracts every block shares, deployed once per process.

interface FuzzTemplate {
  world: MockWorld;
  router: Hex;
  pools: Pool[];
  /** Both tokens of every pool, the first pool's first. */
  tokens: Hex[];
  counters: Hex[];
  probe: Hex;
  payouts: Hex[];
  factories: Hex[];
  /** Ephemeral children spawned during set-up: contracts with storage in the pre-state. */
  oldChildren: Hex[];
}

const POOLS = 4;
const COUNTERS = 4;
const FAR_DEADLINE = 1n << 64n;
const POOL_FEE = 3000;

/** Before Shanghai there is no PUSH0: our contracts compiled for Paris. */
function evmTarget(fork: Fork): EvmTarget {
  return fork >= Fork.Shanghai ? "cancun" : "paris";
}

const templates = new Map<EvmTarget, Promise<FuzzTemplate>>();

function fuzzTemplate(target: EvmTarget): Promise<FuzzTemplate> {
  let template = templates.get(target);
  if (template === undefined) {
    template = buildTemplate(target);
    templates.set(target, template);
  }
  return template;
}

async function buildTemplate(target: EvmTarget): Promise<FuzzTemplate> {
  const world = new MockWorld();
  const uniswap = await uniswapScenario(POOLS, { pools: "many", namespace: "fuzz/uniswap", target });
  world.merge(uniswap.world);
  const pools = uniswap.poolOfTx.slice(0, POOLS);
  const counters: Hex[] = [];
  for (let index = 0; index < COUNTERS; index++) {
    const deployed = await deployContract(`fuzz/counter-${index}`, "Counter", "", target);
    world.merge(deployed.world);
    counters.push(deployed.address);
  }
  const probe = await deployContract("fuzz/probe", "CoinbaseProbe", "", target);
  world.merge(probe.world);
  const payouts: Hex[] = [];
  for (let index = 0; index < 2; index++) {
    const deployed = await deployContract(`fuzz/payout-${index}`, "Payout", "", target);
    world.merge(deployed.world);
    payouts.push(deployed.address);
  }
  const factories: Hex[] = [];
  const oldChildren: Hex[] = [];
  for (let index = 0; index < 2; index++) {
    const namespace = `fuzz/factory-${index}`;
    const deployed = await deployContract(namespace, "SelfDestructFactory", "", target);
    // Two children spawned before the block: self-destructing them later is the pre-Cancun
    // storage wipe (a fallback of the parallel engine) or, from Cancun, only a transfer.
    const vm = await ReferenceVm.fromWorld(deployed.world);
    for (let child = 0; child < 2; child++) {
      const spawned = await vm.mustSend({ from: mockAddress(`${namespace}/deployer`, 0), to: deployed.address, value: GWEI, input: encodeCall("spawn()") });
      oldChildren.push(`0x${decodeWord(spawned.returnValue).toString(16).padStart(40, "0")}` as Hex);
    }
    world.merge(vm.toWorld());
    factories.push(deployed.address);
  }
  const tokens = [...new Set(pools.flatMap((pool) => [pool.token0, pool.token1]))];
  return { world, router: uniswap.router, pools, tokens, counters, probe: probe.address, payouts, factories, oldChildren };
}

// ---------------------------------------------------------------------------------------------
// One block.

interface FuzzTx extends TxSpec {
  kind: TxKind | "invalid";
  type: 0 | 1 | 2 | 3 | 4;
  /** The max fee per gas (types 2 and 3), else the gas price. */
  maxFee: bigint;
  /** The max priority fee per gas (types 2 and 3). */
  tip: bigint;
  /** Type 3 only. */
  blobHashes: Hex[];
  /** Type 4 only. */
  authorizations: RpcAuthorization[];
  accessList: { address: Hex; storageKeys: Hex[] }[];
}

/** Mainnet-like header values of each fork (number and time select the fork by the mainnet schedule). */
const FORK_HEADERS: Record<number, { number: bigint; timestamp: bigint }> = {
  [Fork.London]: { number: 13_000_000n, timestamp: 1_628_166_822n },
  [Fork.Paris]: { number: 15_600_000n, timestamp: 1_664_000_000n },
  [Fork.Shanghai]: { number: 17_100_000n, timestamp: 1_682_000_000n },
  [Fork.Cancun]: { number: 20_000_000n, timestamp: 1_717_281_407n },
  [Fork.Prague]: { number: 22_500_000n, timestamp: 1_747_000_000n },
  [Fork.Osaka]: { number: 23_950_000n, timestamp: 1_764_900_000n },
  [Fork.BPO2]: { number: 24_200_000n, timestamp: 1_768_000_000n },
};

const BEACON_ROOTS: Hex = "0x000f3df6d732807ef1319fb7b8bb8522d0beac02";
/** Stand-in code: the executor's prologue writes the ring buffers itself; code only has to exist. */
const BEACON_ROOTS_STAND_IN_CODE: Hex = "0x5f5ffd";
const MIN_GAS_LIMIT = 30_000_000n;
/** Far above the blob gas price of any excess blob gas the knobs choose. */
const MAX_FEE_PER_BLOB_GAS = GWEI;
const PRECOMPILES = 10;
const ZERO_ADDRESS: Hex = "0x0000000000000000000000000000000000000000";

class BlockBuilder {
  private readonly world = new MockWorld();
  private readonly txs: FuzzTx[] = [];
  private readonly kinds = Object.fromEntries(TX_KINDS.map((kind) => [kind, 0])) as Record<TxKind, number>;
  private readonly nextNonce = new Map<Hex, bigint>();
  private readonly senders: Hex[];
  private readonly hot: Hex[];
  private readonly counters: Hex[];
  private readonly factoryNonce = new Map<Hex, bigint>();
  /** Children spawned earlier in this block (code exists from then on). */
  private readonly spawned: Hex[] = [];
  /** Relay accounts funded by an earlier transaction that have not sent yet, with what they hold. */
  private readonly funded: { address: Hex; balance: bigint }[] = [];
  private relays = 0;
  private fresh = 0;
  private blobs = 0;
  /** Prague on: accounts whose keys we hold, which delegate their code (EIP-7702); also hot. */
  private readonly authorities: { address: Hex; key: Uint8Array }[] = [];
  /** Where invalid transactions go (a second one now and then: the first must be the one reported). */
  private readonly invalidAt = new Map<number, InvalidKind>();

  constructor(
    private readonly random: SeededRandom,
    private readonly knobs: FuzzKnobs,
    private readonly template: FuzzTemplate,
    private readonly seed: number,
  ) {
    this.world.merge(template.world);
    this.counters = [...template.counters];
    this.senders = mockAddresses("fuzz/sender", knobs.senders);
    this.hot = mockAddresses("fuzz/hot", knobs.hotAccounts);
    if (knobs.fork >= Fork.Prague) {
      for (let index = 0; index < 2; index++) {
        const key = keccak(`pevm-fuzz/authority/${index}`);
        const address = addr.fromPrivateKey(key).toLowerCase() as Hex;
        this.authorities.push({ address, key });
        // Hot: transfers, tokens and calls reach them before and after they delegate.
        this.hot.push(address);
      }
    }
    for (const account of [...this.senders, ...this.hot]) {
      this.world.fund(account, GENEROUS_FUNDING);
      // Some accounts start with a nonce, so that a nonce below it is a real error.
      this.world.account(account).nonce = BigInt(random.below(3));
      for (const token of template.tokens) {
        // Poor holders make some transfers and swaps revert.
        const tokens = chance(random, 0.2) ? 5n * ETHER : 1_000n * ETHER;
        setTokenBalance(this.world, token, account, tokens);
        setTokenAllowance(this.world, token, account, template.router, tokens);
      }
    }
    // A beneficiary short of one transfer's fee can send only once earlier fees paid for it (else
    // the block is invalid): its transaction's validity depends on every fee before it.
    const short = (this.feeFor(TRANSFER_GAS) * BigInt(random.below(100))) / 100n;
    this.world.fund(MOCK_COINBASE, chance(random, 0.1) ? short : 10n * ETHER);
    this.world.fund(template.payouts[0], BigInt(random.below(3)) * ETHER);
    this.world.fund(template.payouts[1], BigInt(random.below(6)) * ETHER);
    if (knobs.beaconRoots) this.world.setCode(BEACON_ROOTS, BEACON_ROOTS_STAND_IN_CODE);
    for (const factory of template.factories) this.factoryNonce.set(factory, this.world.account(factory).nonce);
    if (knobs.invalid !== null && !BLOCK_WIDE.has(knobs.invalid) && knobs.txs > 0) {
      this.invalidAt.set(random.below(knobs.txs), knobs.invalid);
      if (chance(random, 0.3)) {
        const second = pick(random, INVALID_KINDS.filter((kind) => !BLOCK_WIDE.has(kind)));
        const at = random.below(knobs.txs);
        if (!this.invalidAt.has(at)) this.invalidAt.set(at, second);
      }
    }
  }

  build(): FuzzBlock {
    const kinds = TX_KINDS.filter((kind) => this.knobs.weights[kind] > 0);
    const weights = kinds.map((kind): [TxKind, number] => [kind, this.knobs.weights[kind]]);
    while (this.txs.length < this.knobs.txs) {
      const invalid = this.invalidAt.get(this.txs.length);
      if (invalid !== undefined) {
        this.invalidTx(invalid);
        continue;
      }
      const kind = weighted(this.random, weights);
      this.generate(kind, this.chance(this.knobs.conflictRate));
    }
    return { seed: this.seed, knobs: this.knobs, mock: this.toMock(), kinds: this.kinds, txKinds: this.txs.map((tx) => tx.kind) };
  }

  private generate(kind: TxKind, hot: boolean): void {
    const t = this.template;
    switch (kind) {
      case "transfer": {
        const from = this.sender(hot);
        const roll = this.random.next();
        if (roll < 0.1) {
          // A precompile: runs its code on empty input (and is touched), unlike a plain transfer.
          const to = `0x${(1 + this.random.below(PRECOMPILES)).toString(16).padStart(40, "0")}` as Hex;
          this.add({ kind, from, to, gas: 60_000n, value: this.value() });
        } else if (roll < 0.15) {
          // Ether to a contract without a payable fallback (maybe one created in this block): reverts.
          this.add({ kind, from, to: this.pick(this.counters), gas: 60_000n, value: this.value() });
        } else if (roll < 0.2) {
          // To itself: the debit and the credit land on one account.
          this.add({ kind, from, to: from, gas: TRANSFER_GAS, value: this.value() });
        } else {
          const to = hot ? this.pick(this.hot) : roll < 0.4 ? this.pick(this.senders) : this.freshAddress();
          this.add({ kind, from, to, gas: TRANSFER_GAS, value: this.value() });
        }
        return;
      }
      case "erc20": {
        const token = hot ? t.tokens[0] : this.pick(t.tokens);
        const from = this.sender(hot);
        const roll = this.random.next();
        // To itself now and then: one balance slot read and written twice.
        const to = roll < 0.05 ? from : hot ? this.pick(this.hot) : roll < 0.35 ? this.pick(this.senders) : this.freshAddress();
        const amount = BigInt(1 + this.random.below(20)) * ETHER;
        // Now and then too little gas: the call runs out inside the token.
        const gas = this.chance(0.05) ? 30_000n : ERC20_TRANSFER_GAS;
        this.add({ kind, from, to: token, gas, input: encodeCall("transfer(address,uint256)", [to, amount]) });
        return;
      }
      case "swap": {
        const pool = hot ? t.pools[0] : this.pick(t.pools);
        const [tokenIn, tokenOut] = this.chance(0.5) ? [pool.token0, pool.token1] : [pool.token1, pool.token0];
        const from = this.sender(hot);
        const recipient = this.chance(0.7) ? from : this.pick(this.hot);
        const amountIn = BigInt(1 + this.random.below(7)) * ETHER;
        this.add({
          kind,
          from,
          to: t.router,
          gas: SWAP_GAS,
          input: encodeCall("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", [
            tokenIn, tokenOut, POOL_FEE, recipient, FAR_DEADLINE, amountIn, 0n, 0n,
          ]),
        });
        return;
      }
      case "counter": {
        const counter = hot ? this.counters[0] : this.pick(this.counters);
        this.add({ kind, from: this.sender(hot), to: counter, gas: COUNTER_GAS, input: encodeCall("increment()") });
        return;
      }
      case "coinbase-probe":
        this.add({ kind, from: this.sender(hot), to: t.probe, gas: PROBE_GAS, input: encodeCall("record()") });
        return;
      case "payout": {
        const payout = hot ? t.payouts[0] : this.pick(t.payouts);
        if (this.chance(0.3)) {
          // A refill through receive(): ether to an address with code.
          this.add({ kind, from: this.sender(hot), to: payout, gas: 60_000n, value: BigInt(1 + this.random.below(3)) * ETHER });
        } else {
          const amount = this.chance(0.8) ? ETHER : BigInt(1 + this.random.below(3)) * ETHER;
          this.add({ kind, from: this.sender(hot), to: payout, gas: PAYOUT_GAS, input: encodeCall("withdraw(uint256)", [amount]) });
        }
        return;
      }
      case "create-destroy":
        this.createDestroy(hot);
        return;
      case "relay":
        this.relay(hot);
        return;
      case "beneficiary": {
        if (this.chance(0.5)) {
          this.add({ kind, from: this.sender(hot), to: MOCK_COINBASE, gas: TRANSFER_GAS, value: this.value() });
        } else {
          // The beneficiary itself sends: its balance includes the fees of every earlier transaction.
          const to = hot ? this.pick(this.hot) : this.freshAddress();
          this.add({ kind, from: MOCK_COINBASE, to, gas: TRANSFER_GAS, value: BigInt(this.random.below(1000)) * GWEI });
        }
        return;
      }
      case "set-code":
        this.setCode(hot);
        return;
      case "create": {
        // An EOA deploys a Counter; later transactions of the block may increment it.
        const from = this.sender(hot);
        const created = createContractAddress(createAddressFromString(from), this.nonceOf(from)).toString() as Hex;
        // (Two transactions: only where both fit and no invalid one is due at the second's place.)
        if (this.chance(0.2) && this.txs.length + 1 < this.knobs.txs && !this.invalidAt.has(this.txs.length + 1)) {
          // Another account sends ether to the address first: the contract is created on a balance.
          const funder = this.pick([...this.senders, ...this.hot, MOCK_COINBASE].filter((account) => account !== from));
          this.add({ kind, from: funder, to: created, gas: TRANSFER_GAS, value: this.value() });
        }
        const gas = this.chance(0.1) ? 60_000n : 200_000n;
        this.add({ kind, from, to: null, gas, input: artifact("Counter", evmTarget(this.knobs.fork)).bytecode });
        this.counters.push(created);
        return;
      }
    }
  }

  private createDestroy(hot: boolean): void {
    const kind = "create-destroy";
    const factory = hot ? this.template.factories[0] : this.pick(this.template.factories);
    const from = this.sender(hot);
    let roll = this.random.next();
    // Before Cancun, destroying a child that holds storage makes the engine fall back to
    // sequential execution for the whole block: only in blocks that allow it.
    if (roll >= 0.6 && this.knobs.fork < Fork.Cancun && !this.knobs.wipes) roll = 0;
    if (roll < 0.25) {
      this.nextChild(factory);
      this.add({ kind, from, to: factory, gas: FACTORY_GAS, value: GWEI, input: encodeCall("spawnAndDestroy()") });
    } else if (roll < 0.5) {
      this.spawned.push(this.nextChild(factory));
      this.add({ kind, from, to: factory, gas: FACTORY_GAS, value: GWEI, input: encodeCall("spawn()") });
    } else if (roll < 0.6) {
      // Ether to the address the factory creates its next child at, before it exists.
      const next = createContractAddress(createAddressFromString(factory), this.factoryNonce.get(factory)!).toString() as Hex;
      this.add({ kind, from, to: next, gas: TRANSFER_GAS, value: this.value() });
    } else {
      const children = [...this.spawned, ...this.template.oldChildren];
      const child = this.pick(children);
      const beneficiary = pick(this.random, [from, MOCK_COINBASE, child, this.pick(this.hot), this.freshAddress()]);
      this.add({ kind, from, to: child, gas: FACTORY_GAS, input: encodeCall("destroy(address)", [beneficiary]) });
    }
  }

  /**
   * An EIP-7702 set-code transaction: one or two authorities delegate to a counter, the coinbase
   * probe or nobody (clearing), now and then with a wrong nonce (the authorization is skipped);
   * the sender is anyone, or an authority itself. It calls an authority (running its delegated
   * code) or a counter.
   */
  private setCode(hot: boolean): void {
    const kind = "set-code";
    const signers = this.chance(0.3) ? this.authorities : [this.pick(this.authorities)];
    const from = this.chance(0.3) ? this.pick(this.authorities).address : this.sender(hot);
    const to = this.chance(0.6) ? this.pick(this.authorities).address : this.pick(this.counters);
    const input = this.chance(0.5) ? encodeCall("increment()") : this.chance(0.5) ? encodeCall("record()") : "0x";
    const tx = this.add({ kind, from, to, gas: COUNTER_GAS + PROBE_GAS + 25_000n * BigInt(signers.length), value: this.chance(0.3) ? GWEI : 0n, input }, undefined, true);
    // After the sender's own nonce: an authority sending its own authorization signs the next one.
    tx.authorizations = signers.map(({ address, key }) => {
      const delegate = pick(this.random, [this.counters[0], this.template.probe, ZERO_ADDRESS]);
      const valid = this.chance(0.85);
      const nonce = valid ? this.takeNonce(address) : this.nonceOf(address) + 1n + BigInt(this.random.below(3));
      const signed = authorization.sign({ chainId: 1n, address: delegate, nonce }, key, false);
      return { chainId: "0x1", address: delegate, nonce: quantity(nonce), yParity: quantity(signed.yParity), r: quantity(signed.r), s: quantity(signed.s) };
    });
  }

  private nextChild(factory: Hex): Hex {
    const nonce = this.factoryNonce.get(factory)!;
    this.factoryNonce.set(factory, nonce + 1n);
    return createContractAddress(createAddressFromString(factory), nonce).toString() as Hex;
  }

  /**
   * Ether relayed through accounts that hold nothing in the pre-state: a funded relay account
   * sends on (its transaction is valid only after the funding one), else a new one is funded.
   */
  private relay(hot: boolean): void {
    const kind = "relay";
    if (this.funded.length > 0 && this.chance(0.7)) {
      const { address, balance } = this.funded.splice(this.random.below(this.funded.length), 1)[0];
      const fee = this.feeFor(TRANSFER_GAS);
      const value = balance - fee;
      // Each link pays a fee: a chain goes on only while what is passed along can pay the next one.
      if (this.chance(0.5) && value > fee) {
        const next = this.relayAccount();
        this.add({ kind, from: address, to: next, gas: TRANSFER_GAS, value }, fee);
        this.funded.push({ address: next, balance: value });
      } else {
        this.add({ kind, from: address, to: hot ? this.pick(this.hot) : this.freshAddress(), gas: TRANSFER_GAS, value }, fee);
      }
      return;
    }
    const next = this.relayAccount();
    const value = BigInt(1 + this.random.below(1000)) * 10n ** 15n;
    this.add({ kind, from: this.sender(hot), to: next, gas: TRANSFER_GAS, value });
    this.funded.push({ address: next, balance: value });
  }

  private relayAccount(): Hex {
    return mockAddress(`fuzz/relay/${this.seed}`, this.relays++);
  }

  private invalidTx(kind: InvalidKind): void {
    const from = this.pick(this.senders);
    const to = this.freshAddress();
    switch (kind) {
      case "NONCE_TOO_HIGH":
        this.add({ kind: "invalid", from, to, gas: TRANSFER_GAS, value: GWEI, nonce: this.nonceOf(from) + 1n + BigInt(this.random.below(3)) });
        return;
      case "NONCE_TOO_LOW": {
        const next = this.nonceOf(from);
        if (next === 0n) return this.invalidTx("NONCE_TOO_HIGH");
        this.add({ kind: "invalid", from, to, gas: TRANSFER_GAS, value: GWEI, nonce: next - 1n - BigInt(this.random.below(Number(next))) });
        return;
      }
      case "INSUFFICIENT_FUNDS": {
        if (this.chance(0.5)) {
          // An account holding nothing, or one wei less than the fee.
          const poor = this.relayAccount();
          if (this.chance(0.5)) this.world.fund(poor, this.feeFor(TRANSFER_GAS) - 1n);
          this.add({ kind: "invalid", from: poor, to, gas: TRANSFER_GAS, value: 0n }, this.feeFor(TRANSFER_GAS));
        } else {
          this.add({ kind: "invalid", from, to, gas: TRANSFER_GAS, value: GENEROUS_FUNDING * 2n });
        }
        return;
      }
      case "FEE_CAP_BELOW_BASE_FEE":
        this.add({ kind: "invalid", from, to, gas: TRANSFER_GAS, value: GWEI, maxFee: this.knobs.baseFee - 1n });
        return;
      case "INTRINSIC_GAS_TOO_LOW":
        this.add({ kind: "invalid", from, to, gas: TRANSFER_GAS - 1n, value: GWEI });
        return;
      case "GAS_LIMIT_EXCEEDS_BLOCK":
      case "BLOB_GAS_EXCEEDS_BLOCK":
        throw new Error(`${kind} is block-wide, not one transaction`);
    }
  }

  /**
   * Appends a transaction with a random type and fees (`maxFee` forces the fee cap; `feeCap`,
   * the whole fee; `setCode` makes it type 4, its authorizations added by the caller).
   */
  private add(
    tx: { kind: FuzzTx["kind"]; from: Hex; to: Hex | null; gas: bigint; value?: bigint; input?: Hex; nonce?: bigint; maxFee?: bigint },
    feeCap?: bigint,
    setCode = false,
  ): FuzzTx {
    const nonce = tx.nonce ?? this.takeNonce(tx.from);
    if (tx.kind !== "invalid") this.kinds[tx.kind]++;
    let type: FuzzTx["type"] = weighted(this.random, [[0, 1], [1, 1], [2, 3]] as [0 | 1 | 2, number][]);
    const blobHashes = feeCap === undefined && tx.to !== null && !setCode ? this.blobsFor() : [];
    if (blobHashes.length > 0) type = 3;
    if (setCode) type = 4;
    const tip = BigInt(this.random.below(3)) * GWEI;
    // A max fee below base fee + tip caps the tip (types 2 and 3; legacy pays its gas price).
    let maxFee = this.knobs.baseFee + (type >= 2 && this.chance(0.3) ? tip / 2n : tip + BigInt(this.random.below(3)) * GWEI);
    // A relay sends what it holds less the most its transaction may cost: the fee cap is fixed then.
    if (feeCap !== undefined) maxFee = feeCap / tx.gas;
    if (tx.maxFee !== undefined) maxFee = tx.maxFee;
    // Not for a relay: its fee cap is fixed by what it holds.
    const accessList = type >= 1 && feeCap === undefined && this.chance(0.4) ? this.accessList(tx.from) : [];
    // The access list's intrinsic gas comes on top (EIP-2930), so the gas left is what it was.
    const listGas = accessList.reduce((sum, entry) => sum + 2400n + 1900n * BigInt(entry.storageKeys.length), 0n);
    this.txs.push({
      kind: tx.kind,
      from: tx.from,
      to: tx.to,
      nonce,
      gas: tx.gas + listGas,
      value: tx.value ?? 0n,
      input: tx.input ?? "0x",
      type,
      maxFee,
      tip,
      blobHashes,
      authorizations: [],
      accessList,
    });
    return this.txs[this.txs.length - 1];
  }

  /** Blobs for the next transaction (often none); beyond the block's maximum only when that is the point. */
  private blobsFor(): Hex[] {
    const { fork, blobRate, invalid } = this.knobs;
    const rate = invalid === "BLOB_GAS_EXCEEDS_BLOCK" ? Math.max(blobRate, 0.3) : blobRate;
    if (rate === 0 || !this.chance(rate)) return [];
    const count = 1 + this.random.below(3);
    const max = blobParams(fork).max;
    if (this.blobs + count > max && invalid !== "BLOB_GAS_EXCEEDS_BLOCK") return [];
    const hashes = Array.from({ length: count }, (_, index) => `0x01${keccakHex(`pevm-fuzz/blob/${this.seed}/${this.blobs + index}`).slice(4)}` as Hex);
    this.blobs += count;
    return hashes;
  }

  /** The fee cap a relay transaction is built with (gas at the block's highest max fee). */
  private feeFor(gas: bigint): bigint {
    return gas * (this.knobs.baseFee + 4n * GWEI);
  }

  /** Hot locations named up front: the EVM treats them as warm; the engine may know them early. */
  private accessList(from: Hex): FuzzTx["accessList"] {
    const t = this.template;
    const candidates: FuzzTx["accessList"] = [
      { address: this.counters[0], storageKeys: [quantitySlot(0n)] },
      { address: t.tokens[0], storageKeys: [quantitySlot(tokenBalanceSlot(from)), quantitySlot(tokenBalanceSlot(this.hot[0]))] },
      { address: MOCK_COINBASE, storageKeys: [] },
      { address: this.hot[0], storageKeys: [] },
      { address: t.pools[0].address, storageKeys: [quantitySlot(0n), quantitySlot(4n)] },
    ];
    return candidates.filter(() => this.chance(0.4));
  }

  private sender(hot: boolean): Hex {
    return hot && this.chance(0.5) ? this.pick(this.hot) : this.pick(this.senders);
  }

  private nonceOf(address: Hex): bigint {
    return this.nextNonce.get(address) ?? this.world.account(address).nonce;
  }

  private takeNonce(address: Hex): bigint {
    const nonce = this.nonceOf(address);
    this.nextNonce.set(address, nonce + 1n);
    return nonce;
  }

  private value(): bigint {
    const roll = this.random.next();
    if (roll < 0.15) return 0n;
    if (roll < 0.6) return BigInt(1 + this.random.below(1_000_000)) * GWEI;
    return BigInt(1 + this.random.below(5)) * ETHER;
  }

  private freshAddress(): Hex {
    return mockAddress(`fuzz/fresh/${this.seed}`, this.fresh++);
  }

  private chance(probability: number): boolean {
    return chance(this.random, probability);
  }

  private pick<T>(items: readonly T[]): T {
    return pick(this.random, items);
  }

  private toMock(): MockBlock {
    const { fork, baseFee } = this.knobs;
    const name = `fuzz-${this.seed}`;
    const header = FORK_HEADERS[fork];
    const number = quantity(header.number);
    const blockHash = keccakHex(`pevm-fuzz/block/${this.seed}`);
    const totalGas = this.txs.reduce((sum, tx) => sum + tx.gas, 0n);
    let gasLimit = totalGas > MIN_GAS_LIMIT ? totalGas : MIN_GAS_LIMIT;
    if (this.knobs.invalid === "GAS_LIMIT_EXCEEDS_BLOCK") {
      // Below the sum of the gas limits: whether (and where) the block is invalid depends on the gas used.
      gasLimit = (totalGas * BigInt(30 + this.random.below(70))) / 100n;
      if (gasLimit < TRANSFER_GAS) gasLimit = TRANSFER_GAS;
    }
    const transactions = this.txs.map((tx, index): RpcTransaction => ({
      hash: keccakHex(`pevm-fuzz/tx/${this.seed}/${index}`),
      type: quantity(tx.type),
      chainId: "0x1",
      from: tx.from,
      to: tx.to,
      nonce: quantity(tx.nonce),
      gas: quantity(tx.gas),
      // JSON-RPC reports the effective gas price of a mined transaction.
      gasPrice: quantity(tx.type >= 2 ? baseFee + min(tx.tip, tx.maxFee - baseFee) : tx.maxFee),
      maxFeePerGas: quantity(tx.maxFee),
      maxPriorityFeePerGas: quantity(tx.type >= 2 ? tx.tip : tx.maxFee),
      value: quantity(tx.value),
      input: tx.input,
      accessList: tx.accessList,
      ...(tx.type === 3 ? { maxFeePerBlobGas: quantity(MAX_FEE_PER_BLOB_GAS), blobVersionedHashes: tx.blobHashes } : {}),
      ...(tx.type === 4 ? { authorizationList: tx.authorizations } : {}),
      blockNumber: number,
      blockHash,
      transactionIndex: quantity(index),
    }));
    const withdrawals: RpcWithdrawal[] = [];
    for (let index = 0; index < this.knobs.withdrawals; index++) {
      const address = pick(this.random, [this.pick(this.hot), this.pick(this.senders), MOCK_COINBASE, this.freshAddress()]);
      withdrawals.push({ index: quantity(index), validatorIndex: quantity(1000 + index), address, amount: quantity(BigInt(this.random.below(3)) * GWEI) });
    }
    const block: RpcBlock = {
      hash: blockHash,
      parentHash: keccakHex(`pevm-fuzz/parent/${this.seed}`),
      sha3Uncles: "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
      miner: MOCK_COINBASE,
      number,
      gasLimit: quantity(gasLimit),
      timestamp: quantity(header.timestamp),
      extraData: "0x",
      mixHash: keccakHex(`pevm-fuzz/prevrandao/${this.seed}`),
      nonce: "0x0000000000000000",
      // Before the merge the difficulty is real (and the miner is rewarded).
      difficulty: fork < Fork.Paris ? quantity(12_000_000_000_000_000n) : "0x0",
      baseFeePerGas: quantity(baseFee),
      uncles: [],
      transactions,
      ...(fork >= Fork.Shanghai ? { withdrawalsRoot: keccakHex(`pevm-fuzz/withdrawals/${this.seed}`), withdrawals } : {}),
      ...(fork >= Fork.Cancun
        ? {
            blobGasUsed: quantity(BigInt(this.blobs) * GAS_PER_BLOB),
            excessBlobGas: quantity(this.knobs.excessBlobGas),
            parentBeaconBlockRoot: keccakHex(`pevm-fuzz/beacon-root/${this.seed}`),
          }
        : {}),
    };
    return { name, block, ...this.world.toJson() };
  }
}

function quantitySlot(slot: bigint): Hex {
  return `0x${slot.toString(16).padStart(64, "0")}`;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function chance(random: SeededRandom, probability: number): boolean {
  return random.next() < probability;
}

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.below(items.length)];
}

function weighted<T>(random: SeededRandom, entries: readonly (readonly [T, number])[]): T {
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random.next() * total;
  for (const [value, weight] of entries) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return entries[entries.length - 1][0];
}
