import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * Where the parallel engine's worker script is. A bundler cannot see a worker script (Bun's
 * `bun build` leaves `new Worker(url)` as it is), so three layouts are looked for, in order:
 * 1. `setWorkerScript(url)` or the PEVM_WORKER_SCRIPT environment variable;
 * 2. the source layout (this repository, or pevm installed in node_modules): worker.ts;
 * 3. a bundle: `pevm-worker.js` next to the bundled file. The package ships it ready-made
 *    (`node_modules/pevm/dist/pevm-worker.js`, built at pack time from worker.ts with
 *    everything it imports); a consumer copies it next to its bundle (see README, Library).
 */
const SOURCE_SCRIPT = new URL("./worker.ts", import.meta.url);
const BUNDLED_WORKER_FILE = "pevm-worker.js";
const BUNDLED_SCRIPT = new URL(`./${BUNDLED_WORKER_FILE}`, import.meta.url);

let configured: string | undefined;

/** Use this worker script (a path or a file: URL) instead of looking for one. */
export function setWorkerScript(script: string | URL | undefined): void {
  configured = script === undefined ? undefined : String(script);
}

export function workerScriptUrl(): string {
  const explicit = configured ?? process.env.PEVM_WORKER_SCRIPT;
  if (explicit !== undefined && explicit !== "") return explicit;
  for (const candidate of [SOURCE_SCRIPT, BUNDLED_SCRIPT]) {
    if (candidate.protocol !== "file:" || existsSync(fileURLToPath(candidate))) return candidate.href;
  }
  throw new Error(
    `pevm's worker script is missing: in a bundle, copy node_modules/pevm/dist/${BUNDLED_WORKER_FILE} into ` +
      `${fileURLToPath(new URL(".", import.meta.url))}, next to the bundle (or call setWorkerScript / set PEVM_WORKER_SCRIPT)`,
  );
}
