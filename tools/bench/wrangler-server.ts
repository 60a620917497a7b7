import { readdirSync, readFileSync } from "node:fs";
import { startWranglerDev, type WranglerDev } from "../lib/wrangler-dev.ts";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;
/** Bytes per page of /proc/<pid>/stat's rss (4 KiB on x86-64 and arm64 Linux). */
const PAGE_BYTES = 4096;

export interface BenchServer extends WranglerDev {
  /** CPU seconds used so far by the server's processes, by command name (workerd, node for wrangler). */
  cpuSeconds(): Record<string, number>;
  /** Resident memory of its runtime processes together, and the open files of the one holding most. */
  runtimeUsage(): { rssBytes: number; openFiles: number };
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
  return {
    ...server,
    cpuSeconds: () => groupCpuSeconds(server.processGroup),
    runtimeUsage: () => groupUsage(server.processGroup, "workerd"),
  };
}

/** A live process of a process group, from /proc/<pid>/stat. */
interface GroupProcess {
  pid: string;
  command: string;
  /** Fields after the command name (which may contain spaces), starting at field 3 (state). */
  fields: string[];
}

function groupProcesses(group: number): GroupProcess[] {
  const found: GroupProcess[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== group) continue; // field 5: pgrp
    found.push({ pid, command: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), fields });
  }
  return found;
}

/** utime + stime of every live process whose process group is `group`, by command. */
export function groupCpuSeconds(group: number): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const { command, fields } of groupProcesses(group)) {
    const ticks = Number(fields[11]) + Number(fields[12]); // fields 14, 15: utime, stime
    seconds[command] = (seconds[command] ?? 0) + ticks / USER_HZ;
  }
  return seconds;
}

/** Resident memory of a group's processes running `command`, and the most files one of them holds open. */
export function groupUsage(group: number, command: string): { rssBytes: number; openFiles: number } {
  let rssBytes = 0;
  let openFiles = 0;
  for (const { pid, command: name, fields } of groupProcesses(group)) {
    if (name !== command) continue;
    rssBytes += Number(fields[21]) * PAGE_BYTES; // field 24: rss, in pages
    try {
      openFiles = Math.max(openFiles, readdirSync(`/proc/${pid}/fd`).length);
    } catch {
      // exited meanwhile
    }
  }
  return { rssBytes, openFiles };
}
