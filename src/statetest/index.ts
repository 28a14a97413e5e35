/** The ethereum/tests GeneralStateTests runner, shared by `test/state-tests.test.ts` and `pevm statetest`. */
export {
  collectStateTestFiles,
  countResults,
  formatCounts,
  runStateTestFile,
  runStateTests,
  type CaseFilter,
  type CaseResult,
  type CaseStatus,
  type RunCounts,
  type RunMode,
  type RunOptions,
} from "./runner.ts";
export { SKIPS, SLOW, skipReason, type Skip } from "./skips.ts";
export { buildBlock, buildHeader, buildPreState, buildTransaction } from "./build.ts";
