import type { Hex } from "../chain/types.ts";

/**
 * One code object per code hash and thread, kept across blocks.
 *
 * The interpreter's jump-destination analysis is memoised per code object (vm/evm.ts), and
 * it is costly: it turns every PUSH's data into a bigint, milliseconds for a large contract.
 * Sources hand out different objects for the same code (a worker attaches a new shared
 * pre-state per block; a block's creations live in a per-block store), so without this each
 * worker re-analysed every contract of every block. Code behind a hash never changes, so the
 * first copy seen is the one every later transaction runs. Copies out of a SharedArrayBuffer
 * are made once, so the interpreter never reads code from shared memory.
 *
 * Bounded by total bytes; the oldest entries go first (mainnet's hot contracts are re-read
 * every block and come back at once).
 */
const MAX_BYTES = 256 << 20;
const codes = new Map<Hex, Uint8Array>();
let bytes = 0;

export function internCode(codeHash: Hex, load: (codeHash: Hex) => Uint8Array): Uint8Array {
  const known = codes.get(codeHash);
  if (known !== undefined) return known;
  const loaded = load(codeHash);
  const code = loaded.buffer instanceof SharedArrayBuffer ? loaded.slice() : loaded;
  bytes += code.length;
  if (bytes > MAX_BYTES) {
    for (const [hash, old] of codes) {
      codes.delete(hash);
      bytes -= old.length;
      if (bytes <= MAX_BYTES / 2) break;
    }
  }
  codes.set(codeHash, code);
  return code;
}
