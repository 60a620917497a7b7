import { getConfig } from "../../config";
import type { Env } from "../../env";
import { shardStub } from "../aggregate/shard-stub";
import type { ShardState } from "../wire";
import { type MergedMetrics, mergeShardStates } from "./merge";

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
