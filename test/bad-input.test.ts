/**
 * Malformed input, one kind per row, each run through the CLI in both modes (`--sequential`
 * and `--workers 2`): every row must be refused before execution with exit code 2 and one
 * line on stderr naming the file, the field (JSON path) and the value, without a stack trace,
 * and both modes must print the same line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const CORPUS = join(ROOT, "data", "mainnet");
const BLOCKS = join(CORPUS, "blocks");
const STATE_TEST = join(ROOT, "data", "ethereum-tests", "GeneralStateTests", "stExample", "add11.json");
/** Frontier, one signed value transfer. */
const SMALL = "46147";
const SENDER = "0xa1e4380a3b1f749673e270229993ee55f35663b4";
/** Petersburg, three transactions calling contracts: code comes from bytecodes.json. */
const WITH_CODE = "9068998";
const CONTRACT = "0x06012c8cf97bead5deae237070f9587f8e7a266d";
const CODE_HASH = "0xfa9b00013baf788bc1d494792bbee58696d7f9fd422a13fd59ee0ab478be5d84";
const OVER_U256 = "0x1" + "0".repeat(64);
const OVER_U64 = "0x10000000000000000";

const MODES = [["--sequential"], ["--workers", "2"]] as const;

type Json = any;
interface Files {
  block?: (b: Json) => void;
  pre?: (p: Json) => void;
  bytecodes?: (c: Json) => void;
  blockHashes?: (h: Json) => void;
  /** Raw text instead of JSON for one file. */
  raw?: Partial<Record<"block.json" | "pre_state.json" | "bytecodes.json" | "block_hashes.json", string>>;
}

interface Kind {
  name: string;
  /** The block to start from (a block directory) or a state test; default the small block. */
  base?: "small" | "code" | "statetest";
  files?: Files;
  /** The state test file's JSON, edited (base "statetest"). */
  stateTest?: (t: Json) => void;
  /** Extra options; FILE in them is replaced by a path in the case's directory. */
  args?: string[];
  /** Which file the message must name: a file of the case's directory, or an absolute path. */
  file?: string;
  /** The JSON path (or option) the message must name. */
  field: string;
  /** The offending value (or a word of the reason) the message must contain. */
  value: string;
}

const tx0 = (b: Json) => b.transactions[0];
const testOf = (t: Json) => Object.values(t)[0] as Json;

