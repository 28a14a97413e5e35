/**
 * A Bun Worker that executes one corpus block sequentially, over and over, while told to be
 * busy: a second thread doing EVM work beside a measurement, with no Block-STM and nothing
 * shared. Used by tx-beside.ts and engine-beside.ts. The same file is the worker script.
 */
import { executeBlock, loadBlockDir } from "../src/index.ts";
import { blockDirOf } from "./peer/corpus.ts";

/** Shared flag: 0 idle, 1 run the block in a loop, 2 stop. */
const IDLE = 0;
const BUSY = 1;
const STOP = 2;

declare const self: Worker;

if (!Bun.isMainThread) {
  const { flag: buffer, block: number } = (await new Promise<MessageEvent>((resolve) => (self.onmessage = resolve))).data as { flag: SharedArrayBuffer; block: number };
  const flag = new Int32Array(buffer);
  const { block, storage } = loadBlockDir(blockDirOf(number));
  await executeBlock(block, storage, { sequential: true }); // warm before the first busy round
  self.postMessage("ready");
  for (;;) {
    const state = Atomics.load(flag, 0);
    if (state === STOP) break;
    if (state === BUSY) await executeBlock(block, storage, { sequential: true });
    else Atomics.wait(flag, 0, IDLE, 50);
  }
  process.exit(0);
}

export interface BusyWorker {
  /** Starts the loop (the worker begins its next run at once). */
  busy(): void;
  /** Stops the loop after the run in progress. */
  idle(): void;
  /** Ends the worker; resolves when its thread has exited. */
  stop(): Promise<void>;
}

/** Starts the worker on `block` (a corpus block number) and resolves once it is loaded and warm, idle. */
export async function startBusyWorker(block: number): Promise<BusyWorker> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(import.meta.path);
  const ready = new Promise((resolve) => (worker.onmessage = resolve));
  worker.postMessage({ flag: flag.buffer, block });
  await ready;
  const set = (state: number) => {
    Atomics.store(flag, 0, state);
    Atomics.notify(flag, 0);
  };
  return {
    busy: () => set(BUSY),
    idle: () => set(IDLE),
    stop: () => {
      const closed = new Promise<void>((resolve) => worker.addEventListener("close", () => resolve()));
      set(STOP);
      return closed;
    },
  };
}
