/** Small statistics used by every benchmark section. */
import { readFileSync } from "node:fs";

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The mean of ratios: a block twice as fast and one half as fast average to 1x, not 1.25x. */
export function geometricMean(values: number[]): number {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return Number.NaN;
  return Math.exp(positive.reduce((sum, v) => sum + Math.log(v), 0) / positive.length);
}

export function sum(values: number[]): number {
  return values.reduce((total, v) => total + v, 0);
}

/** gas / ms = kgas/ms = Mgas/s. */
export function mgasPerSecond(gas: number, ms: number): number {
  return ms > 0 ? gas / 1e3 / ms : 0;
}

export function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : Number.NaN;
}

/** Wall and process CPU time (all threads) of one awaited call. */
export async function timed<T>(run: () => Promise<T> | T): Promise<{ value: T; ms: number; cpuMs: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const value = await run();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { value, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Longest wait for the process to go quiet after a collection. */
const QUIET_WAIT_MS = 400;
/** A 20 ms window with less CPU than this (all threads) counts as quiet: 10 % of one core. */
const QUIET_WINDOW_MS = 20;
const QUIET_CPU_MS = 2;

/**
 * Collects the previous run's garbage outside the timed span, the same for every executor,
 * then waits (up to 400 ms) until the process's threads go quiet. A full collection leaves
 * sweeping and memory release running in the background for a while: a run timed right after
 * it was measured ~20 % slower (15199017, 6 rounds on the 2-core machine: 2 workers 181 vs 150
 * ms with a 300 ms pause, sequential 227 vs 183 ms), and more so in parallel mode, which has
 * no idle core to absorb it, so timing right after the collection skewed the comparison.
 */
export async function collectGarbage(): Promise<void> {
  Bun.gc(true);
  const end = performance.now() + QUIET_WAIT_MS;
  let before = process.cpuUsage();
  while (performance.now() < end) {
    await Bun.sleep(QUIET_WINDOW_MS);
    const used = process.cpuUsage(before);
    before = process.cpuUsage();
    if ((used.user + used.system) / 1000 < QUIET_CPU_MS) return;
  }
}

/**
 * CPU time the hypervisor gave to others while this machine's CPUs wanted it (the `steal`
 * column of /proc/stat, all CPUs, in ms since boot); NaN where there is no /proc/stat.
 * A section whose steal grew ran on less machine than it thinks.
 */
export function stolenCpuMs(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const fields = line.trim().split(/\s+/);
    return Number(fields[8]) * (1000 / CLOCK_TICKS_PER_SECOND);
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux architecture pevm runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
