/**
 * Compiles the mock contracts in ./contracts with solc-js and writes one JSON artifact per
 * contract to ./artifacts. Run with `bun test/mock/build-artifacts.ts`; the outputs are
 * committed so that generating a mocked block never needs the compiler.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import solc from "solc";

const here = import.meta.dir;
const contractsDir = join(here, "contracts");
const artifactsDir = join(here, "artifacts");
const nodeModules = join(here, "..", "..", "node_modules");

interface SolcContractOutput {
  abi: unknown[];
  evm: { bytecode: { object: string }; deployedBytecode: { object: string } };
  storageLayout: { storage: { label: string; slot: string }[] };
}

function findImport(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(join(nodeModules, path), "utf8") };
  } catch {
    return { error: `not found: ${path}` };
  }
}

const sources: Record<string, { content: string }> = {};
for (const file of readdirSync(contractsDir).filter((name) => name.endsWith(".sol")).sort()) {
  sources[file] = { content: readFileSync(join(contractsDir, file), "utf8") };
}

/**
 * Two targets: Cancun, the fork of the mocked blocks (newer defaults could emit opcodes it
 * lacks), in artifacts/; and Paris (no PUSH0, which Shanghai introduced), in artifacts/paris/,
 * for the fuzzer's London and Paris blocks.
 */
const TARGETS = [
  { evmVersion: "cancun", dir: artifactsDir },
  { evmVersion: "paris", dir: join(artifactsDir, "paris") },
];

for (const target of TARGETS) {
  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: target.evmVersion,
      optimizer: { enabled: true, runs: 200 },
      // No metadata hash: keeps the bytecode identical however the sources are laid out on disk.
      metadata: { bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "storageLayout"] } },
    },
  };

  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors ?? []).filter((entry: { severity: string }) => entry.severity === "error");
  if (errors.length > 0) {
    for (const entry of errors) console.error(entry.formattedMessage);
    process.exit(1);
  }

  mkdirSync(target.dir, { recursive: true });
  for (const [file, contracts] of Object.entries(output.contracts as Record<string, Record<string, SolcContractOutput>>)) {
    // Imported library sources (OpenZeppelin) are compiled in, not shipped on their own.
    if (!(file in sources)) continue;
    for (const [name, contract] of Object.entries(contracts)) {
      const storageSlots = Object.fromEntries(contract.storageLayout.storage.map((entry) => [entry.label, Number(entry.slot)]));
      const artifact = {
        contractName: name,
        source: `test/mock/contracts/${file}`,
        compiler: `solc ${solc.version()}`,
        ...(target.evmVersion === "cancun" ? {} : { evmVersion: target.evmVersion }),
        abi: contract.abi,
        bytecode: `0x${contract.evm.bytecode.object}`,
        deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
        storageSlots,
      };
      writeFileSync(join(target.dir, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
      console.log(`${target.evmVersion} ${name}: ${contract.evm.deployedBytecode.object.length / 2} bytes`);
    }
  }
}
