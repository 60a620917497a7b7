import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import { runNpmScript } from "./support/npm-script";

// The README's token command, as a shell captures it: `T=$(npm run -s token -- ...)` must hold the token and
// nothing else (no npm banner, no message), so that `Authorization: Bearer $T` works as written.
const SECRET = "e2e-mint-token-secret-0123456789abcdef";
const env = { ...process.env, AUTH_SECRET: SECRET };

describe("npm run -s token", () => {
  it("prints only the token, so that T=$(npm run -s token -- ...) captures a valid one", async () => {
    const { stdout } = await promisify(execFile)(
      "sh",
      ["-c", 'T=$(npm run -s token -- --user alice --role relay --ttl 3600) && printf "%s" "$T"'],
      { env },
    );
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const { payload } = await jwtVerify(stdout, new TextEncoder().encode(SECRET), { algorithms: ["HS256"] });
    expect(payload).toMatchObject({ sub: "alice", role: "relay" });
    expect((payload.exp as number) - Date.now() / 1000).toBeGreaterThan(3590);
    expect((payload.exp as number) - Date.now() / 1000).toBeLessThanOrEqual(3600);
  });

  it("puts a refusal on stderr, never on stdout, and exits 2", async () => {
    const run = await runNpmScript("token", ["--user", "alice", "--role", "root"], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^--role must be relay, consumer or admin\./);
  });

  // The Worker's own limit when MAX_TOKEN_LIFETIME_S is unset: the tool must not mint past it.
  const maxLifetimeS = getConfig({} as Env).maxTokenLifetimeS;

  it.each([
    ["an unknown option", ["--user", "alice", "--role", "relay", "--bogus"], /^Unknown option '--bogus'/, {}],
    ["a positional argument", ["alice"], /^Unexpected argument 'alice'/, {}],
    [
      "an option without its value",
      ["--role", "relay", "--user"],
      /^Option '--user <value>' argument missing/,
      {},
    ],
    [
      "a --ttl past the server's MAX_TOKEN_LIFETIME_S",
      ["--user", "alice", "--role", "relay", "--ttl", String(maxLifetimeS + 1)],
      new RegExp(`^--ttl must be at most MAX_TOKEN_LIFETIME_S \\(${maxLifetimeS} s\\)`),
      {},
    ],
    [
      "a --ttl past a MAX_TOKEN_LIFETIME_S set in the environment",
      ["--user", "alice", "--role", "relay", "--ttl", "3601"],
      /^--ttl must be at most MAX_TOKEN_LIFETIME_S \(3600 s\)/,
      { MAX_TOKEN_LIFETIME_S: "3600" },
    ],
    [
      "a --ttl that is not plain digits",
      ["--user", "alice", "--role", "relay", "--ttl", "1e3"],
      /^--ttl must be a positive whole number/,
      {},
    ],
    [
      "a zero --ttl",
      ["--user", "alice", "--role", "relay", "--ttl", "0"],
      /^--ttl must be a positive whole number/,
      {},
    ],
    [
      "a user id the routes refuse",
      ["--user", "alice/bob", "--role", "relay"],
      /^--user must be 1-64 characters of \[A-Za-z0-9_.-\]/,
      {},
    ],
    [
      "a user id over 64 characters",
      ["--user", "a".repeat(65), "--role", "relay"],
      /^--user must be 1-64/,
      {},
    ],
    ["a missing role", ["--user", "alice"], /^--role must be relay, consumer or admin/, {}],
    [
      "a MAX_TOKEN_LIFETIME_S the server would refuse",
      ["--user", "alice", "--role", "relay"],
      /^Invalid configuration: MAX_TOKEN_LIFETIME_S must be an integer/,
      { MAX_TOKEN_LIFETIME_S: "30d" },
    ],
    [
      "an AUTH_SECRET too short for the server",
      ["--user", "alice", "--role", "relay"],
      /^Invalid configuration: AUTH_SECRET .* must be at least 32 characters/,
      { AUTH_SECRET: "short" },
    ],
  ])("refuses %s in one line, exit 2, no stack trace", async (_, args, message, extraEnv) => {
    const run = await runNpmScript("token", args as string[], { ...env, ...extraEnv });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message as RegExp);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("mints a token of exactly MAX_TOKEN_LIFETIME_S, and defaults --ttl to a day within it", async () => {
    const longest = await runNpmScript(
      "token",
      ["--user", "alice", "--role", "admin", "--ttl", String(maxLifetimeS)],
      env,
    );
    expect(longest.code, longest.stderr).toBe(0);
    const key = new TextEncoder().encode(SECRET);
    const { payload } = await jwtVerify(longest.stdout.trim(), key, { algorithms: ["HS256"] });
    expect((payload.exp as number) - Date.now() / 1000).toBeLessThanOrEqual(maxLifetimeS);
    const short = await runNpmScript("token", ["--user", "alice", "--role", "consumer"], {
      ...env,
      MAX_TOKEN_LIFETIME_S: "3600",
    });
    expect(short.code, short.stderr).toBe(0);
    const { payload: shortPayload } = await jwtVerify(short.stdout.trim(), key, { algorithms: ["HS256"] });
    expect((shortPayload.exp as number) - Date.now() / 1000).toBeLessThanOrEqual(3600);
  });
});
