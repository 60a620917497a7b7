import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface WranglerDev {
  url: string;
  port: number;
  /** Its local state directory (`--persist-to`): D1, Durable Object storage. */
  persistTo: string;
  /** The process group of wrangler and workerd (the benchmark reads their CPU time by it). */
  processGroup: number;
  /** The log wrangler printed so far (stdout and stderr). */
  log(): string;
  /** Stops wrangler and workerd; removes the state directory when this module created it. */
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  port: number;
  /** Extra vars, passed as `--var NAME:VALUE` (they win over wrangler.toml and .dev.vars). */
  vars?: Record<string, string>;
  /** Extra arguments for wrangler dev, e.g. ["--test-scheduled"] or ["--config", file]. */
  args?: string[];
  /** State directory; by default a new temporary one, removed by stop(). */
  persistTo?: string;
  timeoutMs?: number;
}

/**
 * Starts `npm start`'s launcher (tools/dev.mjs: local flags, local D1 migrations, wrangler dev) on 127.0.0.1
 * in its own process group, and waits until /health answers. Used by the end-to-end tests and the benchmark.
 */
export async function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  const ownState = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(join(tmpdir(), "zander-wrangler-"));
  const varArgs = Object.entries(options.vars ?? {}).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, "tools/dev.mjs"),
      "--port",
      String(options.port),
      "--persist-to",
      persistTo,
      "--inspector-port",
      "0",
      "--show-interactive-dev-session=false",
      ...varArgs,
      ...(options.args ?? []),
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
  const processGroup = child.pid as number;
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(-processGroup, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) process.kill(-processGroup, "SIGKILL");
    }
    if (ownState) rmSync(persistTo, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/health`)).ok) {
        return { url, port: options.port, persistTo, processGroup, log: () => output, stop };
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler dev did not become healthy on ${url}:\n${output}`);
}
