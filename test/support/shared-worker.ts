// The request/reply round trip to test/fixtures/shared-worker.ts, shared by the suites that
// check shared-memory structures from inside a Worker.
import type { SharedWorkerReply, SharedWorkerRequest } from "../fixtures/shared-worker.ts";

export function startSharedWorker(): Worker {
  return new Worker(new URL("../fixtures/shared-worker.ts", import.meta.url).href);
}

export function askSharedWorker(worker: Worker, request: SharedWorkerRequest): Promise<SharedWorkerReply> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<SharedWorkerReply>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(request);
  });
}
