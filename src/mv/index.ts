// Public surface of the multi-version memory.
export * from "./shared.ts";
export * from "./locations.ts";
export * from "./sets.ts";
export * from "./memory.ts";
