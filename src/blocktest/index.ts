/** The execution-spec-tests blockchain-test runner, shared by `test/blockchain-tests.test.ts` and `pevm blocktest`. */
export {
  countBlocktests,
  formatBlocktestCounts,
  runBlocktestFile,
  runBlocktests,
  type BlocktestCounts,
  type BlocktestResult,
  type BlocktestStatus,
} from "./runner.ts";
export { BLOCKTEST_SKIPS, EXCEPTION_REASONS, HEADER_ONLY_EXCEPTIONS, acceptedReasons, headerOnlyReason } from "./exceptions.ts";
