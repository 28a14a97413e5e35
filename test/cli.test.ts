import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { defaultWorkerCount } from "../src/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const CORPUS = join(ROOT, "data", "mainnet");
const BLOCKS = join(CORPUS, "blocks");
const SIDE_FILES = ["--bytecodes", join(CORPUS, "bytecodes.json"), "--block-hashes", join(CORPUS, "block_hashes.json")];
/** Frontier, one value transfer from 0xa1e4…63b4 with nonce 0: small and fast. */
const SMALL_BLOCK = "46147";
const SMALL_SENDER = "0xa1e4380a3b1f749673e270229993ee55f35663b4";
/** Istanbul, three transactions: a receipts root to check, still quick. */
const BYZANTIUM_ON_BLOCK = "9068998";

function pevm(...args: string[]) {
  const proc = Bun.spawnSync([process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), "pevm-cli-"));
});
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
});

/** Copies a corpus block to a fresh temp directory, optionally editing its JSON files. */
function copyBlock(number: string, name: string, edit?: { block?: (b: any) => void; pre?: (p: any) => void }): string {
  const dir = join(temp, name);
  mkdirSync(dir, { recursive: true });
  cpSync(join(BLOCKS, number, "block.json"), join(dir, "block.json"));
  cpSync(join(BLOCKS, number, "pre_state.json"), join(dir, "pre_state.json"));
  for (const [file, fn] of [["block.json", edit?.block], ["pre_state.json", edit?.pre]] as const) {
    if (!fn) continue;
    const json = JSON.parse(readFileSync(join(dir, file), "utf8"));
    fn(json);
    writeFileSync(join(dir, file), JSON.stringify(json));
  }
  return dir;
}

function noStackTrace(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split("\n")).toHaveLength(1);
}

describe("pevm <block-dir>", () => {
  test("a real Cancun block matches its header (table)", () => {
    const r = pevm(join(BLOCKS, "19932703"));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    const row = r.stdout.split("\n").find((l) => l.trim().startsWith("19932703"));
    expect(row).toBeDefined();
    expect(row).toContain("Cancun");
    expect(row).not.toContain("FAIL");
    expect(r.stdout).toContain("all ok");
  }, 120_000);

  test("--json: one JSON object per line with the block's fields", () => {
    const r = pevm("--json", join(BLOCKS, SMALL_BLOCK), join(BLOCKS, BYZANTIUM_ON_BLOCK));
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    const [frontier, istanbul] = lines.map((l) => JSON.parse(l));

    expect(frontier.number).toBe(SMALL_BLOCK);
    expect(frontier.fork).toBe("Frontier");
    expect(frontier.txs).toBe(1);
    expect(frontier.gasUsed).toBe("21000");
    expect(frontier.receiptsRoot).toBeNull();
    expect(frontier.receiptsRootCheckable).toBe(false);
    expect(frontier.ok).toBe(true);

    expect(istanbul.number).toBe(BYZANTIUM_ON_BLOCK);
    expect(istanbul.receiptsRootCheckable).toBe(true);
    expect(istanbul.receiptsRoot).toBe(istanbul.expected.receiptsRoot);
    expect(istanbul.gasUsed).toBe(istanbul.expected.gasUsed);
    expect(istanbul.logsBloom).toBe(istanbul.expected.logsBloom);
    expect(istanbul.ok).toBe(true);
    for (const field of ["ms", "loadMs", "rootMs"]) expect(typeof istanbul[field]).toBe("number");
    expect(typeof istanbul.mode).toBe("string");
    expect("workers" in istanbul).toBe(true);
  }, 60_000);

  test("the automatic choice runs a cold process's first heavy block sequentially, then in parallel", () => {
    // 15199017 uses 30 Mgas: past the cold gas, so the pool starts after it and 19932703 runs in parallel.
    const r = pevm("--json", join(BLOCKS, "19932703"), join(BLOCKS, "15199017"), join(BLOCKS, "19932703"));
    expect(r.exitCode).toBe(0);
    const [first, second, third] = r.stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(first).toMatchObject({ ok: true, mode: "sequential", workers: 0 });
    expect(first.modeReason).toStartWith("sequential: this process has executed 0 gas so far, under the 20000000");
    // No pool was started for it: nothing to wait for.
    expect(first.poolStartMs).toBeLessThan(1);
    expect(second).toMatchObject({ ok: true, mode: "sequential" });
    expect(second.modeReason).toStartWith(`sequential: this process has executed ${BigInt(first.gasUsed)} gas so far`);
    expect(third.gasUsed).toBe(first.gasUsed);
    if (defaultWorkerCount() >= 2) expect(third).toMatchObject({ ok: true, mode: "parallel", workers: defaultWorkerCount() });
    else expect(third.modeReason).toContain("only one CPU");
  }, 60_000);

  test("--sequential runs and says so", () => {
    const r = pevm("--json", "--sequential", join(BLOCKS, SMALL_BLOCK));
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).mode).toBe("sequential");
  }, 60_000);

  test("--workers 2 forces the parallel engine and reports its counters", () => {
    const r = pevm("--json", "--workers", "2", join(BLOCKS, BYZANTIUM_ON_BLOCK));
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.mode).toBe("parallel");
    expect(report.workers).toBe(2);
    expect(report.executions).toBeGreaterThanOrEqual(report.txs);
    expect(typeof report.validations).toBe("number");
    expect("fallback" in report).toBe(true);
  }, 60_000);

  test("--fork with an unknown name exits 2 naming the fork", () => {
    const r = pevm("--fork", "Atlantis", join(BLOCKS, SMALL_BLOCK));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("Atlantis");
    noStackTrace(r.stderr);
  });

  test("a directory without block.json exits 2 naming it", () => {
    const dir = join(temp, "empty");
    mkdirSync(dir, { recursive: true });
    const r = pevm(dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(dir);
    expect(r.stderr).toContain("block.json");
    noStackTrace(r.stderr);
  });

  test("a malformed block.json exits 2 naming the file", () => {
    const dir = copyBlock(SMALL_BLOCK, "malformed");
    writeFileSync(join(dir, "block.json"), '{"number": "0xb443", ');
    const r = pevm(dir, ...SIDE_FILES);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(join(dir, "block.json"));
    noStackTrace(r.stderr);
  });

  test("a header whose gasUsed was altered exits 1", () => {
    const dir = copyBlock(SMALL_BLOCK, "altered-gas", { block: (b) => (b.gasUsed = "0x5209") });
    const r = pevm("--json", dir, ...SIDE_FILES);
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.gasUsed).toBe(false);
    expect(report.checks.logsBloom).toBe(true);
  });

  test("a sender who cannot pay exits 2 naming the transaction index", () => {
    const dir = copyBlock(SMALL_BLOCK, "broke-sender", { pre: (p) => (p[SMALL_SENDER].balance = "0x0") });
    const r = pevm(dir, ...SIDE_FILES);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("transaction 0");
    expect(r.stderr).toContain("INSUFFICIENT_FUNDS");
    noStackTrace(r.stderr);
  });

  test("--dump-state writes the post-state with the sender's nonce bumped", () => {
    const file = join(temp, "post_state.json");
    const r = pevm("--dump-state", file, join(BLOCKS, SMALL_BLOCK));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(existsSync(file)).toBe(true);
    const post = JSON.parse(readFileSync(file, "utf8"));
    const pre = JSON.parse(readFileSync(join(BLOCKS, SMALL_BLOCK, "pre_state.json"), "utf8"));
    expect(post[SMALL_SENDER].nonce).toBe(pre[SMALL_SENDER].nonce + 1);
    expect(BigInt(post[SMALL_SENDER].balance)).toBeLessThan(BigInt(pre[SMALL_SENDER].balance));
    // The dump loads back as a pre-state: run the block's successor format through the loader.
    const reloaded = copyBlock(SMALL_BLOCK, "reloaded");
    writeFileSync(join(reloaded, "pre_state.json"), readFileSync(file));
    expect(pevm(reloaded, ...SIDE_FILES).exitCode).toBe(2); // nonce 1 now: the same tx is too low
  }, 60_000);

  test("--state-root adds the computed root and its check", () => {
    const r = pevm("--json", "--state-root", join(BLOCKS, SMALL_BLOCK));
    const report = JSON.parse(r.stdout);
    expect(report.stateRoot).toMatch(/^0x[0-9a-f]{64}$/);
    // The corpus pre-state is partial, so the root cannot match the header's.
    expect(report.checks.stateRoot).toBe(false);
    expect(r.exitCode).toBe(1);
  }, 60_000);
});

