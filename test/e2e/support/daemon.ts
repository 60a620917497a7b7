import { type ChildProcess, spawn } from "node:child_process";

export interface Daemon {
  /** What the process printed so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts a long-running binary (Prometheus, Alertmanager) and waits until `readyUrl` answers 200.
 * Throws with the process's output when it exits or is not ready within `timeoutMs`.
 */
export async function startDaemon(
  command: string,
  args: string[],
  readyUrl: string,
  timeoutMs = 30_000,
  cwd?: string,
): Promise<Daemon> {
  const child: ChildProcess = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(readyUrl)).ok) return { log: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${command} was not ready at ${readyUrl}:\n${output}`);
}
