// Worker side of WorkerPool: call serveWorker() once at the top level of a worker script.
import { describeError, type HostMessage, type WorkerMessage } from "./protocol.ts";

export interface WorkerContext {
  workerIndex: number;
  /** True when the pool asked for pinning and the native helper managed it. */
  pinned: boolean;
}

export interface WorkerHandlers<Init, Job, Result> {
  /** Once, before the first job (load heavy modules here: they stay loaded across runs). */
  init?(init: Init, context: WorkerContext): void | Promise<void>;
  /** One job per run; its return value is posted back as the worker's result. */
  run(job: Job, context: WorkerContext): Result | Promise<Result>;
}

declare const self: Worker;

export function serveWorker<Init, Job, Result>(handlers: WorkerHandlers<Init, Job, Result>): void {
  const context: WorkerContext = { workerIndex: -1, pinned: false };
  const post = (message: WorkerMessage<Result>) => self.postMessage(message);

  self.onmessage = async (event: MessageEvent<HostMessage<Init, Job>>) => {
    const message = event.data;
    if (message.type === "init") {
      try {
        context.workerIndex = message.workerIndex;
        if (message.pinCpu !== null) context.pinned = await tryPin(message.pinCpu);
        await handlers.init?.(message.init, context);
        post({ type: "ready", workerIndex: context.workerIndex, pinned: context.pinned });
      } catch (error) {
        post({ type: "init-error", ...describeError(error) });
      }
      return;
    }
    try {
      const result = await handlers.run(message.job, context);
      post({ type: "result", runId: message.runId, result });
    } catch (error) {
      post({ type: "error", runId: message.runId, ...describeError(error) });
    }
  };
}

/** Pinning is an optimisation: without the native helper (or if it refuses) the worker just runs unpinned. */
async function tryPin(cpu: number): Promise<boolean> {
  try {
    // A computed specifier keeps the pool usable (and type-checkable) without the native module.
    const specifier = new URL("../native/index.ts", import.meta.url).href;
    const native: { pinCurrentThread?: (cpu: number) => boolean } = await import(specifier);
    return typeof native.pinCurrentThread === "function" && native.pinCurrentThread(cpu);
  } catch {
    return false;
  }
}
