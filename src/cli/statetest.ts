import { InputError } from "../chain/errors.ts";
import type { StateTestCommand } from "./args.ts";

/** `pevm statetest`: delegates to the shared runner in src/statetest/ (not there yet). */
export async function runStateTestCommand(cmd: StateTestCommand): Promise<number> {
  void cmd;
  throw new InputError("not available yet: the state-test runner (src/statetest/) has not landed", undefined, "statetest");
}
