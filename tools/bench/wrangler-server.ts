import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface BenchServer {
  url: string;
  /** CPU seconds used so far by the server's processes, by command name (workerd, node for wrangler). */
  cpuSeconds(): Record<string, number>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `wrangler dev` through tools/dev.mjs (local flags, local D1 migrations) in its own process group, so
 * that the benchmark can read the CPU time of exactly the server's processes from /proc.
 */
export async function startBenchServer(options: {
  port: number;
  config: string;
  persistTo: string;
  vars: Record<string, string>;
  /** DevTools inspector port (default: any free one). */
  inspectorPort?: number;
}): Promise<BenchServer> {
  const varArgs = Object.entries(options.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, "tools/dev.mjs"),
      "--config",
      options.config,
      "--port",
      String(options.port),
      "--persist-to",
      options.persistTo,
      "--inspector-port",
      String(options.inspectorPort ?? 0),
      "--show-interactive-dev-session=false",
      ...varArgs,
    ],
    { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, CI: "true" } },
  );
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const group = child.pid as number;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-group, "SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null) process.kill(-group, "SIGKILL");
  };
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/health`)).ok) {
        return { url, cpuSeconds: () => groupCpuSeconds(group), log: () => output, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not become healthy on ${url}:\n${output}`);
}

/** utime + stime of every live process whose process group is `group` (from /proc/<pid>/stat), by command. */
function groupCpuSeconds(group: number): Record<string, number> {
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
