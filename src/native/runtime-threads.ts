// The JS runtime's helper threads, made to yield to the executors while a parallel block runs.
import { dlopen, FFIType } from "bun:ffi";
import { readdirSync, readFileSync } from "node:fs";

/**
 * Why: JSC compiles hot functions on JIT threads and prepares heap blocks on a warm-up thread.
 * In sequential mode they run on the idle second core for free. While two executors run one
 * block they take the cores from them instead: measured on 15199017 (warm, /proc schedstat
 * per thread), the JIT threads used 50-65 ms and the warm-up thread 20-40 ms of CPU per
 * 160-190 ms run, and each executor waited 40-90 ms of it runnable but off the CPU. At nice 19
 * they get the cores only where an executor leaves them idle, and compile between blocks.
 * Only the threads named here: the GC's marking helpers stay, since the executors wait for a
 * collection to finish (niced too, 2 workers over sequential on 6 heavy blocks measured no
 * better: 1.03x and 1.07x, against 1.12x and 1.08x without them).
 */
const HELPER_THREAD_NAMES = new Set(["JITWorker", "JSCWarmUp"]);
const BACKGROUND_NICE = 19;

/** Set PEVM_YIELD_RUNTIME_THREADS=0 to leave the runtime's threads as they are. */
function disabledByEnv(): boolean {
  const flag = process.env.PEVM_YIELD_RUNTIME_THREADS;
  return flag === "0" || flag === "false";
}

/**
 * Thread ids already looked at: their names, so a run reads only new threads' names. A new
 * thread carries its creator's name until it names itself (seen: a "bun" thread became
 * "JSCWarmUp" 4 ms after it appeared), so a name is re-read until the thread has been known
 * for NAME_SETTLE_MS; only then is it taken as final.
 */
const namesByTid = new Map<number, { name: string; firstSeenMs: number }>();
const NAME_SETTLE_MS = 1000;
/** Helper threads put at the background priority. */
const lowered = new Set<number>();

/** The threads of this process whose name marks a runtime helper (Linux; none elsewhere). */
export function runtimeHelperThreads(): number[] {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return [];
  }
  // Forget threads that ended: the kernel may hand their ids out again, to any thread.
  const alive = new Set(tids.map(Number));
  for (const tid of namesByTid.keys()) {
    if (!alive.has(tid)) {
      namesByTid.delete(tid);
      lowered.delete(tid);
    }
  }
  const helpers: number[] = [];
  const now = performance.now();
  for (const entry of tids) {
    const tid = Number(entry);
    let known = namesByTid.get(tid);
    if (known === undefined || now - known.firstSeenMs < NAME_SETTLE_MS) {
      let name: string;
      try {
        name = readFileSync(`/proc/self/task/${entry}/comm`, "utf8").trim();
      } catch {
        continue; // the thread ended between the listing and the read
      }
      known = { name, firstSeenMs: known?.firstSeenMs ?? now };
      namesByTid.set(tid, known);
    }
    if (HELPER_THREAD_NAMES.has(known.name)) helpers.push(tid);
  }
  return helpers;
}

/**
 * Puts the runtime's helper threads at the background priority, for good: an unprivileged
 * thread may lower a priority but not raise it back (RLIMIT_NICE), so this is not undone
 * after a run. Called at the start of every parallel run, it catches helper threads started
 * since (the runtime starts them lazily). Sequential runs do not miss them: with a core idle,
 * a thread's priority does not matter. Returns how many helper threads are at the background
 * priority; 0 off Linux or with PEVM_YIELD_RUNTIME_THREADS=0.
 */
export function yieldRuntimeThreads(): number {
  if (disabledByEnv()) return 0;
  let count = 0;
  for (const tid of runtimeHelperThreads()) {
    if (!lowered.has(tid)) {
      const nice = threadNice(tid);
      if (nice === undefined) continue;
      if (nice < BACKGROUND_NICE && !setThreadNice(tid, BACKGROUND_NICE)) continue;
      lowered.add(tid);
    }
    count++;
  }
  return count;
}

/** One thread's nice value (-20..19), from /proc; undefined when the thread is gone. */
function threadNice(tid: number): number | undefined {
  try {
    // The name in parentheses, then fields 3.. separated by spaces; nice is field 19.
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    const nice = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    return Number.isInteger(nice) ? nice : undefined;
  } catch {
    return undefined;
  }
}

const PRIO_PROCESS = 0; // with a thread id, Linux applies it to that thread only
let libc: { setpriority(which: number, who: number, prio: number): number } | null | undefined;

/**
 * Sets one thread's nice value through the C library's setpriority (bun:ffi), so it works
 * without pevm's native build (an installed package has none). False when the kernel refuses
 * or no C library loads.
 */
function setThreadNice(tid: number, nice: number): boolean {
  if (libc === undefined) {
    libc = null;
    for (const name of ["libc.so.6", "libc.so"]) {
      try {
        libc = dlopen(name, { setpriority: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 } }).symbols;
        break;
      } catch {
        // next name (glibc, then a generic one such as musl's)
      }
    }
  }
  return libc !== null && libc.setpriority(PRIO_PROCESS, tid, nice) === 0;
}
