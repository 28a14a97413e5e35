/** Writes a mocked block as a corpus-format directory that `bun run pevm <dir>` can run. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MockBlock } from "./types.ts";

export function writeMockBlock(directory: string, mock: MockBlock): void {
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, "block.json"), JSON.stringify(mock.block));
  writeFileSync(join(directory, "pre_state.json"), JSON.stringify(mock.preState));
  writeFileSync(join(directory, "bytecodes.json"), JSON.stringify(mock.bytecodes));
}
