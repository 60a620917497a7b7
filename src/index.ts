import { app } from "./app";
import { getConfig } from "./config";
import type { Env } from "./env";
import { tickMetricsShards } from "./metrics/aggregate/tick";
import { getIsolateMetrics } from "./metrics/record/isolate-metrics";
import { runTierJob } from "./storage/tiers/tier-job";

export { MetricsShard } from "../durable-objects/metrics-shard";
export { UserStream } from "../durable-objects/user-stream";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    // Metrics housekeeping, and (re-)arming the remote-write push of shard 0 (README, "Metrics").
    ctx.waitUntil(tickMetricsShards(env));
    // Storage tiers: compaction, the cold move to R2, retention (README, "Storage").
    ctx.waitUntil(runStorageTiers(env));
  },
} satisfies ExportedHandler<Env>;

async function runStorageTiers(env: Env): Promise<void> {
  const metrics = getIsolateMetrics();
  try {
    const config = getConfig(env);
    const report = await runTierJob({
      db: env.DB,
      cold: env.COLD,
      coldAfterS: config.coldAfterS,
      retentionDays: config.retentionDays,
    });
    for (const { job, ok } of report.results)
      metrics.storageJobs.add(1, { step: job, result: ok ? "ok" : "error" });
    if (report.bytes) metrics.recordStorageBytes(report.bytes);
  } catch (err) {
    console.error(`storage tier job failed: ${String(err)}`);
    metrics.storageJobs.add(1, { step: "run", result: "error" });
  } finally {
    await metrics.flush(env);
  }
}
