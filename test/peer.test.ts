/**
 * The benchmark peer (@ethereumjs/vm runBlock over the mainnet corpus) must reproduce
 * what the chain recorded, or comparing against it means nothing.
 */
import { describe, expect, test } from "bun:test";
import { blockDirOf } from "../bench/peer/corpus.ts";
import { checkPeerRun, loadPeerBlock, runPeerBlock } from "../bench/peer/ethereumjs-vm.ts";

const REPRESENTATIVE_BLOCKS = [
  { number: 1796867, why: "pre-Byzantium (Homestead): gas and logsBloom; a contract self-destructs and is called again" },
  { number: 11743952, why: "Byzantium..London (Istanbul): destroyed contracts probed again with EXTCODESIZE" },
  { number: 15537394, why: "first post-merge block (Paris)" },
  { number: 19932703, why: "Cancun with the KZG point-evaluation precompile" },
];

describe("peer: @ethereumjs/vm runBlock on mainnet blocks", () => {
  for (const { number, why } of REPRESENTATIVE_BLOCKS) {
    test(`block ${number}: ${why}`, async () => {
      const loaded = await loadPeerBlock(blockDirOf(number));
      const run = await runPeerBlock(loaded);
      expect(run.gasUsed).toBe(loaded.expected.gasUsed);
      if (loaded.receiptsComparable) {
        expect(run.receiptsRoot).toBe(loaded.expected.receiptsRoot.toLowerCase() as typeof run.receiptsRoot);
      } else {
        expect(run.logsBloom).toBe(loaded.expected.logsBloom.toLowerCase() as typeof run.logsBloom);
      }
      expect(checkPeerRun(loaded, run)).toMatchObject({ gasOk: true, receiptsOk: true });
    }, 60_000);
  }
});
