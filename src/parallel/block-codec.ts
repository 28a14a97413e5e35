import { bytesToHexString, hexToBytesInto } from "../shm/words.ts";
import type { AccessListItem, AddressHex, Authorization, Block, BlockHeader, Hex, Transaction, Withdrawal } from "../chain/types.ts";

/**
 * A Block encoded into one SharedArrayBuffer, so every Worker gets it by receiving that
 * buffer and decodes only the transactions it executes (SharedBlockView).
 *
 * Layout (byte offsets; u32 are little-endian):
 *   0  u32 MAGIC ("PEVB")          4  u32 VERSION
 *   8  u32 transaction count       12 u32 byte offset of the transaction offset table
 *   16 u32 address count           20 u32 byte offset of the address table
 *   24 u32 byte offset of the header record (always 32)   28 u32 total byte length
 *   32 header record, then transaction records, then
 *      transaction offset table: (count + 1) u32, record i spans [table[i], table[i+1])
 *      address table: 20 bytes per distinct address; records name addresses by u32 index
 *
 * Field encodings inside records:
 *   q     quantity: u8 byte length (0..32) + minimal big-endian bytes; 0xff = undefined
 *   h32   32 raw bytes (hashes)
 *   addr  u32 address-table index
 *   bytes u32 length + raw bytes; length 0xffffffff = undefined
 *   opt   u8 present flag, then the field when 1
 *
 * Header record: number q, hash opt h32, parentHash h32, coinbase addr, timestamp q,
 *   gasLimit q, difficulty q, mixHash bytes, baseFeePerGas q, excessBlobGas q,
 *   blobGasUsed q, parentBeaconBlockRoot bytes, expected.gasUsed q,
 *   expected.receiptsRoot opt h32, expected.logsBloom bytes, expected.stateRoot opt h32,
 *   expected.requestsHash opt h32,
 *   uncles: u32 count x (number q, coinbase addr),
 *   withdrawals: u32 count (0xffffffff = undefined) x (index q, validatorIndex q, address addr, amount q),
 *   rlpSize q
 * Transaction record: type u8, flags u8 (1 hash, 2 to, 4 chainId, 8 authorizations), [hash h32], from addr,
 *   [to addr], nonce q, gasLimit q, value q, gasPrice q, maxFeePerGas q,
 *   maxPriorityFeePerGas q, [chainId q], data bytes,
 *   accessList: u32 count x (address addr, u32 key count x h32 key), maxFeePerBlobGas q,
 *   blobVersionedHashes: u32 count x h32,
 *   [authorizationList: u32 count x (chainId q, address addr, nonce q, yParity q, r q, s q)]
 * A transaction's index is its position.
 */

const MAGIC = 0x42564550; // "PEVB" read little-endian
const VERSION = 2;
const FIXED_HEADER_BYTES = 32;
const ABSENT_QUANTITY = 0xff;
const ABSENT_LENGTH = 0xffffffff;
const ADDRESS_BYTES = 20;
const HASH_BYTES = 32;
const FLAG_HASH = 1;
const FLAG_TO = 2;
const FLAG_CHAIN_ID = 4;
const FLAG_AUTHORIZATIONS = 8;
const MAX_EXACT = 0x1fffffffffffffn;
/** Per-thread scratch for bigint <-> big-endian bytes in 64-bit chunks (fewer bigint operations). */
const wideBytes = new Uint8Array(HASH_BYTES);
const wideView = new DataView(wideBytes.buffer);

