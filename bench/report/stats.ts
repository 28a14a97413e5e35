/** Small statistics used by every benchmark section. */

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

/** Collects the previous run's garbage outside the timed span, the same for every executor. */
export function collectGarbage(): void {
  Bun.gc(true);
}
