// Regions of shared memory: every shared structure (pre-state, multi-version memory,
// scheduler, results) gets its memory from a SharedAllocator and describes where it lives
// with a postable SharedRegion.
import { allocateShared } from "../native/index.ts";

/** Returns `bytes` bytes of shared memory starting at `byteOffset`. */
export type SharedAllocator = (bytes: number) => { buffer: SharedArrayBuffer; byteOffset: number };

/** A slice of a SharedArrayBuffer; plain data, so it survives postMessage. */
export interface SharedRegion {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

/** A fresh SharedArrayBuffer per region (tests, small structures). */
export const defaultAllocator: SharedAllocator = (bytes) => ({ buffer: new SharedArrayBuffer(bytes), byteOffset: 0 });

/**
 * Regions that start on a 64-byte cache line, so that hot words padded to a line apart never
 * share one (native helper when loaded; a pointer-aligned offset into a larger buffer without).
 */
export const cacheLineAllocator: SharedAllocator = (bytes) => allocateShared(bytes, 64);

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

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
