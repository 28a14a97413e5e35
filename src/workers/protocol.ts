// Messages between WorkerPool (host) and serveWorker (inside each Bun Worker).

export type HostMessage<Init, Job> =
  | { type: "init"; workerIndex: number; init: Init; pinCpu: number | null }
  | { type: "job"; runId: number; job: Job };

export type WorkerMessage<Result> =
  | { type: "ready"; workerIndex: number; pinned: boolean }
  | { type: "init-error"; message: string; stack?: string }
  | { type: "result"; runId: number; result: Result }
  | { type: "error"; runId: number; message: string; stack?: string };

export function describeError(error: unknown): { message: string; stack?: string } {
  if (error instanceof Error) return { message: `${error.name}: ${error.message}`, stack: error.stack };
  return { message: String(error) };
}
