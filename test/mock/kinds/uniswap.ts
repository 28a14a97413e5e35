/**
 * Uniswap V3 `exactInputSingle` swaps through the real SwapRouter, on pools of the real
 * factory. One pool is set up by real transactions (create, initialize, mint full-range
 * liquidity through the NonfungiblePositionManager); further independent pools are clones of
 * it at the addresses the factory would have created them, each with its own pair of tokens.
 */
import { decodeWord, encodeArgs, encodeCall } from "../abi.ts";
import { ETHER, mockAddress, mockAddresses } from "../accounts.ts";
import { artifact, storageSlot, type EvmTarget } from "../artifacts.ts";
import { GENEROUS_FUNDING, toMockBlock, TxList, type Scenario } from "../block.ts";
import { ReferenceVm, SETUP_FUNDING } from "../evm.ts";
import { bytesToHex, hexToBytes, keccak } from "../hex.ts";
import { nestedMappingSlot, mappingSlot } from "../slots.ts";
import { deployToken, setTokenAllowance, setTokenBalance, tokenBalanceSlot } from "../tokens.ts";
import type { Hex, MockBlock } from "../types.ts";
import { MockWorld } from "../world.ts";

/** A swap costs about 100,000-130,000 gas; the limit leaves room. */
export const SWAP_GAS = 250_000n;
const FEE = 3000;
/** The widest range for tick spacing 60 (fee 0.3%): liquidity at every price. */
const MIN_TICK = -887_220;
const MAX_TICK = 887_220;
/** Price 1: sqrt(1) in Q64.96. */
const PRICE_ONE = 1n << 96n;
const POOL_LIQUIDITY_TOKENS = 10_000_000n * ETHER;
const SWAPPER_TOKENS = 1_000n * ETHER;
const FAR_DEADLINE = 1n << 64n;
/** keccak of the pool creation code: what the periphery uses to compute pool addresses. */
const POOL_INIT_CODE_HASH = bytesToHex(keccak(hexToBytes(artifact("UniswapV3Pool").bytecode)));

export interface UniswapDeployment {
  world: MockWorld;
  factory: Hex;
  router: Hex;
  pool: Pool;
  /** Slot index of the factory's `getPool` mapping. */
  getPoolSlot: number;
}

export interface Pool {
  address: Hex;
  token0: Hex;
  token1: Hex;
}

const templates = new Map<EvmTarget, Promise<UniswapDeployment>>();

/** The set-up is the same for every block; done once per process (per target of the tokens). */
function template(target: EvmTarget): Promise<UniswapDeployment> {
  let deployment = templates.get(target);
  if (deployment === undefined) {
    deployment = deployTemplate(target);
    templates.set(target, deployment);
  }
  return deployment;
}

