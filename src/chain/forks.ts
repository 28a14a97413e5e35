import { Hardfork } from "@ethereumjs/common";
import { InputError } from "./errors.ts";

/**
 * Mainnet forks in activation order. The index is what rule checks compare:
 * `fork >= Fork.Berlin`. Forks that changed nothing an executor sees (Muir Glacier,
 * Arrow/Gray Glacier: difficulty bomb delays) map to their predecessor's rules but are kept
 * so that a fork name in the output matches the chain.
 */
export enum Fork {
  Frontier,
  Homestead,
  Dao,
  TangerineWhistle,
  SpuriousDragon,
  Byzantium,
  Constantinople,
  Petersburg,
  Istanbul,
  MuirGlacier,
  Berlin,
  London,
  ArrowGlacier,
  GrayGlacier,
  Paris,
  Shanghai,
  Cancun,
  Prague,
  Osaka,
  /** Blob-parameter-only forks (EIP-7892): they change the blob schedule and nothing else. */
  BPO1,
  BPO2,
  BPO3,
  BPO4,
}

/** The @ethereumjs/common hardfork each fork runs the interpreter with. */
export const ETHEREUMJS_HARDFORK: Record<Fork, Hardfork> = {
  [Fork.Frontier]: Hardfork.Chainstart,
  [Fork.Homestead]: Hardfork.Homestead,
  [Fork.Dao]: Hardfork.Dao,
  [Fork.TangerineWhistle]: Hardfork.TangerineWhistle,
  [Fork.SpuriousDragon]: Hardfork.SpuriousDragon,
  [Fork.Byzantium]: Hardfork.Byzantium,
  [Fork.Constantinople]: Hardfork.Constantinople,
  [Fork.Petersburg]: Hardfork.Petersburg,
  [Fork.Istanbul]: Hardfork.Istanbul,
  [Fork.MuirGlacier]: Hardfork.MuirGlacier,
  [Fork.Berlin]: Hardfork.Berlin,
  [Fork.London]: Hardfork.London,
  [Fork.ArrowGlacier]: Hardfork.ArrowGlacier,
  [Fork.GrayGlacier]: Hardfork.GrayGlacier,
  [Fork.Paris]: Hardfork.Paris,
  [Fork.Shanghai]: Hardfork.Shanghai,
  [Fork.Cancun]: Hardfork.Cancun,
  [Fork.Prague]: Hardfork.Prague,
  [Fork.Osaka]: Hardfork.Osaka,
  // A BPO fork changes only the blob schedule, which our own block processing applies
  // (chain/blobs.ts); the interpreter runs Osaka's rules. (Mapping to Hardfork.Bpo3 would
  // also fail: @ethereumjs/common's mainnet config does not list it.)
  [Fork.BPO1]: Hardfork.Osaka,
  [Fork.BPO2]: Hardfork.Osaka,
  [Fork.BPO3]: Hardfork.Osaka,
  [Fork.BPO4]: Hardfork.Osaka,
};

/** Mainnet activation: by block number up to the merge, by timestamp after it. */
const BY_NUMBER: [Fork, bigint][] = [
  [Fork.Homestead, 1_150_000n],
  [Fork.Dao, 1_920_000n],
  [Fork.TangerineWhistle, 2_463_000n],
  [Fork.SpuriousDragon, 2_675_000n],
  [Fork.Byzantium, 4_370_000n],
  // Constantinople was replaced by Petersburg at the same block before it activated on mainnet.
  [Fork.Petersburg, 7_280_000n],
  [Fork.Istanbul, 9_069_000n],
  [Fork.MuirGlacier, 9_200_000n],
  [Fork.Berlin, 12_244_000n],
  [Fork.London, 12_965_000n],
  [Fork.ArrowGlacier, 13_773_000n],
  [Fork.GrayGlacier, 15_050_000n],
  [Fork.Paris, 15_537_394n],
];
const BY_TIMESTAMP: [Fork, bigint][] = [
  [Fork.Shanghai, 1_681_338_455n],
  [Fork.Cancun, 1_710_338_135n],
  [Fork.Prague, 1_746_612_311n],
  [Fork.Osaka, 1_764_798_551n],
  [Fork.BPO1, 1_765_290_071n],
  [Fork.BPO2, 1_767_747_671n],
  // BPO3 and BPO4 exist in the execution-spec-tests only (no mainnet date).
];

export const DAO_FORK_BLOCK = 1_920_000n;

export function mainnetFork(number: bigint, timestamp: bigint): Fork {
  let fork = Fork.Frontier;
  for (const [f, n] of BY_NUMBER) if (number >= n) fork = f;
  if (fork === Fork.Paris) for (const [f, t] of BY_TIMESTAMP) if (timestamp >= t) fork = f;
  return fork;
}

/** Names accepted by --fork and used by the ethereum/tests `post` sections. */
const NAMES: Record<string, Fork> = {
  frontier: Fork.Frontier,
  homestead: Fork.Homestead,
  dao: Fork.Dao,
  eip150: Fork.TangerineWhistle,
  tangerinewhistle: Fork.TangerineWhistle,
  eip158: Fork.SpuriousDragon,
  spuriousdragon: Fork.SpuriousDragon,
  byzantium: Fork.Byzantium,
  constantinople: Fork.Constantinople,
  constantinoplefix: Fork.Petersburg,
  petersburg: Fork.Petersburg,
  istanbul: Fork.Istanbul,
  muirglacier: Fork.MuirGlacier,
  berlin: Fork.Berlin,
  london: Fork.London,
  arrowglacier: Fork.ArrowGlacier,
  grayglacier: Fork.GrayGlacier,
  merge: Fork.Paris,
  paris: Fork.Paris,
  shanghai: Fork.Shanghai,
  cancun: Fork.Cancun,
  prague: Fork.Prague,
  osaka: Fork.Osaka,
  bpo1: Fork.BPO1,
  bpo2: Fork.BPO2,
  bpo3: Fork.BPO3,
  bpo4: Fork.BPO4,
};

export function parseForkName(name: string): Fork {
  const fork = NAMES[name.toLowerCase()];
  if (fork === undefined) {
    throw new InputError(`unknown fork "${name}" (known: ${Object.keys(NAMES).join(", ")})`, undefined, "fork");
  }
  return fork;
}

export function forkName(fork: Fork): string {
  return Fork[fork];
}

/**
 * A fork label of the execution-spec-tests: a fork name, or a transition such as
 * `PragueToOsakaAtTime15k` (the first fork before timestamp 15,000, the second from it).
 * Returns the fork for a block with this timestamp.
 */
export function forkAt(label: string, timestamp: bigint): Fork {
  const transition = /^(\w+?)To(\w+)At(Time|Block)(\d+)(k?)$/.exec(label);
  if (transition === null) return parseForkName(label);
  const [, before, after, by, digits, thousands] = transition;
  if (by !== "Time") throw new InputError(`transition by block number is not supported: "${label}"`, undefined, "network");
  const at = BigInt(digits!) * (thousands ? 1000n : 1n);
  const [first, second] = [parseForkName(before!), parseForkName(after!)];
  return timestamp >= at ? second : first;
}