class Writer {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  private readonly addressIndex = new Map<string, number>();
  readonly addresses: string[] = [];

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    const at = this.length;
    this.bytes[at] = value;
    this.bytes[at + 1] = value >>> 8;
    this.bytes[at + 2] = value >>> 16;
    this.bytes[at + 3] = value >>> 24;
    this.length += 4;
  }

  quantity(value: bigint | undefined): void {
    if (value === undefined) return this.u8(ABSENT_QUANTITY);
    if (value < 0n) throw new RangeError(`block codec: negative quantity ${value}`);
    this.reserve(1 + HASH_BYTES);
    if (value <= MAX_EXACT) {
      let n = Number(value);
      let byteLength = 0;
      for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) byteLength++;
      this.bytes[this.length] = byteLength;
      for (let i = byteLength; i >= 1; i--, n = Math.floor(n / 256)) this.bytes[this.length + i] = n % 256;
      this.length += 1 + byteLength;
      return;
    }
    // Big-endian 64-bit chunks into a 32-byte scratch, then the minimal tail of it.
    let rest = value;
    let start = HASH_BYTES;
    while (rest > 0n) {
      if (start === 0) throw new RangeError(`block codec: quantity over 256 bits: ${value}`);
      start -= 8;
      wideView.setBigUint64(start, BigInt.asUintN(64, rest));
      rest >>= 64n;
    }
    while (wideBytes[start] === 0) start++;
    this.bytes[this.length] = HASH_BYTES - start;
    this.bytes.set(wideBytes.subarray(start), this.length + 1);
    this.length += 1 + HASH_BYTES - start;
  }

  /** Exactly byteLength bytes, no length prefix. */
  rawHex(hex: string, byteLength: number): void {
    this.reserve(byteLength);
    hexToBytesInto(hex, this.bytes, this.length, byteLength);
    this.length += byteLength;
  }

  hash(hex: Hex): void {
    this.rawHex(hex, HASH_BYTES);
  }

  optHash(hex: Hex | undefined): void {
    this.u8(hex === undefined ? 0 : 1);
    if (hex !== undefined) this.hash(hex);
  }

  /** Validated when the address table is written (hexToBytesInto throws on non-hex). */
  address(address: AddressHex): void {
    let index = this.addressIndex.get(address);
    if (index === undefined) {
      index = this.addresses.length;
      this.addresses.push(address);
      this.addressIndex.set(address, index);
    }
    this.u32(index);
  }

  byteString(bytes: Uint8Array | undefined): void {
    if (bytes === undefined) return this.u32(ABSENT_LENGTH);
    this.u32(bytes.length);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  hexBytes(hex: Hex | undefined): void {
    if (hex === undefined) return this.u32(ABSENT_LENGTH);
    const byteLength = (hex.length - 2) >>> 1;
    this.u32(byteLength);
    this.reserve(byteLength);
    hexToBytesInto(hex, this.bytes, this.length, byteLength);
    this.length += byteLength;
  }

  patchU32(at: number, value: number): void {
    new DataView(this.bytes.buffer).setUint32(at, value, true);
  }
}

/** Encode a block into a new SharedArrayBuffer (layout above). */
export function encodeBlock(block: Block): SharedArrayBuffer {
  const w = new Writer();
  w.length = FIXED_HEADER_BYTES;
  writeHeader(w, block);
  const recordStarts: number[] = [];
  for (const tx of block.transactions) {
    recordStarts.push(w.length);
    writeTransaction(w, tx);
  }
  recordStarts.push(w.length);
  const offsetTable = w.length;
  for (const start of recordStarts) w.u32(start);
  const addressTable = w.length;
  for (const address of w.addresses) w.rawHex(address, ADDRESS_BYTES);
  const total = w.length;
  w.patchU32(0, MAGIC);
  w.patchU32(4, VERSION);
  w.patchU32(8, block.transactions.length);
  w.patchU32(12, offsetTable);
  w.patchU32(16, w.addresses.length);
  w.patchU32(20, addressTable);
  w.patchU32(24, FIXED_HEADER_BYTES);
  w.patchU32(28, total);
  const shared = new SharedArrayBuffer(total);
  new Uint8Array(shared).set(w.bytes.subarray(0, total));
  return shared;
}