async function deployTemplate(target: EvmTarget): Promise<UniswapDeployment> {
  const namespace = "uniswap";
  const deployer = mockAddress(`${namespace}/deployer`, 0);
  const tokenA = await deployToken(`${namespace}/token-a`, "TKA", target);
  const tokenB = await deployToken(`${namespace}/token-b`, "TKB", target);
  const world = new MockWorld();
  world.merge(tokenA.world);
  world.merge(tokenB.world);
  world.fund(deployer, SETUP_FUNDING);
  const vm = await ReferenceVm.fromWorld(world);

  // Periphery constructor arguments that swaps never use (WETH9, token descriptor).
  const unusedWeth = mockAddress(`${namespace}/weth9-unused`, 0);
  const unusedDescriptor = mockAddress(`${namespace}/descriptor-unused`, 0);
  const factory = await vm.deploy(deployer, artifact("UniswapV3Factory").bytecode);
  const router = await vm.deploy(deployer, artifact("SwapRouter").bytecode, encodeArgs([factory, unusedWeth]));
  const positions = await vm.deploy(
    deployer,
    artifact("NonfungiblePositionManager").bytecode,
    encodeArgs([factory, unusedWeth, unusedDescriptor]),
  );

  const [token0, token1] = sortPair(tokenA.token, tokenB.token);
  const created = await vm.mustSend({ from: deployer, to: factory, input: encodeCall("createPool(address,address,uint24)", [token0, token1, FEE]) });
  const pool = `0x${decodeWord(created.returnValue).toString(16).padStart(40, "0")}` as Hex;
  if (pool !== poolAddress(factory, token0, token1)) throw new Error("Uniswap pool address differs from the periphery's computation");
  await vm.mustSend({ from: deployer, to: pool, input: encodeCall("initialize(uint160)", [PRICE_ONE]) });
  for (const token of [token0, token1]) {
    await vm.mustSend({ from: deployer, to: token, input: encodeCall("mint(address,uint256)", [deployer, POOL_LIQUIDITY_TOKENS]) });
    await vm.mustSend({ from: deployer, to: token, input: encodeCall("approve(address,uint256)", [positions, POOL_LIQUIDITY_TOKENS]) });
  }
  await vm.mustSend({
    from: deployer,
    to: positions,
    input: encodeCall("mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))", [
      token0, token1, FEE, MIN_TICK, MAX_TICK, POOL_LIQUIDITY_TOKENS, POOL_LIQUIDITY_TOKENS, 0n, 0n, deployer, FAR_DEADLINE,
    ]),
  });

  const deployed = vm.toWorld();
  return { world: deployed, factory, router, pool: { address: pool, token0, token1 }, getPoolSlot: findGetPoolSlot(deployed, factory, token0, token1, pool) };
}

export interface UniswapOptions {
  /** 'many': every swap in a pool of its own (independent); 'one': all swaps in one pool. */
  pools?: "many" | "one";
  /**
   * With 'many': how many pools the swaps are spread over (default: one per swap). Each pool
   * carries its own 22 KB of code (its immutables differ), so huge blocks may want fewer.
   */
  poolCount?: number;
  namespace?: string;
  /** What the pools' tokens (our MockToken) are compiled for (default Cancun). */
  target?: EvmTarget;
}

export interface UniswapScenario extends Scenario {
  router: Hex;
  /** The pool of each transaction, in order. */
  poolOfTx: Pool[];
  swappers: Hex[];
}

export async function uniswapScenario(count: number, options: UniswapOptions = {}): Promise<UniswapScenario> {
  const namespace = options.namespace ?? "uniswap";
  const deployment = await template(options.target ?? "cancun");
  const world = new MockWorld();
  world.merge(deployment.world);
  const pools = options.pools === "one" ? [deployment.pool] : clonePools(world, deployment, Math.min(options.poolCount ?? count, count), namespace);
  const swappers = mockAddresses(`${namespace}/swapper`, count);
  const txs = new TxList(world);
  const poolOfTx: Pool[] = [];
  for (let index = 0; index < count; index++) {
    const pool = pools[index % pools.length];
    const swapper = swappers[index];
    // Alternate directions so that a shared pool's price moves back and forth.
    const [tokenIn, tokenOut] = index % 2 === 0 ? [pool.token0, pool.token1] : [pool.token1, pool.token0];
    world.fund(swapper, GENEROUS_FUNDING);
    setTokenBalance(world, tokenIn, swapper, SWAPPER_TOKENS);
    setTokenAllowance(world, tokenIn, swapper, deployment.router, SWAPPER_TOKENS);
    const amountIn = BigInt(1 + (index % 7)) * ETHER;
    txs.add({
      from: swapper,
      to: deployment.router,
      gas: SWAP_GAS,
      input: encodeCall("exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))", [
        tokenIn, tokenOut, FEE, swapper, FAR_DEADLINE, amountIn, 0n, 0n,
      ]),
    });
    poolOfTx.push(pool);
  }
  return { world, txs: txs.txs, router: deployment.router, poolOfTx, swappers };
}

