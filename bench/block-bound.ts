/**
 * How parallel are the blocks themselves? For each block: every transaction's sequential
 * time (warm, the median of several runs) and what it read and wrote, then the heaviest chain
 * of dependent transactions (report/critical-path.ts). A block of one 140 ms transaction
 * cannot run faster on two cores, whatever the engine; the EVM ceiling (evm-ceiling.ts) does
 * not see that, since it runs whole blocks side by side. The bench reports pevm's speedup on
 * the heaviest blocks against both. Reads and writes are the locations pevm's executors record
 * (an account's balance and nonce, its code hash, each slot): a contract's balance only where
 * something uses it, a value paid into it as a lazy credit, a slot put back to its value as no
 * write (src/vm/tx-state.ts).
 *
 *   bun bench/block-bound.ts [--rounds R] [--ceiling C] [--json] [block numbers...]   (default: the 15 heaviest)
 */
import { parseArgs } from "node:util";
import { loadBlockDir } from "../src/index.ts";
import type { AddressHex, Block, Hex } from "../src/chain/types.ts";
import type { AccountInfo, Storage } from "../src/state/types.ts";
import { BlockState } from "../src/vm/block-state.ts";
import { applyBlockPrologue, applyTransaction, blockFork, environmentFor, newTotals } from "../src/vm/block.ts";
import { forkVm } from "../src/vm/evm.ts";
import type { StateSource } from "../src/vm/source.ts";
import { executeTransaction, type TxOutcome } from "../src/vm/transaction.ts";
import { Fork } from "../src/chain/forks.ts";
import { heaviestBlocks } from "./evm-ceiling.ts";
import { blockDirOf } from "./peer/corpus.ts";
import { boundedSpeedup, criticalPath, type CriticalPath, type TxAccess } from "./report/critical-path.ts";
import { collectGarbage, median } from "./report/stats.ts";

export interface BlockBound extends CriticalPath {
  block: number;
  txs: number;
  /** totalMs / chainMs: the most any number of executors could gain on this block. */
  chainBound: number;
}

// Location keys, as the multi-version memory has them: an account's balance and nonce; its
// code hash; one slot; a wipe of all its slots (which every slot read
// sees); whether it holds any storage (EIP-7610's question, which every slot write may change).
const accountKey = (address: AddressHex) => `a${address}`;
const codeKey = (address: AddressHex) => `c${address}`;
const slotKey = (address: AddressHex, slot: bigint) => `s${address}:${slot.toString(16)}`;
const wipeKey = (address: AddressHex) => `w${address}`;
const anyStorageKey = (address: AddressHex) => `h${address}`;

/** The block state as a transaction sees it, noting every location it reads. */
class RecordingSource implements StateSource {
  reads = new Set<string>();
  constructor(private readonly state: BlockState) {}
  account(address: AddressHex, codeHash?: Hex): AccountInfo | undefined {
    this.reads.add(accountKey(address));
    if (codeHash === undefined) this.reads.add(codeKey(address));
    return this.state.account(address);
  }
  codeHash(address: AddressHex): Hex {
    this.reads.add(codeKey(address));
    return this.state.codeHash(address);
  }
  storage(address: AddressHex, slot: bigint): bigint {
    this.reads.add(slotKey(address, slot));
    this.reads.add(wipeKey(address));
    return this.state.storage(address, slot);
  }
  code(codeHash: Hex): Uint8Array {
    return this.state.code(codeHash); // code is immutable by its hash
  }
  blockHash(number: bigint): Hex | undefined {
    return this.state.blockHash(number);
  }
  hasStorage(address: AddressHex): boolean {
    this.reads.add(anyStorageKey(address));
    this.reads.add(wipeKey(address));
    return this.state.hasStorage(address);
  }
}

/** One transaction's reads, writes and lazy credits as location keys (ms 0: timed apart). */
function accessOf(outcome: TxOutcome, reads: Set<string>, coinbase: AddressHex): TxAccess {
  const writes: string[] = [];
  const deltas: string[] = [];
  for (const [address, w] of outcome.writes.accounts) {
    if (w.infoChanged || w.deleted) writes.push(accountKey(address));
    if (w.codeHash !== undefined) writes.push(codeKey(address));
    if (w.storageCleared) writes.push(wipeKey(address), anyStorageKey(address));
    else if (w.storage.size > 0) deltas.push(anyStorageKey(address)); // may change "any storage?" without reading it
    for (const slot of w.storage.keys()) writes.push(slotKey(address, slot));
  }
  for (const credit of outcome.writes.credits) deltas.push(accountKey(credit.address));
  if (outcome.writes.beneficiaryFee !== 0n || outcome.writes.beneficiaryTouch) deltas.push(accountKey(coinbase));
  return { ms: 0, reads, writes, deltas };
}

