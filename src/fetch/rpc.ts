import { InputError } from "../chain/errors.ts";

/**
 * A JSON-RPC 2.0 client over HTTP, the way a production client talks to a node:
 * calls made in the same tick go out as one batch (at most `maxBatch` calls per HTTP request),
 * at most `concurrency` HTTP requests are in flight, every request has a timeout, and transport
 * failures, timeouts, HTTP 429 and 5xx are retried with exponential backoff (a bounded number
 * of times). Everything else fails with an RpcError naming the node and the method.
 */

export type RpcErrorKind =
  /** Connection refused, reset, DNS: nothing answered. */
  | "unreachable"
  | "timeout"
  /** HTTP 429 after every retry. */
  | "rate-limited"
  /** Another HTTP status. */
  | "http"
  /** The node does not offer the method (JSON-RPC -32601 or an equivalent message). */
  | "method-not-found"
  /** The node no longer holds the historical state asked for (a pruned, non-archive node). */
  | "pruned"
  /** Not JSON, not JSON-RPC, or a result of the wrong shape. */
  | "malformed"
  /** Any other JSON-RPC error the node returned. */
  | "node"
  /** What was asked for does not exist (a block). */
  | "not-found";

/** A failure talking to a node. An InputError: the CLI prints it as one line, exit code 2. */
export class RpcError extends InputError {
  override name = "RpcError";
  /** From a 429's Retry-After header: how long to wait before the next attempt. */
  retryAfterMs?: number;
  constructor(
    readonly kind: RpcErrorKind,
    readonly url: string,
    readonly method: string,
    readonly detail: string,
    readonly code?: number,
  ) {
    super(detail, url, method);
  }

  /** The same failure, reported for another call of the batch it hit. */
  forMethod(method: string): RpcError {
    return method === this.method ? this : new RpcError(this.kind, this.url, method, this.detail, this.code);
  }
}

export interface RpcOptions {
  /** Per HTTP request, including reading the answer. Default 30 s. */
  timeoutMs?: number;
  /** Retries after the first attempt, for transport errors, timeouts, 429 and 5xx. Default 4. */
  retries?: number;
  /** The first backoff; doubles each retry (with jitter), capped at 8 s. Default 250 ms. */
  backoffMs?: number;
  /** Calls per HTTP request. Default 100. */
  maxBatch?: number;
  /** HTTP requests in flight at once. Default 4. */
  concurrency?: number;
}

export interface RpcStats {
  /** JSON-RPC calls answered (a batch of 100 counts 100). */
  calls: number;
  /** HTTP requests sent, retries included. */
  httpRequests: number;
  retries: number;
  /** Bytes of answers received. */
  bytes: number;
}

