// A fixed set of Bun Workers started once and reused for every run (a worker importing the EVM
// takes ~80 ms to start). The script must call serveWorker() (serve.ts).
//
// Failure model: when a worker throws, posts an error, exits or the watchdog fires, the run
// rejects with a WorkerRunError naming the worker. The onFailure hook fires first so the caller
// can halt the shared scheduler; the others then get `graceMs` to report before being terminated.
// Dead or terminated workers are replaced in the background, so the next run has a full pool.
//
// Lifetime: a worker keeps the process alive (is ref'ed) only while it starts or a run is in
// progress; an idle pool is unref'ed, so a script that used the pool exits by itself.
import type { HostMessage, WorkerMessage } from "./protocol.ts";

export interface PoolOptions {
  /** Pin worker i to a CPU via the native helper: true = i mod CPU count, or an explicit list. */
  pin?: boolean | readonly number[];
  /** A worker that has not finished init within this many ms counts as failed (default 60 000). */
  startTimeoutMs?: number;
}

export interface RunOptions {
  /** Watchdog: reject when not every worker reported within this many ms (default: none). */
  timeoutMs?: number;
  /** After the first failure, how long the others may take to stop before being terminated (default 2000). */
  graceMs?: number;
  /** Called once, at the first failure: halt the shared scheduler here so the other workers return. */
  onFailure?: (error: WorkerRunError) => void;
  /** Called once the job was posted to every worker (they may start on it from then on). */
  onPosted?: () => void;
}

export class WorkerRunError extends Error {
  override readonly name = "WorkerRunError";
  constructor(
    message: string,
    /** The failing worker; -1 for a failure not attributable to one worker (timeout, close). */
    readonly workerIndex: number,
    readonly workerStack?: string,
  ) {
    super(message);
  }
}

interface Slot {
  index: number;
  worker: Worker | null;
  ready: Promise<void>;
  readyWaiter: { resolve(): void; reject(error: Error): void } | null;
  startFailed: boolean;
  pinned: boolean;
  exited: Promise<void>;
}

interface ActiveRun<Result> {
  runId: number;
  results: Result[];
  reported: boolean[];
  failure: WorkerRunError | null;
  /** Set by the watchdog: the error is finalised at settle time, naming the workers still silent then. */
  timedOutAfterMs: number | null;
  onFailure?: (error: WorkerRunError) => void;
  graceMs: number;
  timers: ReturnType<typeof setTimeout>[];
  resolve(results: Result[]): void;
  reject(error: Error): void;
}

const DEFAULT_START_TIMEOUT_MS = 60_000;
const DEFAULT_GRACE_MS = 2_000;
const CLOSE_TIMEOUT_MS = 2_000;

export class WorkerPool<Init = unknown, Job = unknown, Result = unknown> {
  private readonly slots: Slot[] = [];
  private active: ActiveRun<Result> | null = null;
  private nextRunId = 1;
  private closed = false;
  /** From run() entry until it settles (active is only set once every worker is ready). */
  private busy = false;

  private constructor(
    private readonly scriptUrl: string,
    private readonly init: Init,
    private readonly cpus: readonly number[] | null,
    private readonly startTimeoutMs: number,
  ) {}

