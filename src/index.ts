import { app } from "./app";
import type { Env } from "./env";

export { MetricsShard } from "../durable-objects/metrics-shard";
export { UserStream } from "../durable-objects/user-stream";

export default {
  fetch: app.fetch,
  async scheduled(_controller, _env, _ctx) {
    // Remote-write push and metrics housekeeping are wired here (README, "Metrics").
  },
} satisfies ExportedHandler<Env>;