interface PendingCall {
  method: string;
  params: unknown[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Node answers that mean "this state was pruned" (geth, erigon, reth, nethermind, besu wordings). */
const PRUNED = /missing trie node|header not found|historical state|state (is )?not available|not available.*state|pruned|distance to target block exceeds|state histories haven't been fully indexed|old data not available|required historical state/i;
const METHOD_MISSING = /method not found|does not exist\/is not available|method .* (not supported|is not available|not available)|unsupported method|the method .* does not exist/i;

export class RpcClient {
  readonly stats: RpcStats = { calls: 0, httpRequests: 0, retries: 0, bytes: 0 };
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private maxBatch: number;
  private readonly concurrency: number;
  private queue: PendingCall[] = [];
  private flushScheduled = false;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private nextId = 1;

  constructor(
    readonly url: string,
    options: RpcOptions = {},
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new InputError(`not a URL`, url, "RPC_URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InputError(`expected an http:// or https:// URL`, url, "RPC_URL");
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 4;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxBatch = Math.max(1, options.maxBatch ?? 100);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** One call; calls made in the same tick share HTTP requests. */
  call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ method, params, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const calls = this.queue;
    this.queue = [];
    for (let i = 0; i < calls.length; i += this.maxBatch) {
      void this.send(calls.slice(i, i + this.maxBatch));
    }
  }

  private async acquire(): Promise<void> {
    while (this.inFlight >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  /** Sends one batch (or a single call) and settles each of its calls. Never rejects. */
  private async send(calls: PendingCall[]): Promise<void> {
    await this.acquire();
    let answer: unknown;
    const ids = calls.map(() => this.nextId++);
    const bodies = calls.map((c, i) => ({ jsonrpc: "2.0", id: ids[i], method: c.method, params: c.params }));
    const batched = calls.length > 1;
    try {
      answer = await this.post(JSON.stringify(batched ? bodies : bodies[0]), calls[0]!.method, batched);
    } catch (e) {
      for (const c of calls) c.reject(e instanceof RpcError ? e.forMethod(c.method) : e);
      return;
    } finally {
      this.release();
    }
    if (batched && !Array.isArray(answer)) {
      // Some nodes refuse batches (one error object for the whole request): go one by one.
      if (isObject(answer) && isObject(answer.error)) {
        this.maxBatch = 1;
        for (const c of calls) this.call(c.method, c.params).then(c.resolve, c.reject);
        return;
      }
      const e = new RpcError("malformed", this.url, calls[0]!.method, "answer to a batch is not a JSON array");
      for (const c of calls) c.reject(e);
      return;
    }
    const byId = new Map<unknown, unknown>();
    for (const entry of batched ? (answer as unknown[]) : [answer]) if (isObject(entry)) byId.set(entry.id, entry);
    calls.forEach((c, i) => {
      const entry = byId.get(ids[i]) ?? (!batched ? answer : undefined);
      try {
        c.resolve(this.unwrap(c.method, entry));
        this.stats.calls++;
      } catch (e) {
        c.reject(e);
      }
    });
  }

  private unwrap(method: string, entry: unknown): unknown {
    if (!isObject(entry) || (!("result" in entry) && !("error" in entry))) {
      throw new RpcError("malformed", this.url, method, "the answer is not a JSON-RPC response");
    }
    if (entry.error !== undefined && entry.error !== null) {
      const error = entry.error as { code?: unknown; message?: unknown };
      const code = typeof error.code === "number" ? error.code : undefined;
      const message = typeof error.message === "string" ? error.message : JSON.stringify(entry.error);
      if (code === -32601 || METHOD_MISSING.test(message)) {
        throw new RpcError("method-not-found", this.url, method, `the node does not offer this method (${message})`, code);
      }
      if (PRUNED.test(message)) {
        throw new RpcError("pruned", this.url, method, `the node does not hold this historical state; an archive node is needed (${message})`, code);
      }
      throw new RpcError("node", this.url, method, `node error${code === undefined ? "" : ` ${code}`}: ${message}`, code);
    }
    return entry.result;
  }

  /** One HTTP POST with retries; returns the parsed JSON answer. */
  private async post(body: string, method: string, batched: boolean): Promise<unknown> {
    let last: RpcError | undefined;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        const base = Math.min(8_000, this.backoffMs * 2 ** (attempt - 1));
        await Bun.sleep(last?.retryAfterMs ?? base * (0.5 + Math.random() / 2));
      }
      this.stats.httpRequests++;
      let text: string;
      try {
        const response = await fetch(this.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (response.status === 429 || response.status >= 500) {
          await response.body?.cancel().catch(() => {});
          const kind = response.status === 429 ? "rate-limited" : "http";
          last = new RpcError(kind, this.url, method, `HTTP ${response.status} after ${attempt + 1} attempts`);
          last.retryAfterMs = retryAfter(response.headers.get("retry-after"));
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel().catch(() => {});
          throw new RpcError("http", this.url, method, `HTTP ${response.status} ${response.statusText}`);
        }
        text = await response.text();
      } catch (e) {
        if (e instanceof RpcError) throw e;
        const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
        last = timedOut
          ? new RpcError("timeout", this.url, method, `no answer within ${this.timeoutMs} ms (${attempt + 1} attempts)`)
          : new RpcError("unreachable", this.url, method, `cannot reach the node: ${(e as Error).message} (${attempt + 1} attempts)`);
        continue;
      }
      this.stats.bytes += text.length;
      try {
        return JSON.parse(text);
      } catch {
        throw new RpcError("malformed", this.url, method, `the answer is not JSON: ${JSON.stringify(text.slice(0, 60))}${batched ? " (batch)" : ""}`);
      }
    }
    throw last!;
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 10) * 1000 : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// ---- checking the shape of answers ----

export function quantityOf(client: RpcClient, method: string, v: unknown): bigint {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(v)) {
    throw new RpcError("malformed", client.url, method, `expected a hex quantity, got ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return BigInt(v);
}

export function dataOf(client: RpcClient, method: string, v: unknown): `0x${string}` {
  if (typeof v !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(v)) {
    throw new RpcError("malformed", client.url, method, `expected hex data, got ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return v.toLowerCase() as `0x${string}`;
}

export function hashOf(client: RpcClient, method: string, v: unknown): `0x${string}` {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(v)) {
    throw new RpcError("malformed", client.url, method, `expected a 32-byte hash, got ${JSON.stringify(v)?.slice(0, 60)}`);
  }
  return v.toLowerCase() as `0x${string}`;
}

export function hexQuantity(v: bigint): string {
  return "0x" + v.toString(16);
}
