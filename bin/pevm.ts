#!/usr/bin/env bun
// The `pevm` command of the package (`bunx pevm …`, ./node_modules/.bin/pevm); see src/cli/main.ts.
import { runCli } from "../src/cli/main.ts";

await runCli(Bun.argv.slice(2));
