import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WranglerDev {
  url: string;
  port: number;
  /** Its local state directory (`--persist-to`): D1, Durable Object storage. Removed by stop(). */
  persistTo: string;
  /** The log wrangler printed so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  port: number;
  /** Extra vars, passed as `--var NAME:VALUE` (they win over wrangler.toml and .dev.vars). */
  vars?: Record<string, string>;
  /** Extra arguments for wrangler dev, e.g. ["--test-scheduled"]. */
  args?: string[];
  timeoutMs?: number;
}

/**
 * Starts `npm start` (tools/dev.mjs: local flags, migrations, wrangler dev) on 127.0.0.1 with its own
 * state directory, and waits until /health answers.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const persistTo = mkdtempSync(join(tmpdir(), "zander-wrangler-"));
  const varArgs = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "tools/dev.mjs",
      "--port",
      String(options.port),
      "--persist-to",
      persistTo,
      "--inspector-port",
      "0",
      ...varArgs,
      ...(options.args ?? []),
    ],
    { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, CI: "true" } },
  );
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }
    rmSync(persistTo, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, port: options.port, persistTo, log: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not become healthy on ${url}:\n${output}`);
}
