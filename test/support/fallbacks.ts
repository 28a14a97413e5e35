/**
 * Sequential fallbacks are allowed but must be visible: every parallel run records its
 * `stats.fallback`, and the suite prints which blocks fell back and why.
 */
import type { ParallelStats } from "../../src/parallel/engine.ts";

export class FallbackLog {
  private readonly reasons = new Map<string, Map<string, number>>();
  private runs = 0;

  record(block: string, stats: ParallelStats | undefined): void {
    this.runs++;
    const reason = stats?.fallback;
    if (reason === null || reason === undefined) return;
    let byReason = this.reasons.get(block);
    if (byReason === undefined) {
      byReason = new Map();
      this.reasons.set(block, byReason);
    }
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  /** How many recorded runs of `block` fell back. */
  count(block: string): number {
    let total = 0;
    for (const n of this.reasons.get(block)?.values() ?? []) total += n;
    return total;
  }

  report(suite: string): string {
    const lines = [`${suite}: ${this.reasons.size} block(s) fell back to sequential execution in some of ${this.runs} parallel runs`];
    for (const [block, byReason] of this.reasons) {
      for (const [reason, n] of byReason) lines.push(`  ${block}: ${n}x ${reason}`);
    }
    return lines.join("\n");
  }
}
