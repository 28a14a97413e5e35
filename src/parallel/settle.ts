// Settling a parallel run on the calling thread, in block order: receipts with the checks that
// depend on earlier transactions, and the final value of every written location.
import { InvalidTransactionError } from "../chain/errors.ts";
import type { Fork } from "../chain/forks.ts";
import { logsBloom, orBloom, type Log, type Receipt } from "../chain/receipts.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { KEY_ADDRESS, KEY_SLOT, KEY_WORDS, LocationKind, ReadResult, ReadStatus, VALUE_WORDS, type MultiVersionMemory } from "../mv/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import { wordsToAddress, wordsToBigInt } from "../shm/words.ts";
import { EMPTY_CODE_HASH, type AccountChange, type StateChanges } from "../state/types.ts";
import { REASONS_ALONE, checkBlockBlobGas, checkBlockGasAvailable } from "../chain/validity.ts";
import type { CodeStore } from "./code-store.ts";
import { AccountRows, NO_CODE_REF, ROW_CODE_REF, ROW_VALUE, ROW_WRITTEN, RowFiller, type HandleOf, type SettleRows } from "./settle-rows.ts";
import { codeHashOfHandle, readAccountValue, type PreStateReader } from "./pre-state.ts";
import type { TxDetails, WorkerReport } from "./protocol.ts";
import { HAS_DETAILS, STATUS_SUCCESS, type TxResults } from "./results.ts";
import { CODE_DELETED_WORD, NONCE_WORD, accountExists, decodeCodeHash } from "./values.ts";

export function finalDetails(reports: WorkerReport[], results: TxResults, scheduler: Scheduler, txCount: number): (TxDetails | undefined)[] {
  for (let i = 0; i < txCount; i++) {
    const expected = scheduler.txStatus(i).incarnation;
    if (results.incarnation(i) !== expected) {
      throw new Error(`parallel run lost the result of transaction ${i} (incarnation ${expected})`);
    }
  }
  const finals: (TxDetails | undefined)[] = new Array(txCount);
  for (const r of reports) {
    for (const d of r.details) {
      if (d.incarnation === results.incarnation(d.tx)) finals[d.tx] = d;
    }
  }
  for (let i = 0; i < txCount; i++) {
    if ((results.flags(i) & HAS_DETAILS) !== 0 && finals[i] === undefined) {
      throw new Error(`parallel run lost the logs of transaction ${i}`);
    }
  }
  return finals;
}

const NO_LOGS: Log[] = [];

/** Receipts in block order, with the checks that depend on the transactions before (gas, blobs). */
export function settleReceipts(block: Block, fork: Fork, results: TxResults, details: (TxDetails | undefined)[]) {
  const receipts: Receipt[] = [];
  const bloom = new Uint8Array(256);
  let gasUsed = 0n;
  let blobGasUsed = 0n;
  for (const tx of block.transactions) {
    const d = details[tx.index];
    const invalid = d?.invalid;
    // The same error, for the same transaction, as sequential execution would raise: workers
    // check everything but the gas the block has left (chain/validity.ts keeps the order).
    if (invalid && REASONS_ALONE.has(invalid.reason)) {
      throw new InvalidTransactionError(tx.index, invalid.reason, invalid.detail);
    }
    checkBlockGasAvailable(tx, block.header.gasLimit - gasUsed);
    if (invalid) throw new InvalidTransactionError(tx.index, invalid.reason, invalid.detail);
    const txGas = results.gasUsed(tx.index);
    gasUsed += txGas;
    const txBlobGas = tx.type === 3 ? results.blobGasUsed(tx.index) : 0n;
    blobGasUsed += txBlobGas;
    if (txBlobGas !== 0n) checkBlockBlobGas(fork, blobGasUsed, tx.index);
    const logs = d?.logs ?? NO_LOGS;
    const receiptBloom = d?.bloom ?? logsBloom(logs); // no logs: NO_LOGS_BLOOM
    if (logs.length > 0) orBloom(bloom, receiptBloom);
    receipts.push({
      type: tx.type,
      status: (results.flags(tx.index) & STATUS_SUCCESS) !== 0 ? 1 : 0,
      gasUsed: txGas,
      cumulativeGasUsed: gasUsed,
      logs: logs.length === 0 ? [] : logs,
      logsBloom: receiptBloom,
      contractAddress: d?.contractAddress,
    });
  }
  return { receipts, gasUsed, blobGasUsed, bloom };
}

/** What a block wrote at an address besides its ACCOUNT location (code, a wipe, slots). */
interface SettledExtras {
  codeHash?: Hex;
  /** The final code change was a self-destruct (the account may exist again, credited, without code). */
  codeDeleted?: boolean;
  slots?: Map<bigint, bigint>;
  /** Per slot, the transaction that wrote its final value (kept only while a wipe may drop it). */
  slotWriters?: Map<bigint, number>;
  /** The last transaction that wiped the account's storage (pre-Cancun), if any did. */
  wipedBy?: number;
}

const NO_EXTRAS: SettledExtras = {};

/** Where the settle finds what it needs besides the multi-version memory (engine.ts). */
export interface SettleInputs {
  /** ACCOUNT locations' addresses known as strings, by location id (prepare.ts, StaticLocations). */
  knownAddresses: readonly (AddressHex | undefined)[];
  /** The accounts' rows the workers fill (settle-rows.ts), when they can resolve pre-state handles. */
  sharedRows: SettleRows | undefined;
  /** How this thread resolves an account location to its pre-state handle. */
  handleOf: HandleOf;
}

