import { InputError } from "../chain/errors.ts";
import { parseForkName } from "../chain/forks.ts";
import { address, hash32, MAX_UINT256, MAX_UINT64, quantity, readerFor, show, type JsonReader } from "../chain/json.ts";
import type { StateTestFileJson } from "./json.ts";

/**
 * The shape of a filled state-test file, checked before any case runs: a file that is not an
 * object of tests, a test without env / pre / transaction / post, an expected hash that is not
 * a hash or a fork name pevm does not know is bad input (InputError naming file, JSON path and
 * value), not a failing case.
 * Transaction quantities are not checked here: a value no transaction can carry (a gas limit
 * over 2^64-1, a value over 2^256 written as ":bigint 0x1..."), is what some tests expect to be
 * rejected, case by case.
 */
export function checkStateTestFile(file: string, json: unknown): StateTestFileJson {
  const r = readerFor(file, json);
  const tests = Object.entries(r.obj);
  if (tests.length === 0) throw new InputError("no tests in the file (expected { testName: { env, pre, transaction, post } })", file);
  for (const [name, value] of tests) checkTest(r.child(name, value));
  return r.obj as StateTestFileJson;
}

function checkTest(t: JsonReader): void {
  const env = t.child("env", t.raw("env"));
  address(env.file, env.at("currentCoinbase"), env.raw("currentCoinbase"));
  for (const field of ["currentGasLimit", "currentNumber", "currentTimestamp"]) env.quantity(field, MAX_UINT64);
  for (const field of ["currentDifficulty", "currentBaseFee", "currentExcessBlobGas"]) env.optQuantity(field);
  if (env.has("currentRandom")) env.bytes("currentRandom", 32);

  const pre = t.child("pre", t.raw("pre"));
  for (const [addr, value] of Object.entries(pre.obj)) {
    address(pre.file, pre.at(addr), addr);
    const a = pre.child(addr, value);
    a.quantity("balance", MAX_UINT256);
    a.quantity("nonce", MAX_UINT64);
    hexSyntax(a, "code", a.raw("code"));
    const storage = a.child("storage", a.raw("storage") ?? {});
    for (const [slot, v] of Object.entries(storage.obj)) {
      quantity(storage.file, storage.at(`${slot} (key)`), slot, MAX_UINT256);
      storage.quantity(slot, MAX_UINT256);
    }
  }

  const tx = t.child("transaction", t.raw("transaction"));
  for (const vector of ["data", "gasLimit", "value"]) {
    const items = tx.array(vector);
    if (items.length === 0) tx.fail(vector, "expected at least one entry");
    if (vector === "data") items.forEach((item, i) => hexSyntax(tx, `data[${i}]`, item));
  }
  if (!tx.has("gasPrice") && !tx.has("maxFeePerGas")) tx.fail("gasPrice", "missing (neither gasPrice nor maxFeePerGas)");
  const to = tx.raw("to");
  if (to !== "" && to !== undefined) address(tx.file, tx.at("to"), to);
  if (tx.has("sender") && tx.raw("sender") !== "") address(tx.file, tx.at("sender"), tx.raw("sender"));
  else if (tx.has("secretKey")) tx.bytes("secretKey", 32);
  else tx.fail("secretKey", "missing (neither sender nor secretKey)");
  if (tx.has("blobVersionedHashes")) tx.array("blobVersionedHashes").forEach((h, i) => hash32(tx.file, tx.at(`blobVersionedHashes[${i}]`), h));

  const post = t.child("post", t.raw("post"));
  for (const [fork, entries] of Object.entries(post.obj)) {
    try {
      parseForkName(fork);
    } catch (e) {
      post.fail(fork, (e as Error).message.replace(/^fork: /, ""));
    }
    if (!Array.isArray(entries)) post.fail(fork, `expected an array of expected results, got ${show(entries)}`);
    (entries as unknown[]).forEach((entry, i) => {
      const p = post.child(`${fork}[${i}]`, entry);
      p.hash("hash");
      p.hash("logs");
      const indexes = p.child("indexes", p.raw("indexes"));
      for (const [field, vector] of [
        ["data", "data"],
        ["gas", "gasLimit"],
        ["value", "value"],
      ] as const) {
        const index = indexes.raw(field);
        const length = (tx.raw(vector) as unknown[]).length;
        if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= length) {
          indexes.fail(field, `expected an index into transaction.${vector} (0 to ${length - 1}), got ${show(index)}`);
        }
      }
    });
  }
}

/** A hex number of any size ("0x" alone included: some tests use it for zero). */
function hexSyntax(r: JsonReader, field: string, value: unknown): void {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]*$/.test(value)) r.fail(field, `expected a hex number, got ${show(value)}`);
}
