import { getConfig } from "../config";
import type { Env } from "../env";
import type { DeltaBatch, ShardState } from "./delta";
import { type MergedMetrics, mergeShardStates } from "./merge";

/** The MetricsShard object with index `index` (0 … METRICS_SHARDS-1); shard 0 also pushes remote-write. */
export function shardStub(env: Env, index: number) {
  return env.METRICS_SHARD.get(env.METRICS_SHARD.idFromName(`shard-${index}`));
}

/** Delivers one batch; throws when the shard did not confirm it (the caller keeps it and retries). */
export async function sendBatch(env: Env, shard: number, batch: DeltaBatch): Promise<void> {
  await shardStub(env, shard).apply(batch, shard);
}

/**
 * Every shard's state, read in parallel. A scrape that cannot reach a shard fails as a whole (500) rather than
 * answering partial counters, which Prometheus would read as a counter reset.
 */
export async function readAllShards(env: Env): Promise<ShardState[]> {
  const { metricsShards } = getConfig(env);
  return Promise.all(Array.from({ length: metricsShards }, (_, i) => shardStub(env, i).state()));
}

/** Every series of every shard, merged (what /metrics exposes). */
export async function collectMerged(env: Env): Promise<MergedMetrics> {
  return mergeShardStates(await readAllShards(env), getConfig(env).metricsUserLabelLimit);
}

/** The cron's once-a-minute tick of every shard (housekeeping; shard 0 re-arms its push alarm). Never throws. */
export async function tickMetricsShards(env: Env): Promise<void> {
  try {
    const { metricsShards } = getConfig(env);
    await Promise.all(Array.from({ length: metricsShards }, (_, i) => shardStub(env, i).tick(i)));
  } catch (err) {
    console.error("metrics tick failed", err);
  }
}
