/**
 * State-test cases that cannot pass for a documented limitation of @ethereumjs/evm (not of
 * our transaction processing). Matched against the case name
 * `file::test::fork::d{data}g{gas}v{value}` (file relative to GeneralStateTests). Every skipped
 * case is reported with its reason and counted; keep this list short and precise.
 */
export interface Skip {
  pattern: RegExp;
  reason: string;
}

export const SKIPS: Skip[] = [];

/** The reason a case is skipped, or undefined when it runs. */
export function skipReason(caseName: string): string | undefined {
  for (const skip of SKIPS) if (skip.pattern.test(caseName)) return skip.reason;
  return undefined;
}
