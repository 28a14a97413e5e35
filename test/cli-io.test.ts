/**
 * The command line's edges: --version, usage, the progress line, the Mgas/s column, and
 * --dump-state on a full disk, a read-only directory, through a symlink, into a FIFO, and
 * interrupted by a signal.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { mgasPerSecond } from "../src/cli/report.ts";
import { Progress, progressText } from "../src/cli/progress.ts";

const ROOT = resolve(import.meta.dir, "..");
const CLI = join(ROOT, "src", "cli", "main.ts");
const BLOCKS = join(ROOT, "data", "mainnet", "blocks");
const SMALL = join(BLOCKS, "46147");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;

function pevm(...args: string[]) {
  const proc = Bun.spawnSync([process.execPath, CLI, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  return { exitCode: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), "pevm-cli-io-"));
});
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
});

/** Leftover temporary files of a dump in `dir`. */
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

describe("command line", () => {
  test("--version prints the package version", () => {
    const r = pevm("--version");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`pevm ${VERSION}\n`);
  });

  test("no arguments: the usage on stderr, exit 2", () => {
    const r = pevm();
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toStartWith("usage:");
    expect(r.stderr).toContain("--workers N");
  });

  test("--help: the usage on stdout, exit 0", () => {
    const r = pevm("--help");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toStartWith("usage:");
  });

  test("without a terminal no progress line is written, and --json stays one object per line", () => {
    const r = pevm("--json", SMALL, join(BLOCKS, "9068998"));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  }, 60_000);

  test("on a terminal the progress line shows done/total and an ETA, and is cleared around output and at the end", () => {
    let written = "";
    const progress = new Progress(4, { isTTY: true, write: (text: string) => (written += text) });
    expect(progress.enabled).toBe(true);
    progress.step();
    expect(written).toMatch(/\r\x1b\[K\[1\/4\] 25% \d\d:\d\d elapsed, ETA \d\d:\d\d$/);
    written = "";
    progress.around(() => (written += "ROW\n"));
    expect(written).toMatch(/^\r\x1b\[KROW\n\r\x1b\[K\[1\/4\]/);
    written = "";
    progress.finish();
    expect(written).toBe("\r\x1b[K");
    expect(new Progress(4, { isTTY: false, write: () => expect.unreachable() }).enabled).toBe(false);
    expect(new Progress(1, { isTTY: true, write: () => undefined }).enabled).toBe(false);
  });

  const hasScript = Bun.spawnSync(["sh", "-c", "command -v script"]).exitCode === 0;
  test.skipIf(!hasScript)("in a real terminal (script(1) gives a pty) the progress line is drawn; redirected stderr gets none", () => {
    const blocks = [SMALL, join(BLOCKS, "9068998"), join(BLOCKS, "1150000")];
    const command = [process.execPath, CLI, "--sequential", ...blocks].map((a) => `'${a}'`).join(" ");
    const tty = Bun.spawnSync(["script", "-qec", command, "/dev/null"], { cwd: ROOT, stdout: "pipe", timeout: 120_000 });
    const screen = tty.stdout.toString();
    expect(tty.exitCode).toBe(0);
    expect(screen).toContain("\r\x1b[K[1/3] 33% ");
    expect(screen).toContain("[2/3] 66% ");
    expect(screen).toMatch(/ETA \d\d:\d\d/);
    expect(screen).toContain("all ok");
    const errFile = join(temp, "progress-stderr.txt");
    const redirected = Bun.spawnSync(["script", "-qec", `${command} 2>'${errFile}'`, "/dev/null"], { cwd: ROOT, stdout: "pipe", timeout: 120_000 });
    expect(redirected.exitCode).toBe(0);
    expect(readFileSync(errFile, "utf8")).toBe("");
    expect(redirected.stdout.toString()).not.toContain("ETA");
  }, 120_000);

  test("the ETA is the remaining blocks at the pace so far", () => {
    expect(progressText(0, 10, 0)).toBe("[0/10] 0% 00:00 elapsed, ETA --:--");
    expect(progressText(2, 10, 20_000)).toBe("[2/10] 20% 00:20 elapsed, ETA 01:20");
    expect(progressText(9, 10, 3_600_000)).toBe("[9/10] 90% 1:00:00 elapsed, ETA 06:40");
  });

  test("Mgas/s: no rate for runs under a millisecond, one decimal below 100", () => {
    expect(mgasPerSecond(30_000_000n, 0.01)).toBe("—");
    expect(mgasPerSecond(30_000_000n, 0.9)).toBe("—");
    expect(mgasPerSecond(21_000n, 1)).toBe("21.0");
    expect(mgasPerSecond(10_421_765n, 552.1)).toBe("18.9");
    expect(mgasPerSecond(30_000_000n, 100)).toBe("300");
    expect(mgasPerSecond(0n, 5)).toBe("—");
  });
});

describe("--dump-state", () => {
  test("through a symlink: the file it points to is replaced, the link stays", () => {
    const dir = join(temp, "symlink");
    mkdirSync(dir);
    writeFileSync(join(dir, "real.json"), "old");
    symlinkSync("real.json", join(dir, "link.json"));
    const r = pevm("--dump-state", join(dir, "link.json"), SMALL);
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(lstatSync(join(dir, "link.json")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "link.json"))).toBe("real.json");
    expect(Object.keys(JSON.parse(readFileSync(join(dir, "real.json"), "utf8")))).toContain("0xa1e4380a3b1f749673e270229993ee55f35663b4");
    expect(tempFiles(dir)).toEqual([]);
  });

  test("into a FIFO: written as a stream", async () => {
    const dir = join(temp, "fifo");
    mkdirSync(dir);
    const fifo = join(dir, "post.fifo");
    expect(Bun.spawnSync(["mkfifo", fifo]).exitCode).toBe(0);
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    const r = pevm("--dump-state", fifo, SMALL);
    const text = await new Response(reader.stdout).text();
    expect(r.exitCode).toBe(0);
    expect(Object.keys(JSON.parse(text))).toContain("0xa1e4380a3b1f749673e270229993ee55f35663b4");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test("to /dev/full (a character device that is always full): exit 2, one line", () => {
    const r = pevm("--dump-state", "/dev/full", SMALL);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toBe("pevm: /dev/full: --dump-state: cannot write: ENOSPC: no space left on device, write");
  });

  test("in a read-only directory: exit 2, one line, nothing left behind", () => {
    // /sys refuses new files even to root; chmod would not stop root.
    const r = pevm("--dump-state", "/sys/pevm-post.json", SMALL);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("/sys/pevm-post.json: --dump-state: cannot write:");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  // A small tmpfs is a full disk; mounting one needs root (CAP_SYS_ADMIN), as in this project's CI.
  const canMount = (() => {
    if (process.getuid?.() !== 0) return false;
    const probe = mkdtempSync(join(tmpdir(), "pevm-mount-probe-"));
    const ok = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", probe]).exitCode === 0;
    if (ok) Bun.spawnSync(["umount", probe]);
    rmSync(probe, { recursive: true, force: true });
    return ok;
  })();

  test.skipIf(!canMount)("on a full disk: exit 2, and the good file is left as it was", () => {
    const dir = join(temp, "full");
    mkdirSync(dir);
    expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", dir]).exitCode).toBe(0);
    try {
      writeFileSync(join(dir, "post.json"), '{"good":true}');
      // This block's post-state is larger than 16 kB.
      const r = pevm("--dump-state", join(dir, "post.json"), join(BLOCKS, "9068998"));
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("ENOSPC");
      expect(readFileSync(join(dir, "post.json"), "utf8")).toBe('{"good":true}');
      expect(tempFiles(dir)).toEqual([]);
    } finally {
      Bun.spawnSync(["umount", dir]);
    }
  });

  test("SIGTERM and SIGINT while the dump is written remove its temporary file", async () => {
    // A pre-state large enough that writing its dump takes a while: 20,000 accounts with storage.
    const block = join(temp, "large");
    mkdirSync(block);
    cpSync(join(SMALL, "block.json"), join(block, "block.json"));
    const pre = JSON.parse(readFileSync(join(SMALL, "pre_state.json"), "utf8"));
    const storage = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`0x${(i + 1).toString(16)}`, `0x${"ff".repeat(32)}`]));
    for (let i = 0; i < 20_000; i++) pre[`0x${(0x1000000 + i).toString(16).padStart(40, "0")}`] = { balance: "0x1", nonce: 1, storage };
    writeFileSync(join(block, "pre_state.json"), JSON.stringify(pre));
    const out = join(temp, "interrupted");
    mkdirSync(out);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const target = join(out, `post-${signal}.json`);
      const proc = Bun.spawn([process.execPath, CLI, "--sequential", "--dump-state", target, block], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
      // Wait for the temporary file, then interrupt.
      let seen = false;
      while (!seen && proc.exitCode === null) {
        seen = tempFiles(out).length > 0;
        if (!seen) await Bun.sleep(1);
      }
      expect(seen).toBe(true);
      proc.kill(signal);
      await proc.exited;
      expect(proc.exitCode).toBe(128 + (signal === "SIGTERM" ? 15 : 2));
      expect(tempFiles(out)).toEqual([]);
      expect(existsSync(target)).toBe(false);
    }
  }, 120_000);
});
