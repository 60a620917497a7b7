import { app } from "./app";
import type { Env } from "./env";
import { tickMetricsShards } from "./metrics/aggregate/tick";

export { MetricsShard } from "../durable-objects/metrics-shard";
export { UserStream } from "../durable-objects/user-stream";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // Metrics housekeeping, and (re-)arming the remote-write push of shard 0 (README, "Metrics").
    ctx.waitUntil(tickMetricsShards(env));
  },
} satisfies ExportedHandler<Env>;
