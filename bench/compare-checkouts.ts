/**
 * The CLI of two checkouts of pevm over this checkout's mainnet corpus, every mode, rounds
 * interleaved (one process per checkout, mode and round): "did this change slow anything
 * down?". Sums each block's best `ms` per checkout and mode.
 *
 *   BASE=/path/to/other/checkout bun bench/compare-checkouts.ts [--rounds R] [--out FILE]
 *
 * (Make the other checkout with `git worktree add ../base <commit>`, then `make setup` in it.)
 * With BASE_ENV="NAME=value ..." the base runs with those environment variables set, and BASE
 * defaults to this checkout: one checkout against itself under another setting, e.g.
 * `BASE_ENV=PEVM_YIELD_RUNTIME_THREADS=0` for what the runtime's threads yielding is worth.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { rounds: { type: "string", default: "2" }, out: { type: "string" } } });
const head = join(import.meta.dir, "..");
const baseEnv = Object.fromEntries((process.env.BASE_ENV ?? "").split(/\s+/).filter(Boolean).map((pair) => pair.split("=", 2) as [string, string]));
const base = process.env.BASE ?? (process.env.BASE_ENV ? head : undefined);
if (base === undefined) throw new Error("set BASE to the other checkout (or BASE_ENV to compare this one under other settings)");
const blocks = readdirSync(join(head, "data/mainnet/blocks")).map((n) => join(head, "data/mainnet/blocks", n));
const MODES: Record<string, string[]> = { sequential: ["--sequential"], "workers 2": ["--workers", "2"], "workers 1": ["--workers", "1"], automatic: [] };
const best: Record<string, Record<string, number>> = {};

async function run(dir: string, flags: string[], env: Record<string, string>): Promise<{ number: string; ms: number; ok: boolean }[]> {
  const child = Bun.spawn([process.execPath, join(dir, "src/cli/main.ts"), "--json", ...blocks, ...flags], { stdout: "pipe", stderr: "inherit", cwd: dir, env: { ...process.env, ...env } });
  const out = await new Response(child.stdout).text();
  if ((await child.exited) !== 0) throw new Error(`${dir} ${flags.join(" ")} failed`);
  return out.trim().split("\n").map((line) => JSON.parse(line));
}

console.error(`base ${base}${process.env.BASE_ENV ? ` with ${process.env.BASE_ENV}` : ""}, head ${head}, ${blocks.length} blocks, load ${loadavg()[0]!.toFixed(2)}`);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [mode, flags] of Object.entries(MODES)) {
    for (const [name, dir, env] of [["base", base, baseEnv], ["head", head, {}]] as const) {
      const key = `${name} ${mode}`;
      best[key] ??= {};
      for (const row of await run(dir, flags, env)) {
        if (!row.ok) throw new Error(`${key}: block ${row.number} does not match its header`);
        best[key]![row.number] = Math.min(best[key]![row.number] ?? Infinity, row.ms);
      }
    }
  }
  console.error(`round ${round + 1} done, load ${loadavg()[0]!.toFixed(2)}`);
}
const total = (key: string) => Object.values(best[key]!).reduce((a, b) => a + b, 0);
for (const mode of Object.keys(MODES)) {
  const b = total(`base ${mode}`);
  const h = total(`head ${mode}`);
  console.log(`${mode.padEnd(10)} base ${b.toFixed(0)} ms, head ${h.toFixed(0)} ms, head/base ${(h / b).toFixed(3)}`);
}
if (values.out) writeFileSync(values.out, `${JSON.stringify(best, null, 1)}\n`);
