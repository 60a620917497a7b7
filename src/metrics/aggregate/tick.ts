import { getConfig } from "../../config";
import type { Env } from "../../env";
import { shardStub } from "./shard-stub";

/** The cron's once-a-minute tick of every shard (housekeeping; shard 0 re-arms its push alarm). Never throws. */
export async function tickMetricsShards(env: Env): Promise<void> {
  try {
    const { metricsShards } = getConfig(env);
    await Promise.all(Array.from({ length: metricsShards }, (_, i) => shardStub(env, i).tick(i)));
  } catch (err) {
    console.error("metrics tick failed", err);
  }
}
