/**
 * Field-by-field comparison of two block results, so that a failing test says which
 * transaction, account or slot differs instead of printing two huge objects.
 */
import { bytesToHex } from "@ethereumjs/util";
import type { BlockResult, Receipt } from "../../src/execute.ts";
import type { AccountChange, StateChanges } from "../../src/state/types.ts";

const same = (a: unknown, b: unknown): boolean => Bun.deepEquals(a, b);

function show(value: unknown): string {
  if (value instanceof Uint8Array) return value.length > 40 ? `${bytesToHex(value.subarray(0, 40))}… (${value.length} bytes)` : bytesToHex(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Map) return `Map(${value.size})`;
  if (Array.isArray(value)) return `[${value.length} items]`;
  return String(value);
}

const RECEIPT_FIELDS: (keyof Receipt)[] = ["type", "status", "gasUsed", "cumulativeGasUsed", "logs", "logsBloom", "contractAddress"];
const ACCOUNT_FIELDS: (keyof AccountChange)[] = ["deleted", "balance", "nonce", "codeHash", "code", "storageCleared"];

function receiptDifferences(expected: Receipt[], actual: Receipt[], out: string[]): void {
  if (expected.length !== actual.length) out.push(`receipt count: expected ${expected.length}, got ${actual.length}`);
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    for (const field of RECEIPT_FIELDS) {
      const e = expected[i]![field];
      const a = actual[i]![field];
      if (same(e, a)) continue;
      if (field === "logs") out.push(`tx ${i} logs: expected ${(e as Receipt["logs"]).length} logs, got ${(a as Receipt["logs"]).length} (or contents differ)`);
      else out.push(`tx ${i} ${field}: expected ${show(e)}, got ${show(a)}`);
    }
  }
}

function accountDifferences(address: string, expected: AccountChange | undefined, actual: AccountChange | undefined, out: string[]): void {
  if (expected === undefined || actual === undefined) {
    out.push(`account ${address}: ${expected === undefined ? "changed only by the second run" : "missing from the second run's changes"}`);
    return;
  }
  for (const field of ACCOUNT_FIELDS) {
    if (!same(expected[field], actual[field])) out.push(`account ${address} ${field}: expected ${show(expected[field])}, got ${show(actual[field])}`);
  }
  const slots = new Set([...expected.storage.keys(), ...actual.storage.keys()]);
  for (const slot of slots) {
    const e = expected.storage.get(slot);
    const a = actual.storage.get(slot);
    if (e !== a) out.push(`account ${address} slot 0x${slot.toString(16)}: expected ${show(e)}, got ${show(a)}`);
  }
}

function stateDifferences(expected: StateChanges, actual: StateChanges, out: string[]): void {
  const addresses = new Set([...expected.keys(), ...actual.keys()]);
  for (const address of addresses) accountDifferences(address, expected.get(address), actual.get(address), out);
}

/**
 * Every way `actual` differs from `expected` (receipts incl. logs and cumulative gas, block
 * totals, post-state changes), as readable lines; empty when they are equal.
 */
export function resultDifferences(expected: BlockResult, actual: BlockResult): string[] {
  const out: string[] = [];
  for (const field of ["number", "fork", "gasUsed", "blobGasUsed", "logsBloom", "unrewardedUncles"] as const) {
    if (expected[field] !== actual[field]) out.push(`${field}: expected ${show(expected[field])}, got ${show(actual[field])}`);
  }
  receiptDifferences(expected.receipts, actual.receipts, out);
  stateDifferences(expected.changes, actual.changes, out);
  // The line-by-line checks above cover every field; this catches anything they might miss.
  if (out.length === 0 && !(same(expected.receipts, actual.receipts) && same(expected.changes, actual.changes))) {
    out.push("results differ (Bun.deepEquals) in a way the field checks did not name");
  }
  return out;
}

/** The first `limit` differences, one per line, for a failure message. */
export function describeDifferences(differences: string[], limit = 20): string {
  const shown = differences.slice(0, limit).join("\n  ");
  return differences.length > limit ? `${shown}\n  … and ${differences.length - limit} more` : shown;
}
