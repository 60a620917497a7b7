import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../src/config";
import type { Env } from "../src/env";
import type { ApplyResult, DeltaBatch, ShardState } from "../src/metrics/delta";
import { mergeShardStates } from "../src/metrics/merge";
import { pushRemoteWrite } from "../src/metrics/remote-write";
import { toPromSamples } from "../src/metrics/render";
import { rosterLimit, ShardStore } from "../src/metrics/shard-store";
import { shardStub } from "../src/metrics/shards";

/**
 * One of METRICS_SHARDS aggregators: applies delta batches exactly once into persisted cumulative state
 * (src/metrics/shard-store.ts) and answers that state for scrapes, which merge all shards.
 *
 * Shard 0 is also the single remote-write writer: one object, one alarm at a time, so the timestamps it pushes
 * only ever increase (a receiver rejects out-of-order samples). The cron (src/index.ts) ticks every shard once a
 * minute: housekeeping, and it re-arms shard 0's push alarm should it ever have been lost.
 */
export class MetricsShard extends DurableObject<Env> {
  private readonly store: ShardStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage);
  }

  /** Applies one batch from a sender; a batch already applied answers `duplicate` and changes nothing. */
  async apply(batch: DeltaBatch, index: number): Promise<ApplyResult> {
    const config = getConfig(this.env);
    return this.store.apply(batch, rosterLimit(config.metricsUserLabelLimit, config.metricsShards, index));
  }

  async state(): Promise<ShardState> {
    return this.store.state();
  }

  /** Once a minute from the cron: expire stale state; shard 0 makes sure its push alarm is armed. */
  async tick(index: number): Promise<void> {
    this.store.housekeeping();
    const { remoteWrite, remoteWriteIntervalS } = getConfig(this.env);
    if (index !== 0 || !remoteWrite) return;
    const next = await this.ctx.storage.getAlarm();
    // An alarm far overdue is as good as lost: re-arm it.
    if (next === null || next < Date.now() - 2 * remoteWriteIntervalS * 1000) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /** Shard 0's remote-write push. Failures are logged and counted, and the alarm always re-arms itself. */
  override async alarm(): Promise<void> {
    const { remoteWrite, remoteWriteIntervalS, metricsShards, metricsUserLabelLimit } = getConfig(this.env);
    if (!remoteWrite) return;
    try {
      const states = await Promise.all(
        Array.from({ length: metricsShards }, (_, i) =>
          i === 0 ? this.store.state() : shardStub(this.env, i).state(),
        ),
      );
      const samples = toPromSamples(mergeShardStates(states, metricsUserLabelLimit));
      const last = (await this.ctx.storage.get<number>("remote_write_last_ts")) ?? 0;
      const timestamp = Math.max(Date.now(), last + 1);
      await this.ctx.storage.put("remote_write_last_ts", timestamp);
      await pushRemoteWrite(remoteWrite, samples, timestamp);
      this.store.addCounter("remote_write_requests", { result: "success" }, 1);
    } catch (err) {
      console.error("remote-write push failed, retrying next interval:", err);
      this.store.addCounter("remote_write_requests", { result: "failure" }, 1);
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + remoteWriteIntervalS * 1000);
    }
  }
}
