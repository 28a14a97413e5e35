// Lazy, per-thread loading of native/build/libpevm_native.so via bun:ffi.
// Module state is per thread: every Bun Worker evaluates this module afresh,
// so each Worker does its own dlopen (the OS shares the mapping anyway).
import { dlopen, FFIType, type Library } from "bun:ffi";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Must match pevm_native_abi_version() in native/pevm_native.c. */
const EXPECTED_ABI_VERSION = 1;

export const NATIVE_LIBRARY_PATH = join(import.meta.dir, "../../native/build/libpevm_native.so");

const nativeSymbols = {
  pevm_native_abi_version: { args: [], returns: FFIType.i32 },
  pevm_cpu_count: { args: [], returns: FFIType.i32 },
  pevm_cache_line_size: { args: [], returns: FFIType.i32 },
  pevm_current_cpu: { args: [], returns: FFIType.i32 },
  pevm_pin_current_thread: { args: [FFIType.i32], returns: FFIType.i32 },
  pevm_unpin_current_thread: { args: [], returns: FFIType.i32 },
  pevm_allowed_cpu_count: { args: [], returns: FFIType.i32 },
  pevm_align_offset: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  pevm_is_aligned: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  pevm_cpu_relax: { args: [FFIType.i32], returns: FFIType.void },
} as const;

export type NativeSymbols = Library<typeof nativeSymbols>["symbols"];

type LoadState =
  | { kind: "unloaded" }
  | { kind: "loaded"; symbols: NativeSymbols }
  | { kind: "unavailable"; reason: string };

let state: LoadState = { kind: "unloaded" };

function nativeDisabledByEnv(): boolean {
  const flag = process.env.PEVM_NO_NATIVE;
  return flag === "1" || flag === "true";
}

function load(): LoadState {
  if (nativeDisabledByEnv()) return { kind: "unavailable", reason: "disabled by PEVM_NO_NATIVE" };
  // Affinity and sched_getcpu are only implemented for Linux in the C file.
  if (process.platform !== "linux") return { kind: "unavailable", reason: `unsupported platform ${process.platform}` };
  if (!existsSync(NATIVE_LIBRARY_PATH)) return { kind: "unavailable", reason: `missing ${NATIVE_LIBRARY_PATH} (run make native)` };
  try {
    const { symbols } = dlopen(NATIVE_LIBRARY_PATH, nativeSymbols);
    const abi = symbols.pevm_native_abi_version();
    if (abi !== EXPECTED_ABI_VERSION) {
      return { kind: "unavailable", reason: `stale native library (ABI ${abi}, expected ${EXPECTED_ABI_VERSION})` };
    }
    return { kind: "loaded", symbols };
  } catch (error) {
    return { kind: "unavailable", reason: `dlopen failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The library's symbols, or null when the pure-JS fallback must be used. */
export function nativeSymbolsOrNull(): NativeSymbols | null {
  if (state.kind === "unloaded") state = load();
  return state.kind === "loaded" ? state.symbols : null;
}

/** Why the native library is not in use on this thread, or null when it is. */
export function nativeUnavailableReason(): string | null {
  if (state.kind === "unloaded") state = load();
  return state.kind === "unavailable" ? state.reason : null;
}
