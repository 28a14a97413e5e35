// Settling a parallel run on the calling thread, in block order: receipts with the checks that
// depend on earlier transactions, and the final value of every written location.
import { InvalidTransactionError } from "../chain/errors.ts";
import type { Fork } from "../chain/forks.ts";
import { logsBloom, orBloom, type Log, type Receipt } from "../chain/receipts.ts";
import type { AddressHex, Block, Hex } from "../chain/types.ts";
import { KEY_ADDRESS, KEY_SLOT, KEY_WORDS, LocationKind, ReadResult, ReadStatus, VALUE_WORDS, applyDelta, type MultiVersionMemory } from "../mv/index.ts";
import type { Scheduler } from "../scheduler/index.ts";
import { wordsToAddress, wordsToBigInt } from "../shm/words.ts";
import { NO_ACCOUNT } from "../state/shared-storage.ts";
import { EMPTY_CODE_HASH, type StateChanges } from "../state/types.ts";
import { REASONS_ALONE, checkBlockBlobGas, checkBlockGasAvailable } from "../chain/validity.ts";
import type { CodeStore } from "./code-store.ts";
import type { PreStateReader } from "./pre-state.ts";
import type { TxDetails, WorkerReport } from "./protocol.ts";
import { HAS_DETAILS, STATUS_SUCCESS, type TxResults } from "./results.ts";
import { ACCOUNT_EXISTS, CODE_DELETED_WORD, FLAGS_WORD, NONCE_WORD, accountExists, decodeCodeHash } from "./values.ts";

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
const EMPTY_BLOOM = new Uint8Array(256);

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
    const receiptBloom = logs.length === 0 ? EMPTY_BLOOM : (d!.bloom ?? logsBloom(logs));
    if (logs.length > 0) orBloom(bloom, receiptBloom);
    receipts.push({
      type: tx.type,
      status: (results.flags(tx.index) & STATUS_SUCCESS) !== 0 ? 1 : 0,
      gasUsed: txGas,
      cumulativeGasUsed: gasUsed,
      logs: logs.length === 0 ? [] : logs,
      logsBloom: logs.length === 0 ? new Uint8Array(256) : receiptBloom,
      contractAddress: d?.contractAddress,
    });
  }
  return { receipts, gasUsed, blobGasUsed, bloom };
}

interface SettledAccount {
  /** The final ACCOUNT value when a transaction wrote it in full. */
  account?: Uint32Array;
  /** Otherwise the credits (DELTA entries) on top of the pre-state account. */
  delta?: Uint32Array;
  deltaFlags: number;
  codeHash?: Hex;
  slots?: Map<bigint, bigint>;
  /** Per slot, the transaction that wrote its final value (kept only while a wipe may drop it). */
  slotWriters?: Map<bigint, number>;
  /** The last transaction that wiped the account's storage (pre-Cancun), if any did. */
  wipedBy?: number;
  /** The final code change was a self-destruct (the account may exist again, credited, without code). */
  codeDeleted?: boolean;
}

/**
 * The final value of every location some transaction wrote, as per-account changes. Each
 * written location is walked once; values go from shared words to bigints once (no hex or
 * intermediate bigint), and credits are added to the pre-state's account words directly.
 */
export function settleState(mv: MultiVersionMemory, base: PreStateReader, codes: CodeStore, wipesPossible: boolean): StateChanges {
  const result = new ReadResult();
  const locations = mv.locations;
  const count = locations.count;
  const key = new Uint32Array(KEY_WORDS);
  const byAddress = new Map<AddressHex, SettledAccount>();
  for (let id = 0; id < count; id++) {
    const status = mv.finalValue(id, result);
    // BASE without deltas: nobody wrote it (only read it, or wrote and then un-wrote it).
    if (status === ReadStatus.BASE && result.deltaCount === 0) continue;
    locations.keyWordsOf(id, key);
    const address = wordsToAddress(key, KEY_ADDRESS);
    let a = byAddress.get(address);
    if (a === undefined) {
      a = { deltaFlags: 0 };
      byAddress.set(address, a);
    }
    const kind = key[0];
    if (kind === LocationKind.ACCOUNT) {
      if (status === ReadStatus.VALUE) a.account = result.value.slice();
      else {
        a.delta = result.delta.slice();
        a.deltaFlags = result.deltaFlags;
      }
    } else if (kind === LocationKind.CODE) {
      a.codeHash = decodeCodeHash(result.value);
      a.codeDeleted = result.value[CODE_DELETED_WORD] === 1;
    } else if (kind === LocationKind.WIPE) {
      a.wipedBy = result.txIdx;
    } else {
      const slot = wordsToBigInt(key, KEY_SLOT, 8);
      (a.slots ??= new Map()).set(slot, wordsToBigInt(result.value, 0, 8));
      // Writers matter only where a wipe may drop slots (before Cancun).
      if (wipesPossible) (a.slotWriters ??= new Map()).set(slot, result.txIdx);
    }
  }
  const changes: StateChanges = new Map();
  const words = new Uint32Array(VALUE_WORDS);
  for (const [address, a] of byAddress) {
    const handle = a.account === undefined || a.codeHash === undefined ? base.accountHandle(address) : NO_ACCOUNT;
    const codeHash = a.codeHash ?? (handle === NO_ACCOUNT ? EMPTY_CODE_HASH : base.codeHashOf(handle));
    let code: Uint8Array | undefined;
    // As the sequential block state: code a self-destruct removed is no code change to report.
    if (a.codeHash !== undefined && !a.codeDeleted) {
      code = codeHash === EMPTY_CODE_HASH ? new Uint8Array(0) : (codes.get(codeHash) ?? base.code(codeHash));
    }
    if (a.account !== undefined) words.set(a.account);
    else {
      if (handle === NO_ACCOUNT) words.fill(0);
      else {
        base.readAccount(handle, words, 0);
        words[FLAGS_WORD] = ACCOUNT_EXISTS;
      }
      if (a.delta !== undefined) applyDelta(words, a.delta, a.deltaFlags);
    }
    const exists = accountExists(words, codeHash);
    // A wipe drops every slot last written before it (as the sequential block state clears
    // them); the block state's result() reports the clear only where it wiped something.
    if (a.wipedBy !== undefined && a.slots !== undefined) {
      for (const [slot, writer] of a.slotWriters!) if (writer < a.wipedBy) a.slots.delete(slot);
    }
    changes.set(address, {
      deleted: !exists,
      balance: exists ? wordsToBigInt(words, 0, 8) : 0n,
      nonce: exists ? wordsToBigInt(words, NONCE_WORD, 2) : 0n,
      codeHash: exists ? codeHash : EMPTY_CODE_HASH,
      // As sequential BlockState: a deleted account carries no code.
      code: exists ? code : undefined,
      storageCleared: a.wipedBy !== undefined,
      storage: a.slots ?? new Map(),
    });
  }
  return changes;
}

