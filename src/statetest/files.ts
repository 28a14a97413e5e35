import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../chain/errors.ts";

/**
 * Test fixture files: `.json`, or `.json.gz` (how data/eest/ vendors the execution-spec-tests),
 * found under files and directories given on the command line.
 */

export function isFixtureFile(name: string): boolean {
  return name.endsWith(".json") || name.endsWith(".json.gz");
}

/** All fixture files under each path (a file is taken as is), sorted for a stable order. */
export function collectFixtureFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (path: string): void => {
    let stat;
    try {
      stat = statSync(path);
    } catch (e) {
      throw new InputError(`cannot read: ${(e as Error).message}`, path);
    }
    if (!stat.isDirectory()) {
      files.push(path);
      return;
    }
    for (const entry of readdirSync(path).sort()) {
      if (isFixtureFile(entry) || statSync(join(path, entry)).isDirectory()) walk(join(path, entry));
    }
  };
  for (const p of paths) walk(p);
  return files;
}

/** The parsed JSON of a fixture file, gunzipped first when it ends in `.gz`. */
export function readFixture<T>(path: string, what: string): T {
  try {
    const raw = readFileSync(path);
    const text = path.endsWith(".gz") ? new TextDecoder().decode(Bun.gunzipSync(raw)) : raw.toString("utf8");
    return JSON.parse(text) as T;
  } catch (e) {
    throw new InputError(`cannot read ${what}: ${(e as Error).message}`, path);
  }
}