export async function uniswapSwaps(count: number, options: UniswapOptions = {}): Promise<MockBlock> {
  return toMockBlock(`uniswap-swaps-${options.pools ?? "many"}-${count}`, await uniswapScenario(count, options));
}

/**
 * `count` pools: the template plus clones. A clone gets two fresh tokens (copies of the
 * template's token contract), the pool's code with its token immutables rewritten, the
 * template pool's storage (price, liquidity, ticks, position), the same token reserves, and
 * an entry in the factory's `getPool`.
 * (Tests swap in clones, which fails if any immutable were left pointing at the template.)
 */
function clonePools(world: MockWorld, deployment: UniswapDeployment, count: number, namespace: string): Pool[] {
  const template = deployment.pool;
  const templateCode = world.code(template.address)!;
  const reserves = [template.token0, template.token1].map((token) => world.storage(token, tokenBalanceSlot(template.address)));
  const pools: Pool[] = [template];
  for (let index = 1; index < count; index++) {
    const [token0, token1] = sortPair(mockAddress(`${namespace}/pool-token`, 2 * index), mockAddress(`${namespace}/pool-token`, 2 * index + 1));
    for (const [token, source] of [[token0, template.token0], [token1, template.token1]] as const) {
      world.cloneAccount(source, token);
      // Keep name and symbol, drop the template's holders and supply.
      const account = world.account(token);
      const kept = [storageSlot("MockToken", "_name"), storageSlot("MockToken", "_symbol")].map(BigInt);
      account.storage = new Map([...account.storage].filter(([slot]) => kept.includes(slot)));
    }
    const address = poolAddress(deployment.factory, token0, token1);
    // Immutables: the tokens, and NoDelegateCall's record of the pool's own address.
    let code = replaceWord(templateCode, template.token0, token0);
    code = replaceWord(code, template.token1, token1);
    code = replaceWord(code, template.address, address);
    world.cloneAccount(template.address, address, code);
    setTokenBalance(world, token0, address, reserves[0]);
    setTokenBalance(world, token1, address, reserves[1]);
    for (const [a, b] of [[token0, token1], [token1, token0]]) {
      world.setStorage(deployment.factory, mappingSlot(nestedMappingSlot(deployment.getPoolSlot, a, b), BigInt(FEE)), BigInt(address));
    }
    pools.push({ address, token0, token1 });
  }
  return pools;
}

function sortPair(a: Hex, b: Hex): [Hex, Hex] {
  return BigInt(a) < BigInt(b) ? [a, b] : [b, a];
}

/** CREATE2 address the factory deploys a pool at (PoolAddress.computeAddress). */
function poolAddress(factory: Hex, token0: Hex, token1: Hex): Hex {
  const salt = keccak(hexToBytes(encodeArgs([token0, token1, FEE])));
  const preimage = hexToBytes(`ff${factory.slice(2)}${bytesToHex(salt).slice(2)}${POOL_INIT_CODE_HASH.slice(2)}`);
  return bytesToHex(keccak(preimage).subarray(12));
}

/** Replaces a 32-byte immutable (an address, left-padded) everywhere in runtime code. */
function replaceWord(code: Hex, from: Hex, to: Hex): Hex {
  const pattern = from.slice(2).toLowerCase().padStart(64, "0");
  const parts = code.toLowerCase().split(pattern);
  if (parts.length < 2) throw new Error(`immutable ${from} not found in pool code`);
  return parts.join(to.slice(2).toLowerCase().padStart(64, "0")) as Hex;
}

/** Finds where the factory keeps `getPool` by looking for the created pool in its storage. */
function findGetPoolSlot(world: MockWorld, factory: Hex, token0: Hex, token1: Hex, pool: Hex): number {
  for (let slot = 0; slot < 32; slot++) {
    if (world.storage(factory, mappingSlot(nestedMappingSlot(slot, token0, token1), BigInt(FEE))) === BigInt(pool)) return slot;
  }
  throw new Error("UniswapV3Factory getPool mapping not found");
}
