import { spawn } from "node:child_process";
import { join } from "node:path";
import type { BenchServer } from "../wrangler-server.ts";
import { groupCpuSeconds, groupUsage } from "../wrangler-server.ts";

/** Starts node-peer.ts in its own process group (its CPU is read like the runtime's) and waits for /health. */
export async function startNodePeer(options: {
  port: number;
  dir: string;
  secret: string;
}): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [
      "--disable-warning=ExperimentalWarning",
      join(import.meta.dirname, "node-peer.ts"),
      "--port",
      String(options.port),
      "--db",
      join(options.dir, "peer.sqlite"),
      "--secret",
      options.secret,
    ],
    { stdio: ["ignore", "ignore", "pipe"], detached: true },
  );
  let output = "";
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-(child.pid as number), "SIGTERM");
    await exited;
  };
  for (let waited = 0; ; waited += 100) {
    if (child.exitCode !== null) throw new Error(`the Node peer exited: ${output}`);
    const up = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (waited > 15_000) {
      await stop();
      throw new Error(`the Node peer did not answer /health: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: options.port,
    persistTo: options.dir,
    processGroup: child.pid as number,
    log: () => output,
    stop,
    cpuSeconds: () => groupCpuSeconds(child.pid as number),
    runtimeUsage: () => groupUsage(child.pid as number, "node"),
  };
}
