import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000";

describe("npm run deploy:dry-run", () => {
  it("bundles the production Worker without deploying, with the placeholder database_id", () => {
    expect(readFileSync("wrangler.toml", "utf8")).toContain(PLACEHOLDER_ID);
    rmSync(".wrangler/dry-run", { recursive: true, force: true });
    const out = execFileSync("npm", ["run", "--silent", "deploy:dry-run"], {
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    expect(out).toMatch(/--dry-run: exiting now/);
    expect(existsSync(".wrangler/dry-run/index.js")).toBe(true);
  });
});

describe("npm run deploy", () => {
  it("refuses at once while [env.production] has the all-zeros database_id, saying what to do", () => {
    // The check runs before anything that talks to Cloudflare: no credentials are needed to see the refusal.
    const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER_SEND_METRICS: "false" };
    delete env.CLOUDFLARE_API_TOKEN;
    const run = spawnSync("npm", ["run", "--silent", "deploy"], { encoding: "utf8", env, timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Not deploying: wrangler.toml is not ready for production.");
    expect(run.stderr).toContain(
      `[[env.production.d1_databases]] DB (database "zander-edge") has database_id "${PLACEHOLDER_ID}", the placeholder: ` +
        "run `npx wrangler d1 create zander-edge` and put the database_id it prints there.",
    );
    expect(run.stdout).not.toMatch(/wrangler|Migrations/i);
  });

  it("lets a wrangler.toml with a real database_id through", () => {
    const dir = mkdtempSync(join(tmpdir(), "zander-deploy-config-"));
    try {
      const config = join(dir, "wrangler.toml");
      // Only the production id is replaced: the top-level (local) placeholder is not deployed.
      const shipped = readFileSync("wrangler.toml", "utf8");
      const production = shipped.indexOf("[[env.production.d1_databases]]");
      writeFileSync(
        config,
        shipped.slice(0, production) +
          shipped.slice(production).replace(PLACEHOLDER_ID, "3f2c1b7e-9a4d-4e21-8c55-0d6e2a9b7f10"),
      );
      const run = spawnSync(process.execPath, ["tools/check-deploy-config.mjs", "--config", config], {
        encoding: "utf8",
      });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
