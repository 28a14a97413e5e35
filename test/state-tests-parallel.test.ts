// Every GeneralStateTests case forced through the parallel engine with 2 workers: the same
// post-state roots and logs as sequential execution (see test/support/state-tests.ts).
import { defineStateTestSuite } from "./support/state-tests.ts";

defineStateTestSuite({ workers: 2 });
