import type { Hex } from "../chain/types.ts";
import type { BlockResult, LoadedBlock } from "../index.ts";
import { applyChanges, stateRoot } from "../state/state-root.ts";
import type { BlockCommand } from "./args.ts";
import { serializePreState, writeDump } from "./dump-state.ts";

export interface PostStateHooks {
  stateRoot?: (loaded: LoadedBlock, result: BlockResult) => Promise<Hex>;
  dumpState?: (file: string, loaded: LoadedBlock, result: BlockResult) => Promise<void>;
}

/** Post-state work for --state-root and --dump-state, only when asked for (both walk the whole state). */
export function postStateHooks(cmd: BlockCommand): PostStateHooks {
  return {
    stateRoot: cmd.stateRoot ? (loaded, result) => stateRoot(loaded.storage, result.changes) : undefined,
    dumpState:
      cmd.dumpState === undefined
        ? undefined
        : async (file, loaded, result) => {
            // The pre-state is not needed after this block: turn it into the post-state in place.
            await writeDump(file, serializePreState(applyChanges(loaded.storage, result.changes)));
          },
  };
}
