/**
 * The metric catalogue of the README's "Metrics", shared by every stage: senders create their instruments from it
 * (record/instruments.ts), the aggregator checks histogram boundaries against it (aggregate/shard-store.ts), and
 * the exposition takes types and help texts from it (expose/render.ts). Names are OpenTelemetry instrument names:
 * counters without `_total`, which the Prometheus serializer appends; no units, so no unit suffix either.
 */

/** ws_message_latency_seconds buckets, exactly as the README's "Metrics" lists them. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** HTTP and D1 durations (seconds). */
export const DURATION_BUCKETS_S: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** db_batch_size (rows per flush batch). */
const BATCH_SIZE_BUCKETS: readonly number[] = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** http_request_size_bytes / http_response_size_bytes. */
const BYTE_SIZE_BUCKETS: readonly number[] = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

/** How a metric is exported: Prometheus type, help text and, for histograms, the bucket boundaries. */
interface MetricDefinition {
  kind: "counter" | "histogram" | "gauge";
  help: string;
  boundaries?: readonly number[];
}

/**
 * Every metric of the README's "Metrics" by its OpenTelemetry instrument name (counters without `_total`, which the
 * Prometheus serializer appends). Senders and the aggregator take bucket boundaries from here, so histograms
 * merge bucket by bucket; a histogram arriving with other boundaries is refused (see aggregate/shard-store.ts).
 */
export const METRICS: Record<string, MetricDefinition> = {
  edge_relay_connections: { kind: "gauge", help: "Open edge relay WebSockets" },
  consumer_connections: { kind: "gauge", help: "Open consumer WebSockets" },
  messages_received: { kind: "counter", help: "Frames received, by type and user" },
  messages_processed: { kind: "counter", help: "Frames handled successfully" },
  messages_failed: { kind: "counter", help: "Frames answered with an error frame" },
  buffer_size: { kind: "gauge", help: "Samples in the user's buffer" },
  buffer_capacity: { kind: "gauge", help: "Samples the user's buffer holds" },
  active_sessions: { kind: "gauge", help: "Open sessions" },
  sessions_created: { kind: "counter", help: "Sessions started" },
  sessions_ended: { kind: "counter", help: "Sessions ended (explicitly or idle)" },
  db_writes: { kind: "counter", help: "Rows written to D1" },
  db_samples_written: { kind: "counter", help: "Samples written to D1 (inside chunk rows)" },
  db_write_duration_seconds: {
    kind: "histogram",
    help: "D1 batch write duration",
    boundaries: DURATION_BUCKETS_S,
  },
  db_batch_size: { kind: "histogram", help: "Rows per D1 flush batch", boundaries: BATCH_SIZE_BUCKETS },
  pending_writes: { kind: "gauge", help: "Rows waiting to be written to D1" },
  http_requests: { kind: "counter", help: "HTTP requests" },
  http_request_duration_seconds: {
    kind: "histogram",
    help: "HTTP request duration",
    boundaries: DURATION_BUCKETS_S,
  },
  http_requests_in_progress: { kind: "gauge", help: "HTTP requests being served" },
  http_request_size_bytes: {
    kind: "histogram",
    help: "HTTP request body size",
    boundaries: BYTE_SIZE_BUCKETS,
  },
  http_response_size_bytes: {
    kind: "histogram",
    help: "HTTP response body size",
    boundaries: BYTE_SIZE_BUCKETS,
  },
  ws_connections: { kind: "counter", help: "WebSocket connection events" },
  ws_messages_received: { kind: "counter", help: "WebSocket messages received" },
  ws_messages_sent: { kind: "counter", help: "WebSocket messages sent" },
  ws_errors: { kind: "counter", help: "WebSocket errors" },
  ws_reconnections: { kind: "counter", help: "Relay reconnections" },
  ws_message_latency_seconds: {
    kind: "histogram",
    help: "Receive to durable ack (relay) or to fan-out (consumer)",
    boundaries: LATENCY_BUCKETS_S,
  },
  // The pipeline's own health (beyond the README's catalogue): refused or dropped deltas, remote-write and OTLP pushes.
  metrics_refused: { kind: "counter", help: "Metric deltas the aggregator refused, by reason" },
  chunk_decode_errors: {
    kind: "counter",
    help: "Stored chunks a read could not decode (reported in the answer)",
  },
  remote_write_requests: { kind: "counter", help: "Remote-write pushes, by result" },
  storage_bytes: {
    kind: "gauge",
    help: "Bytes stored, by tier (d1: the database files, r2: cold objects)",
  },
  d1_database_bytes: {
    kind: "gauge",
    help: "Bytes of each user D1 database's file, by binding name (full at 10 GB)",
  },
  storage_jobs: {
    kind: "counter",
    help: "Storage tier job steps (compaction, cold_move, retention), by step and result",
  },
  object_rows_written: {
    kind: "counter",
    help: "Rows the user objects' own SQLite wrote (billed like D1 rows), by op (commit, flush)",
  },
  db_flush_errors: {
    kind: "counter",
    help: "D1 flushes that failed, by error type (d1_full: the database is full)",
  },
  otlp_export_requests: { kind: "counter", help: "OTLP pushes, by result" },
};
