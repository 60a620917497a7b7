import type { Env } from "../../env";

/** The MetricsShard object with index `index` (0 … METRICS_SHARDS-1); shard 0 also pushes. */
export function shardStub(env: Env, index: number) {
  return env.METRICS_SHARD.get(env.METRICS_SHARD.idFromName(`shard-${index}`));
}
