/**
 * Writes a mocked block to a directory: `bun test/mock/cli.ts <kind> <count> <dir>`,
 * then `bun run pevm <dir>` executes it.
 */
import { MOCK_KINDS, mockKind, writeMockBlock } from "./index.ts";

const [kindName, countText, directory] = process.argv.slice(2);
if (kindName === undefined || countText === undefined || directory === undefined) {
  console.error(`usage: bun test/mock/cli.ts <kind> <count> <dir>\nkinds: ${MOCK_KINDS.map((kind) => kind.name).join(", ")}`);
  process.exit(2);
}
const mock = await mockKind(kindName).build(Number(countText));
writeMockBlock(directory, mock);
console.log(`${mock.name}: ${mock.block.transactions.length} transactions, ${Object.keys(mock.preState).length} accounts -> ${directory}`);
