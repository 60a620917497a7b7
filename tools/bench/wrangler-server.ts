import { readdirSync, readFileSync } from "node:fs";
import { startWranglerDev, type WranglerDev } from "../lib/wrangler-dev.ts";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface BenchServer extends WranglerDev {
  /** CPU seconds used so far by the server's processes, by command name (workerd, node for wrangler). */
  cpuSeconds(): Record<string, number>;
}

/**
 * Starts `wrangler dev` (tools/lib/wrangler-dev.ts) with the bench's config and state directory; its own
 * process group lets the benchmark read the CPU time of exactly the server's processes from /proc.
 */
export async function startBenchServer(options: {
  port: number;
  config: string;
  persistTo: string;
  vars: Record<string, string>;
}): Promise<BenchServer> {
  const server = await startWranglerDev({
    port: options.port,
    persistTo: options.persistTo,
    vars: options.vars,
    args: ["--config", options.config],
  });
  return { ...server, cpuSeconds: () => groupCpuSeconds(server.processGroup) };
}

/** utime + stime of every live process whose process group is `group` (from /proc/<pid>/stat), by command. */
export function groupCpuSeconds(group: number): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const command = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== group) continue; // field 5: pgrp
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14, 15: utime, stime
    seconds[command] = (seconds[command] ?? 0) + ticks / USER_HZ;
  }
  return seconds;
}
