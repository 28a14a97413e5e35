/** What the numbers were measured on: they mean little without the machine and its load. */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { allowedCpuCount, cpuCount, nativeAvailable } from "../../src/native/index.ts";

export interface MachineInfo {
  cpuModel: string;
  /** Online CPUs, and those this process may run on. */
  cores: number;
  allowedCores: number;
  nativeHelper: boolean;
  bunVersion: string;
  bunRevision: string;
  platform: string;
  date: string;
  gitCommit: string;
  /** Uncommitted changes in the work tree: the numbers may not belong to gitCommit alone. */
  gitDirty: boolean;
}

export interface LoadSample {
  at: string;
  /** 1, 5 and 15 minute load averages; above `cores` means other work competed for the CPUs. */
  loadAverage: [number, number, number];
  /** The `uptime` line as printed. */
  uptime: string;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return match?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

function git(args: string[]): string {
  const result = Bun.spawnSync(["git", ...args], { cwd: import.meta.dir, stderr: "ignore" });
  return result.exitCode === 0 ? result.stdout.toString().trim() : "";
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: cpuCount(),
    allowedCores: allowedCpuCount(),
    nativeHelper: nativeAvailable(),
    bunVersion: Bun.version,
    bunRevision: Bun.revision,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    gitCommit: git(["rev-parse", "HEAD"]) || "unknown",
    gitDirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "",
  };
}

export function loadSample(): LoadSample {
  const uptime = Bun.spawnSync(["uptime"], { stderr: "ignore" });
  const [one, five, fifteen] = loadavg();
  return {
    at: new Date().toISOString(),
    loadAverage: [one, five, fifteen].map((v) => Math.round(v * 100) / 100) as [number, number, number],
    uptime: uptime.exitCode === 0 ? uptime.stdout.toString().trim() : "",
  };
}
