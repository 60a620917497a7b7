import { spawn } from "node:child_process";

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run --silent SCRIPT -- ARGS` as an operator would, and collects its output. */
export function runNpmScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
