// The Bun Worker that executes transactions for the parallel engine (engine.ts): one per pool slot.
import type { BlockJob, WorkerReport } from "./protocol.ts";
import { runBlockJob } from "./run-job.ts";
import { serveWorker } from "../workers/serve.ts";

serveWorker<null, BlockJob, WorkerReport>({
  run: (job, context) => runBlockJob(job, context.workerIndex),
});
