import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd with the real wrangler.toml bindings (Durable Objects, local D1).
export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
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
