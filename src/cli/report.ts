import { forkName } from "../chain/forks.ts";
import type { BlockReport } from "./run-block.ts";

/** Output of block reports: a streaming table (one row per block as it finishes) or JSON lines. */

/** JSON for one block. bigints are decimal strings, byte strings 0x-hex. */
export function reportJson(r: BlockReport, withStateRoot: boolean): Record<string, unknown> {
  const dec = (v: bigint | undefined) => (v === undefined ? null : v.toString());
  return {
    dir: r.dir,
    number: dec(r.number),
    fork: forkName(r.fork),
    txs: r.txs,
    gasUsed: dec(r.gasUsed),
    receiptsRoot: r.receiptsRoot,
    receiptsRootCheckable: r.receiptsRootCheckable,
    logsBloom: r.logsBloom,
    ...(withStateRoot ? { stateRoot: r.stateRoot ?? null } : {}),
    expected: {
      gasUsed: dec(r.expected.gasUsed),
      receiptsRoot: r.expected.receiptsRoot ?? null,
      logsBloom: r.expected.logsBloom ?? null,
      stateRoot: r.expected.stateRoot ?? null,
      ...(r.expected.requestsHash !== undefined ? { requestsHash: r.expected.requestsHash } : {}),
    },
    checks: r.checks,
    ok: r.ok,
    ms: round(r.ms),
    poolStartMs: round(r.poolStartMs),
    loadMs: round(r.loadMs),
    rootMs: round(r.rootMs),
    mode: r.mode,
    workers: r.workers,
    ...r.engine,
  };
}

interface Column {
  title: string;
  width: number;
  /** Left-aligned text columns; numbers align right. */
  left?: boolean;
}

export class BlockTable {
  private readonly columns: Column[];
  private readonly rows: BlockReport[] = [];

  constructor(
    private readonly write: (line: string) => void,
    private readonly withStateRoot: boolean,
  ) {
    this.columns = [
      { title: "block", width: 10 },
      { title: "fork", width: 16, left: true },
      { title: "txs", width: 5 },
      { title: "gas", width: 10 },
      { title: "gas ok", width: 6 },
      { title: "bloom ok", width: 8 },
      { title: "receipts root", width: 13 },
      ...(withStateRoot ? [{ title: "state root", width: 10 }] : []),
      { title: "load ms", width: 8 },
      { title: "ms", width: 9 },
      { title: "root ms", width: 8 },
      { title: "Mgas/s", width: 8 },
      { title: "mode", width: 10, left: true },
    ];
  }

  private header(): void {
    this.write(this.line(this.columns.map((c) => c.title)));
    this.write(this.columns.map((c) => "-".repeat(c.width)).join("  "));
  }

  row(r: BlockReport): void {
    // The header waits for the first row so that a run that only errors prints no empty table.
    if (this.rows.length === 0) this.header();
    this.rows.push(r);
    this.write(
      this.line([
        r.number.toString(),
        forkName(r.fork),
        String(r.txs),
        r.gasUsed.toString(),
        mark(r.checks.gasUsed),
        mark(r.checks.logsBloom),
        r.receiptsRootCheckable ? mark(r.checks.receiptsRoot) : "— pre-Byz.",
        ...(this.withStateRoot ? [mark(r.checks.stateRoot)] : []),
        r.loadMs.toFixed(1),
        r.ms.toFixed(1),
        r.rootMs.toFixed(1),
        mgasPerSecond(r.gasUsed, r.ms),
        r.mode === "parallel" ? `parallel/${r.workers}` : r.mode,
      ]),
    );
  }

  /** The total line; says how many blocks did not match or could not run. */
  total(badInput: number): void {
    if (this.rows.length === 0) return;
    const gas = this.rows.reduce((sum, r) => sum + r.gasUsed, 0n);
    const ms = this.rows.reduce((sum, r) => sum + r.ms, 0);
    const failed = this.rows.filter((r) => !r.ok).length;
    this.write(this.columns.map((c) => "-".repeat(c.width)).join("  "));
    const cells = [
      `${this.rows.length} block${this.rows.length === 1 ? "" : "s"}`,
      "total",
      String(this.rows.reduce((sum, r) => sum + r.txs, 0)),
      gas.toString(),
      "",
      "",
      "",
      ...(this.withStateRoot ? [""] : []),
      this.rows.reduce((sum, r) => sum + r.loadMs, 0).toFixed(1),
      ms.toFixed(1),
      this.rows.reduce((sum, r) => sum + r.rootMs, 0).toFixed(1),
      mgasPerSecond(gas, ms),
      // Last column, so that a long summary overflows nothing.
      failed + badInput === 0 ? "all ok" : [failed && `${failed} FAILED`, badInput && `${badInput} bad input`].filter(Boolean).join(", "),
    ];
    this.write(this.line(cells));
    const poolStart = this.rows.reduce((sum, r) => sum + r.poolStartMs, 0);
    if (poolStart > 0) this.write(`waited ${poolStart.toFixed(1)} ms for the worker pool to start (it starts while the first block loads; not in ms)`);
  }

  private line(cells: string[]): string {
    return cells
      .map((cell, i) => {
        const c = this.columns[i]!;
        return c.left ? cell.padEnd(c.width) : cell.padStart(c.width);
      })
      .join("  ")
      .trimEnd();
  }
}

function mark(check: boolean | null): string {
  return check === null ? "—" : check ? "ok" : "FAIL";
}

/** Below this a block's time is mostly fixed overhead and timer resolution: no rate is shown. */
const MIN_RATE_MS = 1;

/** Mgas/s with one decimal (none from 100 on); "—" for runs too short to give a rate that means anything. */
export function mgasPerSecond(gas: bigint, ms: number): string {
  if (!(ms >= MIN_RATE_MS) || gas === 0n) return "—";
  const rate = Number(gas) / 1e3 / ms;
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(1);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