function writeHeader(w: Writer, block: Block): void {
  const h = block.header;
  w.quantity(h.number);
  w.optHash(h.hash);
  w.hash(h.parentHash);
  w.address(h.coinbase);
  w.quantity(h.timestamp);
  w.quantity(h.gasLimit);
  w.quantity(h.difficulty);
  w.byteString(h.mixHash);
  w.quantity(h.baseFeePerGas);
  w.quantity(h.excessBlobGas);
  w.quantity(h.blobGasUsed);
  w.byteString(h.parentBeaconBlockRoot);
  w.quantity(h.expected.gasUsed);
  w.optHash(h.expected.receiptsRoot);
  w.hexBytes(h.expected.logsBloom);
  w.optHash(h.expected.stateRoot);
  w.optHash(h.expected.requestsHash);
  w.u32(block.uncles.length);
  for (const uncle of block.uncles) {
    w.quantity(uncle.number);
    w.address(uncle.coinbase);
  }
  if (block.withdrawals === undefined) {
    w.u32(ABSENT_LENGTH);
  } else {
    w.u32(block.withdrawals.length);
    for (const wd of block.withdrawals) {
      w.quantity(wd.index);
      w.quantity(wd.validatorIndex);
      w.address(wd.address);
      w.quantity(wd.amount);
    }
  }
  w.quantity(block.rlpSize === undefined ? undefined : BigInt(block.rlpSize));
}

function writeTransaction(w: Writer, tx: Transaction): void {
  w.u8(tx.type);
  w.u8(
    (tx.hash !== undefined ? FLAG_HASH : 0) |
      (tx.to !== undefined ? FLAG_TO : 0) |
      (tx.chainId !== undefined ? FLAG_CHAIN_ID : 0) |
      (tx.authorizationList !== undefined ? FLAG_AUTHORIZATIONS : 0),
  );
  if (tx.hash !== undefined) w.hash(tx.hash);
  w.address(tx.from);
  if (tx.to !== undefined) w.address(tx.to);
  w.quantity(tx.nonce);
  w.quantity(tx.gasLimit);
  w.quantity(tx.value);
  w.quantity(tx.gasPrice);
  w.quantity(tx.maxFeePerGas);
  w.quantity(tx.maxPriorityFeePerGas);
  if (tx.chainId !== undefined) w.quantity(tx.chainId);
  w.byteString(tx.data);
  w.u32(tx.accessList.length);
  for (const item of tx.accessList) {
    w.address(item.address);
    w.u32(item.storageKeys.length);
    for (const key of item.storageKeys) w.hash(quantityToHash(key));
  }
  w.quantity(tx.maxFeePerBlobGas);
  w.u32(tx.blobVersionedHashes.length);
  for (const hash of tx.blobVersionedHashes) w.hash(hash);
  if (tx.authorizationList !== undefined) {
    w.u32(tx.authorizationList.length);
    for (const auth of tx.authorizationList) {
      w.quantity(auth.chainId);
      w.address(auth.address);
      w.quantity(auth.nonce);
      w.quantity(auth.yParity);
      w.quantity(auth.r);
      w.quantity(auth.s);
    }
  }
}

function quantityToHash(value: bigint): Hex {
  if (value < 0n || value >= 1n << 256n) throw new RangeError(`block codec: storage key out of range: ${value}`);
  return `0x${value.toString(16).padStart(64, "0")}` as Hex;
}

