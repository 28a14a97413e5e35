/** Mocked blocks (test/mock) loaded into the executor's types through the corpus loader. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeMockBlock, type MockKind } from "../mock/index.ts";
import { loadBlockDir, type LoadedBlock } from "../../src/state/corpus.ts";

/** Builds `count` transactions of `kind` (capped at the kind's maximum) and loads them. */
export async function loadMockBlock(kind: MockKind, count: number): Promise<LoadedBlock> {
  const mock = await kind.build(Math.min(count, kind.maxCount ?? count));
  const dir = mkdtempSync(join(tmpdir(), `pevm-test-${kind.name}-`));
  try {
    writeMockBlock(dir, mock);
    return loadBlockDir(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
