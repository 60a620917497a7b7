import { app } from "./app";
import { getConfig } from "./config";
import type { Env } from "./env";
import { tickMetricsShards } from "./metrics/aggregate/tick";
import { getIsolateMetrics, type StorageSizes } from "./metrics/record/isolate-metrics";
import { userDatabases } from "./storage/d1/user-databases";
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

/** The tier job runs on every user database at once: each has its own lease, cursor and users. */
async function runStorageTiers(env: Env): Promise<void> {
  const metrics = getIsolateMetrics();
  try {
    const config = getConfig(env);
    const databases = [...userDatabases(env)];
    const runs = await Promise.allSettled(
      databases.map(([, db]) =>
        runTierJob({
          db,
          cold: env.COLD,
          coldAfterS: config.coldAfterS,
          retentionDays: config.retentionDays,
        }),
      ),
    );
    const sizes: StorageSizes = { d1: 0, r2: 0, databases: {} };
    runs.forEach((run, i) => {
      const name = databases[i]?.[0] as string;
      if (run.status === "rejected") {
        console.error(`storage tier job failed on D1 database ${name}: ${String(run.reason)}`);
        metrics.storageJobs.add(1, { step: "run", result: "error" });
        return;
      }
      for (const { job, ok } of run.value.results)
        metrics.storageJobs.add(1, { step: job, result: ok ? "ok" : "error" });
      const bytes = run.value.bytes;
      if (!bytes) return;
      sizes.d1 += bytes.d1;
      sizes.r2 += bytes.r2;
      sizes.databases[name] = bytes.d1;
    });
    // Totals only when every database was measured: a partial sum would read as storage going away.
    if (Object.keys(sizes.databases).length === databases.length) metrics.recordStorageBytes(sizes);
  } catch (err) {
    console.error(`storage tier job failed: ${String(err)}`);
    metrics.storageJobs.add(1, { step: "run", result: "error" });
  } finally {
    await metrics.flush(env);
  }
}
