/**
 * The interpreter's code analysis, done faster: @ethereumjs/evm's `_getValidJumpDestinations`
 * marks JUMPDESTs, caches each opcode's info and turns the data of every PUSH into a bigint,
 * the last through a hex string per PUSH (most of its time: milliseconds for a large
 * contract, once per contract and thread, so twice with two workers). This computes the same
 * three results with push values built from bytes directly. Where the interpreter knows
 * opcodes with immediates (EIP-8024, not in any fork pevm runs), the original runs instead.
 * test/jump-analysis.test.ts compares both on every contract of the corpus.
 */

export interface CodeAnalysis {
  jumps: Uint8Array;
  pushes: Record<number, bigint>;
  opcodesCached: unknown[];
}

interface InterpreterLike {
  lookupOpInfo(op: number): unknown;
  common: { isActivatedEIP(eip: number): boolean };
}

const chunk = new DataView(new ArrayBuffer(8));

/** The unsigned big-endian integer of code[from, from + length), zero-padded past the end of code. */
export function pushValue(code: Uint8Array, from: number, length: number): bigint {
  const end = from + length;
  if (length <= 6) {
    let n = 0;
    for (let i = from; i < end; i++) n = n * 256 + (i < code.length ? code[i]! : 0);
    return BigInt(n);
  }
  // 8-byte chunks from the end backwards; the first (partial) chunk is zero-filled in front.
  let value = 0n;
  let shift = 0n;
  for (let stop = end; stop > from; stop -= 8, shift += 64n) {
    const start = Math.max(from, stop - 8);
    for (let k = 0; k < 8; k++) {
      const at = stop - 8 + k;
      chunk.setUint8(k, at >= start && at < code.length ? code[at]! : 0);
    }
    value |= chunk.getBigUint64(0) << shift;
  }
  return value;
}

/**
 * `known`: the jumps and push values of this code from another interpreter (another EVM of
 * this thread). They depend on the code alone, so only the opcode infos, which are the EVM's
 * own objects, are looked up again: the push values are the bulk of an analysis's memory
 * (a bigint per PUSH), and each EVM holding its own copy doubled the calling thread's heap
 * once it also ran a parallel engine's share.
 */
export function analyseCode(
  interpreter: InterpreterLike,
  code: Uint8Array,
  original: (code: Uint8Array) => CodeAnalysis,
  known?: Pick<CodeAnalysis, "jumps" | "pushes">,
): CodeAnalysis {
  if (interpreter.common.isActivatedEIP(8024)) return original.call(interpreter, code);
  const length = code.length;
  if (known !== undefined) {
    const opcodesCached: unknown[] = new Array(length);
    for (let i = 0; i < length; i++) {
      const opcode = code[i]!;
      opcodesCached[i] = interpreter.lookupOpInfo(opcode);
      if (opcode >= 0x60 && opcode <= 0x7f) i += opcode - 0x5f;
    }
    return { jumps: known.jumps, pushes: known.pushes, opcodesCached };
  }
  const jumps = new Uint8Array(length);
  const pushes: Record<number, bigint> = {};
  const opcodesCached: unknown[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const opcode = code[i]!;
    opcodesCached[i] = interpreter.lookupOpInfo(opcode);
    if (opcode >= 0x60 && opcode <= 0x7f) {
      const bytes = opcode - 0x5f;
      pushes[i + 1] = pushValue(code, i + 1, bytes);
      i += bytes;
    } else if (opcode === 0x5b) {
      jumps[i] = 1;
    }
  }
  return { jumps, pushes, opcodesCached };
}
