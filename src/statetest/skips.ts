/**
 * State-test cases the suite does not run, each with its reason. Patterns are matched against
 * the case name `file::test::fork::d{data}g{gas}v{value}` (file relative to GeneralStateTests).
 * Every case left out is reported with its reason and counted as skipped.
 */
export interface Skip {
  pattern: RegExp;
  reason: string;
}

/**
 * Cases that cannot pass for a documented limitation of @ethereumjs/evm (not of our
 * transaction processing). Keep this list short and precise.
 */
export const SKIPS: Skip[] = [
  {
    pattern: /^stTimeConsuming\/CALLBlake2f_MaxRounds\.json::/,
    reason:
      "BLAKE2 F with 2^32-1 rounds (EIP-152's maximum, paid for by the 10^10 gas limit): " +
      "@ethereumjs/evm's JavaScript precompile takes hours for 4.3 billion rounds",
  },
];

/**
 * Cases that pass but take minutes each in @ethereumjs/evm's interpreter (tight loops of
 * millions of opcodes). Left out of the default run to keep the suite minutes long;
 * `includeSlow` (PEVM_STATETEST_SLOW=1 in the test) runs them.
 */
export const SLOW: Skip[] = [
  {
    pattern: /^VMTests\/vmPerformance\/loopMul\.json::/,
    reason: "loops of 2-10 million 256-bit MULs: minutes per case in the interpreter",
  },
  {
    pattern: /^stTimeConsuming\/static_Call50000_sha256\.json::/,
    reason: "50,000 STATICCALLs hashing 50 kB each (2.5 GB of SHA-256): a minute per case",
  },
];

/** The reason a case is not run, or undefined when it runs. */
export function skipReason(caseName: string, includeSlow = false): string | undefined {
  for (const skip of SKIPS) if (skip.pattern.test(caseName)) return skip.reason;
  if (!includeSlow) for (const slow of SLOW) if (slow.pattern.test(caseName)) return `slow: ${slow.reason}`;
  return undefined;
}