/**
 * The final value of every location some transaction wrote, as per-account changes. Each
 * written location is walked once, and values go from shared words to bigints once (credits
 * are added to the pre-state's account words directly).
 *
 * Two passes, because an account's change needs its code (whether it exists depends on it):
 * first the CODE, WIPE and STORAGE locations, grouped by address; then the ACCOUNT locations,
 * each of which is its address's only one, so that a block of plain transfers (nothing but
 * ACCOUNT locations) builds each change straight from its row: no grouping map, and the
 * pre-state's account found by the key's words, not by its hex. The rows (final words merged
 * with the pre-state) are filled by the workers ahead of this thread where they can
 * (settle-rows.ts). Addresses with extras but no ACCOUNT write come last.
 */
export function settleState(mv: MultiVersionMemory, base: PreStateReader, codes: CodeStore, wipesPossible: boolean, inputs: SettleInputs): StateChanges {
  const result = new ReadResult();
  const locations = mv.locations;
  const count = locations.count;
  const key = new Uint32Array(KEY_WORDS);
  const extras = new Map<AddressHex, SettledExtras>();
  const accountIds = new Int32Array(count);
  let accounts = 0;
  for (let id = 0; id < count; id++) {
    const kind = locations.kindOf(id);
    if (kind === LocationKind.ACCOUNT) {
      accountIds[accounts++] = id;
      continue;
    }
    const status = mv.finalValue(id, result);
    // BASE without deltas: nobody wrote it (only read it, or wrote and then un-wrote it).
    if (status === ReadStatus.BASE && result.deltaCount === 0) continue;
    locations.keyWordsOf(id, key);
    const address = wordsToAddress(key, KEY_ADDRESS);
    let e = extras.get(address);
    if (e === undefined) extras.set(address, (e = {}));
    if (kind === LocationKind.CODE) {
      e.codeHash = decodeCodeHash(result.value);
      e.codeDeleted = result.value[CODE_DELETED_WORD] === 1;
    } else if (kind === LocationKind.WIPE) {
      e.wipedBy = result.txIdx;
    } else {
      const slot = wordsToBigInt(key, KEY_SLOT, 8);
      (e.slots ??= new Map()).set(slot, wordsToBigInt(result.value, 0, 8));
      // Writers matter only where a wipe may drop slots (before Cancun).
      if (wipesPossible) (e.slotWriters ??= new Map()).set(slot, result.txIdx);
    }
  }

  const changes: StateChanges = new Map();
  const words = new Uint32Array(VALUE_WORDS);
  const rows = new AccountRows(inputs.sharedRows, new RowFiller(mv, base, inputs.handleOf));
  const knownAddresses = inputs.knownAddresses;
  for (let i = 0; i < accounts; i++) {
    const id = accountIds[i]!;
    const at = rows.rowOf(id);
    const values = rows.values;
    if (values[at] !== ROW_WRITTEN) continue;
    const address = knownAddresses[id] ?? wordsToAddress(locations.keyWordsOf(id, key), KEY_ADDRESS);
    let e = NO_EXTRAS;
    if (extras.size > 0) {
      const found = extras.get(address);
      if (found !== undefined) {
        e = found;
        extras.delete(address);
      }
    }
    for (let w = 0; w < VALUE_WORDS; w++) words[w] = values[at + ROW_VALUE + w]!;
    const codeRef = values[at + ROW_CODE_REF]! | 0;
    const codeHash = e.codeHash ?? (codeRef === NO_CODE_REF ? EMPTY_CODE_HASH : base.codeHashOfRef(codeRef));
    changes.set(address, accountChange(base, codes, codeHash, words, e));
  }
  for (const [address, e] of extras) {
    const handle = base.accountHandle(address);
    readAccountValue(base, handle, words);
    changes.set(address, accountChange(base, codes, e.codeHash ?? codeHashOfHandle(base, handle), words, e));
  }
  return changes;
}

/** One account's change from its final ACCOUNT words, its final code hash and its other final locations. */
function accountChange(base: PreStateReader, codes: CodeStore, codeHash: Hex, words: Uint32Array, e: SettledExtras): AccountChange {
  let code: Uint8Array | undefined;
  // As the sequential block state: code a self-destruct removed is no code change to report.
  if (e.codeHash !== undefined && !e.codeDeleted) {
    code = codeHash === EMPTY_CODE_HASH ? new Uint8Array(0) : (codes.get(codeHash) ?? base.code(codeHash));
  }
  const exists = accountExists(words, codeHash);
  // A wipe drops every slot last written before it (as the sequential block state clears
  // them); the block state's result() reports the clear only where it wiped something.
  if (e.wipedBy !== undefined && e.slots !== undefined) {
    for (const [slot, writer] of e.slotWriters!) if (writer < e.wipedBy) e.slots.delete(slot);
  }
  return {
    deleted: !exists,
    balance: exists ? wordsToBigInt(words, 0, 8) : 0n,
    nonce: exists ? wordsToBigInt(words, NONCE_WORD, 2) : 0n,
    codeHash: exists ? codeHash : EMPTY_CODE_HASH,
    // As sequential BlockState: a deleted account carries no code.
    code: exists ? code : undefined,
    storageCleared: e.wipedBy !== undefined,
    storage: e.slots ?? new Map<bigint, bigint>(),
  };
}
