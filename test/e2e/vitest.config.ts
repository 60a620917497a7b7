import { defineConfig } from "vitest/config";

// End-to-end tests run in Node: they start `wrangler dev`, Prometheus and Alertmanager as real processes
// on 127.0.0.1 and talk to them over the network. Files run one after another: each owns its ports.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
