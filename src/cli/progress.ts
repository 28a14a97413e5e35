/**
 * A progress line on stderr for runs over many blocks: "[12/56] 21% 00:08 elapsed, ETA 00:31".
 * Only on a terminal (a redirected stderr or a pipe gets nothing), so `--json` output and logs
 * stay clean; the line is cleared before anything else is printed and redrawn after it.
 */
export class Progress {
  private done = 0;
  private readonly started = performance.now();
  private shown = false;

  constructor(
    private readonly total: number,
    private readonly stream: { isTTY?: boolean; write(text: string): unknown } = process.stderr,
  ) {}

  /** Whether a line is drawn at all: a terminal, and more than one block. */
  get enabled(): boolean {
    return this.stream.isTTY === true && this.total > 1;
  }

  /** Clears the line, runs `print` (a table row, an error), then redraws the line. */
  around(print: () => void): void {
    this.clear();
    print();
    this.draw();
  }

  /** One more block finished. */
  step(): void {
    this.done++;
    this.draw();
  }

  /** Removes the line for good (at the end of the run). */
  finish(): void {
    this.clear();
  }

  private draw(): void {
    if (!this.enabled || this.done >= this.total) return;
    this.stream.write(`\r\x1b[K${progressText(this.done, this.total, performance.now() - this.started)}`);
    this.shown = true;
  }

  private clear(): void {
    if (!this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}

/** "[done/total] pct% mm:ss elapsed, ETA mm:ss" (no ETA before the first block finished). */
export function progressText(done: number, total: number, elapsedMs: number): string {
  const pct = Math.floor((done / total) * 100);
  const eta = done === 0 ? "ETA --:--" : `ETA ${clock(((total - done) * elapsedMs) / done)}`;
  return `[${done}/${total}] ${pct}% ${clock(elapsedMs)} elapsed, ${eta}`;
}

function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
