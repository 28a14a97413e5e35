// The vendored execution-spec-tests (Prague, Osaka, BPO forks), sequentially (see test/support/eest.ts).
import { defineEestSuites } from "./support/eest.ts";

defineEestSuites({ sequential: true });
