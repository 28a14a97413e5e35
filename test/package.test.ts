/**
 * What a user does with the package: pack a clean clone of this repository, install the
 * tarball into a fresh `bun init` project, type-check a program that imports "pevm" with the
 * project's strict tsconfig and with NodeNext, run a block through executeBlock with default
 * options (and on two workers) and see the process exit by itself; then bundle it with
 * `bun build` and run the bundle where no node_modules are.
 * Installs prefer bun's cache (`--prefer-offline`); the npm registry is only asked for what
 * the cache lacks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const BLOCK = join(ROOT, "data", "mainnet", "blocks", "9068998");
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
/** A guard for every step: a process that does not exit by itself fails the test, never hangs it. */
const STEP_TIMEOUT_MS = 120_000;

let temp: string;
let tarball: string;
let app: string;

function run(cmd: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", timeout: STEP_TIMEOUT_MS, env: { ...process.env, ...env } });
  const result = { exitCode: proc.exitCode, signal: proc.signalCode ?? null, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  return { ...result, describe: `${cmd.join(" ")} (in ${cwd}) exited ${result.exitCode ?? result.signal}\n${result.stdout}\n${result.stderr}` };
}

function mustRun(cmd: string[], cwd: string, env?: Record<string, string>) {
  const r = run(cmd, cwd, env);
  if (r.exitCode !== 0) throw new Error(r.describe);
  return r;
}

const PROGRAM = `import { executeBlock, loadBlockDir, receiptsRoot, InputError, type BlockResult, type Hex, type Address, type Receipt } from "pevm";

const { block, storage } = loadBlockDir("block");
const result: BlockResult = await executeBlock(block, storage);
const parallel = await executeBlock(block, storage, { workers: 2 });
const first: Receipt | undefined = result.receipts[0];
const hash: Hex | undefined = first?.transactionHash;
const miner: Address = block.header.coinbase;
console.log(JSON.stringify({
  mode: result.mode.mode,
  reason: result.mode.reason,
  parallel: parallel.mode.mode,
  gasUsed: String(result.gasUsed),
  sameGas: parallel.gasUsed === result.gasUsed,
  receiptsRoot: await receiptsRoot(result.receipts),
  hash,
  miner,
  error: InputError.name,
}));
`;

/** The first TypeScript example of the README's library section, as a user would paste it. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## The library"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error("README: no ts example in the library section");
  return code;
}

beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), "pevm-package-"));
  // A clean clone: only what is committed goes into the package.
  const clone = join(temp, "clone");
  mustRun(["git", "clone", "--quiet", "--no-hardlinks", ROOT, clone], temp);
  symlinkSync(join(ROOT, "node_modules"), join(clone, "node_modules"));
  mustRun([process.execPath, "pm", "pack", "--destination", temp], clone);
  const packed = readdirSync(temp).find((f) => f.endsWith(".tgz"));
  if (packed === undefined) throw new Error("bun pm pack wrote no tarball");
  tarball = join(temp, packed);

  app = join(temp, "app");
  mkdirSync(app);
  mustRun([process.execPath, "init", "--yes"], app);
  mustRun([process.execPath, "add", "--prefer-offline", tarball], app);
  writeFileSync(join(app, "index.ts"), PROGRAM);
  writeFileSync(join(app, "readme.ts"), readmeExample());
  mkdirSync(join(app, "block"));
  for (const file of ["block.json", "pre_state.json"]) cpSync(join(BLOCK, file), join(app, "block", file));
  for (const file of ["bytecodes.json", "block_hashes.json"]) cpSync(join(ROOT, "data", "mainnet", file), join(app, "block", file));
}, 10 * STEP_TIMEOUT_MS);

afterAll(() => {
  if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
});

describe("the package, as a user installs it", () => {
  test("the tarball holds sources, types and the bundled worker, not data, tests or benchmarks", () => {
    const files = mustRun(["tar", "tzf", tarball], temp).stdout.trim().split("\n");
    expect(files).toContain("package/dist/types/index.d.ts");
    expect(files).toContain("package/dist/pevm-worker.js");
    expect(files).toContain("package/bin/pevm.ts");
    expect(files).toContain("package/src/index.ts");
    for (const excluded of ["data/", "test/", "bench/", ".ci/", "native/build/", "src/mock/"]) {
      expect(files.filter((f) => f.startsWith(`package/${excluded}`))).toEqual([]);
    }
    const manifest = JSON.parse(readFileSync(join(app, "node_modules", "pevm", "package.json"), "utf8"));
    expect(manifest.name).toBe("pevm");
    expect(manifest.exports["."].types).toBe("./dist/types/index.d.ts");
  });

  test("the install pulls in no build-time or test-only package", () => {
    const installed = readdirSync(join(app, "node_modules")).flatMap((name) =>
      name.startsWith("@") ? readdirSync(join(app, "node_modules", name)).map((sub) => `${name}/${sub}`) : [name],
    );
    for (const devOnly of ["solc", "@openzeppelin/contracts", "@uniswap/v3-core", "@uniswap/v3-periphery", "mitata", "@ethereumjs/vm"]) {
      expect(installed).not.toContain(devOnly);
    }
    expect(installed).toContain("pevm");
  });

  test("the program type-checks with bun init's strict tsconfig, with zero errors", () => {
    const tsconfig = readFileSync(join(app, "tsconfig.json"), "utf8");
    expect(tsconfig).toContain('"noUncheckedIndexedAccess": true');
    const r = run([TSC, "--noEmit", "-p", app], app);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("the program type-checks as a NodeNext project, with zero errors", () => {
    writeFileSync(
      join(app, "tsconfig.nodenext.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ESNext"],
          types: ["bun"],
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          skipLibCheck: true,
          noEmit: true,
        },
        files: ["index.ts", "readme.ts"],
      }),
    );
    const r = run([TSC, "-p", join(app, "tsconfig.nodenext.json")], app);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("pevm's own declarations have no errors even with skipLibCheck off", () => {
    const r = run([TSC, "--noEmit", "-p", app, "--skipLibCheck", "false"], app);
    // Other packages' declarations are theirs to fix (e.g. @ethereumjs/evm's missing `debug` types).
    const ours = (r.stdout + r.stderr).split("\n").filter((l) => l.includes("node_modules/pevm/") || l.startsWith("index.ts") || l.startsWith("readme.ts"));
    expect(ours).toEqual([]);
  });

  test("a type error in the program is reported (the check sees pevm's types)", () => {
    const bad = join(app, "bad.ts");
    writeFileSync(bad, `import { executeBlock, loadBlockDir } from "pevm";\nconst { block, storage } = loadBlockDir("block");\nconst n: number = (await executeBlock(block, storage)).gasUsed;\n`);
    const config = join(app, "tsconfig.bad.json");
    writeFileSync(config, JSON.stringify({ extends: "./tsconfig.json", include: [], files: ["bad.ts"] }));
    const r = run([TSC, "--noEmit", "-p", config], app);
    rmSync(bad);
    rmSync(config);
    expect(r.stdout).toContain("Type 'bigint' is not assignable to type 'number'");
  });

  test("the program runs a block with default options and on 2 workers, and exits by itself", () => {
    const r = run([process.execPath, "index.ts"], app);
    expect(r.signal, r.describe).toBeNull();
    expect(r.exitCode, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    const header = JSON.parse(readFileSync(join(BLOCK, "block.json"), "utf8"));
    expect(out.gasUsed).toBe(BigInt(header.gasUsed).toString());
    expect(out.receiptsRoot).toBe(header.receiptsRoot);
    expect(out.hash).toBe(header.transactions[0].hash);
    expect(out.mode).toBe("sequential");
    expect(out.reason).toContain("fewer than");
    expect(out.parallel).toBe("parallel");
    expect(out.sameGas).toBe(true);
  });

  test("the README's library example runs as shown (and type-checked with the program above)", () => {
    const r = run([process.execPath, "readme.ts"], app);
    expect(r.signal, r.describe).toBeNull();
    expect(r.exitCode, r.describe).toBe(0);
    expect(r.stdout).toContain('mode: "sequential"');
    expect(r.stdout).toContain("accounts changed");
    expect(r.stdout).toContain(JSON.parse(readFileSync(join(BLOCK, "block.json"), "utf8")).receiptsRoot);
  });

  test("the pevm command works from node_modules/.bin", () => {
    const version = run([join(app, "node_modules", ".bin", "pevm"), "--version"], app);
    expect(version.exitCode, version.describe).toBe(0);
    expect(version.stdout.trim()).toBe(`pevm ${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}`);
    const block = run([join(app, "node_modules", ".bin", "pevm"), "--json", "block"], app);
    expect(block.exitCode, block.describe).toBe(0);
    expect(JSON.parse(block.stdout).ok).toBe(true);
  });

  test("bun build of the program runs in parallel mode where no node_modules are, with the shipped worker next to it", () => {
    const out = join(temp, "bundled");
    mustRun([process.execPath, "build", "index.ts", "--target", "bun", "--outdir", out], app);
    cpSync(join(app, "block"), join(out, "block"), { recursive: true });
    const without = run([process.execPath, "index.js"], out);
    expect(without.exitCode).not.toBe(0);
    expect(without.stderr).toContain("pevm-worker.js");
    cpSync(join(app, "node_modules", "pevm", "dist", "pevm-worker.js"), join(out, "pevm-worker.js"));
    expect(existsSync(join(out, "node_modules"))).toBe(false);
    const r = run([process.execPath, "index.js"], out);
    expect(r.signal, r.describe).toBeNull();
    expect(r.exitCode, r.describe).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.parallel).toBe("parallel");
    expect(result.sameGas).toBe(true);
  });
});