const KINDS: Kind[] = [
  // ---- pre_state.json
  { name: "balance over 2^256", files: { pre: (p) => (p[SENDER].balance = OVER_U256) }, file: "pre_state.json", field: `${SENDER}.balance`, value: OVER_U256 },
  { name: "balance as a negative number", files: { pre: (p) => (p[SENDER].balance = -1) }, file: "pre_state.json", field: `${SENDER}.balance`, value: "-1" },
  { name: 'balance "0x" (no digits)', files: { pre: (p) => (p[SENDER].balance = "0x") }, file: "pre_state.json", field: `${SENDER}.balance`, value: '"0x"' },
  { name: "balance not hex", files: { pre: (p) => (p[SENDER].balance = "0xzz") }, file: "pre_state.json", field: `${SENDER}.balance`, value: "0xzz" },
  { name: "nonce negative", files: { pre: (p) => (p[SENDER].nonce = -1) }, file: "pre_state.json", field: `${SENDER}.nonce`, value: "-1" },
  { name: "nonce fractional", files: { pre: (p) => (p[SENDER].nonce = 1.5) }, file: "pre_state.json", field: `${SENDER}.nonce`, value: "1.5" },
  { name: "nonce over 2^64-1", files: { pre: (p) => (p[SENDER].nonce = OVER_U64) }, file: "pre_state.json", field: `${SENDER}.nonce`, value: OVER_U64 },
  { name: "nonce a JSON number too large to be exact", files: { raw: { "pre_state.json": preWith(`"nonce":100000000000000000000`) } }, file: "pre_state.json", field: `${SENDER}.nonce`, value: "100000000000000000000" },
  { name: "storage value over 2^256", files: { pre: (p) => (p[SENDER].storage = { "0x1": OVER_U256 }) }, file: "pre_state.json", field: `${SENDER}.storage.0x1`, value: OVER_U256 },
  { name: 'storage value "0x"', files: { pre: (p) => (p[SENDER].storage = { "0x1": "0x" }) }, file: "pre_state.json", field: `${SENDER}.storage.0x1`, value: '"0x"' },
  { name: "storage slot not hex", files: { pre: (p) => (p[SENDER].storage = { slot1: "0x1" }) }, file: "pre_state.json", field: `${SENDER}.storage.slot1`, value: "slot1" },
  { name: "storage slot over 32 bytes", files: { pre: (p) => (p[SENDER].storage = { [OVER_U256]: "0x1" }) }, file: "pre_state.json", field: `${SENDER}.storage.${OVER_U256}`, value: OVER_U256 },
  { name: "account key not an address", files: { pre: (p) => (p["0x1234"] = { balance: "0x0", nonce: 0 }) }, file: "pre_state.json", field: "0x1234", value: "0x1234" },
  {
    name: "the same address twice, in different letter case",
    files: { pre: (p) => (p[SENDER.toUpperCase().replace("0X", "0x")] = { balance: "0x1", nonce: 0 }) },
    file: "pre_state.json",
    field: SENDER.toUpperCase().replace("0X", "0x"),
    value: SENDER,
  },
  { name: "code_hash not a hash", files: { pre: (p) => (p[SENDER].code_hash = "0x1234") }, file: "pre_state.json", field: `${SENDER}.code_hash`, value: "0x1234" },
  {
    name: "inline code contradicting its code_hash",
    files: { pre: (p) => Object.assign(p[SENDER], { code_hash: CODE_HASH, code: "0x6000" }) },
    file: "pre_state.json",
    field: `${SENDER}.code`,
    value: CODE_HASH,
  },
  { name: "inline code with an odd number of hex digits", files: { pre: (p) => (p[SENDER].code = "0x600") }, file: "pre_state.json", field: `${SENDER}.code`, value: "0x600" },
  {
    name: "code_hash found in no bytecodes.json",
    files: { pre: (p) => (p[SENDER].code_hash = `0x${"ab".repeat(32)}`) },
    file: "pre_state.json",
    field: `${SENDER}.code_hash`,
    value: `0x${"ab".repeat(32)}`,
  },
  { name: "pre_state.json not an object", files: { raw: { "pre_state.json": "[1, 2]" } }, file: "pre_state.json", field: "", value: "[1,2]" },
  // ---- bytecodes.json and block_hashes.json
  { name: "bytecodes.json entry that does not hash to its key", base: "code", files: { bytecodes: (c) => (c[CODE_HASH] = "0x6001") }, file: "bytecodes.json", field: CODE_HASH, value: "hashes to" },
  { name: "bytecodes.json entry not hex", base: "code", files: { bytecodes: (c) => (c[CODE_HASH] = "0x60zz") }, file: "bytecodes.json", field: CODE_HASH, value: "0x60zz" },
  { name: "bytecodes.json not an object", base: "code", files: { raw: { "bytecodes.json": '["0x60"]' } }, file: "bytecodes.json", field: "", value: '["0x60"]' },
  { name: "block_hashes.json key not a number", files: { blockHashes: (h) => (h.latest = `0x${"11".repeat(32)}`) }, file: "block_hashes.json", field: "latest", value: '"latest"' },
  { name: "block_hashes.json value not a hash", files: { blockHashes: (h) => (h["46146"] = "0x12") }, file: "block_hashes.json", field: "46146", value: "0x12" },
  { name: "block_hashes.json malformed JSON", files: { raw: { "block_hashes.json": '{"46146": ' } }, file: "block_hashes.json", field: "", value: "malformed JSON" },
  // ---- block.json header
  { name: 'number "0x"', files: { block: (b) => (b.number = "0x") }, file: "block.json", field: "number", value: '"0x"' },
  { name: "number as a decimal string", files: { block: (b) => (b.number = "46147") }, file: "block.json", field: "number", value: '"46147"' },
  { name: "number over 2^64-1", files: { block: (b) => (b.number = OVER_U64) }, file: "block.json", field: "number", value: OVER_U64 },
  { name: "timestamp over 2^64-1", files: { block: (b) => (b.timestamp = OVER_U64) }, file: "block.json", field: "timestamp", value: OVER_U64 },
  { name: "gasLimit negative", files: { block: (b) => (b.gasLimit = -21000) }, file: "block.json", field: "gasLimit", value: "-21000" },
  { name: "difficulty over 2^256", files: { block: (b) => (b.difficulty = OVER_U256) }, file: "block.json", field: "difficulty", value: OVER_U256 },
  { name: "baseFeePerGas not hex", files: { block: (b) => (b.baseFeePerGas = "0xg1") }, file: "block.json", field: "baseFeePerGas", value: "0xg1" },
  { name: "miner not a 20-byte address", files: { block: (b) => (b.miner = "0xe6a7a1d47ff21b6321162aea7c6cb457d5476b") }, file: "block.json", field: "miner", value: "0xe6a7a1d47ff21b6321162aea7c6cb457d5476b" },
  { name: "mixHash of 31 bytes", files: { block: (b) => (b.mixHash = `0x${"aa".repeat(31)}`) }, file: "block.json", field: "mixHash", value: "got 31" },
  { name: "logsBloom not 256 bytes", files: { block: (b) => (b.logsBloom = `0x${"00".repeat(255)}`) }, file: "block.json", field: "logsBloom", value: "255" },
  { name: "logsBloom with an odd number of hex digits", files: { block: (b) => (b.logsBloom = `0x${"0".repeat(511)}`) }, file: "block.json", field: "logsBloom", value: "odd" },
  { name: "parentHash not a hash", files: { block: (b) => (b.parentHash = "0xabc") }, file: "block.json", field: "parentHash", value: "0xabc" },
  { name: "transactions not an array", files: { block: (b) => (b.transactions = {}) }, file: "block.json", field: "transactions", value: "{}" },
  { name: "a transaction given as its hash only", files: { block: (b) => (b.transactions = [tx0(b).hash]) }, file: "block.json", field: "transactions[0]", value: "full transactions" },
  { name: "withdrawal amount over 2^64-1", files: { block: (b) => (b.withdrawals = [{ index: "0x0", validatorIndex: "0x0", address: SENDER, amount: OVER_U64 }]) }, file: "block.json", field: "withdrawals[0].amount", value: OVER_U64 },
  { name: "uncle not a hash", files: { block: (b) => (b.uncles = ["0x12"]) }, file: "block.json", field: "uncles[0]", value: "0x12" },
  { name: "block.json not an object", files: { raw: { "block.json": '"0xb443"' } }, file: "block.json", field: "", value: '"0xb443"' },
  // ---- block.json transactions
  { name: "transaction value over 2^256", files: { block: (b) => (tx0(b).value = OVER_U256) }, file: "block.json", field: "transactions[0].value", value: OVER_U256 },
  { name: "transaction gasPrice over 2^256", files: { block: (b) => (tx0(b).gasPrice = OVER_U256) }, file: "block.json", field: "transactions[0].gasPrice", value: OVER_U256 },
  { name: "transaction nonce over 2^64-1", files: { block: (b) => (tx0(b).nonce = OVER_U64) }, file: "block.json", field: "transactions[0].nonce", value: OVER_U64 },
  { name: "transaction gas over 2^64-1", files: { block: (b) => (tx0(b).gas = OVER_U64) }, file: "block.json", field: "transactions[0].gas", value: OVER_U64 },
  { name: "transaction nonce negative", files: { block: (b) => (tx0(b).nonce = -1) }, file: "block.json", field: "transactions[0].nonce", value: "-1" },
  { name: 'transaction nonce "0x"', files: { block: (b) => (tx0(b).nonce = "0x") }, file: "block.json", field: "transactions[0].nonce", value: '"0x"' },
  { name: "transaction input with an odd number of hex digits", files: { block: (b) => (tx0(b).input = "0x123") }, file: "block.json", field: "transactions[0].input", value: "0x123" },
  { name: "transaction input not hex", files: { block: (b) => (tx0(b).input = "hello") }, file: "block.json", field: "transactions[0].input", value: "hello" },
  { name: "transaction from not an address", files: { block: (b) => (tx0(b).from = "0x") }, file: "block.json", field: "transactions[0].from", value: '"0x"' },
  { name: "transaction type not supported", files: { block: (b) => (tx0(b).type = "0x7") }, file: "block.json", field: "transactions[0].type", value: "7" },
  { name: "transaction type over a byte", files: { block: (b) => (tx0(b).type = "0x100") }, file: "block.json", field: "transactions[0].type", value: "0x100" },
  { name: "transaction edited after signing (hash mismatch)", files: { block: (b) => (tx0(b).value = "0x7a6a") }, file: "block.json", field: "transactions[0].hash", value: "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060" },
  { name: "transaction hash not a hash", files: { block: (b) => (tx0(b).hash = "0x5c50") }, file: "block.json", field: "transactions[0].hash", value: "0x5c50" },
  { name: "transaction signature r over 2^256", files: { block: (b) => (tx0(b).r = OVER_U256) }, file: "block.json", field: "transactions[0].r", value: OVER_U256 },
  { name: "access list storage key over 32 bytes", files: { block: (b) => Object.assign(tx0(b), { accessList: [{ address: SENDER, storageKeys: [OVER_U256] }] }) }, file: "block.json", field: "transactions[0].accessList[0].storageKeys[0]", value: OVER_U256 },
  // ---- state tests
  { name: "state-test file not an object of tests", base: "statetest", stateTest: () => [], file: "test.json", field: "", value: "[]" },
  { name: "state-test file without tests", base: "statetest", stateTest: () => ({}), file: "test.json", field: "", value: "no tests" },
  { name: "state test without env", base: "statetest", stateTest: (t) => void delete testOf(t).env, file: "test.json", field: "add11.env", value: "missing" },
  { name: "state test without pre", base: "statetest", stateTest: (t) => void delete testOf(t).pre, file: "test.json", field: "add11.pre", value: "missing" },
  { name: "state test without transaction", base: "statetest", stateTest: (t) => void delete testOf(t).transaction, file: "test.json", field: "add11.transaction", value: "missing" },
  { name: "state test without post", base: "statetest", stateTest: (t) => void delete testOf(t).post, file: "test.json", field: "add11.post", value: "missing" },
  { name: "state test expected hash not a hash", base: "statetest", stateTest: (t) => void (postOf(t)[0].hash = "0x00"), file: "test.json", field: ".hash", value: "0x00" },
  { name: "state test with an unknown fork", base: "statetest", stateTest: (t) => renameFork(t, "Atlantis"), file: "test.json", field: "add11.post.Atlantis", value: "Atlantis" },
  { name: "state test index out of range", base: "statetest", stateTest: (t) => void (postOf(t)[0].indexes.data = 9), file: "test.json", field: ".indexes.data", value: "9" },
  { name: "state test pre balance not hex", base: "statetest", stateTest: (t) => void (firstPre(t).balance = "0xqq"), file: "test.json", field: ".balance", value: "0xqq" },
  { name: "state-test run that finds no case", base: "statetest", args: ["--fork", "Frontier"], file: "test.json", field: "", value: "no state test case found" },
  // ---- command line and --dump-state
  { name: "unknown fork option", args: ["--fork", "Atlantis"], field: "fork", value: "Atlantis" },
  { name: "--dump-state to a directory", args: ["--dump-state", "DIR"], file: "DIR", field: "--dump-state", value: "is a directory" },
  { name: "--dump-state in a directory that does not exist", args: ["--dump-state", "DIR/missing/post.json"], file: "post.json", field: "--dump-state", value: "does not exist" },
  { name: "--dump-state to a full device (/dev/full)", args: ["--dump-state", "/dev/full"], file: "/dev/full", field: "--dump-state", value: "ENOSPC" },
];

