import type { Counter } from "@opentelemetry/api";
import { getConfig } from "../../config";
import type { Env } from "../../env";
import { METRICS } from "../catalogue";
import { MemoryOutbox } from "../ship/memory-outbox";
import { sendBatch } from "../ship/send-batch";
import type { GaugeSnapshot } from "../wire";
import {
  createHttpInstruments,
  createIngestInstruments,
  type HttpInstruments,
  type IngestInstruments,
} from "./instruments";
import { MetricsRecorder } from "./recorder";

/**
 * The HTTP metrics of one Worker isolate. Isolate memory is per isolate and short-lived, so nothing is served from
 * here: every request ends with flush() under `waitUntil`, which ships the deltas to a MetricsShard.
 *
 * Why per request and not batched on a timer: an isolate has no alarm and may be dropped at any time after its
 * last request; `waitUntil` is the only guarantee that what a request recorded leaves the isolate.
 *
 * One drain at a time, and no promise shared between requests: workerd cancels (or reports as hung) a request
 * that waits on I/O started by another request. A request that finds a drain under way only adds its batch to
 * the outbox; the running drain's loop sends it. A drain sends at most MAX_BATCHES_PER_DRAIN batches, so no
 * request's `waitUntil` (30 s after the response) is spent on others' work for long; a drain older than
 * STALE_DRAIN_MS is taken to have been cancelled with its request, and the next request drains instead.
 *
 * Why one shard per isolate (picked at random when the isolate starts) rather than per request: the shard
 * deduplicates by (sender, seq) in order, which needs one sender's batches to reach one shard in order. Load
 * still spreads over the shards, as Cloudflare runs many isolates.
 */
class IsolateMetrics {
  readonly instruments: HttpInstruments;
  /** For frames the Worker answers itself (a POSTed frame refused before it reaches the user object). */
  readonly ingest: Pick<IngestInstruments, "messagesReceived" | "messagesFailed">;
  /** Stored chunks a read could not decode (the answer reports them too). */
  readonly chunkDecodeErrors: Counter;
  /** Storage tier job runs by job and result (the scheduled handler). */
  readonly storageJobs: Counter;
  private readonly recorder = new MetricsRecorder();
  private readonly outbox = new MemoryOutbox("isolate");
  /** storage_bytes has one owner whichever isolate measured it, so it always goes to shard 0. */
  private readonly storageOutbox = new MemoryOutbox("storage");
  private shard: number | null = null;
  private lastGaugeJson = "";
  /** When the drain under way started (null: none). */
  private drainingSince: number | null = null;

  constructor() {
    this.instruments = createHttpInstruments(this.recorder.meter);
    const { messagesReceived, messagesFailed } = createIngestInstruments(this.recorder.meter);
    this.ingest = { messagesReceived, messagesFailed };
    this.chunkDecodeErrors = this.recorder.meter.createCounter("chunk_decode_errors", {
      description: METRICS.chunk_decode_errors?.help,
    });
    this.storageJobs = this.recorder.meter.createCounter("storage_jobs", {
      description: METRICS.storage_jobs?.help,
    });
  }

  /** The bytes each tier holds, as the tier job measured them: a snapshot owned by the storage, not the isolate. */
  recordStorageBytes(sizes: StorageSizes, now = Date.now()): void {
    const points = [
      { name: "storage_bytes", labels: { tier: "d1" }, value: sizes.d1 },
      { name: "storage_bytes", labels: { tier: "r2" }, value: sizes.r2 },
      ...Object.entries(sizes.databases).map(([database, value]) => ({
        name: "d1_database_bytes",
        labels: { database },
        value,
      })),
    ];
    this.storageOutbox.enqueue(
      0,
      { counters: [], histograms: [], gauges: { owner: "storage-tiers", at: now, points } },
      now,
    );
  }

  /** Ships what was recorded so far; resolves when it is delivered or kept for the next flush. Never throws. */
  async flush(env: Env): Promise<void> {
    try {
      await this.flushOnce(env);
    } catch (err) {
      console.error("http metrics flush failed", err);
    }
  }

  private async flushOnce(env: Env): Promise<void> {
    const now = Date.now();
    this.shard ??= Math.floor(Math.random() * getConfig(env).metricsShards);
    const { counters, histograms, gauges: inProgress } = await this.recorder.collect();
    // http_requests_in_progress is this isolate's absolute value: a snapshot owned by the isolate.
    const points = inProgress.filter((p) => p.value !== 0);
    const gaugeJson = JSON.stringify(points);
    const gauges: GaugeSnapshot | undefined =
      gaugeJson !== this.lastGaugeJson ? { owner: this.outbox.sender, at: now, points } : undefined;
    this.lastGaugeJson = gaugeJson;
    if (counters.length > 0 || histograms.length > 0 || gauges) {
      this.outbox.enqueue(this.shard, { counters, histograms, gauges }, now);
    }
    if (this.drainingSince !== null && now - this.drainingSince < STALE_DRAIN_MS) return;
    const started = now;
    this.drainingSince = started;
    try {
      await this.outbox.drain((shard, batch) => sendBatch(env, shard, batch), MAX_BATCHES_PER_DRAIN);
      await this.storageOutbox.drain((shard, batch) => sendBatch(env, shard, batch), MAX_BATCHES_PER_DRAIN);
    } finally {
      if (this.drainingSince === started) this.drainingSince = null;
    }
  }
}

/** Batches one request's drain sends at most (others' batches wait for the next request). */
const MAX_BATCHES_PER_DRAIN = 20;
/** A drain running longer than this was cancelled with its request (waitUntil is bounded). */
const STALE_DRAIN_MS = 10_000;

let isolateMetrics: IsolateMetrics | null = null;

/** This isolate's HTTP metrics, created at the first request (no I/O-capable objects at module scope in workerd). */
/** What the tier job measured: the tiers' totals, and each D1 database's file (a database is full at 10 GB). */
export interface StorageSizes {
  d1: number;
  r2: number;
  /** Bytes of each user database, by binding name. */
  databases: Record<string, number>;
}

export function getIsolateMetrics(): IsolateMetrics {
  isolateMetrics ??= new IsolateMetrics();
  return isolateMetrics;
}
