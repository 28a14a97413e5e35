/**
 * What the runtime's threads yielding to the executors is worth (src/native/runtime-threads.ts):
 * the CLI over the mainnet corpus in every mode, with PEVM_YIELD_RUNTIME_THREADS=0 and with the
 * default, one process per setting, mode and round, rounds interleaved. Sums each block's best
 * `ms` per setting and mode, prints each setting's ratios over its own sequential run and the
 * time of "yielding" over "left alone" per mode.
 *
 *   bun bench/runtime-threads-ab.ts [--rounds R]
 */
import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { rounds: { type: "string", default: "2" } } });
const root = join(import.meta.dir, "..");
const blocks = readdirSync(join(root, "data/mainnet/blocks")).map((n) => join(root, "data/mainnet/blocks", n));
const MODES: Record<string, string[]> = { sequential: ["--sequential"], "workers 2": ["--workers", "2"], "workers 1": ["--workers", "1"], automatic: [] };
const SETTINGS: Record<string, Record<string, string>> = { "left alone": { PEVM_YIELD_RUNTIME_THREADS: "0" }, yielding: {} };
const best: Record<string, Record<string, number>> = {};

console.error(`${blocks.length} blocks, ${values.rounds} rounds, load ${loadavg()[0]!.toFixed(2)} at start, ${new Date().toISOString()}`);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [mode, flags] of Object.entries(MODES)) {
    for (const [setting, env] of Object.entries(SETTINGS)) {
      const child = Bun.spawn([process.execPath, join(root, "src/cli/main.ts"), "--json", ...blocks, ...flags], {
        stdout: "pipe",
        stderr: "inherit",
        cwd: root,
        env: { ...process.env, ...env },
      });
      const out = await new Response(child.stdout).text();
      if ((await child.exited) !== 0) throw new Error(`${setting} ${mode}: the CLI failed`);
      const key = `${setting} ${mode}`;
      best[key] ??= {};
      for (const line of out.trim().split("\n")) {
        const row = JSON.parse(line) as { number: string; ms: number; ok: boolean };
        if (!row.ok) throw new Error(`${key}: block ${row.number} does not match its header`);
        best[key]![row.number] = Math.min(best[key]![row.number] ?? Infinity, row.ms);
      }
    }
  }
}
const total = (key: string) => Object.values(best[key]!).reduce((a, b) => a + b, 0);
for (const setting of Object.keys(SETTINGS)) {
  const sequential = total(`${setting} sequential`);
  const ratios = Object.keys(MODES).slice(1).map((mode) => `${mode} ${(sequential / total(`${setting} ${mode}`)).toFixed(2)}x`);
  console.log(`${setting.padEnd(10)}: sequential ${sequential.toFixed(0)} ms | ${ratios.join(" | ")}`);
}
for (const mode of Object.keys(MODES)) console.log(`time yielding / left alone, ${mode}: ${(total(`yielding ${mode}`) / total(`left alone ${mode}`)).toFixed(3)}`);
console.error(`load ${loadavg()[0]!.toFixed(2)} at end`);
