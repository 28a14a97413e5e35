// The vendored execution-spec-tests forced through the parallel engine with 2 workers (see test/support/eest.ts).
import { defineEestSuites } from "./support/eest.ts";

defineEestSuites({ workers: 2 });
