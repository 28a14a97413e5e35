import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidBlockError } from "./errors.ts";
import type { Log } from "./receipts.ts";
import { MAINNET_DEPOSIT_CONTRACT_ADDRESS } from "./rules.ts";
import type { Hex } from "./types.ts";

/**
 * EIP-7685 execution-layer requests (Prague): deposits (EIP-6110, type 0) read from the deposit
 * contract's logs, withdrawal requests (EIP-7002, type 1) and consolidations (EIP-7251, type 2)
 * returned by the system calls at the end of the block.
 */

export const DEPOSIT_REQUEST_TYPE = 0x00;
export const WITHDRAWAL_REQUEST_TYPE = 0x01;
export const CONSOLIDATION_REQUEST_TYPE = 0x02;

/** keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)"). */
const DEPOSIT_EVENT_TOPIC = "0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5";
const DEPOSIT_CONTRACT = hexToBytes(MAINNET_DEPOSIT_CONTRACT_ADDRESS);

export interface Request {
  type: number;
  data: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The DepositEvent's ABI encoding: five dynamic `bytes` (pubkey 48, withdrawal credentials 32,
 * amount 8, signature 96, index 8), always at the same offsets. Anything else is an invalid
 * block (the contract cannot emit it; EIP-6110 makes a client check it).
 */
const DEPOSIT_FIELDS: [offset: number, size: number][] = [
  [160, 48],
  [256, 32],
  [320, 8],
  [384, 96],
  [512, 8],
];
const DEPOSIT_EVENT_LENGTH = 576;

function word(data: Uint8Array, at: number): bigint {
  return BigInt(bytesToHex(data.subarray(at, at + 32)));
}

function depositData(data: Uint8Array): Uint8Array {
  if (data.length !== DEPOSIT_EVENT_LENGTH) {
    throw new InvalidBlockError("INVALID_DEPOSIT_EVENT_LAYOUT", `deposit event data is ${data.length} bytes, not ${DEPOSIT_EVENT_LENGTH}`);
  }
  const parts: Uint8Array[] = [];
  DEPOSIT_FIELDS.forEach(([offset, size], i) => {
    if (word(data, i * 32) !== BigInt(offset)) throw new InvalidBlockError("INVALID_DEPOSIT_EVENT_LAYOUT", `field ${i} is not at offset ${offset}`);
    if (word(data, offset) !== BigInt(size)) throw new InvalidBlockError("INVALID_DEPOSIT_EVENT_LAYOUT", `field ${i} is not ${size} bytes long`);
    parts.push(data.subarray(offset + 32, offset + 32 + size));
  });
  const out = new Uint8Array(192);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The deposit requests of a block: every DepositEvent of the deposit contract, in log order. */
export function depositRequests(logs: Iterable<Log>): Uint8Array {
  const deposits: Uint8Array[] = [];
  for (const log of logs) {
    if (!sameBytes(log.address, DEPOSIT_CONTRACT) || log.topics.length === 0) continue;
    if (bytesToHex(log.topics[0]!) !== DEPOSIT_EVENT_TOPIC) continue;
    deposits.push(depositData(log.data));
  }
  const out = new Uint8Array(deposits.length * 192);
  deposits.forEach((d, i) => out.set(d, i * 192));
  return out;
}

/** EIP-7685: sha256 of the sha256 of each non-empty request list (type byte ‖ data), in type order. */
export function requestsHash(requests: Request[]): Hex {
  const hashes: Uint8Array[] = [];
  for (const r of requests) {
    if (r.data.length === 0) continue;
    const typed = new Uint8Array(r.data.length + 1);
    typed[0] = r.type;
    typed.set(r.data, 1);
    hashes.push(sha256(typed));
  }
  const all = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => all.set(h, i * 32));
  return bytesToHex(sha256(all)) as Hex;
}
