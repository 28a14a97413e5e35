import { DAO_DRAINED_ACCOUNTS, DAO_REFUND_CONTRACT } from "../chain/dao.ts";
import { DAO_FORK_BLOCK, Fork } from "../chain/forks.ts";
import { BEACON_ROOTS_ADDRESS, CONSOLIDATION_REQUEST_ADDRESS, HISTORY_STORAGE_ADDRESS, WITHDRAWAL_REQUEST_ADDRESS } from "../chain/rules.ts";
import type { AddressHex, Block } from "../chain/types.ts";
import { CachedStorage } from "../state/cached-storage.ts";
import { MissingState, type AsyncStorage, type StateKey } from "../state/missing.ts";
import { BlockState } from "./block-state.ts";
import { applyBlockPrologue, applyTransaction, blockFork, environmentFor, finishBlock, newTotals, type BlockResult, type ExecuteOptions } from "./block.ts";
import { forkVm, type ForkVm } from "./evm.ts";
import { executeTransaction, type TxOutcome } from "./transaction.ts";

/**
 * Sequential execution on a pre-state that has to be fetched (a node over JSON-RPC).
 *
 * The AsyncStorage is wrapped in a CachedStorage; what the block names (senders, recipients,
 * access lists, beneficiary, withdrawals, system contracts) is loaded before execution; a
 * transaction that reads anything else throws MissingState, which loads the keys and runs the
 * transaction again from its start (its TxState is begun afresh; the block state holds only
 * the transactions before it). The loop below is executeBlockSequential's (src/vm/block.ts)
 * with that retry; the block-level steps are the same functions.
 */


/** A safety bound: every round loads at least one new key, so this is never reached by a sane block. */
const MAX_ROUNDS_PER_BLOCK = 1_000_000;

export interface AsyncExecution {
  result: BlockResult;
  /** Holds every location the execution read: `storage.snapshot()` is the pre-state. */
  storage: CachedStorage;
  /** Transaction runs cut short by MissingState (each followed by a load). */
  missRounds: number;
}

/** The locations a block names before any of its code runs. */
export function blockKeys(block: Block, fork: Fork): StateKey[] {
  const addresses = new Set<AddressHex>([block.header.coinbase]);
  const keys: StateKey[] = [];
  for (const tx of block.transactions) {
    addresses.add(tx.from);
    if (tx.to !== undefined) addresses.add(tx.to);
    for (const item of tx.accessList) {
      addresses.add(item.address);
      for (const slot of item.storageKeys) keys.push({ kind: "storage", address: item.address, slot });
    }
    // EIP-7702: the delegation targets are named; the authorities are recovered from their
    // signatures while the transaction runs, and loaded then.
    for (const auth of tx.authorizationList ?? []) addresses.add(auth.address);
  }
  for (const w of block.withdrawals ?? []) addresses.add(w.address);
  for (const u of block.uncles) addresses.add(u.coinbase);
  if (fork >= Fork.Cancun && block.header.parentBeaconBlockRoot !== undefined) addresses.add(BEACON_ROOTS_ADDRESS as AddressHex);
  if (fork >= Fork.Prague) {
    for (const a of [HISTORY_STORAGE_ADDRESS, WITHDRAWAL_REQUEST_ADDRESS, CONSOLIDATION_REQUEST_ADDRESS]) addresses.add(a as AddressHex);
  }
  if (block.header.number === DAO_FORK_BLOCK && fork >= Fork.Dao && fork < Fork.TangerineWhistle) {
    for (const a of [...DAO_DRAINED_ACCOUNTS, DAO_REFUND_CONTRACT]) addresses.add(a as AddressHex);
  }
  return [...[...addresses].map((address): StateKey => ({ kind: "account", address })), ...keys];
}

/** After a transaction was cut short inside the interpreter, drop its half-done call state. */
function resetInterpreter(vm: ForkVm): void {
  const evm = vm.evm as unknown as { transientStorage: { constructor: new () => unknown } };
  evm.transientStorage = new evm.transientStorage.constructor() as never;
}

export async function executeBlockOnAsyncStorage(block: Block, source: AsyncStorage | CachedStorage, options: ExecuteOptions = {}): Promise<AsyncExecution> {
  const storage = source instanceof CachedStorage ? source : new CachedStorage(source);
  const fork = blockFork(block, options);
  const env = environmentFor(block, fork);
  const vm = await forkVm(fork);
  let rounds = 0;
  const loadMissing = async (e: unknown): Promise<void> => {
    if (!(e instanceof MissingState)) throw e;
    if (++rounds > MAX_ROUNDS_PER_BLOCK) throw new Error(`block ${block.header.number}: more than ${MAX_ROUNDS_PER_BLOCK} state loads`);
    const before = storage.loadedKeys;
    await storage.load(e.keys);
    if (storage.loadedKeys === before) throw new Error(`MissingState for keys already loaded: ${e.message}`);
  };

  await storage.load(blockKeys(block, fork));

  // The block-level system calls (Prague's prologue and requests) read what they read through
  // the interpreter and write as they go: a miss there runs the whole block again, with what
  // was loaded so far kept (rare: the system contracts are few and small).
  for (;;) {
    try {
      return { result: await attempt(), storage, missRounds: rounds };
    } catch (e) {
      resetInterpreter(vm);
      await loadMissing(e);
    }
  }

  async function attempt(): Promise<BlockResult> {
    const state = new BlockState(storage, fork >= Fork.SpuriousDragon);
    if (!options.transactionsOnly) await applyBlockPrologue(block, fork, state, storage);

    const totals = newTotals();
    for (const tx of block.transactions) {
      let outcome: TxOutcome;
      for (;;) {
        try {
          const pending = executeTransaction(vm, env, tx, state, block.header.gasLimit - totals.gasUsed);
          outcome = pending instanceof Promise ? await pending : pending;
          break;
        } catch (e) {
          resetInterpreter(vm);
          await loadMissing(e);
        }
      }
      // Applying reads the pre-state of every account written (and credited): load them first,
      // so that the block state never sees a miss half-way through an update.
      const touched: StateKey[] = [...outcome.writes.accounts.keys(), env.coinbase].map((address) => ({ kind: "account", address }));
      for (const credit of outcome.writes.credits) touched.push({ kind: "account", address: credit.address });
      await storage.load(touched);
      applyTransaction(state, env, tx, outcome, totals);
    }
    // Rewards and withdrawals credit accounts named by the block (loaded up front).
    return finishBlock(block, fork, options, state, totals.receipts, totals.gasUsed, totals.blobGasUsed, totals.bloom);
  }
}