function postOf(t: Json): Json[] {
  return Object.values(testOf(t).post)[0] as Json[];
}
function firstPre(t: Json): Json {
  return Object.values(testOf(t).pre)[0];
}
function renameFork(t: Json, name: string): void {
  const post = testOf(t).post;
  const [fork] = Object.keys(post);
  post[name] = post[fork!];
  delete post[fork!];
}
/** The small block's pre-state with the sender's fields replaced by raw JSON text. */
function preWith(senderFields: string): string {
  return `{"${SENDER}":{"balance":"0x6c6b935b8bbd400000",${senderFields},"storage":{}}}`;
}

let temp: string;
beforeAll(() => {
  temp = mkdtempSync(join(tmpdir(), "pevm-bad-input-"));
});
afterAll(() => {
  rmSync(temp, { recursive: true, force: true });
});

function pevm(args: string[]) {
  const proc = Bun.spawnSync([process.execPath, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** Edits a JSON file in place; with `replace`, a value the edit returns replaces the whole file. */
function editJson(file: string, edit: ((json: Json) => unknown) | undefined, replace = false): void {
  if (edit === undefined) return;
  const json = JSON.parse(readFileSync(file, "utf8"));
  const returned = edit(json);
  writeFileSync(file, JSON.stringify(replace && returned !== undefined ? returned : json));
}

/** The case's directory with its files, and the command line (without the mode). */
function prepare(kind: Kind, index: number): { args: string[]; dir: string } {
  const dir = join(temp, `kind-${index}`);
  mkdirSync(dir, { recursive: true });
  const extra = (kind.args ?? []).map((a) => a.replace(/^DIR/, dir));
  if (kind.base === "statetest") {
    const file = join(dir, "test.json");
    cpSync(STATE_TEST, file);
    editJson(file, kind.stateTest, true);
    return { args: ["statetest", ...extra, file], dir };
  }
  const number = kind.base === "code" ? WITH_CODE : SMALL;
  cpSync(join(BLOCKS, number, "block.json"), join(dir, "block.json"));
  cpSync(join(BLOCKS, number, "pre_state.json"), join(dir, "pre_state.json"));
  // Side files next to block.json: only the entries this block needs, so edits stay local.
  const pre = JSON.parse(readFileSync(join(dir, "pre_state.json"), "utf8"));
  const allCodes = JSON.parse(readFileSync(join(CORPUS, "bytecodes.json"), "utf8"));
  const codes = Object.fromEntries(Object.values(pre).flatMap((a: any) => (a.code_hash ? [[a.code_hash, allCodes[a.code_hash]]] : [])));
  writeFileSync(join(dir, "bytecodes.json"), JSON.stringify(codes));
  cpSync(join(CORPUS, "block_hashes.json"), join(dir, "block_hashes.json"));
  const files = kind.files ?? {};
  editJson(join(dir, "block.json"), files.block);
  editJson(join(dir, "pre_state.json"), files.pre);
  editJson(join(dir, "bytecodes.json"), files.bytecodes);
  editJson(join(dir, "block_hashes.json"), files.blockHashes);
  for (const [name, text] of Object.entries(files.raw ?? {})) writeFileSync(join(dir, name), text);
  return { args: [...extra, dir], dir };
}

describe(`bad input: ${KINDS.length} kinds, each in both modes`, () => {
  test("the table covers at least 40 kinds", () => {
    expect(KINDS.length).toBeGreaterThanOrEqual(40);
    expect(new Set(KINDS.map((k) => k.name)).size).toBe(KINDS.length);
  });

  KINDS.forEach((kind, index) => {
    test(kind.name, () => {
      const { args, dir } = prepare(kind, index);
      const outputs = MODES.map((mode) => {
        const r = pevm([...(args[0] === "statetest" ? ["statetest", ...mode, ...args.slice(1)] : [...mode, ...args])]);
        const context = `${kind.name} [${mode.join(" ")}]: ${r.stderr}`;
        expect(r.exitCode, context).toBe(2);
        const lines = r.stderr.trimEnd().split("\n");
        expect(lines, context).toHaveLength(1);
        const line = lines[0]!;
        expect(line, context).toStartWith("pevm: ");
        expect(line, context).not.toContain("internal error");
        expect(line, context).not.toMatch(/\n\s+at |TypeError|RangeError/);
        if (kind.file !== undefined) expect(line, context).toContain(kind.file.startsWith("/") ? kind.file : kind.file === "DIR" ? dir : kind.file);
        expect(line, context).toContain(kind.field);
        expect(line, context).toContain(kind.value);
        // Refused before execution: no table row, no JSON line.
        expect(r.stdout, context).not.toMatch(/^\s+\d+\s+\w+\s+\d+/m);
        return line;
      });
      expect(outputs[1]).toBe(outputs[0]!);
      // --dump-state failures leave nothing behind.
      if (kind.args?.includes("--dump-state")) {
        expect(existsSync(join(dir, "missing"))).toBe(false);
        expect(statSync(dir).isDirectory()).toBe(true);
      }
    });
  });
});