/** One sequential pass over the block's transactions: each one's ms, and with `record` its reads and writes. */
async function pass(block: Block, storage: Storage, record: boolean): Promise<{ ms: number[]; access: TxAccess[] }> {
  const fork = blockFork(block);
  const env = environmentFor(block, fork);
  const vm = await forkVm(fork);
  const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
  await applyBlockPrologue(block, fork, state, storage);
  const totals = newTotals();
  const ms: number[] = [];
  const access: TxAccess[] = [];
  for (const tx of block.transactions) {
    const source = record ? new RecordingSource(state) : state;
    const started = performance.now();
    const pending = executeTransaction(vm, env, tx, source, block.header.gasLimit - totals.gasUsed);
    const outcome = pending instanceof Promise ? await pending : pending;
    applyTransaction(state, env, tx, outcome, totals);
    ms.push(performance.now() - started);
    if (record) access.push(accessOf(outcome, (source as RecordingSource).reads, env.coinbase));
  }
  return { ms, access };
}

/** Each of the block's transactions' ms in one sequential pass, warm or not as the caller made it. */
export async function timeTransactions(block: Block, storage: Storage): Promise<number[]> {
  return (await pass(block, storage, false)).ms;
}

/** What each of the block's transactions read and wrote, in a sequential pass (ms 0: untimed). */
export async function recordAccess(block: Block, storage: Storage): Promise<TxAccess[]> {
  return (await pass(block, storage, true)).access;
}

/** Each block's chain bound; `rounds` timed passes after one recording and one warm-up pass. */
export async function measureBlockBounds(blocks: number[], rounds: number, onProgress: (line: string) => void = () => {}): Promise<BlockBound[]> {
  const bounds: BlockBound[] = [];
  for (const number of blocks) {
    const { block, storage } = loadBlockDir(blockDirOf(number));
    const access = await recordAccess(block, storage);
    await pass(block, storage, false);
    const samples: number[][] = access.map(() => []);
    for (let r = 0; r < rounds; r++) {
      await collectGarbage(); // as the bench before each timed run: a collection inside one transaction would lengthen it
      (await pass(block, storage, false)).ms.forEach((ms, i) => samples[i]!.push(ms));
    }
    access.forEach((a, i) => (a.ms = median(samples[i]!)));
    const path = criticalPath(access);
    // A block without transactions gains nothing either: 1x, not 0/0.
    const bound = {
      block: number,
      txs: access.length,
      ...path,
      chainBound: path.chainMs > 0 ? path.totalMs / path.chainMs : 1,
    };
    onProgress(
      `block bound ${number}: ${bound.txs} txs, ${path.totalMs.toFixed(1)} ms, longest tx ${path.longestTxMs.toFixed(1)} ms, ` +
        `chain ${path.chainMs.toFixed(1)} ms over ${path.chainTxs} txs: at most ${bound.chainBound.toFixed(2)}x`,
    );
    bounds.push(bound);
  }
  return bounds;
}

/**
 * measureBlockBounds in a process of its own, as `bun run bench` measures it: the bench's own
 * heap holds every corpus block by then, and its collections would land inside transactions.
 */
export async function measureBlockBoundsApart(blocks: number[], rounds: number, onProgress: (line: string) => void = () => {}): Promise<BlockBound[]> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--json", "--rounds", String(rounds), ...blocks.map(String)], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if ((await child.exited) !== 0) throw new Error(`bench/block-bound.ts failed: ${err.trim()}`);
  for (const line of err.trim().split("\n")) if (line !== "") onProgress(line);
  return JSON.parse(out) as BlockBound[];
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Bun.argv.slice(2),
    options: { rounds: { type: "string", default: "5" }, ceiling: { type: "string" }, json: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const blocks = positionals.length > 0 ? positionals.map(Number) : await heaviestBlocks();
  // --json: the bounds as JSON on stdout, progress on stderr (measureBlockBoundsApart).
  const bounds = await measureBlockBounds(blocks, Number(values.rounds), (line) => (values.json ? console.error(line) : console.log(line)));
  if (values.json) console.log(JSON.stringify(bounds));
  else {
    const all = boundedSpeedup(bounds, Number.POSITIVE_INFINITY);
    console.log(`${bounds.length} blocks: their chains allow at most ${all.toFixed(2)}x (sum of times), with any number of cores`);
    const chains = (pick: (b: BlockBound) => number) => bounds.reduce((sum, b) => sum + pick(b), 0);
    console.log(`sum of chains ${chains((b) => b.chainMs).toFixed(0)} ms`);
    if (values.ceiling !== undefined) {
      const c = Number(values.ceiling);
      console.log(`with an EVM ceiling of ${c.toFixed(2)}x as well: at most ${boundedSpeedup(bounds, c).toFixed(2)}x`);
    }
  }
}