describe("pevm statetest", () => {
  const STATE_TESTS = join(ROOT, "data", "ethereum-tests", "GeneralStateTests");

  test("runs a state-test file and ends with the counts", () => {
    const r = pevm("statetest", join(STATE_TESTS, "stExample", "add11.json"));
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toMatch(/^1 passed, 0 failed/);
  }, 60_000);

  test("a missing path exits 2 naming it", () => {
    const r = pevm("statetest", join(temp, "no-such-test.json"));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("no-such-test.json");
    noStackTrace(r.stderr);
  });
});

describe("pevm blocktest", () => {
  const FIXTURE = join(ROOT, "data", "eest", "blockchain_tests", "prague", "eip7002_el_triggerable_withdrawals", "test_withdrawal_requests_negative.json.gz");

  for (const mode of [[], ["--workers", "2"]]) {
    test(`runs a blockchain-test file ${mode.length ? "with 2 workers" : "sequentially"} and ends with the counts`, () => {
      const r = pevm("blocktest", ...mode, FIXTURE);
      expect(r.exitCode).toBe(0);
      const last = r.stdout.trimEnd().split("\n").at(-1)!;
      expect(last).toMatch(/^[1-9][0-9]* passed, 0 failed, 0 skipped, 0 header-only/);
      expect(r.stdout).toContain("skip list: empty");
    }, 60_000);
  }

  test("--fork is refused (each test names its forks)", () => {
    const r = pevm("blocktest", "--fork", "Osaka", FIXTURE);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--fork");
    noStackTrace(r.stderr);
  });
});

describe("forks after Cancun", () => {
  test("a block with a 2026 timestamp runs as BPO2, in the table and the JSON", () => {
    const dir = copyBlock("19932703", "bpo2", { block: (b) => (b.timestamp = "0x698a5c80") });
    const table = pevm("--sequential", ...SIDE_FILES, dir);
    expect(table.stdout).toMatch(/\bBPO2\b/);
    const json = pevm("--sequential", "--json", ...SIDE_FILES, dir);
    expect(JSON.parse(json.stdout.trim().split("\n")[0]!).fork).toBe("BPO2");
  }, 60_000);

  test("--fork accepts the new names", () => {
    const r = pevm("--sequential", "--json", "--fork", "osaka", ...SIDE_FILES, join(BLOCKS, "19932703"));
    expect(JSON.parse(r.stdout.trim().split("\n")[0]!).fork).toBe("Osaka");
  }, 60_000);
});

describe("bad options", () => {
  test("--sequential with --workers exits 2", () => {
    const r = pevm("--sequential", "--workers", "2", join(BLOCKS, SMALL_BLOCK));
    expect(r.exitCode).toBe(2);
    noStackTrace(r.stderr);
  });

  test("an unknown option exits 2 naming it", () => {
    const r = pevm("--fast", join(BLOCKS, SMALL_BLOCK));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--fast");
  });
});
