// Shared-memory plumbing common to the multi-version structures: regions handed out by a
// pluggable allocator, their postable descriptors, and the capacity error.

/** Returns `bytes` bytes of shared memory starting at `byteOffset` (e.g. native/allocateShared). */
export type SharedAllocator = (bytes: number) => { buffer: SharedArrayBuffer; byteOffset: number };

/** A slice of a SharedArrayBuffer; plain data, so it survives postMessage. */
export interface SharedRegion {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

export const defaultAllocator: SharedAllocator = (bytes) => ({ buffer: new SharedArrayBuffer(bytes), byteOffset: 0 });

/** Words per 64-byte cache line: hot counters sit `CACHE_LINE_WORDS` apart. */
export const CACHE_LINE_WORDS = 16;

export function allocateRegion(allocate: SharedAllocator, int32Words: number): SharedRegion {
  // Never zero bytes: some allocators reject it and an empty view is harmless anyway.
  const byteLength = Math.max(1, int32Words) * 4;
  const { buffer, byteOffset } = allocate(byteLength);
  if (byteOffset % 4 !== 0 || byteOffset + byteLength > buffer.byteLength) {
    throw new RangeError(`allocator returned an unusable region (offset ${byteOffset}, need ${byteLength} bytes)`);
  }
  return { buffer, byteOffset, byteLength };
}

export function int32View(region: SharedRegion): Int32Array {
  return new Int32Array(region.buffer, region.byteOffset, region.byteLength >> 2);
}

export type MvResource = "locations" | "entries" | "writeArena" | "readArena" | "transactions";

/**
 * A fixed capacity chosen at creation was exceeded. The structure must be considered
 * unusable for the current block: the engine retries with larger capacities or falls back.
 */
export class MvCapacityError extends Error {
  override readonly name = "MvCapacityError";
  constructor(
    readonly resource: MvResource,
    readonly capacity: number,
  ) {
    super(`multi-version memory: ${resource} capacity ${capacity} exceeded`);
  }
}

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
