export { EXCEPTION_REASONS, acceptedReasons } from "../statetest/exceptions.ts";

/**
 * Expected exceptions that are purely about header fields pevm does not validate (it executes
 * a block's transactions against its header, it does not verify the header against the parent
 * beyond what execution needs). A block expected to fail only for one of these is counted
 * apart, as "header-only", and not executed. None of the vendored tests uses one today; the
 * list says which names would be treated so.
 */
export const HEADER_ONLY_EXCEPTIONS: Record<string, string> = {
  "BlockException.UNKNOWN_PARENT": "the parent hash is not checked against the previous block",
  "BlockException.INVALID_DIFFICULTY": "difficulty is not validated",
  "BlockException.INVALID_GASLIMIT": "the gas limit's bound against the parent's is not validated",
  "BlockException.INVALID_BASEFEE_PER_GAS": "the base fee is not recomputed from the parent",
  "BlockException.EXTRA_DATA_TOO_BIG": "extra data is not validated",
  "BlockException.INVALID_BLOCK_TIMESTAMP_OLDER_THAN_PARENT": "timestamps are not validated",
  "BlockException.INVALID_WITHDRAWALS_ROOT": "the withdrawals root is not recomputed",
  "BlockException.INVALID_TRANSACTIONS_ROOT": "the transactions root is not recomputed",
};

/** Why the block is not executed, when every name it expects is a header-only one. */
export function headerOnlyReason(expectException: string): string | undefined {
  const names = expectException.split("|").map((n) => n.trim());
  if (!names.every((n) => HEADER_ONLY_EXCEPTIONS[n] !== undefined)) return undefined;
  return names.map((n) => `${n}: ${HEADER_ONLY_EXCEPTIONS[n]}`).join("; ");
}

/**
 * Blockchain tests pevm does not run, by name pattern (`file::test`), each with its reason.
 * Every one is reported and counted as skipped.
 */
export const BLOCKTEST_SKIPS: { pattern: RegExp; reason: string }[] = [];

export function blocktestSkipReason(name: string): string | undefined {
  for (const s of BLOCKTEST_SKIPS) if (s.pattern.test(name)) return s.reason;
  return undefined;
}
