/**
 * The fetcher measured on a local node: starts anvil (Cancun), deploys the real contracts,
 * mines one block of ~150 mixed transactions (ERC-20 transfers, Uniswap V3 swaps, transfers,
 * Counter increments, creations), fetches it through both pre-state paths (prestateTracer,
 * eth_ reads), and runs each snapshot sequentially and with 2 workers.
 *
 *   bun bench/fetch-anvil.ts [--rounds N] [--accounts N] [--hardfork NAME]
 *   (default: 15 rounds x 10 accounts = 150 transactions, plus one that reverts; Cancun)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkSnapshot, describeFetch } from "../src/cli/fetch.ts";
import { fetchBlock } from "../src/fetch/fetch.ts";
import { closeEngines } from "../src/index.ts";
import { deployContracts, mineMixedBlock, startAnvil } from "../test/support/anvil.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { rounds: { type: "string" }, accounts: { type: "string" }, hardfork: { type: "string" } },
});
const rounds = Number(values.rounds ?? 15);
const accounts = Number(values.accounts ?? 10);

const anvil = await startAnvil({ hardfork: values.hardfork ?? "cancun", accounts });
const temp = mkdtempSync(join(tmpdir(), "pevm-fetch-bench-"));
try {
  const deployment = await deployContracts(anvil.url);
  const mined = await mineMixedBlock(anvil.url, deployment, rounds);
  console.log(`mined block ${mined.number} (${mined.hash}): ${mined.txs} transactions ${JSON.stringify(mined.kinds)}`);
  for (const prestate of ["tracer", "rpc"] as const) {
    const out = join(temp, prestate);
    const result = await fetchBlock(anvil.url, { kind: "number", number: mined.number }, { out, prestate });
    console.log(describeFetch(result));
    for (const mode of [{ sequential: true }, { workers: 2 }]) {
      const checked = await checkSnapshot(out, { fork: result.fork, ...mode, stateRoot: false });
      for (const line of checked.lines) console.log("  " + line);
    }
  }
} finally {
  await anvil.stop();
  rmSync(temp, { recursive: true, force: true });
  await closeEngines();
}
