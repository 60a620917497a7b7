import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { describe, expect, it } from "vitest";

const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

/** The bindings table a dry run prints, as "binding resource" lines. */
const bindings = (out: string) =>
  out
    .split("\n")
    .filter((line) => /^env\.\w+/.test(line))
    .map((line) => line.replace(/\s{2,}/g, " ").trim());

describe("deploying (dry run: no account needed)", () => {
  it("npm run deploy:dry-run bundles the production Worker with the production database and bucket", () => {
    rmSync(".wrangler/dry-run", { recursive: true, force: true });
    const out = execFileSync("npm", ["run", "--silent", "deploy:dry-run"], { encoding: "utf8", env });
    expect(out).toMatch(/--dry-run: exiting now/);
    expect(existsSync(".wrangler/dry-run/index.js")).toBe(true);
    const lines = bindings(out);
    expect(lines).toContain("env.DB (zander-edge) D1 Database");
    expect(lines).toContain("env.COLD (zander-edge-cold) R2 Bucket");
    // Inherited from the top level: the live view's files.
    expect(lines).toContain("env.ASSETS Assets");
    expect(lines).toContain('env.FLUSH_INTERVAL_MS ("30000") Environment Variable');
  });

  it("a bare wrangler deploy would ship a separate dev Worker, never production's database or bucket", () => {
    const out = execFileSync(
      "npx",
      ["wrangler", "deploy", "--dry-run", "--outdir", ".wrangler/dry-run-dev"],
      { encoding: "utf8", env },
    );
    rmSync(".wrangler/dry-run-dev", { recursive: true, force: true });
    const lines = bindings(out);
    expect(lines).toContain("env.DB (zander-edge-dev) D1 Database");
    expect(lines).toContain("env.COLD (zander-edge-dev-cold) R2 Bucket");
  });
});
