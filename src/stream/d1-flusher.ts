import type { Config } from "../config";
import { type FlushedRows, writeFlushBatch } from "../storage/d1/writer";
import type { RowMeter } from "../storage/stream-state/row-meter";
import type { ObjectStores } from "../storage/stream-state/stores";
import type { AlarmPlan } from "./alarm-plan";
import { DrainPace } from "./drain-pace";
import type { StreamMetrics } from "./stream-metrics";

/** Longest wait between D1 flush retries (the backoff doubles from FLUSH_INTERVAL_MS up to this). */
const MAX_FLUSH_BACKOFF_MS = 60_000;
/** D1 flush batches per alarm run; more waiting samples re-arm the alarm at once (D1: 1,000 queries per invocation). */
const MAX_FLUSH_BATCHES_PER_ALARM = 8;
/** What the flusher works with. */
export interface FlushParts {
  /** The user's D1 database (src/storage/d1/user-databases.ts): placed at the first flush, then remembered. */
  database: (userId: string) => Promise<D1Database>;
  config: Config;
  storage: DurableObjectStorage;
  stores: () => ObjectStores;
  metrics: StreamMetrics;
  rows: RowMeter;
  alarm: AlarmPlan;
  /** The user's id, once the object knows it. */
  userId: () => string | undefined;
}

/**
 * Moves the buffer to D1, oldest first, FLUSH_BATCH_SIZE samples per batch (docs/storage-format.md). Samples leave the buffer
 * only after D1 committed their batch; a failure keeps them and backs off, the streak surviving evictions.
 */
export class D1Flusher {
  /** The flush under way: a second caller (the alarm, or a commit that filled a batch) joins it. */
  #running: Promise<void> | null = null;
  /** How fast the batches leave the buffer (admission tells refused frames their turn by it). */
  readonly pace = new DrainPace();
  readonly #config: Config;

  constructor(private readonly parts: FlushParts) {
    this.#config = parts.config;
  }

  /** Samples or session changes wait for D1. */
  get hasWork(): boolean {
    const { buffer, sessions } = this.parts.stores();
    return buffer.size > 0 || sessions.hasUnsynced;
  }

  /**
   * Runs a flush, or joins the one under way: one at a time, whoever asks. `fullBatches`: only while a whole
   * FLUSH_BATCH_SIZE batch waits (a commit's flush); else whatever waits (the alarm's, when the interval is up).
   */
  flush(fullBatches = false): Promise<void> {
    const userId = this.parts.userId();
    if (!userId) return Promise.reject(new Error("the object does not know its user id"));
    this.#running ??= this.#run(userId, fullBatches).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /**
   * After a commit: a full batch is flushed at once, from the commit that filled it, not behind the frames
   * queued ahead of the alarm event (under a flood of refused frames it could wait seconds); else the alarm is
   * set for the flush interval or the backoff.
   */
  afterCommit(): void {
    if (!this.hasWork) return;
    if (this.delayMs() > 0) {
      this.parts.alarm.ensure(Date.now() + this.delayMs());
      return;
    }
    this.flush(true)
      .catch((err) => console.error("flush failed", err))
      .finally(() => {
        if (this.hasWork) this.parts.alarm.ensure(Date.now() + this.delayMs());
      });
  }

  /** Until the next flush can make room for `waiting` samples: the alarm's time, or sooner by a commit. */
  dueInMs(waiting: number): number {
    const now = Date.now();
    const flushAt = Math.min(this.parts.alarm.at ?? Number.POSITIVE_INFINITY, now + this.delayMs(waiting));
    return Math.max(0, flushAt - now);
  }

  async #run(userId: string, fullBatches: boolean): Promise<void> {
    const { database, storage, stores, metrics, rows } = this.parts;
    const due = () => (fullBatches ? stores().buffer.size >= this.#config.flushBatchSize : this.hasWork);
    for (let batch = 0; batch < MAX_FLUSH_BATCHES_PER_ALARM && due(); batch++) {
      const { buffer, sessions, meta } = stores();
      // A selection D1 may already hold (its answer was lost) is written again exactly: same chunks, same keys.
      const selection = buffer.selectForFlush(this.#config.flushBatchSize, meta.pendingFlush);
      // The selection's name in D1 is kept with it: a retry after a lost answer is then a no-op there.
      if (meta.pendingFlush?.flushId === undefined && selection.end) {
        meta.pendingFlush = { ...selection.end, flushId: crypto.randomUUID() };
      }
      const flushId = meta.pendingFlush?.flushId ?? crypto.randomUUID();
      const flushing = new Map<string, number>();
      for (const { sessionId, t } of selection.slices) {
        flushing.set(sessionId, (flushing.get(sessionId) ?? 0) + t.length);
      }
      const sessionRows = sessions.rowsForD1(flushing);
      const startedAt = Date.now();
      let written: FlushedRows;
      try {
        written = await writeFlushBatch(
          await database(userId),
          userId,
          selection.slices,
          sessionRows,
          flushId,
        );
      } catch (err) {
        meta.flushFailures += 1;
        const errorType = d1ErrorType(err);
        metrics.flushFailed(errorType);
        console.error(
          errorType === "d1_full"
            ? `D1 is full: flush refused (attempt ${meta.flushFailures}); samples stay buffered; lower COLD_AFTER_S or set RETENTION_DAYS (docs/runbooks.md, StorageNearlyFull): ${String(err)}`
            : `D1 flush failed (attempt ${meta.flushFailures}); samples stay buffered: ${String(err)}`,
        );
        return;
      }
      storage.transactionSync(() => {
        stores().acked.released(buffer.release(selection), Date.now());
        meta.pendingFlush = null;
        sessions.synced(sessionRows);
        if (meta.flushFailures > 0) meta.flushFailures = 0;
      });
      const end = Date.now();
      this.pace.released(selection.total, end);
      metrics.flushed(written, (end - startedAt) / 1000);
      metrics.objectRowsWritten("flush", rows.take());
    }
  }

  /**
   * Delay before the next flush with `waiting` samples: none once a full batch waits, else the flush interval;
   * after failures the interval doubles per consecutive failure, capped.
   */
  delayMs(waiting = this.parts.stores().buffer.size): number {
    const interval = this.#config.flushIntervalMs;
    const failures = this.parts.stores().meta.flushFailures;
    if (failures === 0) return waiting >= this.#config.flushBatchSize ? 0 : interval;
    return Math.min(interval * 2 ** failures, Math.max(MAX_FLUSH_BACKOFF_MS, interval));
  }
}

/**
 * A full database is its own error type: it stops every user's flushes until space is freed, and the operator
 * must act (SQLite's SQLITE_FULL, "database or disk is full"; D1 reports its size limit as exceeded).
 */
export function d1ErrorType(err: unknown): "d1_full" | "d1_error" {
  return /SQLITE_FULL|database or disk is full|maximum database size|exceeded.*size/i.test(String(err))
    ? "d1_full"
    : "d1_error";
}
