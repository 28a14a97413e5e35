// The faster code analysis (src/vm/jump-analysis.ts) against @ethereumjs/evm's own, on every
// contract of the mainnet corpus and on code that ends inside a PUSH.
import { describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Fork } from "../src/chain/forks.ts";
import { DEFAULT_CORPUS } from "../src/state/corpus.ts";
import { forkVm } from "../src/vm/evm.ts";
import { analyseCode, pushValue, type CodeAnalysis } from "../src/vm/jump-analysis.ts";

async function interpreters() {
  const vm = await forkVm(Fork.Cancun);
  const evmDir = dirname(Bun.resolveSync("@ethereumjs/evm", import.meta.dir));
  const { Interpreter } = await import(`${evmDir}/interpreter.js`);
  const original = (Interpreter.prototype._getValidJumpDestinations as { original?: (code: Uint8Array) => CodeAnalysis }).original;
  expect(original).toBeFunction(); // installed by forkVm
  const evm = vm.evm as unknown as { _opcodeMap: unknown[]; common: { isActivatedEIP(eip: number): boolean } };
  const interpreter = { lookupOpInfo: (op: number) => evm._opcodeMap[op], common: evm.common };
  return { interpreter, original: original! };
}

function expectSame(a: CodeAnalysis, b: CodeAnalysis): void {
  expect(a.jumps).toEqual(b.jumps);
  expect(a.pushes).toEqual(b.pushes);
  expect(a.opcodesCached.length).toBe(b.opcodesCached.length);
  for (let i = 0; i < a.opcodesCached.length; i++) if (a.opcodesCached[i] !== b.opcodesCached[i]) throw new Error(`opcode info differs at ${i}`);
}

describe("code analysis", () => {
  test("the same jumps, push values and opcode infos as the interpreter's, for every corpus contract", async () => {
    const { interpreter, original } = await interpreters();
    const codes = JSON.parse(readFileSync(join(DEFAULT_CORPUS, "bytecodes.json"), "utf8")) as Record<string, string>;
    let compared = 0;
    for (const hex of Object.values(codes)) {
      const code = Buffer.from(hex.slice(2), "hex");
      expectSame(analyseCode(interpreter, code, original), original.call(interpreter, code));
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
  });

  test("another EVM's jumps and push values are reused, with this EVM's own opcode infos", async () => {
    const { interpreter, original } = await interpreters();
    const paris = (await forkVm(Fork.Paris)).evm as unknown as { _opcodeMap: unknown[]; common: { isActivatedEIP(eip: number): boolean } };
    const other = { lookupOpInfo: (op: number) => paris._opcodeMap[op], common: paris.common };
    const codes = JSON.parse(readFileSync(join(DEFAULT_CORPUS, "bytecodes.json"), "utf8")) as Record<string, string>;
    let compared = 0;
    for (const hex of Object.values(codes).slice(0, 200)) {
      const code = Buffer.from(hex.slice(2), "hex");
      const theirs = analyseCode(other, code, original);
      const mine = analyseCode(interpreter, code, original, theirs);
      expect(mine.pushes).toBe(theirs.pushes);
      expectSame(mine, original.call(interpreter, code));
      compared++;
    }
    expect(compared).toBe(200);
  });

  test("a PUSH cut off by the end of the code reads as zero-padded, as the interpreter pads it", async () => {
    const { interpreter, original } = await interpreters();
    for (let size = 1; size <= 32; size++) {
      for (let present = 0; present < size; present++) {
        const code = Uint8Array.from([0x5b, 0x5f + size, ...Array.from({ length: present }, (_, i) => 0xf0 + (i % 16))]);
        expectSame(analyseCode(interpreter, code, original), original.call(interpreter, code));
      }
    }
    expect(pushValue(Uint8Array.from([0xff, 0xff]), 0, 32)).toBe(0xffffn << 240n);
    expect(pushValue(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 0, 9)).toBe(0x010203040506070809n);
  });
});
