import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
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
});
