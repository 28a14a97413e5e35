import { InputError } from "../chain/errors.ts";
import type { Hex } from "../chain/types.ts";
import type { BlockResult, LoadedBlock } from "../index.ts";
import type { BlockCommand } from "./args.ts";

export interface PostStateHooks {
  stateRoot?: (loaded: LoadedBlock, result: BlockResult) => Promise<Hex>;
  dumpState?: (file: string, loaded: LoadedBlock, result: BlockResult) => Promise<void>;
}

/** Post-state work for --state-root and --dump-state; needs src/state/state-root.ts (not there yet). */
export async function postStateHooks(cmd: BlockCommand): Promise<PostStateHooks> {
  if (!cmd.stateRoot && cmd.dumpState === undefined) return {};
  throw new InputError("not available yet: src/state/state-root.ts has not landed", undefined, cmd.stateRoot ? "--state-root" : "--dump-state");
}
