import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  NATIVE_LIBRARY_PATH,
  allocateShared,
  allowedCpuCount,
  cacheLineSize,
  cpuCount,
  currentCpu,
  isAddressAligned,
  nativeAvailable,
  nativeUnavailableReason,
  pinCurrentThread,
  spinPause,
  unpinCurrentThread,
} from "../src/native/index.ts";
import type { NativeWorkerReply, NativeWorkerRequest } from "./fixtures/native-worker.ts";

const repoRoot = join(import.meta.dir, "..");
const isLinux = process.platform === "linux";

function roundTrip(worker: Worker, request: NativeWorkerRequest): Promise<NativeWorkerReply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<NativeWorkerReply>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(request);
  });
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

beforeAll(() => {
  if (existsSync(NATIVE_LIBRARY_PATH)) return;
  const build = Bun.spawnSync(["make", "native"], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`make native failed:\n${build.stderr.toString()}`);
});

describe("with the native library", () => {
  afterAll(() => {
    // Pinning tests may leave the test runner's thread on one CPU.
    unpinCurrentThread();
  });

  test.if(isLinux)("loads on Linux", () => {
    expect(existsSync(NATIVE_LIBRARY_PATH)).toBe(true);
    expect(nativeUnavailableReason()).toBeNull();
    expect(nativeAvailable()).toBe(true);
  });

  test("reports CPU facts", () => {
    expect(cpuCount()).toBeGreaterThanOrEqual(1);
    expect(allowedCpuCount()).toBeGreaterThanOrEqual(1);
    expect(allowedCpuCount()).toBeLessThanOrEqual(cpuCount());
    const line = cacheLineSize();
    expect(line).toBeGreaterThanOrEqual(16);
    expect(line & (line - 1)).toBe(0);
    const cpu = currentCpu();
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThan(cpuCount());
    spinPause(100); // must simply return
  });

  test.if(isLinux)("pins the main thread to each CPU and unpins again", () => {
    const before = allowedCpuCount();
    try {
      for (const cpu of range(cpuCount())) {
        expect(pinCurrentThread(cpu)).toBe(true);
        expect(allowedCpuCount()).toBe(1);
        expect(currentCpu()).toBe(cpu);
      }
    } finally {
      expect(unpinCurrentThread()).toBe(true);
    }
    expect(allowedCpuCount()).toBe(before);
  });

  test.if(isLinux)("rejects CPUs that do not exist", () => {
    expect(pinCurrentThread(-1)).toBe(false);
    expect(pinCurrentThread(1.5)).toBe(false);
    expect(pinCurrentThread(cpuCount() + 4096)).toBe(false);
  });

  test.if(isLinux)("pinning inside a Worker pins only that Worker's thread", async () => {
    const mainAllowedBefore = allowedCpuCount();
    const worker = new Worker(join(import.meta.dir, "fixtures/native-worker.ts"));
    try {
      const cpus = range(cpuCount());
      const reply = await roundTrip(worker, { kind: "pin", cpus });
      if (reply.kind !== "pin") throw new Error(`unexpected reply ${reply.kind}`);
      expect(reply.nativeAvailable).toBe(true);
      expect(reply.results.map((r) => r.cpu)).toEqual(cpus);
      for (const result of reply.results) {
        expect(result.pinned).toBe(true);
        expect(result.allowed).toBe(1);
        expect(result.observed).toEqual(Array(result.observed.length).fill(result.cpu));
      }
      // The Worker is still pinned to its last CPU; the main thread must not be.
      expect(allowedCpuCount()).toBe(mainAllowedBefore);
    } finally {
      worker.terminate();
    }
  });

  test("allocateShared aligns the real address for several alignments", () => {
    for (const align of [1, 8, 64, 128, 4096]) {
      for (const byteLength of [0, 1, 100, 4096]) {
        const { buffer, byteOffset, addressAligned } = allocateShared(byteLength, align);
        expect(buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(addressAligned).toBe(true);
        expect(byteOffset).toBeGreaterThanOrEqual(0);
        expect(byteOffset).toBeLessThan(align);
        expect(buffer.byteLength).toBeGreaterThanOrEqual(byteOffset + byteLength);
        expect(ptr(new Uint8Array(buffer)) + byteOffset).toBe(ptr(new Uint8Array(buffer, byteOffset)));
        expect((ptr(new Uint8Array(buffer)) + byteOffset) % align).toBe(0);
      }
    }
  });

  test("allocateShared defaults to 64-byte alignment and rejects bad arguments", () => {
    const { buffer, byteOffset } = allocateShared(256);
    expect((ptr(new Uint8Array(buffer)) + byteOffset) % 64).toBe(0);
    expect(() => allocateShared(16, 48)).toThrow(RangeError);
    expect(() => allocateShared(16, 0)).toThrow(RangeError);
    expect(() => allocateShared(-1)).toThrow(RangeError);
    expect(() => allocateShared(1.5)).toThrow(RangeError);
  });

  test("isAddressAligned agrees with ptr()", () => {
    const { buffer, byteOffset } = allocateShared(512, 256);
    expect(isAddressAligned(new Uint8Array(buffer, byteOffset, 8), 256)).toBe(true);
    // One byte further can be on no boundary larger than 1.
    expect(isAddressAligned(new Uint8Array(buffer, byteOffset + 1, 8), 2)).toBe(false);
    expect(isAddressAligned(new Uint8Array(buffer, byteOffset + 64, 8), 64)).toBe(true);
    expect(isAddressAligned(new Uint8Array(buffer, byteOffset + 64, 8), 128)).toBe(false);
    expect(isAddressAligned(new Uint8Array(buffer, 0, 0), 64)).toBeNull();
  });

  test("shared allocation works with Atomics and is shared with (and aligned in) a Worker", async () => {
    const align = 128;
    const { buffer, byteOffset } = allocateShared(64, align);
    const counter = new Int32Array(buffer, byteOffset, 1);
    Atomics.store(counter, 0, 41);
    expect(Atomics.wait(counter, 0, 0, 0)).toBe("not-equal");
    expect(Atomics.wait(counter, 0, 41, 0)).toBe("timed-out");

    const worker = new Worker(join(import.meta.dir, "fixtures/native-worker.ts"));
    try {
      const reply = await roundTrip(worker, { kind: "touch", buffer, byteOffset, align });
      if (reply.kind !== "touch") throw new Error(`unexpected reply ${reply.kind}`);
      expect(reply.previous).toBe(41);
      expect(reply.aligned).toBe(true);
      expect(reply.ownAllocationAligned).toBe(true);
      expect(Atomics.load(counter, 0)).toBe(42);
    } finally {
      worker.terminate();
    }
  });
});

describe("without the native library (PEVM_NO_NATIVE=1)", () => {
  const probe = `
    import * as native from ${JSON.stringify(join(repoRoot, "src/native/index.ts"))};
    const allocation = native.allocateShared(100, 256);
    const counter = new Int32Array(allocation.buffer, allocation.byteOffset, 1);
    const previous = Atomics.add(counter, 0, 7);
    console.log(JSON.stringify({
      nativeAvailable: native.nativeAvailable(),
      reason: native.nativeUnavailableReason(),
      pinned: native.pinCurrentThread(0),
      unpinned: native.unpinCurrentThread(),
      currentCpu: native.currentCpu(),
      cpuCount: native.cpuCount(),
      allowedCpuCount: native.allowedCpuCount(),
      cacheLineSize: native.cacheLineSize(),
      isShared: allocation.buffer instanceof SharedArrayBuffer,
      byteLength: allocation.buffer.byteLength,
      byteOffset: allocation.byteOffset,
      addressAligned: allocation.addressAligned,
      checkedAligned: native.isAddressAligned(new Uint8Array(allocation.buffer, allocation.byteOffset, 1), 256),
      atomics: [previous, Atomics.load(counter, 0)],
    }));
  `;

  test("falls back to pure-JS answers", () => {
    const child = Bun.spawnSync([process.execPath, "--eval", probe], {
      cwd: repoRoot,
      env: { ...process.env, PEVM_NO_NATIVE: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(child.stderr.toString()).toBe("");
    expect(child.exitCode).toBe(0);
    const result = JSON.parse(child.stdout.toString());
    expect(result.nativeAvailable).toBe(false);
    expect(result.reason).toContain("PEVM_NO_NATIVE");
    expect(result.pinned).toBe(false);
    expect(result.unpinned).toBe(false);
    expect(result.currentCpu).toBe(-1);
    expect(result.cpuCount).toBeGreaterThanOrEqual(1);
    expect(result.allowedCpuCount).toBe(result.cpuCount);
    expect(result.cacheLineSize).toBe(64);
    expect(result.isShared).toBe(true);
    expect(result.byteLength).toBeGreaterThanOrEqual(result.byteOffset + 100);
    // bun:ffi ptr() still works without the library, so alignment is still real.
    expect(result.addressAligned).toBe(true);
    expect(result.checkedAligned).toBe(true);
    expect(result.atomics).toEqual([0, 7]);
  });
});

describe("the runtime's helper threads yield to the executors", () => {
  // A child process, so the runner's own threads keep their priority; the busy loop waits
  // for the JIT to start its threads. Nice values are read from /proc, not from the code under test.
  const probe = `
    import { readFileSync } from "node:fs";
    const names = (tid) => readFileSync("/proc/self/task/" + tid + "/comm", "utf8").trim();
    import { runtimeHelperThreads, yieldRuntimeThreads } from ${JSON.stringify(join(repoRoot, "src/native/runtime-threads.ts"))};
    const work = (n) => { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i) * [i].length; return x; };
    const until = performance.now() + 3000; // stops as soon as one is there
    while (performance.now() < until && !runtimeHelperThreads().some((tid) => names(tid) === "JITWorker")) work(1e4);
    const niceOf = (tid) => Number(readFileSync("/proc/self/task/" + tid + "/stat", "utf8").split(") ")[1].split(" ")[16]);
    const before = runtimeHelperThreads().map(niceOf);
    // The runtime may start another helper thread at any moment: settle on a count that the
    // listing right after agrees with.
    let count = yieldRuntimeThreads();
    let helpers = runtimeHelperThreads();
    for (let i = 0; i < 10 && helpers.length !== count; i++) [count, helpers] = [yieldRuntimeThreads(), runtimeHelperThreads()];
    console.log(JSON.stringify({ names: helpers.map(names), before, count, after: helpers.map(niceOf), main: niceOf(process.pid) }));
  `;
  // Run from a file: under --eval the runtime starts no JIT threads within the loop's time.
  const probeFile = join(mkdtempSync(join(tmpdir(), "pevm-threads-")), "probe.ts");
  writeFileSync(probeFile, probe);
  const run = (env: Record<string, string>) => {
    const child = Bun.spawnSync([process.execPath, probeFile], { cwd: repoRoot, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
    expect(child.stderr.toString()).toBe("");
    expect(child.exitCode).toBe(0);
    return JSON.parse(child.stdout.toString()) as { names: string[]; before: number[]; count: number; after: number[]; main: number };
  };

  test.if(isLinux)("JIT and heap warm-up threads go to nice 19; the JS thread keeps its priority", () => {
    const r = run({});
    expect(r.names).toContain("JITWorker");
    for (const name of r.names) expect(["JITWorker", "JSCWarmUp"]).toContain(name);
    expect(r.before.every((nice) => nice === r.main)).toBe(true);
    expect(r.count).toBe(r.names.length);
    expect(r.after).toEqual(r.names.map(() => 19));
    expect(r.main).not.toBe(19);
  });

  test.if(isLinux)("without the library they yield through the C library's setpriority", () => {
    const r = run({ PEVM_NO_NATIVE: "1" });
    expect(r.names).toContain("JITWorker");
    expect(r.count).toBe(r.names.length);
    expect(r.after).toEqual(r.names.map(() => 19));
    expect(r.main).not.toBe(19);
  });

  test.if(isLinux)("a thread that names itself after it was first listed is still found", () => {
    // A new thread carries its creator's name until it names itself: here a Worker thread is
    // listed, then renames itself to a helper's name (through /proc/thread-self/comm) and is
    // listed again. A listing that kept the first name would never find it.
    const renameProbe = `
      import { runtimeHelperThreads } from ${JSON.stringify(join(repoRoot, "src/native/runtime-threads.ts"))};
      const worker = new Worker(URL.createObjectURL(new Blob([\`
        import { readlinkSync, writeFileSync } from "node:fs";
        self.onmessage = (event) => {
          writeFileSync("/proc/thread-self/comm", "JSCWarmUp");
          postMessage("renamed");
        };
        postMessage(Number(readlinkSync("/proc/thread-self").split("/").pop()));
      \`], { type: "text/javascript" })));
      const next = () => new Promise((resolve) => (worker.onmessage = (event) => resolve(event.data)));
      const tid = await next();
      const listedBefore = runtimeHelperThreads().includes(tid);
      worker.postMessage("rename");
      await next();
      const listedAfter = runtimeHelperThreads().includes(tid);
      worker.terminate();
      console.log(JSON.stringify({ tid, listedBefore, listedAfter }));
    `;
    const file = join(mkdtempSync(join(tmpdir(), "pevm-threads-")), "rename.ts");
    writeFileSync(file, renameProbe);
    const child = Bun.spawnSync([process.execPath, file], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
    expect(child.stderr.toString()).toBe("");
    expect(child.exitCode).toBe(0);
    const r = JSON.parse(child.stdout.toString()) as { tid: number; listedBefore: boolean; listedAfter: boolean };
    expect(r.tid).toBeGreaterThan(0);
    expect(r.listedBefore).toBe(false);
    expect(r.listedAfter).toBe(true);
  });

  test.if(isLinux)("PEVM_YIELD_RUNTIME_THREADS=0 leaves them as they are", () => {
    const r = run({ PEVM_YIELD_RUNTIME_THREADS: "0" });
    expect(r.names.length).toBeGreaterThan(0);
    expect(r.count).toBe(0);
    expect(r.after.every((nice) => nice === r.main)).toBe(true);
  });
});
