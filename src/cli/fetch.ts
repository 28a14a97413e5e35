import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InputError, InvalidTransactionError } from "../chain/errors.ts";
import { Fork, parseForkName } from "../chain/forks.ts";
import type { Hex } from "../chain/types.ts";
import { fetchBlock, parseBlockId, type FetchOptions, type FetchProgress, type FetchResult } from "../fetch/fetch.ts";
import { readFetchMeta, snapshotBlockHash } from "../fetch/snapshot.ts";
import { stateRoot } from "../state/state-root.ts";
import { runBlockDir, type BlockReport } from "./run-block.ts";

/**
 * `pevm fetch <BLOCK_ID> <RPC_URL>`: snapshot a block from a node, then execute the snapshot and
 * compare with the header. And `pevm <RPC_URL>#<BLOCK_ID>`: the same through a cache under
 * ./blocks, for the block runner.
 */

export const FETCH_USAGE = `usage: bun run pevm fetch <BLOCK_ID> <RPC_URL> [options]
  BLOCK_ID          a number (decimal or 0x), a block hash, or latest / safe / finalized
  --out DIR         default ./blocks/<number>; refuses to overwrite another block's snapshot
  --full-state      also fetch the whole state (anvil_dumpState) and check the state root
  --no-tracer       do not use debug_traceBlockByNumber: read the state with eth_ methods
  --fork NAME       execute with this fork (default: mainnet schedule on mainnet, else the header)
  --sequential | --workers N   how the snapshot is executed for the check (default automatic)
  --timeout MS      per HTTP request (default 30000); --retries N (default 4)
exit codes: 0 the snapshot matches the header, 1 it does not (kept), 2 bad input or unusable node`;

interface FetchCommandOptions {
  id: string;
  url: string;
  fetch: FetchOptions;
  sequential: boolean;
  workers: number | undefined;
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(value)) throw new InputError(`expected a non-negative integer, got "${value}"`, undefined, name);
  return Number(value);
}

export function parseFetchArgs(argv: string[]): FetchCommandOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: "string" },
        "full-state": { type: "boolean" },
        "no-tracer": { type: "boolean" },
        fork: { type: "string" },
        sequential: { type: "boolean" },
        workers: { type: "string" },
        timeout: { type: "string" },
        retries: { type: "string" },
      },
    });
  } catch (e) {
    throw new InputError(`${(e as Error).message} (see --help)`, undefined, "fetch");
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 2) throw new InputError(`expected <BLOCK_ID> <RPC_URL>, got ${positionals.length} arguments`, undefined, "fetch");
  const workers = positiveInt(values.workers, "--workers");
  if (workers === 0) throw new InputError("expected a positive worker count", undefined, "--workers");
  if (values.sequential && workers !== undefined) throw new InputError("--sequential and --workers exclude each other", undefined, "--workers");
  return {
    id: positionals[0]!,
    url: positionals[1]!,
    sequential: values.sequential === true,
    workers,
    fetch: {
      out: values.out,
      fullState: values["full-state"] === true,
      prestate: values["no-tracer"] ? "rpc" : "auto",
      fork: values.fork === undefined ? undefined : parseForkName(values.fork),
      timeoutMs: positiveInt(values.timeout, "--timeout"),
      retries: positiveInt(values.retries, "--retries"),
    },
  };
}

/** A progress line on stderr, rewritten in place; only on a terminal. */
function progressLine(): { update: (p: FetchProgress) => void; clear: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, clear: () => {} };
  let shown = false;
  return {
    update: (p) => {
      shown = true;
      const kb = (p.rpc.bytes / 1024).toFixed(0);
      process.stderr.write(`\rfetching: ${p.rpc.calls} requests (${p.rpc.httpRequests} HTTP), ${p.counts.accounts} accounts, ${p.counts.slots} slots, ${kb} KiB\x1b[K`);
    },
    clear: () => {
      if (shown) process.stderr.write("\r\x1b[K");
    },
  };
}

export function describeFetch(r: FetchResult): string {
  const s = r.snapshot;
  return (
    `fetched block ${r.number} (${r.hash}) via ${r.prestate === "tracer" ? "debug_traceBlockByNumber prestateTracer" : "eth_ state reads"}` +
    `${r.tracerSkipped ? ` (no tracer: ${r.tracerSkipped})` : ""}: ${r.rpc.calls} requests in ${r.rpc.httpRequests} HTTP requests` +
    `${r.rpc.retries ? ` (${r.rpc.retries} retries)` : ""}, ${(r.rpc.bytes / 1024).toFixed(1)} KiB received, ${r.ms.toFixed(0)} ms; ` +
    `snapshot ${r.dir}: ${s.accounts} accounts, ${s.slots} slots, ${s.codes} codes, ${s.blockHashes} block hashes, ${(s.bytes / 1024).toFixed(1)} KiB`
  );
}

