import { getConfig } from "../../config";
import type { Env } from "../../env";
import { jittered } from "../../jitter";
import { DurableOutbox } from "../ship/durable-outbox";
import { MemoryOutbox } from "../ship/memory-outbox";
import type { Outbox } from "../ship/outbox";
import { sendBatch } from "../ship/send-batch";
import type { BatchBody } from "../wire";
import { GAUGE_REFRESH_MS, type GaugeSnapshot, shardForUser } from "../wire";
import { createIngestInstruments, type IngestInstruments, type UserGaugeSnapshot } from "./instruments";
import { MetricsRecorder } from "./recorder";
import { RecordingBuffer } from "./recording-buffer";

/**
 * Whether the unchanged snapshot must be re-sent before the aggregator expires it: while sockets are open or
 * samples wait for D1. Open sessions alone do not count: an object whose relays left sends its snapshot once
 * and wakes again for the session's expiry, not every GAUGE_REFRESH_MS (after a mass disconnect thousands of
 * objects would otherwise refresh in waves).
 */
function keepsRefreshing(s: UserGaugeSnapshot): boolean {
  return (
    s.relayConnections +
      s.consumerConnections +
      s.bufferSize +
      s.pendingWrites.samples +
      s.pendingWrites.sessions >
    0
  );
}

/**
 * Metrics of one user Durable Object: the instruments it records into, and the hook that ships what was
 * recorded (deltas plus a gauge snapshot) to the metrics aggregator.
 *
 * CONTRACT for its owner, src/stream/stream-metrics.ts (the user object's metrics, built in its constructor):
 *   - construct once per object: `new ObjectMetrics(env, userId, () => snapshot, storage)`;
 *   - record events through `instruments`;
 *   - call `await flush()` from the object's alarm (the same alarm that flushes the buffer to D1), and make
 *     sure an alarm is scheduled while `hasPending()` is true, and no later than `nextFlushDueAt()` while it is
 *     not null (that refreshes the gauges of an object that holds live sockets). flush() never throws.
 *
 * Delivery: each flush collects the deltas recorded since the previous one (an OpenTelemetry MeterProvider with an
 * explicitly collected DELTA reader) and the gauge snapshot into ONE batch, stores it in the outbox (SQLite of the
 * object, when `storage` is given) and sends it to the user's shard, hash(user_id) % METRICS_SHARDS; see
 * ship/outbox.ts for exactly-once. Bound on loss: deltas recorded after the last flush live only in memory until the
 * next alarm (FLUSH_INTERVAL_MS), or until the object's last socket closes (its owner flushes then: an idle object
 * may be evicted before its alarm); a crash or a deploy in that window loses at most one alarm period of one
 * object's counts. Persisting every event instead would add a storage write to every frame, for metrics.
 */
export class ObjectMetrics {
  readonly env: Env;
  readonly userId: string;
  readonly snapshot: () => UserGaugeSnapshot;
  readonly instruments: IngestInstruments;
  private readonly recorder = new MetricsRecorder();
  private readonly outbox: Outbox;
  private readonly buffer = new RecordingBuffer();
  private lastSnapshotJson = "";
  /** When the unchanged snapshot is sent again (null: not while nothing live remains). */
  private refreshAt: number | null = null;
  private flushing: Promise<void> | null = null;

  constructor(env: Env, userId: string, snapshot: () => UserGaugeSnapshot, storage?: DurableObjectStorage) {
    this.env = env;
    this.userId = userId;
    this.snapshot = snapshot;
    this.instruments = createIngestInstruments(this.recorder.meter, this.buffer);
    // Without storage (benchmarks), deltas not yet delivered live in memory only.
    this.outbox = storage ? new DurableOutbox(`user:${userId}`, storage) : new MemoryOutbox(`user:${userId}`);
  }

  /** True when something was recorded (or the gauges changed) since the last successful flush. */
  hasPending(now = Date.now()): boolean {
    return this.buffer.dirty || this.outbox.size() > 0 || this.snapshotDue(now);
  }

  /** When the next flush is needed: now if hasPending(), the gauge refresh time while the object is live, else null. */
  nextFlushDueAt(now = Date.now()): number | null {
    if (this.hasPending(now)) return now;
    return this.refreshAt;
  }

  /** Ships recorded deltas and the gauge snapshot to the aggregator. Never throws; retries on the next call. */
  flush(): Promise<void> {
    // One flush at a time keeps the outbox's seqs in order.
    this.flushing ??= this.flushOnce()
      .catch((err) => console.error("metrics flush failed", err))
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const now = Date.now();
    this.buffer.dirty = false;
    this.buffer.drain();
    const deltas = await this.recorder.collect();
    const snapshot = this.snapshot();
    const snapshotJson = JSON.stringify(snapshot);
    const gauges = this.snapshotDue(now, snapshotJson) ? this.gaugeSnapshot(snapshot, now) : undefined;
    if (deltas.counters.length > 0 || deltas.histograms.length > 0 || gauges) {
      const body: BatchBody = { counters: deltas.counters, histograms: deltas.histograms, gauges };
      const shard = shardForUser(this.userId, getConfig(this.env).metricsShards);
      this.outbox.enqueue(shard, body, now);
      if (gauges) {
        this.lastSnapshotJson = snapshotJson;
        this.refreshAt = keepsRefreshing(snapshot) ? now + jittered(GAUGE_REFRESH_MS, -0.2) : null;
      }
    }
    await this.outbox.drain((shard, batch) => sendBatch(this.env, shard, batch));
  }

  private snapshotDue(now: number, snapshotJson = JSON.stringify(this.snapshot())): boolean {
    if (snapshotJson !== this.lastSnapshotJson) return true;
    return this.refreshAt !== null && now >= this.refreshAt;
  }

  /** The snapshot as gauge points; an object with nothing live sends no points, which removes its entry. */
  private gaugeSnapshot(s: UserGaugeSnapshot, now: number): GaugeSnapshot {
    const owner = `user:${this.userId}`;
    const live =
      s.relayConnections + s.consumerConnections + s.bufferSize + s.activeSessions > 0 ||
      s.pendingWrites.samples + s.pendingWrites.sessions > 0;
    if (!live) return { owner, userId: this.userId, at: now, points: [] };
    const user = { user_id: this.userId };
    return {
      owner,
      userId: this.userId,
      fill: s.bufferCapacity > 0 ? s.bufferSize / s.bufferCapacity : 0,
      at: now,
      points: [
        { name: "edge_relay_connections", labels: {}, value: s.relayConnections },
        { name: "consumer_connections", labels: {}, value: s.consumerConnections },
        { name: "buffer_size", labels: user, value: s.bufferSize },
        { name: "buffer_capacity", labels: user, value: s.bufferCapacity },
        { name: "active_sessions", labels: {}, value: s.activeSessions },
        { name: "pending_writes", labels: { table: "samples" }, value: s.pendingWrites.samples },
        { name: "pending_writes", labels: { table: "sessions" }, value: s.pendingWrites.sessions },
      ],
    };
  }
}
