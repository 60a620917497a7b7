import type { Config } from "../config";
import type { Env } from "../env";
import type { UserGaugeSnapshot } from "../metrics/record/instruments";
import { ObjectMetrics } from "../metrics/record/object-metrics";
import type { FlushedRows } from "../storage/d1/writer";
import type { ObjectStores } from "../storage/stream-state/stores";
import type { SocketRole, Sockets } from "./sockets";

/** What the user's gauges are read from: its stores and sockets. */
export interface GaugeSources {
  stores: () => ObjectStores;
  sockets: Sockets;
}

/**
 * What the user object tells its metrics, in its own words (the catalogue names live behind this), and when the
 * metrics need the object's alarm: recorded deltas live only in memory until an alarm ships them
 * (docs/architecture.md, "Metrics").
 */
export class StreamMetrics {
  readonly #metrics: ObjectMetrics;
  readonly #flushIntervalMs: number;
  readonly #wantAlarm: (at: number) => void;
  /** Something was recorded since the last shipment and an alarm was asked for. */
  #pending = false;

  constructor(
    env: Env,
    config: Config,
    userId: string,
    gauges: GaugeSources,
    storage: DurableObjectStorage,
    wantAlarm: (at: number) => void,
  ) {
    this.#metrics = new ObjectMetrics(env, userId, () => this.#snapshot(gauges, config), storage);
    this.#flushIntervalMs = config.flushIntervalMs;
    this.#wantAlarm = wantAlarm;
  }

  get userId(): string {
    return this.#metrics.userId;
  }

  get #m() {
    if (!this.#pending) {
      this.#pending = true;
      this.#wantAlarm(Date.now() + this.#flushIntervalMs);
    }
    return this.#metrics.instruments;
  }

  socketOpened(role: SocketRole): void {
    this.#m.wsConnections.add(1, { role, status: "opened" });
  }

  socketClosed(role: SocketRole): void {
    this.#m.wsConnections.add(1, { role, status: "closed" });
  }

  socketError(role: SocketRole): void {
    const m = this.#m;
    m.wsConnections.add(1, { role, status: "error" });
    m.wsErrors.add(1, { error_type: "socket" });
  }

  /** The object closed a socket for its own reason (`slow_consumer`, `token_expired`). */
  socketDropped(errorType: string): void {
    this.#m.wsErrors.add(1, { error_type: errorType });
  }

  /** A known relay showed up on a new socket. */
  relayResumed(): void {
    this.#m.wsReconnections.add(1, { reason: "resume" });
  }

  /** A frame arrived (over a socket, or POSTed: those the Worker counts on the wire itself). */
  frameReceived(type: string, viaSocket: boolean): void {
    const m = this.#m;
    if (viaSocket) m.wsMessagesReceived.add(1, { message_type: type });
    m.messagesReceived.add(1, { message_type: type, user_id: this.userId });
  }

  frameRefused(type: string, code: string): void {
    this.#m.messagesFailed.add(1, { message_type: type, error_type: code });
  }

  frameProcessed(type: string, count = 1): void {
    this.#m.messagesProcessed.add(count, { message_type: type });
  }

  sent(type: string, count = 1): void {
    if (count > 0) this.#m.wsMessagesSent.add(count, { message_type: type });
  }

  sessionsChanged(created: number, ended: number): void {
    if (created > 0) this.#m.sessionsCreated.add(created);
    if (ended > 0) this.#m.sessionsEnded.add(ended);
  }

  /** Receive-to-fan-out (`samples`) or receive-to-durable-ack (`ack`) latencies, in ms. */
  latencies(type: "samples" | "ack", millis: readonly number[]): void {
    if (millis.length === 0) return;
    const m = this.#m;
    for (const ms of millis) m.wsMessageLatency.record(ms / 1000, { message_type: type });
  }

  /** One D1 flush batch: rows written per table, the samples in its chunks, and how long the batch took. */
  flushed({ samples, ...rows }: FlushedRows, seconds: number): void {
    const m = this.#m;
    for (const [table, count] of Object.entries(rows)) {
      if (!count) continue;
      m.dbWrites.add(count, { table });
      m.dbBatchSize.record(count, { table });
      m.dbWriteDuration.record(seconds, { table });
    }
    if (samples > 0) m.dbSamplesWritten.add(samples, { table: "sample_chunks" });
  }

  /** Rows the object's own SQLite wrote for a commit or a flush (billed like D1's; BENCHMARKS.md). */
  objectRowsWritten(op: "commit" | "flush", rows: number): void {
    if (rows > 0) this.#m.objectRowsWritten.add(rows, { op });
  }

  /**
   * A D1 flush that failed, by error type (`d1_full`: the database reached its size limit). Recorded without
   * asking for an alarm: the retry's backoff alarm ships it, an earlier one would retry the flush early.
   */
  flushFailed(errorType: string): void {
    this.#metrics.instruments.dbFlushErrors.add(1, { error_type: errorType });
  }

  /** Ships what was recorded (from the alarm). Never throws. */
  async ship(): Promise<void> {
    this.#pending = false;
    await this.#metrics.flush();
  }

  /** When the alarm must run for the metrics' sake: a flush interval after a record, or the gauge refresh. */
  dueAt(now = Date.now()): number | null {
    const due = this.#metrics.nextFlushDueAt(now);
    if (due === null) return null;
    return Math.max(due, now + this.#flushIntervalMs);
  }

  #snapshot({ stores, sockets }: GaugeSources, config: Config): UserGaugeSnapshot {
    const { buffer, sessions } = stores();
    return {
      userId: this.userId,
      relayConnections: sockets.all("relay").length,
      consumerConnections: sockets.all("consumer").length,
      bufferSize: buffer.size,
      bufferCapacity: config.bufferCapacity,
      activeSessions: sessions.openCount,
      pendingWrites: { samples: buffer.size, sessions: sessions.unsyncedCount },
    };
  }
}
