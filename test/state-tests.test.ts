// Every GeneralStateTests case, executed sequentially (see test/support/state-tests.ts).
import { defineStateTestSuite } from "./support/state-tests.ts";

defineStateTestSuite({ sequential: true });
