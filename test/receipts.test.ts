import { describe, expect, test } from "bun:test";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { logsBloom, type Log } from "../src/chain/receipts.ts";

/** The yellow paper's bloom, hashing every value (no cache). */
function referenceBloom(logs: Log[]): Uint8Array {
  const bloom = new Uint8Array(256);
  for (const value of logs.flatMap((l) => [l.address, ...l.topics])) {
    const hash = keccak_256(value);
    for (let i = 0; i < 6; i += 2) {
      const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
      bloom[255 - (bit >> 3)]! |= 1 << (bit & 7);
    }
  }
  return bloom;
}

const bytes = (length: number, fill: (i: number) => number) => Uint8Array.from({ length }, (_, i) => fill(i) & 0xff);

describe("logs bloom", () => {
  test("equals the uncached bloom for repeated values, values sharing a cache slot, and odd lengths", () => {
    const token = bytes(20, (i) => i * 7 + 1);
    const transfer = bytes(32, (i) => i * 13 + 5);
    // Same first byte, length and last three bytes: the same cache slot, different values.
    const a = bytes(32, (i) => (i === 10 ? 1 : 0));
    const b = bytes(32, (i) => (i === 10 ? 2 : 0));
    const long = bytes(40, (i) => i); // longer than a cached value
    const empty = new Uint8Array(0);
    const logs: Log[] = [
      { address: token, topics: [transfer, a], data: empty },
      { address: token, topics: [transfer, b, a], data: empty },
      { address: bytes(20, () => 0), topics: [long, empty, b], data: empty },
    ];
    for (let round = 0; round < 3; round++) {
      for (const subset of [logs, [logs[1]!], [logs[2]!, logs[0]!]]) expect(logsBloom(subset)).toEqual(referenceBloom(subset));
    }
    expect(logsBloom([])).toEqual(new Uint8Array(256));
  });
});
