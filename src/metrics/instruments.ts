import type { Counter, Histogram, Meter, UpDownCounter } from "@opentelemetry/api";

/**
 * The instruments of SPEC §5, created on an OpenTelemetry Meter. Counter names carry no `_total`: the
 * Prometheus serializer appends it to monotonic sums. No units are set, so no suffix is added either.
 */

/** ws_message_latency_seconds buckets, exactly as SPEC §5 lists them. */
export const LATENCY_BUCKETS_S: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];
/** HTTP and D1 durations (seconds). */
export const DURATION_BUCKETS_S: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** db_batch_size (rows per flush batch). */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
/** http_request_size_bytes / http_response_size_bytes. */
export const BYTE_SIZE_BUCKETS: readonly number[] = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
];

export type MessageType = "session_start" | "samples" | "session_end" | "ping" | "unknown";
export type TableName = "samples" | "sessions";

/** What a user Durable Object records as events happen (counters and histograms). */
export interface IngestInstruments {
  /** messages_received_total{message_type,user_id} */
  messagesReceived: Counter<{ message_type: string; user_id: string }>;
  /** messages_processed_total{message_type} */
  messagesProcessed: Counter<{ message_type: string }>;
  /** messages_failed_total{message_type,error_type}; error_type is the SPEC error code. */
  messagesFailed: Counter<{ message_type: string; error_type: string }>;
  /** sessions_created_total */
  sessionsCreated: Counter;
  /** sessions_ended_total */
  sessionsEnded: Counter;
  /** db_writes_total{table}: rows written */
  dbWrites: Counter<{ table: string }>;
  /** db_write_duration_seconds{table} */
  dbWriteDuration: Histogram<{ table: string }>;
  /** db_batch_size{table} */
  dbBatchSize: Histogram<{ table: string }>;
  /** ws_connections_total{role,status}, status opened|closed|error */
  wsConnections: Counter<{ role: string; status: string }>;
  /** ws_messages_received_total{message_type} */
  wsMessagesReceived: Counter<{ message_type: string }>;
  /** ws_messages_sent_total{message_type} */
  wsMessagesSent: Counter<{ message_type: string }>;
  /** ws_errors_total{error_type} */
  wsErrors: Counter<{ error_type: string }>;
  /** ws_reconnections_total{reason} */
  wsReconnections: Counter<{ reason: string }>;
  /** ws_message_latency_seconds{message_type}: receive to durable ack (relay), receive to fan-out (consumer) */
  wsMessageLatency: Histogram<{ message_type: string }>;
}

/** What the Worker's HTTP middleware records. */
export interface HttpInstruments {
  httpRequests: Counter<{ method: string; route: string; status: string }>;
  httpRequestDuration: Histogram<{ method: string; route: string }>;
  httpRequestsInProgress: UpDownCounter<{ method: string; route: string }>;
  httpRequestSize: Histogram;
  httpResponseSize: Histogram;
}

/** The live state a user object reports as gauges (SPEC §5: gauges reflect the live state of all objects). */
export interface UserGaugeSnapshot {
  userId: string;
  relayConnections: number;
  consumerConnections: number;
  bufferSize: number;
  bufferCapacity: number;
  activeSessions: number;
  pendingWrites: { samples: number; sessions: number };
}

/** How a metric is exported: Prometheus type, help text and, for histograms, the bucket boundaries. */
export interface MetricDefinition {
  kind: "counter" | "histogram" | "gauge";
  help: string;
  boundaries?: readonly number[];
}

/**
 * Every metric of SPEC §5 by its OpenTelemetry instrument name (counters without `_total`, which the
 * Prometheus serializer appends). Senders and the aggregator take bucket boundaries from here, so histograms
 * merge bucket by bucket; a histogram arriving with other boundaries is refused (see shard-store.ts).
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
  // The pipeline's own health (not in SPEC §5, additional): refused or dropped deltas, remote-write and OTLP pushes.
  metrics_refused: { kind: "counter", help: "Metric deltas the aggregator refused, by reason" },
  remote_write_requests: { kind: "counter", help: "Remote-write pushes, by result" },
  otlp_export_requests: { kind: "counter", help: "OTLP pushes, by result" },
};

function counter(meter: Meter, name: string) {
  return meter.createCounter(name, { description: METRICS[name]?.help });
}

function histogram(meter: Meter, name: string) {
  const def = METRICS[name];
  return meter.createHistogram(name, {
    description: def?.help,
    advice: { explicitBucketBoundaries: [...(def?.boundaries ?? [])] },
  });
}

export function createIngestInstruments(meter: Meter): IngestInstruments {
  return {
    messagesReceived: counter(meter, "messages_received"),
    messagesProcessed: counter(meter, "messages_processed"),
    messagesFailed: counter(meter, "messages_failed"),
    sessionsCreated: counter(meter, "sessions_created"),
    sessionsEnded: counter(meter, "sessions_ended"),
    dbWrites: counter(meter, "db_writes"),
    dbWriteDuration: histogram(meter, "db_write_duration_seconds"),
    dbBatchSize: histogram(meter, "db_batch_size"),
    wsConnections: counter(meter, "ws_connections"),
    wsMessagesReceived: counter(meter, "ws_messages_received"),
    wsMessagesSent: counter(meter, "ws_messages_sent"),
    wsErrors: counter(meter, "ws_errors"),
    wsReconnections: counter(meter, "ws_reconnections"),
    wsMessageLatency: histogram(meter, "ws_message_latency_seconds"),
  };
}

export function createHttpInstruments(meter: Meter): HttpInstruments {
  return {
    httpRequests: counter(meter, "http_requests"),
    httpRequestDuration: histogram(meter, "http_request_duration_seconds"),
    httpRequestsInProgress: meter.createUpDownCounter("http_requests_in_progress", {
      description: METRICS.http_requests_in_progress?.help,
    }),
    httpRequestSize: histogram(meter, "http_request_size_bytes"),
    httpResponseSize: histogram(meter, "http_response_size_bytes"),
  };
}
