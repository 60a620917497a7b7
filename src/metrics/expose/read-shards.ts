import { getConfig } from "../../config";
import type { Env } from "../../env";
import { shardStub } from "../aggregate/shard-stub";
import type { ShardState } from "../wire";
import { type MergedMetrics, mergeShardStates } from "./merge";

/** A shard that reads every shard itself: its own state is read in place, not through its own stub. */
export interface ReadingShard {
  index: number;
  state: () => ShardState | Promise<ShardState>;
}

/**
 * Every shard's state, read in parallel. A scrape that cannot reach a shard fails as a whole (500) rather than
 * answering partial counters, which Prometheus would read as a counter reset.
 */
async function readAllShards(env: Env, self?: ReadingShard): Promise<ShardState[]> {
  const { metricsShards } = getConfig(env);
  return Promise.all(
    Array.from({ length: metricsShards }, (_, i) =>
      i === self?.index ? self.state() : shardStub(env, i).state(),
    ),
  );
}

/** Every series of every shard, merged (what /metrics exposes, and what shard 0 pushes). */
export async function collectMerged(env: Env, self?: ReadingShard): Promise<MergedMetrics> {
  return mergeShardStates(await readAllShards(env, self), getConfig(env).metricsUserLabelLimit);
}