/** Decodes fields from a position; one per view, not shared between threads. */
class Reader {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    return this.bytes[this.at++];
  }

  u32(): number {
    const b = this.bytes;
    const at = this.at;
    this.at += 4;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  quantity(): bigint {
    const q = this.optQuantity();
    if (q === undefined) throw new Error(`block codec: unexpected absent quantity at byte ${this.at - 1}`);
    return q;
  }

  optQuantity(): bigint | undefined {
    const b = this.bytes;
    const byteLength = b[this.at++];
    if (byteLength === ABSENT_QUANTITY) return undefined;
    const end = this.at + byteLength;
    // Up to 6 bytes are exact in a double; wider values go 8 bytes per bigint operation.
    const head = byteLength - 8 * Math.max(0, Math.ceil(byteLength / 8) - 1);
    let value: bigint;
    if (head <= 6) {
      let n = 0;
      for (const headEnd = this.at + head; this.at < headEnd; this.at++) n = n * 256 + b[this.at];
      value = BigInt(n);
    } else {
      wideView.setBigUint64(0, 0n);
      wideBytes.set(b.subarray(this.at, this.at + head), 8 - head);
      value = wideView.getBigUint64(0);
      this.at += head;
    }
    for (; this.at < end; this.at += 8) value = (value << 64n) | this.view.getBigUint64(this.at);
    return value;
  }

  hash(): Hex {
    const start = this.at;
    this.at += HASH_BYTES;
    return bytesToHexString(this.bytes, start, this.at);
  }

  optHash(): Hex | undefined {
    return this.u8() === 1 ? this.hash() : undefined;
  }

  /** A private copy: hashing and TextDecoder-style APIs reject views of shared memory. */
  byteString(): Uint8Array | undefined {
    const length = this.u32();
    if (length === ABSENT_LENGTH) return undefined;
    const start = this.at;
    this.at += length;
    return this.bytes.slice(start, this.at);
  }

  hexBytes(): Hex | undefined {
    const length = this.u32();
    if (length === ABSENT_LENGTH) return undefined;
    const start = this.at;
    this.at += length;
    return bytesToHexString(this.bytes, start, this.at);
  }
}

/**
 * Lazy reader of an encoded block: the header on first use, each transaction on first
 * transaction(i) (then cached: re-executions reuse the same immutable object).
 */
