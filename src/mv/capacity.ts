// The multi-version memory's fixed capacities and the error raised when a block exceeds one.

export type MvResource = "locations" | "entries" | "writeArena" | "readArena" | "transactions";

/**
 * A fixed capacity chosen at creation was exceeded. The structure must be considered
 * unusable for the current block: the engine retries with larger capacities or falls back.
 */
export class MvCapacityError extends Error {
  override readonly name = "MvCapacityError";
  constructor(
    readonly resource: MvResource,
    readonly capacity: number,
  ) {
    super(`multi-version memory: ${resource} capacity ${capacity} exceeded`);
  }
}
