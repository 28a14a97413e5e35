import { Fork, forkName } from "./forks.ts";
import { InputError } from "./errors.ts";

/**
 * The blob schedule (EIP-4844, EIP-7691, EIP-7892): per fork, the target and maximum blobs per
 * block and the blob base fee's update fraction. These are the mainnet chain config's values,
 * which the execution-spec-tests' `config.blobSchedule` repeats (checkBlobSchedule compares).
 */
export interface BlobParams {
  target: number;
  max: number;
  updateFraction: bigint;
}

export const GAS_PER_BLOB = 131_072n;
/** EIP-7918: the blob base fee is kept above BLOB_BASE_COST / GAS_PER_BLOB of the execution base fee. */
const BLOB_BASE_COST = 8_192n;
/** EIP-7594 (Osaka): at most 6 blobs per transaction, whatever the block maximum. */
const MAX_BLOBS_PER_TX_OSAKA = 6;

const CANCUN: BlobParams = { target: 3, max: 6, updateFraction: 3_338_477n };
const PRAGUE: BlobParams = { target: 6, max: 9, updateFraction: 5_007_716n };

const SCHEDULE: Partial<Record<Fork, BlobParams>> = {
  [Fork.Cancun]: CANCUN,
  [Fork.Prague]: PRAGUE,
  [Fork.Osaka]: PRAGUE,
  [Fork.BPO1]: { target: 10, max: 15, updateFraction: 8_346_193n },
  [Fork.BPO2]: { target: 14, max: 21, updateFraction: 11_684_671n },
  [Fork.BPO3]: { target: 21, max: 32, updateFraction: 20_609_697n },
  [Fork.BPO4]: { target: 14, max: 21, updateFraction: 13_739_630n },
};

/** The blob parameters of a fork from Cancun on (before Cancun there are no blobs). */
export function blobParams(fork: Fork): BlobParams {
  const params = SCHEDULE[fork];
  if (params === undefined) throw new RangeError(`no blob schedule before Cancun (${forkName(fork)})`);
  return params;
}

/** EIP-4844's fake_exponential: factor * e^(numerator / denominator), in integers. */
function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  let i = 1n;
  let output = 0n;
  let acc = factor * denominator;
  while (acc > 0n) {
    output += acc;
    acc = (acc * numerator) / (denominator * i);
    i++;
  }
  return output / denominator;
}

export function blobGasPrice(excessBlobGas: bigint, fork: Fork): bigint {
  return fakeExponential(1n, excessBlobGas, blobParams(fork).updateFraction);
}

export function maxBlobGasPerBlock(fork: Fork): bigint {
  return BigInt(blobParams(fork).max) * GAS_PER_BLOB;
}

/** Blobs one transaction may carry: the block maximum, and from Osaka at most 6 (EIP-7594). */
export function maxBlobsPerTransaction(fork: Fork): number {
  const max = blobParams(fork).max;
  return fork >= Fork.Osaka ? Math.min(max, MAX_BLOBS_PER_TX_OSAKA) : max;
}

/**
 * The excess blob gas a block must carry, from its parent header (EIP-4844), with Osaka's
 * reserve price (EIP-7918): while blobs are cheaper than the execution base fee makes them,
 * the excess grows by the blobs used above target instead of falling.
 */
export function nextExcessBlobGas(
  parent: { excessBlobGas: bigint; blobGasUsed: bigint; baseFeePerGas: bigint },
  fork: Fork,
): bigint {
  const { target, max } = blobParams(fork);
  const targetGas = BigInt(target) * GAS_PER_BLOB;
  const parentTotal = parent.excessBlobGas + parent.blobGasUsed;
  if (parentTotal < targetGas) return 0n;
  if (fork >= Fork.Osaka && BLOB_BASE_COST * parent.baseFeePerGas > GAS_PER_BLOB * blobGasPrice(parent.excessBlobGas, fork)) {
    return parent.excessBlobGas + (parent.blobGasUsed * BigInt(max - target)) / BigInt(max);
  }
  return parentTotal - targetGas;
}

/**
 * Checks a chain config's blob schedule (`{ Cancun: { target, max, baseFeeUpdateFraction } }`,
 * hex or decimal strings) against ours; a test written for other parameters cannot run here.
 */
export function checkBlobSchedule(schedule: Record<string, Record<string, string>>, parseFork: (name: string) => Fork): void {
  for (const [name, entry] of Object.entries(schedule)) {
    const ours = SCHEDULE[parseFork(name)];
    const theirs = { target: Number(entry.target), max: Number(entry.max), updateFraction: BigInt(entry.baseFeeUpdateFraction ?? "-1") };
    if (ours === undefined || ours.target !== theirs.target || ours.max !== theirs.max || ours.updateFraction !== theirs.updateFraction) {
      throw new InputError(`blob schedule of ${name} differs from the chain config's: ${JSON.stringify(entry)}`, undefined, "config.blobSchedule");
    }
  }
}
