import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("npm run deploy:dry-run", () => {
  it("bundles the production Worker without deploying", () => {
    rmSync(".wrangler/dry-run", { recursive: true, force: true });
    const out = execFileSync("npm", ["run", "--silent", "deploy:dry-run"], {
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    expect(out).toMatch(/--dry-run: exiting now/);
    expect(existsSync(".wrangler/dry-run/index.js")).toBe(true);
  });
});
