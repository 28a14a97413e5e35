import type { AddressHex, Hex } from "../chain/types.ts";
import { DELTA_WORDS, ReadResult, ReadSet, ReadStatus, VALUE_WORDS, applyDelta, type MultiVersionMemory } from "../mv/index.ts";
import { wordsToBigInt } from "../shm/words.ts";
import type { AccountInfo } from "../state/types.ts";
import type { StateSource } from "../vm/source.ts";
import type { CodeStore } from "./code-store.ts";
import type { LocationIds } from "./location-ids.ts";
import { codeHashOfHandle, readAccountValue, type PreStateReader } from "./pre-state.ts";
import { NONCE_WORD, accountExists, decodeCodeHash, readU256 } from "./values.ts";

/** Thrown out of the EVM when a read hits an ESTIMATE: the transaction must wait for `blockingTx`. */
export class ReadBlocked {
  constructor(
    readonly blockingTx: number,
    /** The location whose ESTIMATE stopped the read. */
    readonly locId: number,
  ) {}
}

/**
 * The state transaction `txIdx` sees in a parallel run: the highest version written by a lower
 * transaction in the multi-version memory, else the pre-state. Every read is recorded (once:
 * TxState caches what it read) so that validation can tell whether it is still what the
 * transaction would read now.
 */
export class MvStateSource implements StateSource {
  txIdx = 0;
  readonly reads = new ReadSet();
  private readonly result = new ReadResult();
  private readonly scratch = new Uint32Array(VALUE_WORDS);
  private readonly delta = new Uint32Array(DELTA_WORDS);
  private deltaFlags = 0;

  constructor(
    private readonly mv: MultiVersionMemory,
    private readonly base: PreStateReader,
    private readonly codes: CodeStore,
    private readonly ids: LocationIds,
    /** Pre-state accounts with storage but neither code nor nonce (see hasStorage). */
    private readonly isStorageOnly: (address: AddressHex) => boolean,
  ) {}

  begin(txIdx: number): void {
    this.txIdx = txIdx;
    this.reads.clear();
    if (this.wipes.size > 0) this.wipes.clear();
  }

  /** Reads one location; returns the status after recording it (ESTIMATE throws). */
  private read(locId: number): ReadStatus {
    const status = this.mv.read(locId, this.txIdx, this.result);
    if (status === ReadStatus.ESTIMATE) throw new ReadBlocked(this.result.blockingTx, locId);
    this.reads.add(locId, this.result);
    return status;
  }

  codeHash(address: AddressHex): Hex {
    if (this.read(this.ids.code(address)) === ReadStatus.VALUE) return decodeCodeHash(this.result.value);
    return codeHashOfHandle(this.base, this.ids.preStateHandle(address, this.base));
  }

  account(address: AddressHex, knownCodeHash?: Hex): AccountInfo | undefined {
    const ids = this.ids;
    const r = this.result;
    const words = this.scratch;
    // ACCOUNT first; copy what it returned before the CODE read reuses the result object.
    const accountStatus = this.read(ids.account(address));
    const fromMv = accountStatus === ReadStatus.VALUE;
    if (fromMv) words.set(r.value);
    else if (r.deltaCount > 0) {
      this.delta.set(r.delta);
      this.deltaFlags = r.deltaFlags;
    }
    const deltaCount = r.deltaCount;

    // A code hash the caller just read through codeHash() is recorded already: not read twice.
    let codeHash: Hex | undefined = knownCodeHash;
    if (codeHash === undefined && this.read(ids.code(address)) === ReadStatus.VALUE) codeHash = decodeCodeHash(r.value);

    if (!fromMv || codeHash === undefined) {
      // The pre-state's account entry is in the value layout (values.ts): its words are the value.
      const handle = this.ids.preStateHandle(address, this.base);
      codeHash ??= codeHashOfHandle(this.base, handle);
      if (!fromMv) {
        readAccountValue(this.base, handle, words);
        if (deltaCount > 0) applyDelta(words, this.delta, this.deltaFlags);
      }
    }
    if (!accountExists(words, codeHash)) return undefined;
    return { balance: wordsToBigInt(words, 0, 8), nonce: wordsToBigInt(words, NONCE_WORD, 2), codeHash };
  }

  /**
   * Before Cancun a SELFDESTRUCT wipes a contract's storage. A transaction that wipes writes
   * WIPE(address); a storage read first reads the account's WIPE (the highest lower wipe, once
   * per transaction and address), then the slot: a slot last written before that wipe reads
   * as 0, and the pre-state's slots are gone once any lower transaction wiped. Both reads are
   * recorded, so a wipe appearing or moving below a reader invalidates it.
   */
  storage(address: AddressHex, slot: bigint): bigint {
    const wipedBy = this.wipesPossible ? this.lastWipe(address) : -1;
    const loc = this.ids.storage(address, slot);
    if (this.read(loc) === ReadStatus.VALUE) return this.result.txIdx >= wipedBy ? readU256(this.result.value, 0) : 0n;
    return wipedBy >= 0 ? 0n : this.base.storage(address, slot);
  }

  /** Set per block: whether transactions may wipe storage (forks before Cancun). */
  wipesPossible = false;
  private readonly wipes = new Map<AddressHex, number>();

  private lastWipe(address: AddressHex): number {
    let wipedBy = this.wipes.get(address);
    if (wipedBy === undefined) {
      wipedBy = this.read(this.ids.wipe(address)) === ReadStatus.VALUE ? this.result.txIdx : -1;
      this.wipes.set(address, wipedBy);
    }
    return wipedBy;
  }

  /** One object per code hash and thread: the interpreter memoises jump analysis per object. */
  private readonly codeCache = new Map<Hex, Uint8Array>();

  code(codeHash: Hex): Uint8Array {
    let code = this.codeCache.get(codeHash);
    if (code === undefined) {
      code = this.base.code(codeHash) ?? this.codes.get(codeHash);
      if (code === undefined) throw new Error(`code ${codeHash} is neither in the pre-state nor created in the block`);
      this.codeCache.set(codeHash, code);
    }
    return code;
  }

  /**
   * EIP-7610 asks whether an account without code and nonce holds storage. In a parallel run
   * only the pre-state can have put it there: storage is written by code running at the
   * address (then it has code, or a nonce once created), and wiping it makes the block fall
   * back to sequential. So the answer is a fact of the immutable pre-state: no read to record.
   */
  hasStorage(address: AddressHex): boolean {
    return this.isStorageOnly(address);
  }

  blockHash(number: bigint): Hex | undefined {
    return this.base.blockHash(number);
  }
}