  /** Start `count` workers and wait until each has run its init handler. */
  static async start<Init = unknown, Job = unknown, Result = unknown>(
    count: number,
    workerScriptUrl: string | URL,
    init?: Init,
    options: PoolOptions = {},
  ): Promise<WorkerPool<Init, Job, Result>> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`worker count must be >= 1, got ${count}`);
    const pool = new WorkerPool<Init, Job, Result>(
      String(workerScriptUrl),
      init as Init,
      cpuList(options.pin),
      options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    );
    for (let i = 0; i < count; i++) {
      const slot: Slot = { index: i, worker: null, ready: Promise.resolve(), readyWaiter: null, startFailed: false, pinned: false, exited: Promise.resolve() };
      pool.slots.push(slot);
      pool.spawn(slot);
    }
    try {
      await Promise.all(pool.slots.map((slot) => slot.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Workers currently alive (started and not exited). */
  get liveWorkers(): number {
    return this.slots.filter((slot) => slot.worker !== null).length;
  }

  /** Per worker: whether it is pinned to its CPU (pinning is best effort). */
  get pinned(): boolean[] {
    return this.slots.map((slot) => slot.pinned);
  }

  /**
   * Post a job to every worker (a function gets each worker's index) and resolve with their
   * results, indexed by worker. One run at a time.
   */
  async run(job: Job | ((workerIndex: number) => Job), options: RunOptions = {}): Promise<Result[]> {
    if (this.closed) throw new Error("worker pool is closed");
    if (this.busy) throw new Error("worker pool: a run is already in progress");
    this.busy = true;
    this.keepAlive(true);
    try {
      await this.allReady();
    } catch (error) {
      this.busy = false;
      this.keepAlive(false);
      throw error;
    }
    return new Promise<Result[]>((resolve, reject) => {
      const run: ActiveRun<Result> = {
        runId: this.nextRunId++,
        results: new Array(this.slots.length),
        reported: new Array(this.slots.length).fill(false),
        failure: null,
        timedOutAfterMs: null,
        onFailure: options.onFailure,
        graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
        timers: [],
        resolve,
        reject,
      };
      this.active = run;
      if (options.timeoutMs !== undefined) {
        run.timers.push(setTimeout(() => this.timeOut(run, options.timeoutMs!), options.timeoutMs));
      }
      for (const slot of this.slots) {
        const message: HostMessage<Init, Job> = {
          type: "job",
          runId: run.runId,
          job: typeof job === "function" ? (job as (workerIndex: number) => Job)(slot.index) : job,
        };
        slot.worker!.postMessage(message);
      }
      options.onPosted?.();
    });
  }

  /** Terminate every worker; resolves once they have exited. A run in progress rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const run = this.active;
    if (run !== null) this.settle(run, new WorkerRunError("worker pool closed during a run", -1));
    const exits = this.slots.map((slot) => slot.exited);
    for (const slot of this.slots) this.retire(slot);
    await Promise.race([Promise.all(exits), Bun.sleep(CLOSE_TIMEOUT_MS)]);
  }

  // ---------------------------------------------------------------- worker lifecycle

  private async allReady(): Promise<void> {
    for (const slot of this.slots) if (slot.startFailed && !this.closed) this.spawn(slot);
    // A worker may die (and be respawned) while we wait for another: wait until all are ready at once.
    while (this.slots.some((slot) => slot.readyWaiter !== null || slot.worker === null)) {
      if (this.closed) throw new Error("worker pool is closed");
      await Promise.all(this.slots.map((slot) => slot.ready));
    }
    if (this.closed) throw new Error("worker pool is closed");
  }

  /** Whether the workers keep the process alive: while a run is in progress, not while idle. */
  private keepAlive(on: boolean): void {
    for (const slot of this.slots) {
      // A worker still starting stays ref'ed until it is ready (see onMessage "ready").
      if (slot.worker !== null && slot.readyWaiter === null) on ? slot.worker.ref() : slot.worker.unref();
    }
  }

  private spawn(slot: Slot): void {
    const worker = new Worker(this.scriptUrl);
    slot.worker = worker;
    slot.startFailed = false;
    slot.exited = new Promise((resolve) => worker.addEventListener("close", () => resolve(), { once: true }));
    slot.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.startFailed(slot, worker, `did not start within ${this.startTimeoutMs} ms`),
        this.startTimeoutMs,
      );
      slot.readyWaiter = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
    slot.ready.catch(() => {}); // observed by run()/start(); never an unhandled rejection
    worker.addEventListener("message", (event: MessageEvent<WorkerMessage<Result>>) => this.onMessage(slot, worker, event.data));
    worker.addEventListener("error", (event: ErrorEvent) => this.onDeath(slot, worker, `threw ${firstLines(event.message)}`));
    worker.addEventListener("close", (event: Event) => this.onDeath(slot, worker, `exited (code ${(event as CloseEvent).code ?? "?"})`));
    const pinCpu = this.cpus === null ? null : this.cpus[slot.index % this.cpus.length]!;
    const init: HostMessage<Init, Job> = { type: "init", workerIndex: slot.index, init: this.init, pinCpu };
    worker.postMessage(init);
  }

  /** Stop a slot's current worker; its later events are ignored because it is no longer slot.worker. */
  private retire(slot: Slot): void {
    const worker = slot.worker;
    if (worker === null) return;
    slot.worker = null;
    worker.terminate();
  }

  private replace(slot: Slot): void {
    this.retire(slot);
    if (!this.closed) this.spawn(slot);
  }

  private startFailed(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return;
    this.retire(slot);
    slot.startFailed = true;
    slot.readyWaiter?.reject(new WorkerRunError(`worker ${slot.index} failed to start: ${reason}`, slot.index));
    slot.readyWaiter = null;
  }

  private onMessage(slot: Slot, worker: Worker, message: WorkerMessage<Result>): void {
    if (slot.worker !== worker) return;
    switch (message.type) {
      case "ready":
        slot.pinned = message.pinned;
        slot.readyWaiter?.resolve();
        slot.readyWaiter = null;
        if (!this.busy) worker.unref();
        return;
      case "init-error":
        this.startFailed(slot, worker, message.message);
        return;
      case "result":
      case "error": {
        const run = this.active;
        if (run === null || message.runId !== run.runId || run.reported[slot.index]) return;
        run.reported[slot.index] = true;
        if (message.type === "result") run.results[slot.index] = message.result;
        else this.fail(run, new WorkerRunError(`worker ${slot.index} failed: ${message.message}`, slot.index, message.stack));
        this.settleIfAllReported(run);
      }
    }
  }

  /** The worker threw outside a handler's try, called process.exit, or was terminated by someone else. */
  private onDeath(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker !== worker) return;
    if (slot.readyWaiter !== null) {
      this.startFailed(slot, worker, reason);
      return;
    }
    this.replace(slot);
    const run = this.active;
    if (run === null || run.reported[slot.index]) return;
    run.reported[slot.index] = true;
    this.fail(run, new WorkerRunError(`worker ${slot.index} ${reason}`, slot.index));
    this.settleIfAllReported(run);
  }

  // ---------------------------------------------------------------- run completion

  private fail(run: ActiveRun<Result>, error: WorkerRunError): void {
    if (run.failure !== null) return;
    run.failure = error;
    try {
      run.onFailure?.(error);
    } catch {
      // The hook is best effort; the grace timer below still bounds the run.
    }
    run.timers.push(setTimeout(() => this.terminateStragglers(run), run.graceMs));
  }

  private timeOut(run: ActiveRun<Result>, timeoutMs: number): void {
    if (this.active !== run || run.failure !== null) return;
    run.timedOutAfterMs = timeoutMs;
    // Provisional: the hook halts the scheduler, and whoever still does not report is the culprit.
    this.fail(run, new WorkerRunError(`run timed out after ${timeoutMs} ms`, -1));
  }

  private terminateStragglers(run: ActiveRun<Result>): void {
    if (this.active !== run) return;
    const silent = this.slots.filter((slot) => !run.reported[slot.index]).map((slot) => slot.index);
    for (const index of silent) {
      run.reported[index] = true;
      this.replace(this.slots[index]!);
    }
    if (run.timedOutAfterMs !== null) {
      const names = silent.length > 0 ? `no report from worker(s) ${silent.join(", ")}` : "every worker stopped once halted";
      run.failure = new WorkerRunError(`run timed out after ${run.timedOutAfterMs} ms; ${names}`, silent.length === 1 ? silent[0]! : -1);
    }
    this.settleIfAllReported(run);
  }

  private settleIfAllReported(run: ActiveRun<Result>): void {
    if (run.reported.every(Boolean)) this.settle(run, run.failure);
  }

  private settle(run: ActiveRun<Result>, failure: Error | null): void {
    if (this.active !== run) return;
    this.active = null;
    this.busy = false;
    this.keepAlive(false);
    for (const timer of run.timers) clearTimeout(timer);
    if (failure === null) run.resolve(run.results);
    else run.reject(failure);
  }
}

function cpuList(pin: PoolOptions["pin"]): readonly number[] | null {
  if (pin === undefined || pin === false) return null;
  if (pin === true) {
    const cpus = Math.max(1, navigator.hardwareConcurrency || 1);
    return Array.from({ length: cpus }, (_, cpu) => cpu);
  }
  return pin.length > 0 ? pin : null;
}

function firstLines(text: string): string {
  // Bun's worker error messages start with a source excerpt; the error line is what matters.
  const errorLine = text.split("\n").find((line) => /^\s*(\w*Error|error):/.test(line));
  return (errorLine ?? text).trim().slice(0, 500);
}
