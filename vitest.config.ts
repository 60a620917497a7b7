import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real wrangler.toml bindings (Durable Objects, local D1).
export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // A second D1 database for the tests of several user databases (src/storage/d1/user-databases.test.ts).
        // Its name is not a user database's (DB, DB_<NAME>): the other tests see one database, as deployed.
        d1Databases: { TEST_DB_2: "test-db-2" },
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL("./migrations", import.meta.url))),
          AUTH_SECRET: "test-auth-secret-0123456789abcdef",
          METRICS_TOKEN: "test-metrics-token",
          // The smallest buffer valid with the default 10,000-sample frames (twice that), so that the
          // backpressure tests fill it with a few frames.
          BUFFER_CAPACITY: "20000",
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts", "durable-objects/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    setupFiles: ["./test/apply-migrations.ts"],
    // A bound, not a wait: tests that flush tens of thousands of samples take seconds on a busy 2-core machine.
    testTimeout: 30_000,
  },
});
