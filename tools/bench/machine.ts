import { readFileSync, statfsSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  wrangler: string;
  workerd: string;
  /** 1-minute load average when the run started and when it ended: other work on the machine skews figures. */
  loadAverage: { start: number; end: number };
  /** Where the servers kept their state: local objects and D1 sync every commit to it. */
  stateOn: "disk" | "memory (tmpfs)";
}

/** statfs f_type of a tmpfs (linux/magic.h): state kept in memory, where a sync costs nothing. */
const TMPFS_MAGIC = 0x01021994;

/** The machine and the versions that produced the figures (BENCHMARKS.md states them with every table). */
export function describeMachine(loadAtStart: number, stateDir: string): Machine {
  const installed = (name: string) =>
    (
      JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
        version: string;
      }
    ).version;
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    wrangler: installed("wrangler"),
    workerd: installed("workerd"),
    loadAverage: { start: loadAtStart, end: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
    stateOn: statfsSync(stateDir).type === TMPFS_MAGIC ? "memory (tmpfs)" : "disk",
  };
}