/** Executes a snapshot and says how it compares with its header; the lines to print and the exit code. */
export async function checkSnapshot(
  dir: string,
  options: { fork: Fork; sequential?: boolean; workers?: number; stateRoot: boolean },
): Promise<{ lines: string[]; ok: boolean; report?: BlockReport }> {
  let run;
  try {
    run = await runBlockDir(dir, {
      fork: options.fork,
      sequential: options.sequential,
      workers: options.workers,
      stateRoot: options.stateRoot ? (loaded, result) => stateRoot(loaded.storage, result.changes) : undefined,
    });
  } catch (e) {
    // The node included this transaction: rejecting it is a difference, not bad input.
    if (e instanceof InvalidTransactionError) return { lines: [`MISMATCH block ${dir}: pevm rejects a transaction the node included: ${e.message}`], ok: false };
    throw e;
  }
  const r = run.report;
  const lines: string[] = [];
  const differences: string[] = [];
  const check = (name: string, ok: boolean | null, expected: unknown, got: unknown) => {
    if (ok === false) differences.push(`  ${name}: header ${expected}, executed ${got}`);
  };
  check("gas used", r.checks.gasUsed, r.expected.gasUsed, r.gasUsed);
  check("logs bloom", r.checks.logsBloom, r.expected.logsBloom, r.logsBloom);
  check("receipts root", r.checks.receiptsRoot, r.expected.receiptsRoot, r.receiptsRoot);
  check("state root", r.checks.stateRoot, r.expected.stateRoot, r.stateRoot);
  const mode = r.mode === "parallel" ? `parallel, ${r.workers} workers` : r.mode;
  const checked = [
    r.checks.gasUsed !== null && "gas",
    r.checks.logsBloom !== null && "bloom",
    r.checks.receiptsRoot !== null && "receipts root",
    r.checks.stateRoot !== null && "state root",
  ].filter(Boolean);
  if (r.fork >= Fork.Prague) {
    const requests = (run.result as { requestsHash?: Hex }).requestsHash;
    const expected = (JSON.parse(readFileSync(join(dir, "block.json"), "utf8")) as { requestsHash?: Hex }).requestsHash?.toLowerCase();
    if (requests === undefined) lines.push("  requests hash: not checked (this build computes no EIP-7685 requests)");
    else if (requests !== expected) differences.push(`  requests hash: header ${expected}, executed ${requests}`);
    else checked.push("requests hash");
  }
  const ok = r.ok && differences.length === 0;
  lines.unshift(
    `${ok ? "ok" : "MISMATCH"} block ${r.number} (${Fork[r.fork]}, ${r.txs} transactions, ${r.gasUsed} gas, ${mode}, ${r.ms.toFixed(1)} ms): ` +
      (ok ? `${checked.join(", ")} match the header` : "differs from the header"),
  );
  lines.push(...differences);
  return { lines, ok, report: r };
}

export async function runFetchCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(FETCH_USAGE + "\n");
    return 0;
  }
  const cmd = parseFetchArgs(argv);
  const id = parseBlockId(cmd.id);
  const progress = progressLine();
  let result: FetchResult;
  try {
    result = await fetchBlock(cmd.url, id, { ...cmd.fetch, onProgress: progress.update });
  } finally {
    progress.clear();
  }
  const out = (line: string) => process.stdout.write(line + "\n");
  out(describeFetch(result));
  if (result.parentStateRoot !== undefined && !result.parentStateRoot.ok) {
    out(`  full state: its root ${result.parentStateRoot.computed} is not the parent block's ${result.parentStateRoot.expected} (the node's state enumeration is incomplete)`);
  }
  const checked = await checkSnapshot(result.dir, {
    fork: result.fork,
    sequential: cmd.sequential,
    workers: cmd.workers,
    stateRoot: cmd.fetch.fullState === true,
  });
  for (const line of checked.lines) out(line);
  return checked.ok ? 0 : 1;
}

/** `<RPC_URL>#<BLOCK_ID>` as a block argument. */
export function isRpcBlockSpec(arg: string): boolean {
  return /^https?:\/\/[^#]+#.+$/.test(arg);
}

/**
 * Resolves `<RPC_URL>#<BLOCK_ID>` to the snapshot directory `<cacheDir>/<number>` and the fork it
 * runs with. A numbered block already fetched there is not fetched again; a hash or a tag is
 * (the node has to say which block it names).
 */
export async function resolveRpcBlock(spec: string, cacheDir = "blocks"): Promise<{ dir: string; fork: Fork | undefined }> {
  const hashAt = spec.lastIndexOf("#");
  const url = spec.slice(0, hashAt);
  const id = parseBlockId(spec.slice(hashAt + 1));
  if (id.kind === "number") {
    const dir = join(cacheDir, id.number.toString());
    const meta = readFetchMeta(dir);
    if (existsSync(join(dir, "pre_state.json")) && meta !== undefined && snapshotBlockHash(dir) === meta.hash) {
      return { dir, fork: parseForkName(meta.fork) };
    }
  }
  const progress = progressLine();
  try {
    const r = await fetchBlock(url, id, { onProgress: progress.update, blocksDir: cacheDir });
    return { dir: r.dir, fork: r.fork };
  } finally {
    progress.clear();
  }
}
