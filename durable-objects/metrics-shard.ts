import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../src/config";
import type { Env } from "../src/env";
import { rosterLimit, ShardStore } from "../src/metrics/aggregate/shard-store";
import { pushOtlp } from "../src/metrics/expose/otlp-push";
import { collectMerged } from "../src/metrics/expose/read-shards";
import { EndedSeries, pushRemoteWrite } from "../src/metrics/expose/remote-write";

/** Each push request is aborted after this long (the OpenTelemetry exporter spec's default timeout). */
const PUSH_TIMEOUT_MS = 10_000;

import { toPromSamples } from "../src/metrics/expose/render";
import type { ApplyResult, DeltaBatch, ShardState } from "../src/metrics/wire";

/**
 * One of METRICS_SHARDS aggregators: applies delta batches exactly once into persisted cumulative state
 * (src/metrics/aggregate/shard-store.ts) and answers that state for scrapes, which merge all shards.
 *
 * Shard 0 is also the single push writer (remote-write and OTLP): one object, one alarm at a time, so the
 * timestamps it pushes only ever increase (a receiver rejects out-of-order samples). The cron (src/index.ts) ticks
 * every shard once a minute: housekeeping, and it re-arms shard 0's push alarm should it ever have been lost.
 */
export class MetricsShard extends DurableObject<Env> {
  private readonly store: ShardStore;
  /** Shard 0: the series of its last remote-write push, for staleness markers. */
  private readonly ended = new EndedSeries();

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
    const { remoteWrite, otlp, remoteWriteIntervalS } = getConfig(this.env);
    if (index !== 0 || (!remoteWrite && !otlp)) return;
    const next = await this.ctx.storage.getAlarm();
    // An alarm far overdue is as good as lost: re-arm it.
    if (next === null || next < Date.now() - 2 * remoteWriteIntervalS * 1000) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /**
   * Shard 0's pushes: remote-write and OTLP, each when configured, of the same merged state with the same
   * timestamp. Each failure is logged and counted on its own (one receiver down does not stop the other), and
   * the alarm always re-arms itself: a failed push is retried with fresh values at the next interval.
   */
  override async alarm(): Promise<void> {
    const { remoteWrite, otlp, remoteWriteIntervalS } = getConfig(this.env);
    if (!remoteWrite && !otlp) return;
    try {
      // Stamped before the shards are read: a sample never carries a time later than the state it shows.
      // The key keeps its name from when remote-write was the only push.
      const last = (await this.ctx.storage.get<number>("remote_write_last_ts")) ?? 0;
      const timestamp = Math.max(Date.now(), last + 1);
      await this.ctx.storage.put("remote_write_last_ts", timestamp);
      const merged = await collectMerged(this.env, { index: 0, state: () => this.store.state() });
      // Each destination on its own, each request with a timeout and retries that end before the next interval:
      // a hung or refusing receiver neither stops the other nor delays the next push.
      const policy = { timeoutMs: PUSH_TIMEOUT_MS, deadline: Date.now() + remoteWriteIntervalS * 800 };
      await Promise.all([
        remoteWrite &&
          this.counted("remote_write_requests", "remote-write", async () => {
            const { outcomes } = await pushRemoteWrite(
              remoteWrite,
              toPromSamples(merged),
              timestamp,
              policy,
              this.ended,
            );
            return outcomes;
          }),
        otlp &&
          this.counted("otlp_export_requests", "OTLP", async () => [
            await pushOtlp(otlp, merged, timestamp, policy),
          ]),
      ]);
    } catch (err) {
      // Nothing could be pushed: that counts as a failure of every configured push.
      console.error("metrics push: reading the shards failed, retrying next interval:", err);
      if (remoteWrite) this.store.addCounter("remote_write_requests", { result: "failure" }, 1);
      if (otlp) this.store.addCounter("otlp_export_requests", { result: "failure" }, 1);
    } finally {
      await this.ctx.storage.setAlarm(Date.now() + remoteWriteIntervalS * 1000);
    }
  }

  /** Runs one push and counts each of its requests' outcomes in `counter{result}`; never throws. */
  private async counted(counter: string, what: string, push: () => Promise<string[]>): Promise<void> {
    let results: string[];
    try {
      results = await push();
    } catch (err) {
      console.error(`${what} push failed, retrying next interval:`, err);
      results = ["failure"];
    }
    for (const result of results) this.store.addCounter(counter, { result }, 1);
  }
}