export class SharedBlockView {
  readonly transactionCount: number;
  private readonly bytes: Uint8Array;
  private readonly reader: Reader;
  private readonly offsetTable: number;
  private readonly addressTable: number;
  private readonly addressCache: (AddressHex | undefined)[];
  private readonly transactionCache: (Transaction | undefined)[];
  private decodedHeader: { header: BlockHeader; uncles: Block["uncles"]; withdrawals: Withdrawal[] | undefined; rlpSize: number | undefined } | undefined;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.bytes = new Uint8Array(buffer);
    const fixed = new DataView(buffer, 0, FIXED_HEADER_BYTES);
    if (buffer.byteLength < FIXED_HEADER_BYTES || fixed.getUint32(0, true) !== MAGIC || fixed.getUint32(4, true) !== VERSION) {
      throw new Error("not an encoded block (bad magic or version)");
    }
    this.transactionCount = fixed.getUint32(8, true);
    this.offsetTable = fixed.getUint32(12, true);
    this.addressTable = fixed.getUint32(20, true);
    this.addressCache = new Array(fixed.getUint32(16, true));
    this.transactionCache = new Array(this.transactionCount);
    this.reader = new Reader(this.bytes);
  }

  get header(): BlockHeader {
    return this.headerParts().header;
  }

  get uncles(): Block["uncles"] {
    return this.headerParts().uncles;
  }

  get withdrawals(): Withdrawal[] | undefined {
    return this.headerParts().withdrawals;
  }

  transaction(index: number): Transaction {
    if (!(index >= 0 && index < this.transactionCount)) throw new RangeError(`transaction ${index} of ${this.transactionCount}`);
    let tx = this.transactionCache[index];
    if (tx === undefined) {
      this.reader.at = this.u32At(this.offsetTable + 4 * index);
      tx = this.readTransaction(index);
      this.transactionCache[index] = tx;
    }
    return tx;
  }

  transactions(): Transaction[] {
    return Array.from({ length: this.transactionCount }, (_, i) => this.transaction(i));
  }

  toBlock(): Block {
    const { header, uncles, withdrawals, rlpSize } = this.headerParts();
    return { header, transactions: this.transactions(), uncles, withdrawals, ...(rlpSize !== undefined ? { rlpSize } : {}) };
  }

  private u32At(at: number): number {
    const b = this.bytes;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  private address(): AddressHex {
    const index = this.reader.u32();
    let address = this.addressCache[index];
    if (address === undefined) {
      const start = this.addressTable + index * ADDRESS_BYTES;
      address = bytesToHexString(this.bytes, start, start + ADDRESS_BYTES);
      this.addressCache[index] = address;
    }
    return address;
  }

  private headerParts(): NonNullable<SharedBlockView["decodedHeader"]> {
    if (this.decodedHeader !== undefined) return this.decodedHeader;
    const r = this.reader;
    r.at = FIXED_HEADER_BYTES;
    const header: BlockHeader = {
      number: r.quantity(),
      hash: r.optHash(),
      parentHash: r.hash(),
      coinbase: this.address(),
      timestamp: r.quantity(),
      gasLimit: r.quantity(),
      difficulty: r.quantity(),
      mixHash: r.byteString() as Uint8Array,
      baseFeePerGas: r.optQuantity(),
      excessBlobGas: r.optQuantity(),
      blobGasUsed: r.optQuantity(),
      parentBeaconBlockRoot: r.byteString(),
      expected: {
        gasUsed: r.optQuantity(),
        receiptsRoot: r.optHash(),
        logsBloom: r.hexBytes(),
        stateRoot: r.optHash(),
      },
    };
    const requestsHash = r.optHash();
    if (requestsHash !== undefined) header.expected.requestsHash = requestsHash;
    const uncles: Block["uncles"] = [];
    for (let n = r.u32(); n > 0; n--) uncles.push({ number: r.quantity(), coinbase: this.address() });
    let withdrawals: Withdrawal[] | undefined;
    const withdrawalCount = r.u32();
    if (withdrawalCount !== ABSENT_LENGTH) {
      withdrawals = [];
      for (let n = withdrawalCount; n > 0; n--) {
        withdrawals.push({ index: r.quantity(), validatorIndex: r.quantity(), address: this.address(), amount: r.quantity() });
      }
    }
    const rlpSize = r.optQuantity();
    this.decodedHeader = { header, uncles, withdrawals, rlpSize: rlpSize === undefined ? undefined : Number(rlpSize) };
    return this.decodedHeader;
  }

  private readTransaction(index: number): Transaction {
    const r = this.reader;
    const type = r.u8();
    const flags = r.u8();
    const hash = flags & FLAG_HASH ? r.hash() : undefined;
    const from = this.address();
    const to = flags & FLAG_TO ? this.address() : undefined;
    const nonce = r.quantity();
    const gasLimit = r.quantity();
    const value = r.quantity();
    const gasPrice = r.quantity();
    const maxFeePerGas = r.quantity();
    const maxPriorityFeePerGas = r.quantity();
    const chainId = flags & FLAG_CHAIN_ID ? r.quantity() : undefined;
    const data = r.byteString() as Uint8Array;
    const accessList: AccessListItem[] = [];
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address();
      const storageKeys: bigint[] = [];
      for (let k = r.u32(); k > 0; k--) storageKeys.push(BigInt(r.hash()));
      accessList.push({ address, storageKeys });
    }
    const maxFeePerBlobGas = r.quantity();
    const blobVersionedHashes: Hex[] = [];
    for (let n = r.u32(); n > 0; n--) blobVersionedHashes.push(r.hash());
    let authorizationList: Authorization[] | undefined;
    if (flags & FLAG_AUTHORIZATIONS) {
      authorizationList = [];
      for (let n = r.u32(); n > 0; n--) {
        authorizationList.push({ chainId: r.quantity(), address: this.address(), nonce: r.quantity(), yParity: r.quantity(), r: r.quantity(), s: r.quantity() });
      }
    }
    return {
      index,
      type,
      hash,
      from,
      to,
      nonce,
      gasLimit,
      value,
      data,
      gasPrice,
      maxFeePerGas,
      maxPriorityFeePerGas,
      chainId,
      accessList,
      maxFeePerBlobGas,
      blobVersionedHashes,
      ...(authorizationList !== undefined ? { authorizationList } : {}),
    };
  }
}

/** Eager decode of everything; workers should prefer SharedBlockView. */
export function decodeBlock(buffer: SharedArrayBuffer): Block {
  return new SharedBlockView(buffer).toBlock();
}
