// Thread placement, CPU facts and cache-line-aligned shared memory.
// Uses native/build/libpevm_native.so when it can be loaded (see library.ts);
// otherwise every function quietly falls back to a pure-JS answer, so callers
// never need to branch on nativeAvailable() for correctness.
import { ptr } from "bun:ffi";
import { availableParallelism } from "node:os";
import { nativeSymbolsOrNull } from "./library.ts";

export { NATIVE_LIBRARY_PATH, nativeUnavailableReason } from "./library.ts";

const FALLBACK_CACHE_LINE_SIZE = 64;
const MAX_ALIGN = 1 << 30; // keeps offsets within the C side's int

/** True when the native library is loaded on the calling thread. */
export function nativeAvailable(): boolean {
  return nativeSymbolsOrNull() !== null;
}

/**
 * Restrict the calling thread (only it: the main thread or the Bun Worker
 * this runs in) to one CPU. False when unsupported or the kernel refuses,
 * e.g. a CPU outside the process's cpuset.
 */
export function pinCurrentThread(cpu: number): boolean {
  const native = nativeSymbolsOrNull();
  if (native === null || !Number.isInteger(cpu) || cpu < 0) return false;
  return native.pevm_pin_current_thread(cpu) === 0;
}

/**
 * Undo pinCurrentThread: allow the calling thread on every CPU again (the
 * kernel still intersects this with the process's cpuset).
 */
export function unpinCurrentThread(): boolean {
  const native = nativeSymbolsOrNull();
  return native !== null && native.pevm_unpin_current_thread() === 0;
}

/** The CPU the calling thread is running on right now, -1 when unknown. */
export function currentCpu(): number {
  const native = nativeSymbolsOrNull();
  return native === null ? -1 : native.pevm_current_cpu();
}

/** Online CPUs; the basis for the automatic worker count. Always >= 1. */
export function cpuCount(): number {
  const native = nativeSymbolsOrNull();
  if (native !== null) return native.pevm_cpu_count();
  const reported = globalThis.navigator?.hardwareConcurrency || availableParallelism();
  return Math.max(1, reported);
}

/** CPUs the calling thread may run on (its affinity mask); cpuCount() without the library. */
export function allowedCpuCount(): number {
  const native = nativeSymbolsOrNull();
  const count = native === null ? -1 : native.pevm_allowed_cpu_count();
  return count > 0 ? count : cpuCount();
}

/** L1 data cache line size in bytes; 64 when it cannot be determined. */
export function cacheLineSize(): number {
  const native = nativeSymbolsOrNull();
  return native === null ? FALLBACK_CACHE_LINE_SIZE : native.pevm_cache_line_size();
}

/** Busy-wait hint (x86 `pause`) for spin loops; a no-op without the library. */
export function spinPause(iterations = 1): void {
  nativeSymbolsOrNull()?.pevm_cpu_relax(iterations);
}

export interface SharedAllocation {
  /** A real SharedArrayBuffer: postMessage-able and usable with Atomics.wait. */
  buffer: SharedArrayBuffer;
  /** Where the requested region starts; buffer holds >= byteOffset + byteLength bytes. */
  byteOffset: number;
  /**
   * True when buffer's memory address + byteOffset is known to be a multiple
   * of `align`. The memory of a SharedArrayBuffer never moves and is the same
   * in every thread it is posted to, so the guarantee holds everywhere.
   */
  addressAligned: boolean;
}

/**
 * A SharedArrayBuffer holding a region of `byteLength` bytes that starts on an
 * `align`-byte boundary of the real memory address (default: 64, a cache line).
 *
 * Alignment guarantee, by case:
 * - native library loaded: the C side computes the offset from the buffer's
 *   data pointer, so the region is aligned (addressAligned = true);
 * - no library but bun:ffi `ptr()` works: same arithmetic in JS on the
 *   address ptr() reports (addressAligned = true);
 * - neither: byteOffset is 0 and alignment is only what the engine's
 *   allocator happens to give (addressAligned = false).
 * Views built at byteOffset also need byteOffset to be a multiple of their
 * element size; with align >= 8 any aligned offset satisfies that.
 */
export function allocateShared(byteLength: number, align = 64): SharedAllocation {
  if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
    throw new RangeError(`allocateShared: byteLength must be a non-negative integer, got ${byteLength}`);
  }
  assertValidAlign(align);
  // The extra `align` bytes of slack always contain an aligned start.
  const buffer = new SharedArrayBuffer(byteLength + align);
  const wholeBuffer = new Uint8Array(buffer);

  const native = nativeSymbolsOrNull();
  if (native !== null) {
    const byteOffset = native.pevm_align_offset(wholeBuffer, align);
    if (byteOffset >= 0) return { buffer, byteOffset, addressAligned: true };
  }
  const address = addressOf(wholeBuffer);
  if (address === null) return { buffer, byteOffset: 0, addressAligned: false };
  return { buffer, byteOffset: (align - (address % align)) % align, addressAligned: true };
}

function assertValidAlign(align: number): void {
  if (!Number.isInteger(align) || align < 1 || align > MAX_ALIGN || (align & (align - 1)) !== 0) {
    throw new RangeError(`align must be a power of two in [1, 2^30], got ${align}`);
  }
}

/** The data address of a view via bun:ffi, or null when that is unusable. */
function addressOf(view: Uint8Array): number | null {
  try {
    const address = Number(ptr(view));
    // x86-64/arm64 user addresses fit in 53 bits, so number arithmetic is exact.
    return Number.isSafeInteger(address) && address > 0 ? address : null;
  } catch {
    return null;
  }
}

/**
 * True when `view`'s first byte sits on an `align` boundary of the real
 * address; null when that cannot be checked (empty view, or no library and
 * no ptr()).
 */
export function isAddressAligned(view: ArrayBufferView, align = 64): boolean | null {
  assertValidAlign(align);
  if (view.byteLength === 0) return null; // an empty view has no data pointer to check
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const native = nativeSymbolsOrNull();
  if (native !== null) {
    const result = native.pevm_is_aligned(bytes, align);
    if (result >= 0) return result === 1;
  }
  const address = addressOf(bytes);
  return address === null ? null : address % align === 0;
}
