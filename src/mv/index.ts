// Public surface of the multi-version memory.
export * from "./capacity.ts";
export * from "./locations.ts";
export * from "./sets.ts";
export * from "./memory.ts";
