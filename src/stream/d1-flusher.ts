import type { Config } from "../config";
import { type FlushedRows, writeFlushBatch } from "../storage/d1/writer";
import type { RowMeter } from "../storage/stream-state/row-meter";
import type { ObjectStores } from "../storage/stream-state/stores";
import type { StreamMetrics } from "./stream-metrics";

/** Longest wait between D1 flush retries (the backoff doubles from FLUSH_INTERVAL_MS up to this). */
const MAX_FLUSH_BACKOFF_MS = 60_000;
/** D1 flush batches per alarm run; more waiting samples re-arm the alarm at once (D1: 1,000 queries per invocation). */
const MAX_FLUSH_BATCHES_PER_ALARM = 8;

/**
 * Moves the buffer to D1, oldest first, FLUSH_BATCH_SIZE samples per batch (docs/storage-format.md). Samples leave the buffer
 * only after D1 committed their batch; a failure keeps them and backs off, the streak surviving evictions.
 */
export class D1Flusher {
  constructor(
    private readonly db: D1Database,
    private readonly config: Config,
    private readonly storage: DurableObjectStorage,
    private readonly stores: () => ObjectStores,
    private readonly metrics: StreamMetrics,
    private readonly rows: RowMeter,
  ) {}

  /** Samples or session changes wait for D1. */
  get hasWork(): boolean {
    const { buffer, sessions } = this.stores();
    return buffer.size > 0 || sessions.hasUnsynced;
  }

  async flush(userId: string): Promise<void> {
    for (let batch = 0; batch < MAX_FLUSH_BATCHES_PER_ALARM && this.hasWork; batch++) {
      const { buffer, sessions, meta } = this.stores();
      // A selection D1 may already hold (its answer was lost) is written again exactly: same chunks, same keys.
      const selection = buffer.selectForFlush(this.config.flushBatchSize, meta.pendingFlush);
      // The selection's name in D1 is kept with it: a retry after a lost answer is then a no-op there.
      if (meta.pendingFlush?.flushId === undefined && selection.end) {
        meta.pendingFlush = { ...selection.end, flushId: crypto.randomUUID() };
      }
      const flushId = meta.pendingFlush?.flushId ?? crypto.randomUUID();
      const flushing = new Map<string, number>();
      for (const piece of selection.pieces) {
        const id = piece.frame.sessionId;
        flushing.set(id, (flushing.get(id) ?? 0) + piece.count);
      }
      const sessionRows = sessions.rowsForD1(flushing);
      const startedAt = Date.now();
      let written: FlushedRows;
      try {
        written = await writeFlushBatch(this.db, userId, selection.pieces, sessionRows, flushId);
      } catch (err) {
        meta.flushFailures += 1;
        const errorType = d1ErrorType(err);
        this.metrics.flushFailed(errorType);
        console.error(
          errorType === "d1_full"
            ? `D1 is full: flush refused (attempt ${meta.flushFailures}); samples stay buffered; lower COLD_AFTER_S or set RETENTION_DAYS (docs/runbooks.md, StorageNearlyFull): ${String(err)}`
            : `D1 flush failed (attempt ${meta.flushFailures}); samples stay buffered: ${String(err)}`,
        );
        return;
      }
      this.storage.transactionSync(() => {
        this.stores().acked.released(buffer.release(selection), Date.now());
        meta.pendingFlush = null;
        sessions.synced(sessionRows);
        if (meta.flushFailures > 0) meta.flushFailures = 0;
      });
      this.metrics.flushed(written, (Date.now() - startedAt) / 1000);
      this.metrics.objectRowsWritten("flush", this.rows.take());
    }
  }

  /**
   * Delay before the next flush with `waiting` samples: none once a full batch waits, else the flush interval;
   * after failures the interval doubles per consecutive failure, capped.
   */
  delayMs(waiting = this.stores().buffer.size): number {
    const interval = this.config.flushIntervalMs;
    const failures = this.stores().meta.flushFailures;
    if (failures === 0) return waiting >= this.config.flushBatchSize ? 0 : interval;
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
